"""novelbench: a benchmarking harness for image novelty detection."""

__version__ = "0.1.0"
