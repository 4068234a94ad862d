"""Protocols: one file per protocol (found by the registry, no list to edit); ``base.py`` holds
what a protocol hands a trial and how it declares its options."""
