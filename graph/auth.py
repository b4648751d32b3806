"""Optional bearer-token auth for the LangGraph server (`auth.path` in langgraph.json).

Off until `ORCHESTRATOR_AUTH_TOKENS` is set, so Studio and `make serve` work locally with no
token. The server always loads this handler (langgraph.json cannot load it conditionally), which
is why "off" is a handler that lets every request through, not a missing handler.

When on (`ORCHESTRATOR_AUTH_TOKENS="tokA:alice,tokB:bob"`), every request needs
`Authorization: Bearer <token>`; the token's user becomes the caller's identity. Threads, their
runs and crons are stamped with their creator as `owner` and every read, search, update, run or
delete is filtered by it, so each caller sees only their own. Assistants (the graphs and their
saved settings) are readable by every caller; only their creator may change them. Store calls are
moved under a namespace that starts with the caller's identity. `owner` is the server's to set:
metadata that names another owner is refused (403), so nobody can plant a thread, assistant or
cron in someone else's list.

Whether auth is on or off, a run, assistant or cron whose context (or `config.configurable`)
sets a deployment setting (model endpoint or names, data directory, approval `auto`, request
timeout or retries) is refused with 403, and one with a limit above the operator's cap or an
invalid value with 400; the message names every field (`orchestrator.context`).

Whether auth is on or off, a thread's state is written only by its graph: `threads.update_state`
(and a thread created with `supersteps`) is refused with 403, and so is a run whose `command`
carries `update` or `goto`; a paused run is answered with `command={"resume": ...}` only. Such a
write could release a booking batch without its approval, book other quantities than the
question showed, or plant a `completed` status. (`threads.update` of metadata, and cancelling a
run, stay allowed.)
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping
from typing import Any

from langgraph_sdk import Auth

from orchestrator.context import caller_context_problems

TOKENS_ENV = "ORCHESTRATOR_AUTH_TOKENS"
OWNER = "owner"
ANONYMOUS = "anonymous"
"""Everyone's identity while auth is off."""


def parse_tokens(raw: str) -> dict[str, str]:
    """`"tokA:alice,tokB:bob"` -> `{"tokA": "alice", "tokB": "bob"}`; errors say what to fix."""
    tokens: dict[str, str] = {}
    for entry in filter(None, (part.strip() for part in raw.split(","))):
        token, sep, user = (s.strip() for s in entry.partition(":"))
        if not (sep and token and user):
            raise ValueError(
                f"{TOKENS_ENV}: entry {entry!r} is not TOKEN:USER "
                "(expected e.g. 'tokA:alice,tokB:bob')"
            )
        if token in tokens:
            raise ValueError(f"{TOKENS_ENV}: a token is listed twice (for {tokens[token]!r})")
        tokens[token] = user
    return tokens


# Read once at start-up: a malformed value stops the server with the message above instead of
# failing every request later.
TOKENS: Mapping[str, str] = parse_tokens(os.environ.get(TOKENS_ENV, ""))

auth = Auth()


def _unauthorized(detail: str) -> Auth.exceptions.HTTPException:
    return Auth.exceptions.HTTPException(status_code=401, detail=detail)


def user_for(token: str, tokens: Mapping[str, str]) -> str | None:
    """The user a token belongs to, compared in constant time."""
    found = None
    for known, user in tokens.items():
        if hmac.compare_digest(known.encode(), token.encode()):
            found = user
    return found


def authorization_header(headers: Mapping[Any, Any] | None) -> str:
    """The `Authorization` header's value from either server's header mapping, or "".

    `langgraph dev` (langgraph-api) injects `headers` by name as a dict of bytes; Aegra calls the
    handler with one positional dict of str. Names are matched case-insensitively either way.
    """
    for key, value in (headers or {}).items():
        name = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        if name.lower() == "authorization":
            return value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return ""


@auth.authenticate
async def authenticate(headers: Mapping[Any, Any]) -> Auth.types.MinimalUserDict:
    """The caller's identity from `Authorization: Bearer <token>` (anonymous while auth is off).

    The one parameter is named `headers`, which both servers supply: langgraph-api by name,
    Aegra positionally."""
    if not TOKENS:
        return {"identity": ANONYMOUS}
    scheme, _, token = authorization_header(headers).strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("missing bearer token: send the header 'Authorization: Bearer <token>'")
    user = user_for(token.strip(), TOKENS)
    if user is None:
        raise _unauthorized(f"unknown token: use one of the tokens listed in {TOKENS_ENV}")
    return {"identity": user}


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def refuse_operator_settings(context: Any, config: Any) -> None:
    """Raises 403 (deployment settings) or 400 (bad or over-cap limits) for a caller's context.

    `config.configurable` is checked too when there is no context: the server turns it into the
    run's context then. It also carries LangGraph's own keys, so only `Context` fields count.
    """
    refused = caller_context_problems(_mapping(context))
    if refused is None and not context:
        configurable = _mapping(_mapping(config).get("configurable"))
        refused = caller_context_problems(configurable, unknown_ok=True)
    if refused is not None:
        raise Auth.exceptions.HTTPException(
            status_code=403 if refused.forbidden else 400, detail=str(refused)
        )


