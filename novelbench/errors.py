"""The one exception type the CLI shows as a single clear line (no traceback)."""


class NovelbenchError(Exception):
    """A known, user-facing error: bad input, missing data, unknown name."""
