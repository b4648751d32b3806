"""A loopback stand-in for the LangSmith API that records what the langsmith client sends.

Answers `GET /info` the way LangSmith does (batch ingestion with multipart and zstd compression
on), accepts `POST /runs/multipart`, `POST /runs/batch`, `POST /runs` and `PATCH /runs/{id}`, and
keeps every request: method, path, headers and the decoded body. `runs()` merges each run's
create and update parts into one record, so a test can walk the run tree.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import zstandard

INFO = {
    "version": "0.10.0",
    "instance_flags": {"zstd_compression_enabled": True},
    "batch_ingest_config": {
        "use_multipart_endpoint": True,
        "size_limit": 100,
        "size_limit_bytes": 20_971_520,
        "scale_up_nthreads_limit": 1,
        "scale_up_qsize_trigger": 1000,
        "scale_down_nempty_trigger": 4,
    },
}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    """Decompressed."""


@dataclass
class LangSmithSink:
    requests: list[Request] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, request: Request) -> None:
        with self.lock:
            self.requests.append(request)

    def bodies(self) -> bytes:
        """Every request body, joined: what a secret must never be found in."""
        with self.lock:
            return b"\n".join(r.body for r in self.requests)

    def runs(self) -> dict[str, dict[str, Any]]:
        """Every run the client sent, its creates and updates merged (later parts win)."""
        runs: dict[str, dict[str, Any]] = {}
        with self.lock:
            requests = list(self.requests)
        for request in requests:
            for run_id, part, value in _parts(request):
                record = runs.setdefault(run_id, {"id": run_id})
                if part:
                    record[part] = value
                else:
                    record.update(value)
        return runs


def _parts(request: Request) -> Iterator[tuple[str, str, Any]]:
    """(run id, field or '', value) for each piece of a run the request carries, in order."""
    if request.method == "GET":
        return
    if request.path.startswith("/runs/multipart"):
        content_type = request.headers.get("content-type", "")
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + request.body
        )
        for piece in message.iter_parts():
            name = str(piece.get_param("name", header="content-disposition"))
            _op, run_id, *rest = name.split(".")
            payload = piece.get_payload(decode=True)
            assert isinstance(payload, bytes)
            yield run_id, rest[0] if rest else "", json.loads(payload)
        return
    data = json.loads(request.body or b"{}")
    if request.path.startswith("/runs/batch"):
        for op in ("post", "patch"):
            for run in data.get(op) or []:
                yield run["id"], "", run
    elif request.path.startswith("/runs"):
        run_id = data.get("id") or request.path.rsplit("/", 1)[-1]
        yield run_id, "", data


def _handler(sink: LangSmithSink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _receive(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.headers.get("content-encoding") == "zstd":
                body = zstandard.ZstdDecompressor().decompressobj().decompress(body)
            headers = {k.lower(): v for k, v in self.headers.items()}
            sink.record(Request(self.command, self.path, headers, body))

        def _answer(self, data: Any) -> None:
            payload = json.dumps(data).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            self._receive()
            self._answer(INFO if self.path.startswith("/info") else {})

        def do_POST(self) -> None:
            self._receive()
            self._answer({})

        def do_PATCH(self) -> None:
            self._receive()
            self._answer({})

    return Handler


@contextmanager
def langsmith_sink() -> Iterator[LangSmithSink]:
    sink = LangSmithSink()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(sink))
    sink.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
