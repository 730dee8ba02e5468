"""`ordermill serve` before it serves: the heap settled (start-up objects frozen out of the
garbage collector's scans, young collections ten times rarer; issue 20: 0.33 -> 0.10 ms of
collection per placement request), and `--processes` refused where there is no fork()."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from ordermill.cli.serving import GC_FIRST_GENERATION, _settle_heap


@pytest.fixture
def restored_gc() -> Iterator[None]:
    threshold, frozen = gc.get_threshold(), gc.get_freeze_count()
    yield
    gc.set_threshold(*threshold)
    if not frozen:
        gc.unfreeze()


def test_start_up_objects_are_frozen_and_young_collections_rarer(restored_gc: None) -> None:
    gc.unfreeze()
    made_at_start_up = [object() for _ in range(1000)]
    _settle_heap()
    assert gc.get_freeze_count() >= len(made_at_start_up)
    assert gc.get_threshold()[0] == GC_FIRST_GENERATION > 700


def test_several_processes_without_fork_is_refused_in_one_sentence(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from click.testing import CliRunner

    from ordermill.cli import main

    monkeypatch.delattr("os.fork")
    result = CliRunner().invoke(main, ["serve", "--processes", "2"],
                                env={"ORDERMILL_INSTANCE_PATH": str(tmp_path)})
    assert result.exit_code == 1
    assert "Several server processes need fork()" in result.output
