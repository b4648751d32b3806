"""The research domain: LLM agents search, read and write; the orchestrator plans and checks."""

from __future__ import annotations

from domains.research.planner import ResearchRulesPlanner
from domains.research.synthesizer import ReportSynthesizer
from domains.research.verifier import CitationVerifier
from domains.research.workers import research_workers
from orchestrator.context import Context
from orchestrator.domain import Domain
from orchestrator.llm.config import use_llm_planner
from orchestrator.planning import Planner, Synthesizer
from orchestrator.verification import Verifier
from orchestrator.workers import WorkerRegistry


def research_planner(context: Context) -> Planner:
    """The LLM planner when `Context.planner` picks it, else the deterministic one."""
    if use_llm_planner(context):
        from domains.research.guide import ResearchGuide
        from orchestrator.llm.planner import LLMPlanner

        return LLMPlanner(guide=ResearchGuide())
    return ResearchRulesPlanner()


def research_synthesizer(_context: Context) -> Synthesizer:
    return ReportSynthesizer()


def research_verifier(_context: Context) -> Verifier:
    return CitationVerifier()


def research_domain() -> Domain:
    return Domain(
        name="research",
        description="Answers a question from a local document set with a cited report.",
        workers=WorkerRegistry.of(*research_workers()),
        planner=research_planner,
        synthesizer=research_synthesizer,
        verifier=research_verifier,
    )
