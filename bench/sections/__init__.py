"""The sections of `python -m bench`, one module per kind of measurement."""
