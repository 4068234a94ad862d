"""Executors: how trials are run (one file each, found by the registry). ``base.py`` holds the
interface: trials in, (trial, rows) out as they finish; only the driver writes the store."""