STATE_WRITE_KEYS = ("values", "as_node", "supersteps", "checkpoint", "checkpoint_id")
"""Body fields of a state write as Aegra hands them to the handler (its whole request body)."""
STEERING_COMMAND_KEYS = ("update", "goto")
"""`Command` fields that write state or pick the next node, instead of answering an interrupt."""


def _forbidden(detail: str) -> Auth.exceptions.HTTPException:
    return Auth.exceptions.HTTPException(status_code=403, detail=detail)


def writes_thread_state(ctx: Auth.types.AuthContext, value: Any) -> bool:
    """Whether a `threads` event is a write of a thread's state (`update_state`, `supersteps`).

    langgraph-api sends `update_state` (and each superstep of a thread created with
    `supersteps`) as an `update` whose value names the thread alone, where a metadata update
    carries `metadata` and a run cancellation `action`; Aegra passes the request body, which
    names the state it would write."""
    if ctx.resource != "threads" or ctx.action not in ("create", "update"):
        return False
    if not isinstance(value, Mapping):
        return ctx.action == "update"
    if any(value.get(key) is not None for key in STATE_WRITE_KEYS):
        return True
    return ctx.action == "update" and set(value) <= {"thread_id"}


def refuse_state_writes(ctx: Auth.types.AuthContext, value: Any) -> None:
    """403 for a caller's write of a thread's state, or a run command that steers the graph."""
    if writes_thread_state(ctx, value):
        raise _forbidden(
            "a thread's state is written only by its graph: update_state and supersteps are "
            "refused; answer a paused run with command={'resume': ...}"
        )
    if ctx.action != "create_run" or not isinstance(value, Mapping):
        return
    # langgraph-api nests the run's parameters under `kwargs`; Aegra passes the request body.
    for command in (_mapping(value.get("kwargs")).get("command"), value.get("command")):
        # Truthy only: `RemoteGraph` sends `Command(resume=...)` with `goto: ()`, `update: None`.
        steering = [k for k in STEERING_COMMAND_KEYS if _mapping(command).get(k)]
        if steering:
            raise _forbidden(
                f"a run's command may only resume a paused run: {', '.join(steering)} "
                "would write the thread's state or pick its next step"
            )


def check_settings(ctx: Auth.types.AuthContext, value: Any) -> None:
    """The context a run, assistant or cron would run with, the `owner` it would record, and no
    write of a thread's state."""
    refuse_state_writes(ctx, value)
    if not isinstance(value, Mapping):
        return
    if ctx.action == "create_run":
        kwargs = _mapping(value.get("kwargs"))
        refuse_operator_settings(kwargs.get("context"), kwargs.get("config"))
    elif ctx.resource == "assistants" and ctx.action in ("create", "update"):
        refuse_operator_settings(value.get("context"), value.get("config"))
    elif ctx.resource == "crons" and ctx.action in ("create", "update"):
        payload = _mapping(value.get("payload"))
        refuse_operator_settings(payload.get("context"), payload.get("config"))
    if ctx.action not in ("create", "update", "create_run"):
        return  # a search's metadata is a filter, and the owner filter is ANDed with it
    owner = _mapping(value.get("metadata")).get(OWNER)
    identity = ctx.user.identity if TOKENS else ANONYMOUS
    if owner is not None and owner != identity:
        raise _forbidden(
            f"metadata {OWNER!r} is set by the server (the caller's identity) and "
            "cannot be given or changed"
        )


@auth.on
async def owner_only(ctx: Auth.types.AuthContext, value: Any) -> Auth.types.FilterType | None:
    """Threads, runs and crons: stamp the creator as owner, and filter everything by owner."""
    check_settings(ctx, value)
    if not TOKENS:
        return None
    if ctx.action in ("create", "create_run") and isinstance(value, dict):
        # Changed in place: the server keeps its own reference to this dict. A run created with
        # if_not_exists="create" makes its thread from this metadata too.
        metadata = value.get("metadata")
        if metadata is None:
            metadata = value["metadata"] = {}
        metadata[OWNER] = ctx.user.identity
    return {OWNER: ctx.user.identity}


@auth.on.assistants
async def shared_assistants(
    ctx: Auth.types.AuthContext, value: Any
) -> Auth.types.FilterType | None:
    """Every caller may read and search assistants (the server's graphs have no owner)."""
    if ctx.action in ("read", "search"):
        return None
    return await owner_only(ctx, value)


@auth.on.store
async def own_namespace(ctx: Auth.types.AuthContext, value: Any) -> None:
    """Store operations run under the caller's own namespace: `(identity, *namespace)`."""
    if TOKENS and isinstance(value, dict):
        value["namespace"] = (ctx.user.identity, *(value.get("namespace") or ()))
