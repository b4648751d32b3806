"""The default synthesizer: a plain-text account of the board, with no model involved."""

from __future__ import annotations

from orchestrator.planning import SynthesisView
from state import Answer, Usage


class TemplateSynthesizer:
    """Lists each task's outcome under the run's status. Domains bring richer synthesizers."""

    async def synthesize(self, view: SynthesisView) -> tuple[Answer, list[Usage]]:
        lines = [f"Goal: {view.goal}", f"Status: {view.status} ({view.reason})"]
        outputs: dict[str, object] = {}
        for task in view.tasks.values():
            result = view.results.get(task["result_ref"] or "")
            detail = result["summary"] if result else (task["error"] or "")
            lines.append(f"- {task['id']} [{task['worker']}] {task['status']}: {detail}".rstrip())
            if result and result["ok"]:
                outputs[task["id"]] = result["output"]
        answer = Answer(
            status=view.status,
            reason=view.reason,
            summary="\n".join(lines),
            data={"outputs": outputs},
        )
        return answer, []
