"""The research verifier: every claim of the report cites a document that was read, and quotes it.

Computed from the board and the document set, never from what a model said about itself:
- a report exists (the latest `write` task that is done);
- it makes at least one claim, and every claim has at least one citation;
- every cited document was read by a `read` task that is done in this run;
- every quote occurs in the cited document (ignoring case and spacing).
"""

from __future__ import annotations

from typing import Any

from domains.research.corpus import Corpus, load_corpus
from domains.research.workers import READ, WRITE
from orchestrator.verification import Verdict, VerificationView
from state import FinalStatus


def latest_report(view: VerificationView) -> dict[str, Any] | None:
    for task in reversed(list(view.tasks.values())):
        if task["worker"] == WRITE and task["status"] == "done":
            result = view.results.get(task["result_ref"] or "")
            if result and result["ok"] and result["output"] is not None:
                return result["output"]
    return None


def documents_read(view: VerificationView) -> set[str]:
    return {
        str(t["inputs"].get("doc_id"))
        for t in view.tasks.values()
        if t["worker"] == READ and t["status"] == "done"
    }


class CitationVerifier:
    """Implements `Verifier` for the research domain."""

    def __init__(self, corpus: Corpus | None = None) -> None:
        self.corpus = corpus or load_corpus()

    async def verify(self, view: VerificationView) -> Verdict:
        read = documents_read(view)
        report = latest_report(view)
        facts: dict[str, Any] = {"read": sorted(read), "report": report}
        if report is None:
            status: FinalStatus = "partial" if read else "failed"
            return Verdict(
                status=status,
                reason="no report was written",
                unmet=["no report was written"],
                facts=facts,
            )
        unmet: list[str] = []
        claims = report.get("claims") or []
        if not claims:
            unmet.append("the report makes no claim")
        for n, claim in enumerate(claims, 1):
            citations = claim.get("citations") or []
            if not citations:
                unmet.append(f"claim {n} cites no document")
            for citation in citations:
                doc_id = str(citation.get("doc_id"))
                document = self.corpus.read(doc_id)
                if doc_id not in read:
                    unmet.append(f"claim {n} cites {doc_id!r}, which no reader read")
                elif document is None or not document.contains(str(citation.get("quote", ""))):
                    unmet.append(f"claim {n} quotes words that are not in {doc_id!r}")
        cited = sorted({str(c.get("doc_id")) for cl in claims for c in cl.get("citations") or []})
        facts["cited"] = cited
        if unmet:
            return Verdict(status="partial", reason="; ".join(unmet[:5]), unmet=unmet, facts=facts)
        reason = (
            f"{len(claims)} claim(s), each quoting a document that was read "
            f"({len(cited)} cited of {len(read)} read)"
        )
        return Verdict(status="completed", reason=reason, facts=facts)
