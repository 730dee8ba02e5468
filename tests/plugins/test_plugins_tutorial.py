"""docs/plugins.md's tutorial runs as written: its `tutorial: <file>` blocks are written to a
temporary folder (the `tour_loyalty/__init__.py` blocks joined in order), imported, and its
`tutorial-test` blocks executed here, so pytest collects and runs them with the kit."""

from __future__ import annotations

import atexit
import importlib
import re
import shutil
import sys
import tempfile
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
TEXT = DOC.read_text(encoding="utf-8")
FILES: dict[str, str] = {}
for _path, _code in re.findall(r"<!-- tutorial: (\S+) -->\s*```\w+\n(.*?)```", TEXT, re.S):
    FILES[_path] = FILES.get(_path, "") + ("\n\n" if _path in FILES else "") + _code
TESTS = re.findall(r"<!-- tutorial-test -->\s*```python\n(.*?)```", TEXT, re.S)

_folder = Path(tempfile.mkdtemp(prefix="ordermill-tutorial-"))
atexit.register(shutil.rmtree, _folder, True)  # the templates are read until the end
for _path, _code in FILES.items():
    (_folder / _path).parent.mkdir(parents=True, exist_ok=True)
    (_folder / _path).write_text(_code, encoding="utf-8")
sys.path.insert(0, str(_folder))
try:
    tour_loyalty = importlib.import_module("tour_loyalty")
    tour_tiers = importlib.import_module("tour_tiers")
finally:
    sys.path.remove(str(_folder))

for _block in TESTS:
    exec(compile(_block, str(DOC), "exec"), globals())


def test_the_tutorial_uses_every_kind_of_hook() -> None:
    hooks = set(re.findall(r"^def (\w+)\(", FILES["tour_loyalty/__init__.py"], re.M))
    assert {"register_permissions", "add_hookspecs", "on_order_placed", "register_blueprints",
            "register_commands", "admin_settings_pages", "admin_order_panels",
            "admin_order_actions"} <= hooks
    assert "def loyalty_bonus" in FILES["tour_tiers.py"]
    assert len(TESTS) == 1 and TEXT.count("def test_tour_") == 3
