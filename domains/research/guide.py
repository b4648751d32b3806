"""What the research domain adds when an LLM plans: the documents found and read so far.

The LLM planner's prompt already holds the board with one-line summaries; these facts add the
document ids a search returned and the ones read, so the model schedules reads and the writer
with ids that exist. Its answers are checked like any planner's (schemas, dependencies), and the
verifier still decides `completed`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domains.research.workers import READ, SEARCH
from orchestrator.planning import PlanUpdate, PlanView


class ResearchGuide:
    """Implements `orchestrator.llm.planner.PlanningGuide`."""

    name = "research"

    def facts(self, view: PlanView) -> Mapping[str, Any]:
        found: dict[str, str] = {}
        for task in view.tasks.values():
            if task["worker"] == SEARCH:
                for hit in (view.output_of(task["id"]) or {}).get("hits", []):
                    found.setdefault(hit["doc_id"], hit["title"])
        read = {
            str(t["inputs"].get("doc_id")): bool((view.output_of(t["id"]) or {}).get("relevant"))
            for t in view.tasks.values()
            if t["worker"] == READ and t["status"] == "done"
        }
        return {
            "documents_found": found,
            "documents_read": {d: ("relevant" if r else "not relevant") for d, r in read.items()},
            "rule": "the writer may only cite documents read; the verifier checks every quote",
        }

    def review(self, view: PlanView, update: PlanUpdate) -> tuple[PlanUpdate, list[str]]:
        return update, []
