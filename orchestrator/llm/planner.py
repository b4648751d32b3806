"""The LLM in the planner seat: one model call per attempt, the same validation as any planner.

Each round the planner builds a prompt from the goal, the worker catalogue (names, descriptions
and input JSON schemas from the registry, so a new worker needs no prompt edit), the limits left,
a window of the task board with compact result summaries, its own notes and, on a re-ask, the
validation errors. Every part is capped (`PromptLimits`), so a prompt's size does not grow with
the length of the run.

What it answers goes through `PlanOutcome`:
- an unreadable answer (not JSON, not a `PlanUpdate`, no tool call) comes back as `errors`, and
  the orchestrator re-asks with them, up to `Context.plan_attempts` times, like a rejected plan;
- the planner's own checks (an update that changes nothing while nothing is pending; oversized
  notes) and a domain's `PlanningGuide.review` (e.g. the travel budget) add to `errors` the
  same way;
- a finish sent with new tasks is held in the notes until those tasks are done, then returned
  without a model call (`settle_deferred`), which saves the last round's call, its reason
  marked as written before the results (the verifier's computed reason stands); if one of them
  fails, the model is asked as usual and the held finish is dropped;
- a transport failure that outlived the client's retries (repeated 5xx, timeouts) ends the run
  at once with `finish=failed` and the reason: the client has already retried with backoff, so
  asking again would only repeat the wait. Nothing raises out of the node.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, ValidationError

from orchestrator.llm import prompts
from orchestrator.llm.models import ModelCallFailed, ModelUnavailable, open_chat_model
from orchestrator.planning import Finish, PlanOutcome, PlanUpdate, PlanView
from orchestrator.verification import PLANNED_BEFORE_RESULTS
from state import Task, TaskResult, Usage


@dataclass(frozen=True)
class PromptLimits:
    """Caps on each part of a planning prompt, in characters unless said otherwise."""

    board_window: int = 20
    """Tasks shown on the board: the latest ones. The others are only counted."""
    goal_chars: int = 2000
    request_chars: int = 3000
    words_chars: int = 1500
    """The person's own words (the request's `said`), shown in every round's prompt."""
    word_notes_chars: int = 800
    """What the reading of those words could not map (the request's `notes`)."""
    facts_chars: int = 4000
    notes_chars: int = 1500
    inputs_chars: int = 240
    summary_chars: int = 240
    error_chars: int = 160
    reason_chars: int = 100
    feedback_items: int = 8
    feedback_chars: int = 300
    previous_chars: int = 1500


class PlanningGuide(Protocol):
    """What a domain adds to the LLM planner: facts for the prompt, and checks of its answers.

    A guide may also have `rules(view) -> str`: fixed domain rules, sent in the system prompt
    (the stable, cache-friendly prefix of every request); `covered(facts) -> Collection[str]`:
    the tasks whose results its facts show in full, so the board does not repeat them; and
    `filled: Mapping[str, Collection[str]]`: inputs, by worker, that its `review` fills in
    itself, so the catalogue leaves them out."""

    name: str

    def facts(self, view: PlanView) -> Mapping[str, Any]:
        """Small, computed facts (e.g. the money left); shown under the domain's heading."""
        ...

    def review(self, view: PlanView, update: PlanUpdate) -> tuple[PlanUpdate, list[str]]:
        """The update, possibly corrected (e.g. prices from the search), and reasons to refuse."""
        ...


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 6)] + "…(cut)"


