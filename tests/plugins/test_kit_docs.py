"""docs/plugins.md's `kit-example` blocks are tests: they are executed into this module, so
pytest collects the test functions they define and runs them with the kit's fixtures."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
BLOCKS = re.findall(r"<!-- kit-example -->\s*```python\n(.*?)```",
                    DOC.read_text(encoding="utf-8"), re.S)

for _block in BLOCKS:
    exec(compile(_block, str(DOC), "exec"), globals())


def test_the_kit_examples_are_all_collected() -> None:
    defined = [name for block in BLOCKS for name in re.findall(r"^def (test_\w+)", block, re.M)]
    assert len(BLOCKS) >= 4 and len(defined) == len(set(defined)) >= 4
    assert all(callable(globals()[name]) for name in defined)
