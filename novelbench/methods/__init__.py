"""Methods: one file per method (found by the registry, no list to edit), the Detector contract in
``base.py`` and shared blocks (``nets``, ``augment``, ``training``)."""
