"""The model factory and the two kinds of call the orchestrator makes: structured and plain.

`open_chat_model` builds a `ChatOpenAI` for a role from the run's `Context`: the model name, the
endpoint (`base_url`), the request timeout and the retries. Retries on 429 and 5xx, with
exponential backoff (or the server's `retry-after`), are the OpenAI client's own. The HTTP
connection pool lives only as long as the `async with` block, so no socket outlives the event
loop that opened it (each CLI run, notebook cell and test has its own loop).

Structured answers use function calling, not strict JSON schema: a plan update carries
free-form worker inputs (`dict[str, Any]`), which OpenAI's strict mode refuses. The tool is sent
once per call, as a compact schema (`tool_for`: no titles, nullable fields as their type); the
arguments are validated by the pydantic model, and every way an answer can be unreadable (not
JSON, not the schema, no tool call at all) comes back as an error sentence the caller can re-ask
with. A transport failure that outlived the client's retries raises `ModelCallFailed` with a
reason fit for a log; the API key never appears in it.

Credentials go only where the operator sent them: `OPENAI_API_KEY` is sent to `OPENAI_BASE_URL`
(OpenAI's API when that is unset) and to no other endpoint; a `Context.base_url` that differs
gets a placeholder key. A password or token inside a base URL is moved out of it into the HTTP
client, so the URL the model object holds (and traces record) has none, and every message that
names the endpoint names it redacted (`orchestrator.redact`).
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import ssl
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any, Generic, TypeVar, get_args
from urllib.parse import parse_qsl, unquote, urlencode, urlparse, urlsplit, urlunsplit
from uuid import UUID

import httpx
import openai
from langchain_core.callbacks import AsyncCallbackHandler, BaseCallbackManager
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, GenerationChunk
from langchain_core.runnables import RunnableConfig, ensure_config
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, SecretStr, ValidationError

from orchestrator.context import Context
from orchestrator.llm.config import API_KEY_ENV, NO_MODEL, Role, model_configured, model_name
from orchestrator.llm.usage import usage_of
from orchestrator.redact import SECRET_PARAMS, redact_url
from state import Usage

M = TypeVar("M", bound=BaseModel)

ALLOW_REMOTE_MODELS = True
"""Set to False (tests do) to refuse any endpoint that is not on loopback: no test can reach a
real, paid model by accident, whatever the developer's environment holds."""

PLACEHOLDER_KEY = "unused"
"""Sent when only a base URL is configured, or one other than `OPENAI_BASE_URL`: local servers
ignore the key, the client needs one."""

BASE_URL_ENV = "OPENAI_BASE_URL"

MAX_ECHO_CHARS = 1500
"""How much of an unreadable answer is kept to show the model when re-asking."""


class ModelUnavailable(Exception):
    """No model can be called: none is configured, or remote models are switched off."""


class ModelCallFailed(Exception):
    """The endpoint failed after the client's own retries (HTTP error, timeout, no connection)."""


@dataclass(frozen=True)
class StructuredAnswer(Generic[M]):
    """A structured call's outcome: the validated value, or why the answer could not be read."""

    value: M | None
    error: str | None
    usage: Usage | None
    sent: str
    """What the model sent (tool arguments or content), truncated; shown to it when re-asking."""


@dataclass(frozen=True)
class TextAnswer:
    text: str
    usage: Usage | None


