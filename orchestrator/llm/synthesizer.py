"""The optional LLM synthesizer: a short answer in prose on top of a template synthesizer.

The template synthesizer (the offline default) still writes the exact account and the answer's
data; the model only adds prose in front of it. The model cannot change the status or the
reason. If the model fails, the template answer stands and `data["synthesis"]` says why.
"""

from __future__ import annotations

from langchain_core.messages import HumanMessage, SystemMessage

from orchestrator.llm import prompts
from orchestrator.llm.models import ModelCallFailed, ModelUnavailable, open_chat_model
from orchestrator.llm.planner import PromptLimits, board_rows, clip, to_json
from orchestrator.planning import SynthesisView, Synthesizer
from state import Answer, Usage

MAX_WORDS = 150
ACCOUNT_CHARS = 4000


def _last_round(view: SynthesisView) -> int:
    rounds = [t["round"] for t in view.tasks.values()] + [u["round"] for u in view.usage]
    return max(rounds, default=0)


class LLMSynthesizer:
    """Implements `Synthesizer`: `fallback`'s answer, with the model's prose in front."""

    def __init__(self, fallback: Synthesizer, *, limits: PromptLimits | None = None) -> None:
        self.fallback = fallback
        self.limits = limits or PromptLimits()

    async def synthesize(self, view: SynthesisView) -> tuple[Answer, list[Usage]]:
        answer, usage = await self.fallback.synthesize(view)
        messages = [
            SystemMessage(prompts.SYNTHESIZER_SYSTEM.format(max_words=MAX_WORDS)),
            HumanMessage(
                prompts.SYNTHESIZER_REQUEST.format(
                    goal=clip(view.goal, self.limits.goal_chars),
                    status=view.status,
                    reason=clip(view.reason, 500),
                    board=to_json(board_rows(view.tasks, view.results, self.limits)),
                    account=clip(answer["summary"], ACCOUNT_CHARS).replace("`", "'"),
                )
            ),
        ]
        try:
            async with open_chat_model(view.context, "synthesizer") as model:
                reply = await model.text(messages, round_no=_last_round(view))
        except (ModelUnavailable, ModelCallFailed) as exc:
            data = {**answer["data"], "synthesis": f"template only: {exc}"}
            return Answer(**{**answer, "data": data}), usage
        if reply.usage is not None:
            usage = [*usage, reply.usage]
        if not reply.text:
            data = {**answer["data"], "synthesis": "template only: the model wrote nothing"}
            return Answer(**{**answer, "data": data}), usage
        summary = f"{reply.text}\n\n{answer['summary']}"
        data = {**answer["data"], "synthesis": "model", "prose": reply.text}
        return Answer(**{**answer, "summary": summary, "data": data}), usage
