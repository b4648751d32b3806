"""`graph/auth.py`'s `authenticate` takes the headers as either server passes them: `langgraph dev`
injects `headers` by name as bytes; Aegra passes one positional dict of str."""

from __future__ import annotations

import pytest
from langgraph_sdk import Auth

from graph import auth


@pytest.fixture
def tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "TOKENS", auth.parse_tokens("tokA:alice,tokB:bob"))


@pytest.mark.usefixtures("tokens")
@pytest.mark.parametrize(
    "headers",
    [
        {b"authorization": b"Bearer tokA", b"host": b"127.0.0.1"},  # langgraph-api
        {"authorization": "Bearer tokA", "host": "127.0.0.1"},  # Aegra (lower-case names)
        {"Authorization": "bearer  tokA "},  # any case, stray spaces
    ],
    ids=["bytes", "str", "mixed-case"],
)
async def test_the_token_is_read_from_either_servers_headers(headers: dict) -> None:
    assert await auth.authenticate(headers) == {"identity": "alice"}
    assert await auth.authenticate(headers=headers) == {"identity": "alice"}


@pytest.mark.usefixtures("tokens")
@pytest.mark.parametrize(
    "headers",
    [{}, {"authorization": "tokA"}, {b"authorization": b"Bearer nope"}, {"x-api-key": "tokA"}],
    ids=["none", "no-scheme", "unknown", "other-header"],
)
async def test_no_valid_bearer_token_is_a_401(headers: dict) -> None:
    with pytest.raises(Auth.exceptions.HTTPException) as raised:
        await auth.authenticate(headers)
    assert raised.value.status_code == 401


async def test_auth_off_lets_everyone_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "TOKENS", {})
    assert await auth.authenticate({}) == {"identity": auth.ANONYMOUS}
