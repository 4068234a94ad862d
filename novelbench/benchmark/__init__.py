"""Harness: registry, protocols, metrics, trials, runner, store and reports."""
