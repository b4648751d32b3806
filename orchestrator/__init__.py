"""The orchestrator: one import for domain authors.

```python
from orchestrator import (
    Domain, WorkerSpec, WorkerRegistry, WorkerCall, TaskFailed,
    Planner, PlanView, PlanOutcome, PlanUpdate, NewTask, Finish,
    Verifier, VerificationView, Verdict, Synthesizer, TemplateSynthesizer, LLMPlanner,
    Context, StorageUnavailable, build_graph, drive, run_config,
    worker_from_tool, worker_from_runnable, worker_from_graph, react_agent,
)
```

Names are imported on first use (module `__getattr__`), so `import orchestrator` stays cheap
and the CLI starts fast: a name loads only its own module (and `build_graph` the graph's).
`write_domain_skeleton(path, name)` (the CLI's `orchestrator new-domain NAME`) writes a new
domain package to start from.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graph.builder import build_graph
    from graph.persistence import open_checkpointer
    from orchestrator.adapters import (
        ReportsUsage,
        TokenUsage,
        agent_factory,
        chat_model_for,
        react_agent,
        worker_from_graph,
        worker_from_runnable,
        worker_from_tool,
    )
    from orchestrator.context import Context
    from orchestrator.delegate import delegate_worker
    from orchestrator.domain import Domain, StorageUnavailable
    from orchestrator.llm.planner import LLMPlanner, PlanningGuide
    from orchestrator.llm.synthesizer import LLMSynthesizer
    from orchestrator.planning import (
        Finish,
        NewTask,
        Planner,
        PlanOutcome,
        PlanUpdate,
        PlanView,
        SynthesisView,
        Synthesizer,
    )
    from orchestrator.refs import RefError, ref
    from orchestrator.runner import RunOutcome, drive, run_config
    from orchestrator.synthesis import TemplateSynthesizer
    from orchestrator.templates import write_domain_skeleton
    from orchestrator.verification import BoardVerifier, Verdict, VerificationView, Verifier
    from orchestrator.workers import TaskFailed, WorkerCall, WorkerRegistry, WorkerSpec

_WHERE: dict[str, str] = {
    # the seat of a domain
    "Domain": "orchestrator.domain",
    "StorageUnavailable": "orchestrator.domain",
    "Context": "orchestrator.context",
    # workers
    "WorkerSpec": "orchestrator.workers",
    "WorkerRegistry": "orchestrator.workers",
    "WorkerCall": "orchestrator.workers",
    "TaskFailed": "orchestrator.workers",
    "worker_from_tool": "orchestrator.adapters",
    "worker_from_runnable": "orchestrator.adapters",
    "worker_from_graph": "orchestrator.adapters",
    "react_agent": "orchestrator.adapters",
    "agent_factory": "orchestrator.adapters",
    "chat_model_for": "orchestrator.adapters",
    "ReportsUsage": "orchestrator.adapters",
    "TokenUsage": "orchestrator.adapters",
    "delegate_worker": "orchestrator.delegate",
    # planning
    "Planner": "orchestrator.planning",
    "PlanView": "orchestrator.planning",
    "PlanOutcome": "orchestrator.planning",
    "PlanUpdate": "orchestrator.planning",
    "NewTask": "orchestrator.planning",
    "Finish": "orchestrator.planning",
    "ref": "orchestrator.refs",
    "RefError": "orchestrator.refs",
    "LLMPlanner": "orchestrator.llm.planner",
    "PlanningGuide": "orchestrator.llm.planner",
    # verifying and answering
    "Verifier": "orchestrator.verification",
    "VerificationView": "orchestrator.verification",
    "Verdict": "orchestrator.verification",
    "BoardVerifier": "orchestrator.verification",
    "Synthesizer": "orchestrator.planning",
    "SynthesisView": "orchestrator.planning",
    "TemplateSynthesizer": "orchestrator.synthesis",
    "LLMSynthesizer": "orchestrator.llm.synthesizer",
    # running
    "build_graph": "graph.builder",
    "open_checkpointer": "graph.persistence",
    "drive": "orchestrator.runner",
    "run_config": "orchestrator.runner",
    "RunOutcome": "orchestrator.runner",
    # starting a domain
    "write_domain_skeleton": "orchestrator.templates",
}

__all__ = [
    "BoardVerifier",
    "Context",
    "Domain",
    "Finish",
    "LLMPlanner",
    "LLMSynthesizer",
    "NewTask",
    "PlanOutcome",
    "PlanUpdate",
    "PlanView",
    "Planner",
    "PlanningGuide",
    "RefError",
    "ReportsUsage",
    "RunOutcome",
    "StorageUnavailable",
    "SynthesisView",
    "Synthesizer",
    "TaskFailed",
    "TemplateSynthesizer",
    "TokenUsage",
    "Verdict",
    "VerificationView",
    "Verifier",
    "WorkerCall",
    "WorkerRegistry",
    "WorkerSpec",
    "agent_factory",
    "build_graph",
    "chat_model_for",
    "delegate_worker",
    "drive",
    "open_checkpointer",
    "react_agent",
    "ref",
    "run_config",
    "worker_from_graph",
    "worker_from_runnable",
    "worker_from_tool",
    "write_domain_skeleton",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'orchestrator' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
