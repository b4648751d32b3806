"""Bearer-token auth (`graph/auth.py`), switched on by `ORCHESTRATOR_AUTH_TOKENS`.

Alice and Bob share a server. Each sees only their own threads and runs: Bob can neither read
nor resume Alice's paused trip, and a request without a valid token gets a 401.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator
from typing import Any

import httpx
import pytest
from langgraph_sdk.errors import AuthenticationError
from server_support import DevServer, ServerFactory, example, sdk

from graph.auth import parse_tokens, user_for

pytestmark = pytest.mark.server

ALICE, BOB = "tok-alice-3f9c", "tok-bob-81d2"
RUN_TIMEOUT_S = 60


@pytest.fixture(scope="module")
def guarded(make_server: ServerFactory) -> Iterator[DevServer]:
    server = make_server("auth", {"ORCHESTRATOR_AUTH_TOKENS": f"{ALICE}:alice,{BOB}:bob"})
    yield server
    server.stop()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": ALICE},  # no scheme
        # Studio's header: with `disable_studio_auth` it must not bypass the handler.
        {"x-auth-scheme": "langsmith"},
    ],
    ids=["no-token", "unknown-token", "no-bearer-scheme", "studio-header"],
)
def test_a_request_without_a_valid_token_gets_401(
    guarded: DevServer, headers: dict[str, str]
) -> None:
    for path in ("/assistants/search", "/threads", "/threads/search"):
        response = httpx.post(guarded.url + path, json={}, headers=headers)
        assert response.status_code == 401, (path, response.text)
        assert "token" in response.json()["detail"]  # says what to send


async def status(call: Awaitable[Any]) -> int:
    """The HTTP status a client call ends with."""
    try:
        await call
    except httpx.HTTPStatusError as exc:  # the SDK's typed errors derive from it
        return exc.response.status_code
    return 200


async def test_bob_can_neither_read_nor_resume_alices_thread(guarded: DevServer) -> None:
    async with (
        sdk(guarded.url, ALICE) as alice,
        sdk(guarded.url, BOB) as bob,
        asyncio.timeout(RUN_TIMEOUT_S),
    ):
        # Both see the server's graphs.
        assert {a["graph_id"] for a in await bob.assistants.search()} == {
            "orchestrator",
            "group_trip",
        }

        thread = await alice.threads.create()
        thread_id = thread["thread_id"]
        assert (thread["metadata"] or {})["owner"] == "alice"
        await alice.runs.wait(thread_id, "orchestrator", input=example("trip.json"))
        assert (await alice.threads.get(thread_id))["status"] == "interrupted"

        # 404, not 403: Bob cannot even learn that the thread exists.
        assert await status(bob.threads.get(thread_id)) == 404
        assert await status(bob.threads.get_state(thread_id)) == 404
        assert await status(bob.threads.get_history(thread_id)) == 404
        assert await status(bob.runs.list(thread_id)) == 404
        resume = bob.runs.wait(thread_id, "orchestrator", command={"resume": "approve"})
        assert await status(resume) == 404
        assert thread_id not in {t["thread_id"] for t in await bob.threads.search(limit=100)}

        # Bob's attempt changed nothing: Alice's trip is still paused, and hers to resume.
        state = await alice.threads.get_state(thread_id)
        assert state["next"] == ["approve"]
        final = await alice.runs.wait(thread_id, "orchestrator", command={"resume": "approve"})
        assert isinstance(final, dict)
        assert final["status"] == "completed", final["reason"]
        assert [t["thread_id"] for t in await alice.threads.search(limit=100)] == [thread_id]


async def test_the_sdk_raises_authentication_error_without_a_token(guarded: DevServer) -> None:
    async with sdk(guarded.url) as anonymous:
        with pytest.raises(AuthenticationError):
            await anonymous.threads.create()


def test_the_token_list_is_read_strictly() -> None:
    assert parse_tokens("") == {}
    assert parse_tokens(" tokA : alice , tokB:bob ,") == {"tokA": "alice", "tokB": "bob"}
    with pytest.raises(ValueError, match="is not TOKEN:USER"):
        parse_tokens("tokA")
    with pytest.raises(ValueError, match="listed twice"):
        parse_tokens("tokA:alice,tokA:bob")
    assert user_for("tokB", {"tokA": "alice", "tokB": "bob"}) == "bob"
    assert user_for("tok", {"tokA": "alice"}) is None
