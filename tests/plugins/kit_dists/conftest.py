"""The distributions here are installed and tested by tests/plugins/test_kit_dists.py, in a
pytest of their own (their plugins are not installed in the suite's environment)."""

collect_ignore_glob = ["*/test_*.py"]
