"""The stored schemathesis cases: what is stored comes back, `NOT_SET` included, and only under
the key it was stored with (schemathesis_corpus.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis_corpus
from schemathesis.core import NOT_SET


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(schemathesis_corpus, "FOLDER", tmp_path / "cases")
    return tmp_path / "cases"


def test_stored_cases_come_back_under_their_key_only(folder: Path) -> None:
    cases = {"GET /api/v1/orders": [{"query": {"status": "pending"}, "body": NOT_SET}],
             "DELETE /api/v1/auth/tokens/{token_id}": None}
    schemathesis_corpus.save("negative", "key-1", cases)

    loaded = schemathesis_corpus.load("negative", "key-1")
    assert loaded == cases
    assert loaded is not None and loaded["GET /api/v1/orders"][0]["body"] is NOT_SET
    assert schemathesis_corpus.load("negative", "key-2") is None  # made from other inputs
    assert schemathesis_corpus.load("positive", "key-1") is None  # never stored
    assert [path.name for path in folder.iterdir()] == ["negative.pickle.gz"]


def test_the_key_changes_with_the_document_and_the_seeded_orders() -> None:
    document = {"openapi": "3.0.3", "paths": {}}
    key = schemathesis_corpus.corpus_key(document, ["1000000001"])
    assert key == schemathesis_corpus.corpus_key(dict(document), ["1000000001"])
    assert key != schemathesis_corpus.corpus_key({**document, "paths": {"/x": {}}},
                                                 ["1000000001"])
    assert key != schemathesis_corpus.corpus_key(document, ["1000000002"])


def test_the_stored_cases_match_the_schemathesis_test_of_this_checkout() -> None:
    """Each stored file loads and holds cases for many operations; whether its key is current
    is the schemathesis test's business (it regenerates a stale file)."""
    for mode in ("positive", "negative"):
        stored = schemathesis_corpus.read(mode)
        assert stored is not None, f"no {mode} cases: run tests/web/test_api_schemathesis.py"
        assert len(stored["key"]) == 64
        assert sum(len(cases) for cases in stored["cases"].values() if cases) > 500
