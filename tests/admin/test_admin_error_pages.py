"""Unknown admin URLs get the admin's own 404 page, with its navigation (issue 14, item 10)."""

from __future__ import annotations

from typing import Any


def test_an_unknown_admin_url_is_the_admins_404_page(client: Any) -> None:
    for path in ("/admin/no-such-page", "/admin/orders/1234567890/lines/x/y/z"):
        response = client.get(path)
        assert response.status_code == 404
        page = response.get_data(as_text=True)
        assert 'class="card error-card"' in page, page[:300]
        assert "Not found" in page


def test_unknown_urls_outside_the_admin_keep_their_answers(client: Any) -> None:
    assert client.get("/api/v1/no-such-thing").get_json()["error"]["code"] == "not_found"
    assert "error-card" not in client.get("/no-such-thing").get_data(as_text=True)
