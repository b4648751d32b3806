"""A scripted OpenAI-compatible server for B4, which both systems under test talk to.

It answers like `orchestrator.testing.scripted_openai` (a dict is a structured answer: a call of
the tool the request forces, else of its first tool; `Text` is plain content) and adds what a
tool-calling supervisor needs and that server cannot script: `Calls`, several tool calls *by
name* in one answer (a handoff to a chosen agent, parallel searches). One server, one latency and
one token count for both systems, so their figures compare:

- every answer waits `latency_s` first;
- prompt tokens are estimated as the characters of the request's messages *and tool schemas*
  divided by 4, completion tokens as the characters of the answer divided by 4 (a real endpoint
  bills tool schemas as prompt tokens too);
- an answer with several tool calls to a request that set `parallel_tool_calls: false` is
  refused (HTTP 500), so no script can claim calls the architecture would not make.

Non-streaming only: a streaming request is refused, loudly.
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

from orchestrator.testing.scripted_openai import Text


@dataclass(frozen=True)
class Call:
    """One tool call: the tool's name and its arguments."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Calls:
    """An answer made of tool calls, in order (parallel tool calls when more than one)."""

    calls: tuple[Call, ...]
    content: str = ""


Reply = dict[str, Any] | Text | Calls


@dataclass
class Exchange:
    """One request and what it cost."""

    model: str
    tools: list[str]
    prompt_tokens: int
    completion_tokens: int
    tool_calls: int


@dataclass
class LoopbackLLM:
    replies: deque[Reply] = field(default_factory=deque)
    exchanges: list[Exchange] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    latency_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""

    def script(self, *replies: Reply) -> None:
        with self.lock:
            self.replies.extend(replies)

    def reset(self) -> None:
        with self.lock:
            self.replies.clear()
            self.exchanges.clear()
            self.errors.clear()

    @property
    def calls(self) -> int:
        return len(self.exchanges)

    @property
    def prompt_tokens(self) -> int:
        return sum(e.prompt_tokens for e in self.exchanges)

    @property
    def completion_tokens(self) -> int:
        return sum(e.completion_tokens for e in self.exchanges)

    @property
    def left(self) -> int:
        return len(self.replies)


def _tool_call(name: str, args: dict[str, Any] | str) -> dict[str, Any]:
    arguments = args if isinstance(args, str) else json.dumps(args)
    return {
        "id": f"call_{uuid.uuid4().hex[:12]}",
        "type": "function",
        "function": {"name": name, "arguments": arguments},
    }


def _message(request: dict[str, Any], reply: Reply) -> dict[str, Any]:
    if isinstance(reply, Text):
        return {"role": "assistant", "content": reply.content}
    if isinstance(reply, Calls):
        return {
            "role": "assistant",
            "content": reply.content or None,
            "tool_calls": [_tool_call(c.name, c.args) for c in reply.calls],
        }
    tools = request.get("tools") or []
    if not tools:
        return {"role": "assistant", "content": json.dumps(reply)}
    name = tools[0]["function"]["name"]
    choice = request.get("tool_choice")
    if isinstance(choice, dict):
        name = choice.get("function", {}).get("name", name)
    return {"role": "assistant", "content": None, "tool_calls": [_tool_call(name, reply)]}


def _check(request: dict[str, Any], message: dict[str, Any]) -> str | None:
    """Why the scripted answer is one this request could not get, or None."""
    calls = message.get("tool_calls") or []
    offered = {t["function"]["name"] for t in request.get("tools") or []}
    unknown = [c["function"]["name"] for c in calls if c["function"]["name"] not in offered]
    if unknown:
        return f"the script calls {unknown}, which the request does not offer ({sorted(offered)})"
    if len(calls) > 1 and request.get("parallel_tool_calls") is False:
        return f"the script makes {len(calls)} tool calls but the request disabled parallel calls"
    return None


def _handler(server: LoopbackLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _fail(self, message: str) -> None:
            with server.lock:
                server.errors.append(message)
            self._json(500, {"error": {"message": message, "type": "bench", "code": 500}})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = json.loads(self.rfile.read(length) or b"{}")
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._json(404, {"error": {"message": f"unknown path {self.path}"}})
                return
            if request.get("stream"):
                self._fail("the bench server does not stream")
                return
            with server.lock:
                reply = server.replies.popleft() if server.replies else None
            time.sleep(server.latency_s)
            if reply is None:
                self._fail("the script has no reply left for this request")
                return
            message = _message(request, reply)
            if (problem := _check(request, message)) is not None:
                self._fail(problem)
                return
            tools = request.get("tools") or []
            prompt = len(json.dumps(request.get("messages", [])) + json.dumps(tools)) // 4
            completion = max(1, len(json.dumps(message)) // 4)
            with server.lock:
                server.exchanges.append(
                    Exchange(
                        model=str(request.get("model")),
                        tools=[t["function"]["name"] for t in tools],
                        prompt_tokens=prompt,
                        completion_tokens=completion,
                        tool_calls=len(message.get("tool_calls") or []),
                    )
                )
            calls = message.get("tool_calls")
            self._json(
                200,
                {
                    "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": request.get("model", "scripted"),
                    "choices": [
                        {
                            "index": 0,
                            "message": message,
                            "finish_reason": "tool_calls" if calls else "stop",
                        }
                    ],
                    "usage": {
                        "prompt_tokens": prompt,
                        "completion_tokens": completion,
                        "total_tokens": prompt + completion,
                    },
                },
            )

    return Handler


@contextmanager
def loopback_llm(replies: Iterable[Reply] = (), *, latency_s: float = 0.0) -> Iterator[LoopbackLLM]:
    """Serves on a free 127.0.0.1 port until the block ends; `server.base_url` ends in /v1."""
    state = LoopbackLLM(latency_s=latency_s)
    state.script(*replies)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    thread = threading.Thread(
        target=httpd.serve_forever, args=(0.02,), name="bench-llm", daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
