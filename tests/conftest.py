"""Suite-wide settings shared by every test process (xdist workers included)."""

from __future__ import annotations

import os

# rich sizes tables to the terminal; xdist workers have none (80 columns) while a developer's
# shell has one, so CLI output was cut differently with -n. One width everywhere.
os.environ.setdefault("COLUMNS", "160")
