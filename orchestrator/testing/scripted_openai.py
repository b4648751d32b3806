"""A scripted OpenAI-compatible server on loopback, for tests, benchmarks and offline notebooks.

It speaks `/v1/chat/completions` (streaming and not) well enough for the real `ChatOpenAI`
client: the client's HTTP stack, retries, timeouts and structured-output parsing all run for
real. Each request takes the next scripted reply:

- a dict or list: a structured answer. Sent as a tool call when the request offers tools
  (function-calling structured output), else as JSON message content (json_schema / json_mode);
- `Raw("...")`: text sent verbatim where the structured answer goes (the tool call's arguments,
  or the content), e.g. malformed JSON;
- `Text("...")`: plain message content, sent as is, even when the request offers tools (a model
  that answers in prose instead of calling the tool);
- `Fail(status)`: an HTTP error such as 429 or 500, optionally with a `retry-after-ms` header;
- `Slow(seconds, reply)`: the reply after a delay (for timeouts and latency benchmarks).

Streamed answers arrive in several chunks (content and tool-call arguments split across them),
and the usage chunk is sent only when the request asks for it (`stream_options.include_usage`),
as OpenAI does. Every request is recorded (`server.requests`, `server.headers`) so tests can
assert what the client sent.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Text:
    content: str


@dataclass(frozen=True)
class Raw:
    """Sent verbatim in the structured channel: the tool call's arguments, or the content."""

    text: str


@dataclass(frozen=True)
class Fail:
    status: int
    message: str = "scripted failure"
    retry_after_s: float | None = None
    """Sent as `retry-after-ms`; the OpenAI client waits this long instead of its own backoff."""


@dataclass(frozen=True)
class Slow:
    seconds: float
    reply: Any


