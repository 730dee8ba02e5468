"""ordermill benchmark suite: run `python -m bench` (see bench/__main__.py)."""
