"""The research demo's question, and the plan updates the offline LLM planner answers with.

The rules planner needs no script. For the LLM planner offline, the scripted model answers each
planning round with the next of `DEMO_PLAN`: exactly what a model would have to produce for the
demo question (the document ids are the ones the searches return).
"""

from __future__ import annotations

from typing import Any

DEMO_QUESTION = "Why did the kelp harvest collapse in 1987, and how did the kelp beds recover?"
DEMO_REQUEST: dict[str, Any] = {
    "question": DEMO_QUESTION,
    "sub_questions": ["sea urchins and sea otters"],
}
_READS = ["kelp-collapse-1987", "kelp-recovery", "sea-urchins", "marine-heatwave-1987"]


def _read(doc_id: str) -> dict[str, Any]:
    return {
        "id": f"read-{doc_id}",
        "worker": "read",
        "inputs": {"doc_id": doc_id, "question": DEMO_QUESTION},
    }


DEMO_PLAN: list[dict[str, Any]] = [
    {
        "add": [
            {"id": "search-1", "worker": "search", "inputs": {"query": DEMO_QUESTION}},
            {"id": "search-2", "worker": "search", "inputs": {"query": "sea urchins and otters"}},
        ],
        "decisions": ["search for the question and for the urchins at once"],
    },
    {
        "add": [_read(doc_id) for doc_id in _READS],
        "decisions": ["read the four documents that speak of the collapse and the recovery"],
    },
    {
        "add": [
            {
                "id": "write-1",
                "worker": "write",
                "inputs": {"question": DEMO_QUESTION, "doc_ids": _READS},
                "depends_on": [f"read-{doc_id}" for doc_id in _READS],
            }
        ],
        "decisions": ["all four are relevant: write the report from them"],
    },
    {"finish": {"status": "completed", "reason": "the cited report is written"}},
]