def _is_loopback(base_url: str) -> bool:
    host = urlparse(base_url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_KEY_PATTERN = re.compile(r"sk-[A-Za-z0-9*_\-]{6,}")


def redact(text: str) -> str:
    """`text` without the API key, or anything shaped like one (error bodies echo masked keys)."""
    key = os.environ.get(API_KEY_ENV) or ""
    if len(key) >= 8:
        text = text.replace(key, "[redacted]")
    return _KEY_PATTERN.sub("sk-[redacted]", text)


def _same_endpoint(a: str, b: str) -> bool:
    return a.strip().rstrip("/") == b.strip().rstrip("/")


def key_goes_to(base_url: str) -> bool:
    """Whether `OPENAI_API_KEY` may be sent to `base_url` ("" = OpenAI's API): only when it is
    the endpoint the operator configured with it, `OPENAI_BASE_URL` (OpenAI's when unset)."""
    return _same_endpoint(base_url, os.environ.get(BASE_URL_ENV) or "")


@dataclass(frozen=True)
class Endpoint:
    """A base URL split into what may be shown and what authenticates."""

    url: str
    """The base URL without user info or credential-like query values; fit for traces."""
    auth: tuple[str, str] | None
    """User and password for HTTP basic auth, from the URL's user info."""
    params: dict[str, str]
    """Credential-like query parameters, sent with every request by the HTTP client."""


def split_endpoint(base_url: str) -> Endpoint:
    """`http://user:pw@host/v1?api-key=k` -> `http://host/v1`, basic auth, `{"api-key": "k"}`."""
    if not base_url:
        return Endpoint(url="", auth=None, params={})
    parts = urlsplit(base_url)
    auth = None
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, netloc = netloc.rsplit("@", 1)
        user, _, password = userinfo.partition(":")
        auth = (unquote(user), unquote(password))
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    secret = {k: v for k, v in pairs if SECRET_PARAMS.search(k)}
    query = urlencode([(k, v) for k, v in pairs if k not in secret])
    url = urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    return Endpoint(url=url, auth=auth, params=secret)


def describe_failure(exc: openai.OpenAIError, context: Context) -> str:
    """One sentence on why a model call failed, for the run's reason and log."""
    retries = context.request_retries
    after = f" after {retries} retr{'y' if retries == 1 else 'ies'}" if retries else ""
    endpoint = redact_url(context.base_url) if context.base_url else "the OpenAI API"
    if isinstance(exc, openai.APITimeoutError):
        text = f"the model request to {endpoint} timed out ({context.request_timeout_s:g}s){after}"
    elif isinstance(exc, openai.APIStatusError):
        body = exc.body if isinstance(exc.body, dict) else {}
        detail = body.get("message") or body.get("error", {}).get("message") or exc.message
        retried = exc.status_code in (408, 409, 429) or exc.status_code >= 500
        when = after if retried else ""  # the client retries only these statuses
        text = f"the model endpoint {endpoint} answered HTTP {exc.status_code}{when}: {detail}"
    elif isinstance(exc, openai.APIConnectionError):
        text = f"could not connect to the model endpoint {endpoint}{after}"
    else:
        text = f"the model client failed: {exc}"
    return redact(text)[:400]


def _fields_at(schema: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The field names of the model that holds `loc`'s last key (an unknown one), found by
    following the path through nested models and lists of them; [] when it leads elsewhere."""
    model: Any = schema
    for part in loc[:-1]:
        if isinstance(part, int):
            continue  # an index into a list of models: the same model
        info = model.model_fields.get(part) if isinstance(part, str) else None
        if info is None:
            return []
        nested = [
            t
            for t in (info.annotation, *get_args(info.annotation))
            if isinstance(t, type) and issubclass(t, BaseModel)
        ]
        if not nested:
            return []
        model = nested[0]
    return list(model.model_fields)


def describe_parse_error(error: BaseException, schema: type[BaseModel]) -> str:
    if isinstance(error, ValidationError):
        parts = []
        for err in error.errors()[:6]:
            where = ".".join(str(p) for p in err["loc"]) or "(top level)"
            message = err["msg"]
            if err["type"] == "extra_forbidden" and (known := _fields_at(schema, err["loc"])):
                message = f"not a field here; the fields are {', '.join(known)}"
            parts.append(f"{where}: {message}")
        more = f" (and {error.error_count() - 6} more)" if error.error_count() > 6 else ""
        return f"the answer does not fit the {schema.__name__} schema: {'; '.join(parts)}{more}"
    return f"the answer could not be read as {schema.__name__}: {str(error)[:300]}"


def _compact(node: Any, *, described: bool = False) -> Any:
    """A JSON schema node without what costs tokens and tells a model nothing: `title`s,
    `additionalProperties: true` (the default), empty defaults, and the null branch of an
    optional field (leaving it out means the same). A nested model's docstring is dropped
    where the field that holds it has its own description (`described`)."""
    if not isinstance(node, dict):
        return node
    branches = node.get("anyOf")
    if isinstance(branches, list):
        kept = [b for b in branches if b != {"type": "null"}]
        if len(kept) == 1 and len(kept) < len(branches):
            rest = {k: v for k, v in node.items() if k != "anyOf"}
            return _compact({**kept[0], **rest}, described=described)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title" or (key == "default" and value in (None, "", [], {})):
            continue
        if key == "additionalProperties" and value is True:
            continue
        if key == "description" and described:
            continue
        if key == "properties":
            value = {name: _compact(prop) for name, prop in value.items()}
        elif key in ("items", "additionalProperties"):
            value = _compact(value, described="description" in node)
        elif key in ("anyOf", "oneOf", "allOf"):
            value = [_compact(v, described="description" in node) for v in value]
        out[key] = value
    return out


@cache
def tool_for(schema: type[BaseModel]) -> dict[str, Any]:
    """The OpenAI tool that answers with `schema`, its parameters compacted (`_compact`)."""
    tool = convert_to_openai_tool(schema)
    function = tool["function"]
    return {
        "type": "function",
        "function": {**function, "parameters": _compact(function["parameters"])},
    }


def _clip_echo(text: str) -> str:
    return text if len(text) <= MAX_ECHO_CHARS else text[:MAX_ECHO_CHARS] + "...(cut)"


def _sent(message: AIMessage) -> str:
    if message.tool_calls:
        text = json.dumps(message.tool_calls[0]["args"], default=str)
    elif message.invalid_tool_calls:
        text = str(message.invalid_tool_calls[0].get("args") or "")
    else:
        text = message.text
    return _clip_echo(text)


def _json_error(args: str) -> str | None:
    try:
        json.loads(args)
    except json.JSONDecodeError as exc:
        return str(exc)
    return None


class _StreamedArguments(AsyncCallbackHandler):
    """Keeps the tool-call arguments exactly as they were streamed.

    When a call streams (LangGraph's `stream_mode="messages"` makes it), LangChain merges the
    argument pieces with a lenient partial-JSON parser that silently repairs cut-off JSON. The
    raw text lets the planner refuse such an answer like any other malformed JSON.
    """

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.streamed = False

    async def on_llm_new_token(
        self,
        token: str | list[str | dict[str, Any]],
        *,
        chunk: GenerationChunk | ChatGenerationChunk | None = None,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        self.streamed = True
        message = getattr(chunk, "message", None)
        for part in getattr(message, "tool_call_chunks", None) or []:
            if part.get("index") in (0, None):
                self.pieces.append(part.get("args") or "")

    @property
    def arguments(self) -> str | None:
        return "".join(self.pieces) if self.streamed and self.pieces else None


def _config_with(handler: AsyncCallbackHandler) -> RunnableConfig:
    """The current run's config plus `handler`, so the call stays nested in the caller's run
    (traces, and LangGraph's message streaming, follow it)."""
    parent = ensure_config().get("callbacks")
    if isinstance(parent, BaseCallbackManager):
        manager = parent.copy()
        manager.add_handler(handler, inherit=True)
        return {"callbacks": manager}
    return {"callbacks": [*(parent or []), handler]}


@dataclass(frozen=True)
class ChatModel:
    """A configured model for one role, valid inside its `open_chat_model` block."""

    client: ChatOpenAI
    name: str
    role: Role
    context: Context

    async def structured(
        self, schema: type[M], messages: Sequence[BaseMessage], *, round_no: int
    ) -> StructuredAnswer[M]:
        """One function-calling request for `schema`. Raises `ModelCallFailed` on transport."""
        runnable = self.client.with_structured_output(
            tool_for(schema), method="function_calling", include_raw=True
        )
        streamed = _StreamedArguments()
        try:
            out: Any = await runnable.ainvoke(list(messages), _config_with(streamed))
        except openai.OpenAIError as exc:
            raise ModelCallFailed(describe_failure(exc, self.context)) from None
        except ValidationError:
            # The client could not even build the message: tool arguments that are JSON but
            # not an object (a list around the update, a string, a number). Its usage is lost
            # with it; the echo is what the stream carried, when it streamed.
            error = (
                f"the {schema.__name__} arguments must be one JSON object holding its fields, "
                "not a list, a string or a number"
            )
            return StructuredAnswer(None, error, None, _clip_echo(streamed.arguments or ""))
        raw: AIMessage = out["raw"]
        usage = usage_of(raw, round_no=round_no, role=self.role, model=self.name)
        sent = _sent(raw)
        tool = schema.__name__
        calls = len(raw.tool_calls) + len(raw.invalid_tool_calls)
        if calls > 1:
            error = (
                f"the answer made {calls} tool calls; call {tool} exactly once, with every "
                "task in its add list"
            )
            return StructuredAnswer(None, error, usage, sent)
        arguments = streamed.arguments
        if arguments is None and raw.invalid_tool_calls:
            arguments = str(raw.invalid_tool_calls[0].get("args") or "")
        if arguments is not None and (reason := _json_error(arguments)) is not None:
            sent = _clip_echo(arguments)
            error = f"the {tool} arguments are not valid JSON ({reason})"
            return StructuredAnswer(None, error, usage, sent)
        if out["parsing_error"] is not None:
            return StructuredAnswer(
                None, describe_parse_error(out["parsing_error"], schema), usage, sent
            )
        parsed = out["parsed"]
        if not isinstance(parsed, dict):
            error = (
                f"the {tool} arguments must be one JSON object holding its fields"
                if calls
                else f"the answer did not call the {tool} tool; answer by calling it exactly once"
            )
            return StructuredAnswer(None, error, usage, sent)
        try:
            value = schema.model_validate(parsed)
        except ValidationError as exc:
            return StructuredAnswer(None, describe_parse_error(exc, schema), usage, sent)
        return StructuredAnswer(value, None, usage, sent)

    async def text(self, messages: Sequence[BaseMessage], *, round_no: int) -> TextAnswer:
        """One plain completion. Raises `ModelCallFailed` on transport failures."""
        try:
            message = await self.client.ainvoke(list(messages))
        except openai.OpenAIError as exc:
            raise ModelCallFailed(describe_failure(exc, self.context)) from None
        usage = usage_of(message, round_no=round_no, role=self.role, model=self.name)
        return TextAnswer(text=message.text.strip(), usage=usage)


def _tls_env() -> tuple[str | None, str | None]:
    return os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")


@cache
def _tls_context(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    """httpx's own default trust (its `create_ssl_context()`, which reads SSL_CERT_FILE and
    SSL_CERT_DIR), built once per setting: loading the CA bundle costs ~60 ms, which a fresh
    client per model call would otherwise pay every call."""
    del cert_file, cert_dir  # the cache key: httpx reads them from the environment itself
    return httpx.create_ssl_context()


@asynccontextmanager
async def open_chat_model(context: Context, role: Role) -> AsyncIterator[ChatModel]:
    """The role's model, configured from `context`; its connections close when the block ends."""
    if not model_configured(context):
        raise ModelUnavailable(NO_MODEL)
    if not ALLOW_REMOTE_MODELS and not _is_loopback(context.base_url):
        where = redact_url(context.base_url) if context.base_url else "the OpenAI API"
        raise ModelUnavailable(
            f"model requests to {where} are switched off "
            "(orchestrator.llm.models.ALLOW_REMOTE_MODELS is False); use a loopback base_url"
        )
    name = model_name(context, role)
    endpoint = split_endpoint(context.base_url)
    http = openai.DefaultAsyncHttpxClient(
        auth=endpoint.auth, params=endpoint.params, verify=_tls_context(*_tls_env())
    )
    # None: the client reads OPENAI_API_KEY itself, so the key never passes through here. Only
    # for the endpoint the key was configured with; any other gets the placeholder.
    own_key = bool(os.environ.get(API_KEY_ENV)) and key_goes_to(context.base_url)
    try:
        client = ChatOpenAI(
            model=name,
            base_url=endpoint.url or None,
            api_key=None if own_key else SecretStr(PLACEHOLDER_KEY),
            timeout=context.request_timeout_s,
            max_retries=context.request_retries,
            stream_usage=True,
            http_async_client=http,
        )
        yield ChatModel(client=client, name=name, role=role, context=context)
    finally:
        await http.aclose()
