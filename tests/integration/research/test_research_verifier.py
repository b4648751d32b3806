"""The citation verifier decides `completed` from the board and the documents, not the planner."""

from __future__ import annotations

from typing import Any

from domains.research.verifier import CitationVerifier
from orchestrator.context import Context
from orchestrator.verification import Claim, VerificationView
from state import Task, TaskResult

QUOTE = "Varden kelp needs water colder than fourteen degrees Celsius to thrive."


def task(task_id: str, worker: str, status: str = "done", **inputs: Any) -> Task:
    return Task(
        id=task_id,
        worker=worker,
        inputs=inputs,
        depends_on=[],
        status=status,  # type: ignore[typeddict-item]
        attempts=1,
        failures=0,
        round=1,
        reason="",
        result_ref=f"{task_id}#1",
        started_at=None,
        ended_at=None,
        error=None,
    )


def view(claims: list[dict[str, Any]], read: list[str]) -> VerificationView:
    tasks = {f"read-{d}": task(f"read-{d}", "read", doc_id=d, question="q") for d in read}
    tasks["write-1"] = task("write-1", "write", question="q", doc_ids=read)
    results = {
        "write-1#1": TaskResult(
            task_id="write-1",
            worker="write",
            ok=True,
            error=None,
            summary="",
            attempt=1,
            started_at=0,
            ended_at=0,
            output={"title": "t", "claims": claims, "usage": []},
        )
    }
    return VerificationView(
        goal="g",
        request=None,
        tasks=tasks,
        results=results,
        notes={},
        context=Context(),
        thread_id="t",
        run_id="",
        scope="",
        claim=Claim(status="completed", reason="done"),
    )


def claim(doc_id: str, quote: str = QUOTE) -> dict[str, Any]:
    return {"text": "cold water", "citations": [{"doc_id": doc_id, "quote": quote}]}


async def test_quoting_a_document_that_was_read_is_completed() -> None:
    verdict = await CitationVerifier().verify(view([claim("varden-kelp")], ["varden-kelp"]))

    assert verdict.status == "completed" and verdict.unmet == []
    assert verdict.facts["cited"] == ["varden-kelp"]


async def test_citing_an_unread_document_a_wrong_quote_or_nothing_is_partial() -> None:
    claims = [
        claim("varden-kelp"),
        claim("sea-otters", "Sea otters once lived along every shore of the archipelago."),
        claim("varden-kelp", "Varden kelp grows best in warm water."),
        {"text": "uncited", "citations": []},
    ]

    verdict = await CitationVerifier().verify(view(claims, ["varden-kelp"]))

    assert verdict.status == "partial"
    assert verdict.unmet == [
        "claim 2 cites 'sea-otters', which no reader read",
        "claim 3 quotes words that are not in 'varden-kelp'",
        "claim 4 cites no document",
    ]


async def test_no_report_is_failed_when_nothing_was_read() -> None:
    empty = view([], [])
    tasks = {k: v for k, v in empty.tasks.items() if v["worker"] != "write"}
    verdict = await CitationVerifier().verify(
        VerificationView(**{**empty.__dict__, "tasks": tasks})
    )

    assert verdict.status == "failed" and verdict.unmet == ["no report was written"]
