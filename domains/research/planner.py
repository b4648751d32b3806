"""The deterministic research planner: search, read the best hits, follow links, write.

Each round it reads the board and decides, so it plans the same after a resume:

1. search for the question and each sub-question at once;
2. read the best `max_reads` documents the searches found, in parallel;
3. re-plan from the findings: read up to `follow_links` more documents that relevant readings
   refer to (the most referred to first);
4. write the report from the relevant documents read;
5. finish `completed` (the verifier checks every claim's citation); a refused claim or a failed
   writer ends the run `partial` or `failed` with the reason.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import ValidationError

from domains.research.models import ResearchRequest
from domains.research.workers import READ, SEARCH, WRITE
from orchestrator.planning import Finish, NewTask, PlanOutcome, PlanUpdate, PlanView
from state import Task


def research_request(view: PlanView) -> ResearchRequest:
    """The run's request, or the goal as the question when none was given."""
    raw: dict[str, Any] = dict(view.request or {})
    raw.setdefault("question", view.goal)
    return ResearchRequest.model_validate(raw)


def _of(view: PlanView, worker: str) -> list[Task]:
    return [t for t in view.tasks.values() if t["worker"] == worker]


def _finish(status: str, reason: str) -> PlanOutcome:
    return PlanOutcome(
        PlanUpdate(finish=Finish.model_validate({"status": status, "reason": reason}))
    )


class ResearchRulesPlanner:
    """Implements `Planner` without a model (the workers still are agents)."""

    async def plan(self, view: PlanView) -> PlanOutcome:
        try:
            request = research_request(view)
        except ValidationError as exc:
            return _finish("failed", f"the request is not a research request: {exc}")
        if view.feedback:
            # A deterministic planner cannot do better than what it already did.
            return _finish("partial", "; ".join(view.feedback)[:600])
        if not view.tasks:
            queries = [request.question, *request.sub_questions]
            return PlanOutcome(
                PlanUpdate(
                    add=[
                        NewTask(
                            id=f"search-{n}",
                            worker=SEARCH,
                            inputs={"query": q},
                            reason="find documents",
                        )
                        for n, q in enumerate(queries, 1)
                    ],
                    decisions=[f"search the documents for {len(queries)} question(s) at once"],
                )
            )
        if any(t["status"] in ("pending", "running") for t in view.tasks.values()):
            return PlanOutcome(PlanUpdate())
        reads = {t["inputs"]["doc_id"]: t for t in _of(view, READ)}
        if not reads:
            return self._read_hits(view, request)
        writes = _of(view, WRITE)
        if not writes:
            follow = self._links_to_follow(view, request, reads)
            if follow:
                return PlanOutcome(
                    PlanUpdate(
                        add=[
                            _read_task(doc_id, request.question, "a relevant document refers to it")
                            for doc_id in follow
                        ],
                        decisions=[f"follow what the readings refer to: {', '.join(follow)}"],
                    )
                )
            return self._write(view, request, reads)
        last = writes[-1]
        if last["status"] == "done":
            return _finish("completed", "the report is written")
        if len(writes) < 2:
            return PlanOutcome(
                PlanUpdate(
                    add=[
                        NewTask(
                            id="write-2",
                            worker=WRITE,
                            inputs=last["inputs"],
                            reason="the first attempt failed",
                        )
                    ],
                    decisions=[f"write again: {last['error']}"],
                )
            )
        return _finish("failed", f"the writer failed twice: {last['error']}")

    def _read_hits(self, view: PlanView, request: ResearchRequest) -> PlanOutcome:
        best: dict[str, float] = {}
        for task in _of(view, SEARCH):
            for hit in (view.output_of(task["id"]) or {}).get("hits", []):
                best[hit["doc_id"]] = max(best.get(hit["doc_id"], 0.0), float(hit["score"]))
        if not best:
            return _finish("failed", "no document matched the question")
        chosen = sorted(best, key=lambda d: (-best[d], d))[: request.max_reads]
        return PlanOutcome(
            PlanUpdate(
                add=[
                    _read_task(doc_id, request.question, "a search found it") for doc_id in chosen
                ],
                decisions=[f"read the {len(chosen)} best hits at once: {', '.join(chosen)}"],
            )
        )

    def _links_to_follow(
        self, view: PlanView, request: ResearchRequest, reads: dict[str, Task]
    ) -> list[str]:
        followed = sum(1 for t in reads.values() if t["reason"].startswith("a relevant"))
        left = request.follow_links - followed
        if left <= 0 or followed:
            return []  # links are followed once, from the first readings
        named: Counter[str] = Counter()
        for task in reads.values():
            reading = view.output_of(task["id"]) or {}
            if reading.get("relevant"):
                named.update(d for d in reading.get("see_also", []) if d not in reads)
        return sorted(named, key=lambda d: (-named[d], d))[:left]

    def _write(
        self, view: PlanView, request: ResearchRequest, reads: dict[str, Task]
    ) -> PlanOutcome:
        relevant = [
            doc_id
            for doc_id, task in reads.items()
            if (view.output_of(task["id"]) or {}).get("relevant")
        ]
        if not relevant:
            return _finish("failed", "no document read was relevant to the question")
        return PlanOutcome(
            PlanUpdate(
                add=[
                    NewTask(
                        id="write-1",
                        worker=WRITE,
                        inputs={"question": request.question, "doc_ids": relevant},
                        depends_on=[reads[d]["id"] for d in relevant],
                        reason="write the cited report",
                    )
                ],
                decisions=[f"write the report from {len(relevant)} relevant document(s)"],
            )
        )


def _read_task(doc_id: str, question: str, reason: str) -> NewTask:
    return NewTask(
        id=f"read-{doc_id}",
        worker=READ,
        inputs={"doc_id": doc_id, "question": question},
        reason=reason,
    )
