"""The README's plugin examples (a method, a dataset, a protocol), installed by the tests as a
third-party package with entry points."""
