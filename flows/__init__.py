"""Prefect flows.

Importing them prepares Prefect's temporary local server (``storyreel.prefect_server``): its own session, so a
Ctrl-C in the terminal does not kill it before the flow has stopped; a start-up timeout a fresh PREFECT_HOME
can meet; no telemetry. Not with ``PREFECT_API_URL`` set: then Prefect starts no server, and its server code (seconds
to import) stays unimported."""

import os

from storyreel import prefect_server

if not os.environ.get("PREFECT_API_URL"):  # a server is named (the CLI's own temporary one, or yours): none to start
    prefect_server.install()
