"""Benchmarks of the service against the raw engine, run as one command.

    .venv/bin/python -m bench --size full|smoke [--database-url URL] [--runs 3]

Starts `annotation-api serve` as a separate process (fresh ports, SQLite in a
temporary directory unless a PostgreSQL URL is given), creates an admin token
through the same command line, drives the server through REST (httpx) and
gRPC (the generated stubs), samples the server's memory, and writes a
markdown report (docs/benchmarks.md by default). See bench/__main__.py.
"""
