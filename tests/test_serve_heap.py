"""`ordermill serve` settles the heap before serving: start-up objects frozen out of the
garbage collector's scans, young collections ten times rarer (issue 20: 0.33 -> 0.10 ms of
collection per placement request)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

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
