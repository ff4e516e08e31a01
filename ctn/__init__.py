"""Composition of the product: the shared service object and the ``ctn`` command line."""
