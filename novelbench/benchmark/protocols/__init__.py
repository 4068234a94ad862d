"""Protocols; importing this package registers them. A new protocol is one file here."""

from novelbench.benchmark.protocols import caltech, mnist  # noqa: F401
