"""Prefect flows.

Importing them prepares Prefect's temporary local server (``storyreel.prefect_server``): its own session, so a
Ctrl-C in the terminal does not kill it before the flow has stopped; a start-up timeout a fresh PREFECT_HOME
can meet; no telemetry. Not when the CLI launched the temporary server itself (``prefect_server.launch``): then
Prefect starts none, and its server code (seconds to import) stays unimported."""

from storyreel import prefect_server

if prefect_server.launched() is None:  # the CLI's own temporary server needs none of Prefect's server code
    prefect_server.install()
