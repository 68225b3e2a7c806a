"""Prefect flows.

Importing them prepares Prefect's temporary local server (``storyreel.prefect_server``): its own session, so a
Ctrl-C in the terminal does not kill it before the flow has stopped; a start-up timeout a fresh PREFECT_HOME
can meet; no telemetry."""

from storyreel import prefect_server

prefect_server.install()
