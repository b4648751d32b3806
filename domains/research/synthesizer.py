"""The research answer: the writer's report with numbered citations and its sources."""

from __future__ import annotations

from typing import Any

from domains.research.corpus import Corpus, load_corpus
from domains.research.verifier import latest_report
from orchestrator.planning import SynthesisView
from orchestrator.verification import VerificationView
from state import Answer, Usage


class ReportSynthesizer:
    """Implements `Synthesizer`: markdown with [n] citations, from the latest report."""

    def __init__(self, corpus: Corpus | None = None) -> None:
        self.corpus = corpus or load_corpus()

    async def synthesize(self, view: SynthesisView) -> tuple[Answer, list[Usage]]:
        report = (view.verdict.facts.get("report") if view.verdict else None) or latest_report(
            _as_verification(view)
        )
        lines = [f"Status: {view.status} ({view.reason})", ""]
        sources: list[str] = []
        data: dict[str, Any] = {"report": report, "sources": sources}
        if report is None:
            lines.append("No report was written.")
            return Answer(
                status=view.status, reason=view.reason, summary="\n".join(lines), data=data
            ), []
        lines.append(f"# {report['title']}")
        lines.append("")
        for claim in report["claims"]:
            marks = []
            for citation in claim["citations"]:
                if citation["doc_id"] not in sources:
                    sources.append(citation["doc_id"])
                marks.append(f"[{sources.index(citation['doc_id']) + 1}]")
            lines.append(f"- {claim['text']} {''.join(marks)}")
        lines += ["", "Sources:"]
        for n, doc_id in enumerate(sources, 1):
            document = self.corpus.read(doc_id)
            lines.append(f"[{n}] {document.title if document else '(unknown)'} ({doc_id})")
        return Answer(
            status=view.status, reason=view.reason, summary="\n".join(lines), data=data
        ), []


def _as_verification(view: SynthesisView) -> VerificationView:
    return VerificationView(
        goal=view.goal,
        request=view.request,
        tasks=view.tasks,
        results=view.results,
        notes=view.notes,
        context=view.context,
        thread_id="",
        run_id="",
        scope="",
        claim=None,
    )
