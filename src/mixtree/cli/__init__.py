"""The ``mixtree`` command line."""
