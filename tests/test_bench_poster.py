"""The `http` section's load generator: keep-alive POSTs, and a lost connection is opened
again for the next request instead of failing every request after it."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent  # bench/ is a folder of the repository


class Recorder(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as waitress answers
    seen: list[tuple[int, str, dict[str, object]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append((self.client_address[1], self.headers["Authorization"], body))
        closing = body.get("close") is True
        self.send_response(201)
        self.send_header("Content-Length", "2")
        if closing:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(b"{}")
        if closing:
            self.close_connection = True

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Recorder.seen = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_posts_reuse_one_connection_and_reconnect_after_a_close(
        server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT))
    from bench.sections.scale import Poster

    poster = Poster(server, {"Authorization": "Bearer om_x"})
    assert [poster.post("/api/v1/orders", {"k": k}) for k in range(3)] == [201, 201, 201]
    assert poster.post("/api/v1/orders", {"close": True}) == 201
    assert poster.post("/api/v1/orders", {"k": 4}) == 201  # on a new connection
    ports = [port for port, _auth, _body in Recorder.seen]
    assert len(set(ports[:4])) == 1 and ports[4] != ports[0]
    assert {auth for _port, auth, _body in Recorder.seen} == {"Bearer om_x"}
    assert [body for _port, _auth, body in Recorder.seen][-1] == {"k": 4}