def to_json(value: Any) -> str:
    """Compact JSON that cannot close a Markdown fence (backticks are escaped)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return text.replace("`", "\\u0060")


NOT_SHOWN = "_not_shown"
"""Suffix of the key `fit_json` adds beside a list it shortened: `bookable_not_shown: 2`."""


def fit_json(value: Mapping[str, Any], limit: int) -> dict[str, Any]:
    """`value` with list entries left out, the last ones of the longest list first, until its
    JSON fits in `limit` characters. Each shortened list's dict says how many it left out
    (`<key>_not_shown`), so the model knows there is more and a guide knows what it did not
    show; the JSON is never cut mid-way. Lists under lists are not shortened."""
    fitted: dict[str, Any] = json.loads(json.dumps(dict(value), default=str))
    while len(to_json(fitted)) > limit:
        lists = list(_lists_in(fitted))
        if not lists:
            break
        holder, key = max(lists, key=lambda found: len(to_json(found[0][found[1]])))
        holder[key].pop()
        holder[key + NOT_SHOWN] = int(holder.get(key + NOT_SHOWN, 0)) + 1
    return fitted


def _lists_in(node: Any) -> Iterable[tuple[dict[str, Any], str]]:
    """(dict, key) of every non-empty list value held by a dict, at any depth."""
    if isinstance(node, dict):
        for key, item in node.items():
            if isinstance(item, list) and item:
                yield node, key
            elif isinstance(item, dict):
                yield from _lists_in(item)


def tokens_used(usage: Iterable[Usage]) -> int:
    return sum(u["prompt_tokens"] + u["completion_tokens"] for u in usage)


def board_rows(
    tasks: Mapping[str, Task],
    results: Mapping[str, TaskResult],
    limits: PromptLimits,
    view: PlanView | None = None,
    covered: Collection[str] = (),
) -> list[dict[str, Any]]:
    """The latest `limits.board_window` tasks, one compact row each: never a raw payload.
    With `view`, inputs left at their schema default are left out; tasks in `covered` (whose
    results the domain's facts show in full) go without their result summary."""
    rows = []
    for task in list(tasks.values())[-limits.board_window :]:
        row: dict[str, Any] = {"id": task["id"], "worker": task["worker"], "status": task["status"]}
        if task["depends_on"]:
            row["depends_on"] = task["depends_on"][:10]
        shown = _without_defaults(view, task["worker"], task["inputs"]) if view else task["inputs"]
        inputs = to_json(shown)
        row["inputs"] = (
            shown if len(inputs) <= limits.inputs_chars else clip(inputs, limits.inputs_chars)
        )
        if task["reason"]:
            row["reason"] = clip(task["reason"], limits.reason_chars)
        result = results.get(task["result_ref"] or "")
        if result is not None and result["ok"] and task["id"] not in covered:
            row["result"] = clip(result["summary"], limits.summary_chars)
        if task["error"]:
            row["error"] = clip(task["error"], limits.error_chars)
        if task["failures"]:
            row["failures"] = task["failures"]
        rows.append(row)
    return rows


def board_header(tasks: Mapping[str, Task], limits: PromptLimits) -> str:
    counts: dict[str, int] = {}
    for task in tasks.values():
        counts[task["status"]] = counts.get(task["status"], 0) + 1
    described = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    header = prompts.BOARD_HEADER.format(total=len(tasks), counts=described)
    if len(tasks) > limits.board_window:
        header += prompts.BOARD_WINDOW.format(shown=limits.board_window)
    return header


def board_text(view: PlanView, limits: PromptLimits, covered: Collection[str] = ()) -> str:
    """The board section: its counts and the latest rows, or that it is empty."""
    if not view.tasks:
        return "No tasks yet."
    return prompts.PLANNER_BOARD.format(
        header=board_header(view.tasks, limits),
        rows=to_json(board_rows(view.tasks, view.results, limits, view, covered)),
    )


WORDS_KEY = "said"
"""The request's field holding the person's own words, when the run started from text."""
WORD_NOTES_KEY = "notes"
"""The request's field holding wishes the structured fields could not hold."""


def words_blocks(request: Mapping[str, Any], limits: PromptLimits) -> str:
    """The person's own words and unmapped wishes, each in an untrusted, capped block."""
    text = ""
    said = request.get(WORDS_KEY)
    if isinstance(said, str) and said.strip():
        text += prompts.PLANNER_WORDS.format(said=clip(said, limits.words_chars).replace("`", "'"))
    wishes = request.get(WORD_NOTES_KEY)
    if isinstance(wishes, list) and wishes:
        text += prompts.PLANNER_WORD_NOTES.format(
            notes=clip(to_json(wishes), limits.word_notes_chars)
        )
    return text


SHORT_TYPES = {"string": "str", "integer": "int", "number": "num", "boolean": "bool"}


def _type_of(prop: Mapping[str, Any]) -> str:
    if "enum" in prop:
        return "|".join(str(v) for v in prop["enum"])
    if "anyOf" in prop:
        kinds = [_type_of(p) for p in prop["anyOf"] if p.get("type") != "null"]
        return "|".join(kinds) + ("|null" if len(kinds) < len(prop["anyOf"]) else "")
    kind = str(prop.get("format") or prop.get("type") or "any")
    kind = SHORT_TYPES.get(kind, kind)
    if "minLength" in prop and prop.get("minLength") == prop.get("maxLength"):
        kind += f"({prop['minLength']})"
    low, high = prop.get("minimum"), prop.get("maximum")
    if low is not None or high is not None:
        kind += f" {'' if low is None else low}..{'' if high is None else high}"
    return kind


def compact_schema(
    schema: Mapping[str, Any], described: set[tuple[str, str]] | None = None
) -> dict[str, str]:
    """A worker's input JSON schema as one line per field: `type [=default]; description`,
    with `*` marking required fields. The same facts in a third of the tokens. A description
    already in `described` (field name, description) is said once: left out here."""
    required = set(schema.get("required", []))
    fields: dict[str, str] = {}
    for name, prop in schema.get("properties", {}).items():
        text = _type_of(prop)
        if "default" in prop and prop["default"] not in (None, ""):
            text += f" ={prop['default']}"
        description = prop.get("description")
        if description and (name, description) not in (described or set()):
            text += f"; {description}"
            if described is not None:
                described.add((name, description))
        fields[name + ("*" if name in required else "")] = text
    return fields


def _one_line(text: str) -> str:
    return " ".join(text.split())


_CATALOGUES: dict[tuple[Any, ...], str] = {}
"""Catalogue texts by registry and filled inputs: a JSON schema is slow to generate, and the
catalogue is the same every round."""


def catalogue_text(view: PlanView, filled: Mapping[str, Collection[str]] | None = None) -> str:
    """The workers, generated from the registry: a line with the name, `(side effects)` when it
    has them, and the description; then a line per input, `name*: type [=default]; description`
    (`*` required; no other field is accepted). Plain lines, not JSON: the same facts without a
    quote and a brace around each. The one place a worker's input schema reaches the model: the
    PlanUpdate tool leaves `inputs` open. Inputs a guide fills in itself (`filled`, by worker)
    are left out."""
    workers = view.workers.values()
    key = (
        tuple((w.name, w.description, w.side_effects, w.input_model) for w in workers),
        tuple(sorted((name, tuple(fields)) for name, fields in (filled or {}).items())),
    )
    if key in _CATALOGUES:
        return _CATALOGUES[key]
    lines = []
    described: set[tuple[str, str]] = set()  # a field shared by workers is described once
    for w in view.workers.catalogue():
        effects = " (side effects)" if w["side_effects"] else ""
        lines.append(f"{w['name']}{effects}: {_one_line(w['description'])}")
        skip = set((filled or {}).get(w["name"], ()))
        for field, text in compact_schema(w["input_schema"], described).items():
            if field.rstrip("*") not in skip:
                lines.append(f"  {field}: {_one_line(text)}")
    if len(_CATALOGUES) >= 64:  # registries built on the fly (tests, notebooks) come and go
        _CATALOGUES.clear()
    text = _CATALOGUES[key] = "\n".join(lines)
    return text


_DEFAULTS: dict[type[BaseModel], dict[str, Any]] = {}


def _defaults(model: type[BaseModel]) -> dict[str, Any]:
    """Each input's default, as JSON, by its name in the schema (built once per model)."""
    if model not in _DEFAULTS:
        props = model.model_json_schema().get("properties", {})
        _DEFAULTS[model] = {name: p["default"] for name, p in props.items() if "default" in p}
    return _DEFAULTS[model]


def _without_defaults(view: PlanView, worker: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs less the fields left at their schema default: what the planner actually chose."""
    spec = view.workers.get(worker)
    if spec is None:
        return dict(inputs)
    defaults = _defaults(spec.input_model)
    return {k: v for k, v in inputs.items() if not (k in defaults and defaults[k] == v)}


_SCHEMA_FIELDS: dict[type[BaseModel], tuple[str, ...]] = {}


def _schema_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The input names a worker's JSON schema lists. Cached: building a schema takes
    milliseconds, and every plan update is checked against it."""
    if model not in _SCHEMA_FIELDS:
        _SCHEMA_FIELDS[model] = tuple(model.model_json_schema().get("properties", {}))
    return _SCHEMA_FIELDS[model]


def unknown_fields(view: PlanView, update: PlanUpdate) -> list[str]:
    """Inputs naming fields a worker's schema does not have, with the fields it has: the schema
    check says "extra inputs are not permitted", this says what was meant to go there. Inputs
    of a model that ignores unknown fields are refused too: they would be dropped silently.
    Only a model with `extra="allow"` takes fields its schema does not list."""
    errors = []
    for new in update.add:
        spec = view.workers.get(new.worker)
        if spec is None or spec.input_model.model_config.get("extra") == "allow":
            continue
        known = list(_schema_fields(spec.input_model))
        accepted = set(known) | set(spec.input_model.model_fields)
        for info in spec.input_model.model_fields.values():
            choices = getattr(info.validation_alias, "choices", None) or []
            accepted.update(str(c) for c in choices)
        unknown = [k for k in new.inputs if k not in accepted]
        if unknown:
            errors.append(
                f"task {new.id!r}: {new.worker} has no field "
                f"{', '.join(repr(k) for k in unknown)}; its fields are {', '.join(known)}"
            )
    return errors


def _limits_left(view: PlanView) -> dict[str, Any]:
    """What the run may still spend, besides the rounds (the heading says "round N of M").
    Tokens only when there is a budget, and the refusal of repeated failures only once
    something failed: otherwise they cannot change the plan."""
    ctx = view.context
    left: dict[str, Any] = {"tasks": max(0, ctx.max_tasks - len(view.tasks))}
    if ctx.token_budget is not None:
        used = tokens_used(view.usage)
        left["tokens_used"] = used
        left["tokens_left"] = max(0, ctx.token_budget - used)
    if any(t["failures"] for t in view.tasks.values()):
        left["identical_failures_before_refusal"] = ctx.max_identical_failures
    return left


def plan_messages(
    view: PlanView,
    *,
    attempt: int,
    facts: Mapping[str, Any] | None = None,
    domain: str = "",
    previous: str = "",
    limits: PromptLimits | None = None,
    rules: str = "",
    covered: Collection[str] = (),
    filled: Mapping[str, Collection[str]] | None = None,
) -> list[BaseMessage]:
    """The system prompt and this round's prompt; every part is capped by `limits`, and a part
    with nothing to say (no facts, no notes, no feedback) is left out. The board leaves out
    the result summaries of `covered` tasks, which the facts show in full."""
    limits = limits or PromptLimits()
    feedback = ""
    if view.feedback:
        problems = "\n".join(
            "- " + clip(error, limits.feedback_chars)
            for error in view.feedback[: limits.feedback_items]
        )
        if len(view.feedback) > limits.feedback_items:
            problems += f"\n- …and {len(view.feedback) - limits.feedback_items} more"
        feedback = prompts.PLANNER_FEEDBACK.format(
            problems=problems,
            previous=clip(previous, limits.previous_chars).replace("`", "'") or "(nothing)",
        )
    facts_text = ""
    if facts:
        facts_text = prompts.PLANNER_FACTS.format(
            domain=domain or "task", facts=clip(to_json(dict(facts)), limits.facts_chars)
        )
    request = dict(view.request or {})
    words = words_blocks(request, limits)
    structured = {
        k: v for k, v in request.items() if k not in (WORDS_KEY, WORD_NOTES_KEY) and v is not None
    }
    request_text = ""
    if structured:
        request_text = prompts.PLANNER_REQUEST.format(
            request=clip(to_json(structured), limits.request_chars)
        )
    notes = own_notes(view.notes)
    notes_text = ""
    if notes:
        notes_text = prompts.PLANNER_NOTES.format(notes=clip(to_json(notes), limits.notes_chars))
    # The stable part first (catalogue, goal, request, the person's words: the same every round
    # of a run), the volatile tail after it, so a provider's prompt cache covers the prefix.
    user = prompts.PLANNER_ROUND.format(
        round=view.round,
        max_rounds=view.context.max_rounds,
        attempt=prompts.PLANNER_ATTEMPT.format(attempt=attempt, attempts=view.context.plan_attempts)
        if attempt > 1
        else "",
        goal=clip(view.goal, limits.goal_chars),
        request=request_text,
        words=words,
        catalogue=catalogue_text(view, filled),
        limits=to_json(_limits_left(view)),
        facts=facts_text,
        board=board_text(view, limits, covered),
        notes=notes_text,
        feedback=feedback,
    )
    rules_text = prompts.PLANNER_RULES.format(domain=domain or "task", rules=rules) if rules else ""
    system = prompts.PLANNER_SYSTEM.format(rules=rules_text)
    return [SystemMessage(system), HumanMessage(user)]


FINISH_WHEN_DONE = "finish_when_done"
"""The notes key holding a finish that came with new tasks, until those tasks are done. Kept by
the planner, not the model: stripped from what the model writes and from what it is shown."""


def own_notes(notes: Mapping[str, Any]) -> dict[str, Any]:
    """The model's notes: everything but the planner's own `FINISH_WHEN_DONE`."""
    return {k: v for k, v in notes.items() if k != FINISH_WHEN_DONE}


def own_checks(view: PlanView, update: PlanUpdate, limits: PromptLimits) -> list[str]:
    """Reasons to refuse an update that the generic validation would let through."""
    errors = []
    pending = any(t["status"] in ("pending", "running") for t in view.tasks.values())
    if update.is_empty() and not pending:
        errors.append(
            "the update changes nothing and no task is pending: add tasks, or set finish "
            "with a status and a reason"
        )
    if update.notes is not None and len(to_json(update.notes)) > limits.notes_chars:
        errors.append(
            f"notes are {len(to_json(update.notes))} characters, over the limit of "
            f"{limits.notes_chars}: keep only what the next round needs"
        )
    return errors


def defer_finish(view: PlanView, update: PlanUpdate) -> PlanUpdate:
    """The model's update with its notes cleaned of `FINISH_WHEN_DONE`; a finish that comes
    with new tasks is held there, for `settle_deferred`, instead of ending the run now."""
    notes = update.notes
    if notes is not None:
        notes = own_notes(notes)
    elif FINISH_WHEN_DONE in view.notes:
        notes = own_notes(view.notes)  # asked again: the held finish is spent
    if update.finish is None or not update.add:
        return update.model_copy(update={"notes": notes})
    held = {**update.finish.model_dump(), "tasks": [t.id for t in update.add]}
    kept = own_notes(view.notes) if notes is None else notes
    return update.model_copy(update={"finish": None, "notes": {**kept, FINISH_WHEN_DONE: held}})


def settle_deferred(view: PlanView) -> PlanUpdate | None:
    """What a held finish decides without a model call, or None to ask the model.

    Once every task it came with is done, the finish itself, its reason marked as written before
    the results (`PLANNED_BEFORE_RESULTS`: a verifier computes the run's own). While some of
    them are still to run and can (their dependencies done), an update that changes nothing:
    the run goes on. When one failed, was cancelled or cannot run, the model is asked, with the
    board showing why; the held finish is dropped then (`defer_finish`)."""
    held = view.notes.get(FINISH_WHEN_DONE)
    if not isinstance(held, Mapping) or view.feedback:
        return None
    try:
        finish = Finish.model_validate({k: held.get(k) for k in ("status", "reason")})
    except ValidationError:
        return None
    tasks = [view.tasks.get(str(i)) for i in held.get("tasks") or []]
    if not tasks or any(t is None for t in tasks):
        return None
    waiting = [t for t in tasks if t is not None and t["status"] != "done"]
    if not waiting:
        # Its reason was written before these tasks ran: kept as the claim, marked so, and the
        # verifier computes the run's reason from what they did.
        if not finish.reason.startswith(PLANNED_BEFORE_RESULTS):
            finish = finish.model_copy(
                update={"reason": f"{PLANNED_BEFORE_RESULTS}{finish.reason}"}
            )
        return PlanUpdate(finish=finish, notes=own_notes(view.notes))
    for task in waiting:
        deps = [view.tasks.get(d) for d in task["depends_on"]]
        if task["status"] != "pending" or any(d is None or d["status"] != "done" for d in deps):
            return None
    return PlanUpdate()


class LLMPlanner:
    """Implements `Planner` with a chat model; `guide` adds a domain's facts and checks."""

    def __init__(
        self, *, guide: PlanningGuide | None = None, limits: PromptLimits | None = None
    ) -> None:
        self.guide = guide
        self.limits = limits or PromptLimits()
        self._round = -1
        self._attempt = 0
        self._previous = ""

    def _next_attempt(self, view: PlanView) -> int:
        if view.round != self._round or not view.feedback:
            self._round, self._attempt = view.round, 0
        self._attempt += 1
        return self._attempt

    def _rules(self, view: PlanView) -> str:
        rules = getattr(self.guide, "rules", None)
        return str(rules(view)) if callable(rules) else ""

    async def plan(self, view: PlanView) -> PlanOutcome:
        ctx = view.context
        attempt = self._next_attempt(view)
        if (settled := settle_deferred(view)) is not None:
            # The model said how this ends when it added the last tasks: no call to hear it again.
            # If the verifier refuses it, the re-ask shows the answer the model did send (kept
            # in `_previous`), not the settled finish, whose reason the planner prefixed.
            return PlanOutcome(settled)
        spent = tokens_used(view.usage)
        if ctx.token_budget is not None and spent >= ctx.token_budget:
            reason = f"token budget spent: {spent} of {ctx.token_budget} (Context.token_budget)"
            return PlanOutcome(PlanUpdate(finish=Finish(status="partial", reason=reason)))
        facts = self.guide.facts(view) if self.guide else None
        if facts:
            # Whole entries are left out to fit, so what is shown parses and says what it lacks.
            facts = fit_json(facts, self.limits.facts_chars)
        covered = getattr(self.guide, "covered", None)
        messages = plan_messages(
            view,
            attempt=attempt,
            facts=facts,
            domain=self.guide.name if self.guide else "",
            previous=self._previous if view.feedback else "",
            limits=self.limits,
            rules=self._rules(view),
            covered=set(covered(facts)) if facts and callable(covered) else (),
            filled=getattr(self.guide, "filled", None),
        )
        try:
            async with open_chat_model(ctx, "planner") as model:
                answer = await model.structured(PlanUpdate, messages, round_no=view.round)
        except (ModelUnavailable, ModelCallFailed) as exc:
            reason = f"the planner model failed: {exc}"
            return PlanOutcome(PlanUpdate(finish=Finish(status="failed", reason=reason)))
        usage = [answer.usage] if answer.usage else []
        self._previous = answer.sent
        if answer.value is None:
            return PlanOutcome(PlanUpdate(), usage=usage, errors=[answer.error or "no answer"])
        update = answer.value
        errors = own_checks(view, update, self.limits) + unknown_fields(view, update)
        update = defer_finish(view, update)
        if self.guide is not None:
            update, refused = self.guide.review(view, update)
            errors.extend(refused)
        return PlanOutcome(update, usage=usage, errors=errors)
