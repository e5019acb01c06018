"""Shared fixtures: a loopback HTTP stub whose answer a test sets, counting requests."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
CASES = REPO / "conformance" / "cases"


class Stub:
    """Answers every GET with `response` (status, body bytes, headers) and records requests."""

    def __init__(self) -> None:
        self.response: tuple[int, bytes, dict[str, str]] = (404, b"", {})
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.handler = None  # optional callable(path, headers) -> (status, body, headers)
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                headers = {k.lower(): v for k, v in self.headers.items()}
                stub.requests.append((self.path, headers))
                status, body, extra = stub.handler(self.path, headers) if stub.handler else stub.response
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def hits(self) -> int:
        return len(self.requests)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def stub():
    s = Stub()
    yield s
    s.close()
