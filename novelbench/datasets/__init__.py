"""Dataset loaders: one file per dataset (found by the registry, no list to edit); ``base.py``
holds the one in-memory image-set type every loader returns."""