@dataclass(frozen=True)
class Call:
    """One tool call chosen by name, for `Calls`."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Calls:
    """An answer made of tool calls by name, in order: a handoff to a chosen agent, or parallel
    calls when there are several. Refused (HTTP 500, recorded in `errors`) when a call names a
    tool the request does not offer, or several calls answer a request that disabled parallel
    tool calls: no script can claim calls the client could not have received."""

    calls: tuple[Call, ...]
    content: str = ""


Reply = dict[str, Any] | list[Any] | Text | Raw | Calls | Fail | Slow


@dataclass
class ScriptedOpenAI:
    """The server's state: what to answer next, and what was asked."""

    replies: deque[Reply] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    """Each request's HTTP headers, names in lower case."""
    latency_s: float = 0.0
    """Added to every reply, to model a real endpoint's latency."""
    usage: tuple[int, int] | None = None
    """(prompt, completion) tokens to report; None estimates them from the text sizes."""
    errors: list[str] = field(default_factory=list)
    """Why scripted answers were refused (see `Calls`)."""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    """Token totals of the answers sent, as reported to the client."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""

    def script(self, *replies: Reply) -> None:
        with self.lock:
            self.replies.extend(replies)

    def reset(self) -> None:
        """Forgets the script and everything recorded, to reuse the server for another run."""
        with self.lock:
            self.replies.clear()
            self.requests.clear()
            self.headers.clear()
            self.errors.clear()
            self.prompt_tokens = self.completion_tokens = 0

    @property
    def left(self) -> int:
        """Scripted replies not used yet."""
        return len(self.replies)

    def next_reply(self) -> Reply:
        with self.lock:
            if not self.replies:
                return Fail(500, "the script has no reply left for this request")
            return self.replies.popleft()

    @property
    def calls(self) -> int:
        return len(self.requests)


def _structured_text(reply: dict[str, Any] | list[Any]) -> str:
    return json.dumps(reply)


def _tool_call(name: str, arguments: str) -> dict[str, Any]:
    return {
        "id": f"call_{uuid.uuid4().hex[:12]}",
        "type": "function",
        "function": {"name": name, "arguments": arguments},
    }


def _message(
    request: dict[str, Any], reply: dict[str, Any] | list[Any] | Text | Raw | Calls
) -> dict[str, Any]:
    tools = request.get("tools") or []
    if isinstance(reply, Text):
        return {"role": "assistant", "content": reply.content}
    if isinstance(reply, Calls):
        return {
            "role": "assistant",
            "content": reply.content or None,
            "tool_calls": [_tool_call(c.name, json.dumps(c.args)) for c in reply.calls],
        }
    text = reply.text if isinstance(reply, Raw) else _structured_text(reply)
    if tools:
        name = tools[0]["function"]["name"]
        choice = request.get("tool_choice")
        if isinstance(choice, dict):
            name = choice.get("function", {}).get("name", name)
        return {"role": "assistant", "content": None, "tool_calls": [_tool_call(name, text)]}
    return {"role": "assistant", "content": text}


def _refusal(request: dict[str, Any], message: dict[str, Any]) -> str | None:
    """Why a scripted answer is one this request could not have received, or None."""
    calls = message.get("tool_calls") or []
    offered = {t["function"]["name"] for t in request.get("tools") or []}
    unknown = [c["function"]["name"] for c in calls if c["function"]["name"] not in offered]
    if unknown:
        return f"the script calls {unknown}, which the request does not offer ({sorted(offered)})"
    if len(calls) > 1 and request.get("parallel_tool_calls") is False:
        return f"the script makes {len(calls)} tool calls but the request disabled parallel calls"
    return None


def _pieces(text: str, n: int = 3) -> list[str]:
    """`text` cut into up to `n` consecutive pieces, as a streaming server sends it."""
    size = max(1, -(-len(text) // n))
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _usage(
    server: ScriptedOpenAI, request: dict[str, Any], message: dict[str, Any]
) -> dict[str, int]:
    if server.usage is not None:
        prompt, completion = server.usage
    else:
        # Tool schemas are billed as prompt tokens by real endpoints, so they count here too.
        asked = json.dumps(request.get("messages", [])) + json.dumps(request.get("tools", []))
        prompt = max(1, len(asked) // 4)
        completion = max(1, len(json.dumps(message)) // 4)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _handler(server: ScriptedOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def _json(
            self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
        ) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/models"):
                self._json(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})
            else:
                self._json(404, {"error": {"message": "not found"}})

        def do_POST(self) -> None:
            try:
                self._answer()
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up first (its timeout): nothing is left to answer.
                self.close_connection = True

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = json.loads(self.rfile.read(length) or b"{}")
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._json(404, {"error": {"message": f"unknown path {self.path}"}})
                return
            with server.lock:
                server.requests.append(request)
                server.headers.append({k.lower(): v for k, v in self.headers.items()})
            reply = server.next_reply()
            delay = server.latency_s
            while isinstance(reply, Slow):
                delay += reply.seconds
                reply = reply.reply
            if delay:
                time.sleep(delay)
            if isinstance(reply, Fail):
                headers = {}
                if reply.retry_after_s is not None:
                    headers["retry-after-ms"] = str(int(reply.retry_after_s * 1000))
                self._json(
                    reply.status,
                    {"error": {"message": reply.message, "type": "scripted", "code": reply.status}},
                    headers,
                )
                return
            message = _message(request, reply)
            if isinstance(reply, Calls) and (refused := _refusal(request, message)):
                with server.lock:
                    server.errors.append(refused)
                self._json(500, {"error": {"message": refused, "type": "scripted", "code": 500}})
                return
            usage = _usage(server, request, message)
            with server.lock:
                server.prompt_tokens += usage["prompt_tokens"]
                server.completion_tokens += usage["completion_tokens"]
            model = request.get("model", "scripted")
            if request.get("stream"):
                wants_usage = bool((request.get("stream_options") or {}).get("include_usage"))
                self._stream(model, message, usage if wants_usage else None)
            else:
                self._json(
                    200,
                    {
                        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": model,
                        "choices": [
                            {
                                "index": 0,
                                "message": message,
                                "finish_reason": "tool_calls"
                                if message.get("tool_calls")
                                else "stop",
                            }
                        ],
                        "usage": usage,
                    },
                )

        def _stream(
            self, model: str, message: dict[str, Any], usage: dict[str, int] | None
        ) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            base = {
                "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
            }
            deltas: list[dict[str, Any]] = []
            calls = message.get("tool_calls")
            if calls:
                for index, call in enumerate(calls):
                    # Each call's first chunk names the function; its arguments follow in pieces.
                    for n, piece in enumerate(_pieces(call["function"]["arguments"])):
                        part: dict[str, Any] = {"index": index, "function": {"arguments": piece}}
                        if n == 0:
                            part.update(id=call["id"], type="function")
                            part["function"]["name"] = call["function"]["name"]
                        deltas.append({"tool_calls": [part]})
            else:
                deltas = [{"content": piece} for piece in _pieces(message["content"] or "")]
            deltas[0] = {"role": "assistant", **deltas[0]}
            chunks: list[dict[str, Any]] = [
                {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
                for delta in deltas
            ]
            chunks.append(
                {
                    **base,
                    "choices": [
                        {
                            "index": 0,
                            "delta": {},
                            "finish_reason": "tool_calls" if calls else "stop",
                        }
                    ],
                }
            )
            if usage is not None:
                chunks.append({**base, "choices": [], "usage": usage})
            for chunk in chunks:
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True

    return Handler


@contextmanager
def scripted_openai(
    replies: Iterable[Reply] = (), *, latency_s: float = 0.0
) -> Iterator[ScriptedOpenAI]:
    """Serves on a free 127.0.0.1 port until the block ends; `server.base_url` ends in /v1."""
    state = ScriptedOpenAI(latency_s=latency_s)
    state.script(*replies)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    # A short poll interval: `shutdown()` waits up to one interval for the serving loop.
    thread = threading.Thread(
        target=httpd.serve_forever, args=(0.02,), name="scripted-openai", daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
