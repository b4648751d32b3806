"""References between tasks: an input that is another task's output, filled in when it runs.

A planner can plan a whole chain in one round when a task's inputs may name an output that does
not exist yet. Anywhere in a task's inputs, the object

    {"$ref": "search-1", "path": "results.0.url"}

stands for the value at `path` in the output of task `search-1` (`path` left out or empty: the
whole output). Path segments are separated by dots; a segment indexes a list when the value there
is a list (`0`, `1`, ...), else it names a key. `ref("search-1", "results.0.url")` builds one.

- **Validation** (`check_refs`, from `orchestrator.validation`): a reference must be well formed
  and name a task in the task's own `depends_on`, so it has succeeded before the task runs. A
  referenced field is exempt from the worker's input schema when the plan is checked (only
  errors at or below the reference's own location); the resolved inputs are checked, and
  normalized, once resolved (`orchestrator.validation.check_resolved`, at dispatch) or when the
  task runs (in a lane), and a task whose resolved inputs do not fit fails without its worker.
- **Resolution** (`resolve_refs`): when the task is dispatched, each reference is replaced by a
  copy of the value in the referenced task's latest successful output. The orchestrator resolves
  the references to tasks already done (`nodes.orchestrate`; the board then holds the values);
  a task in a lane resolves those to its lane's predecessors when they have finished
  (`nodes.lanes`). A reference that does not resolve fails the task, without calling the worker,
  with an error that says what the output holds instead (`RefError`).

Any object with a `"$ref"` key is a reference: there is no escape for literal data of that shape.
The search is bounded (`MAX_DEPTH`, `MAX_VALUES`): inputs deeper or larger than that are not
searched past the bound, at validation and at resolution alike.

What references may add to a task is bounded too: at most `MAX_REFS` references in one task's
inputs (refused at validation, with the update's other errors), and at most `MAX_RESOLVED_CHARS`
characters of JSON copied in by one resolution (the sizes of the values followed, summed: a
reference repeated counts each time). Past that the task fails, without calling the worker and
without the values being copied, with a `RefError` naming the limit. A task resolves at most
twice (at dispatch, then in its lane), so its inputs gain at most twice that.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any

from state import Task, TaskResult, WorkerPayload

REF_KEY = "$ref"
PATH_KEY = "path"

MAX_DEPTH = 32
"""Levels of nesting searched for references."""
MAX_VALUES = 10_000
"""Values (containers and scalars) searched for references in one task's inputs."""
MAX_PATH_CHARS = 256
MAX_PATH_SEGMENTS = 32
MAX_REFS = 64
"""References in one task's inputs."""
MAX_RESOLVED_CHARS = 256_000
"""Characters of JSON (`json.dumps`) that one resolution of a task's references may copy in."""

Location = tuple[str | int, ...]
"""Where a value sits in a task's inputs: keys and list indexes from the top."""


class RefError(ValueError):
    """A reference that cannot be resolved; the message is the task's error, for the planner."""


@dataclass(frozen=True)
class Ref:
    """One well-formed reference found in a task's inputs."""

    task: str
    path: tuple[str, ...]
    where: Location


def ref(task_id: str, path: str = "") -> dict[str, str]:
    """A reference to `task_id`'s output (at `path`, e.g. `"results.0.url"`), for a task's inputs.

    The task must name `task_id` in its `depends_on`."""
    return {REF_KEY: task_id, PATH_KEY: path} if path else {REF_KEY: task_id}


def where_text(where: Location) -> str:
    return ".".join(str(part) for part in where) or "(the inputs)"


def _parse(node: Mapping[str, Any]) -> tuple[str, tuple[str, ...]] | str:
    """The task and path segments of a reference object, or why it is malformed."""
    target = node.get(REF_KEY)
    path = node.get(PATH_KEY, "")
    extra = sorted(str(k) for k in node if k not in (REF_KEY, PATH_KEY))
    if extra:
        return f"a reference has only '{REF_KEY}' and '{PATH_KEY}', not {', '.join(extra)}"
    if not isinstance(target, str) or not target:
        return f"'{REF_KEY}' must be a task id (a non-empty string)"
    if path is None:
        path = ""
    if not isinstance(path, str):
        return f"'{PATH_KEY}' must be a string such as 'results.0.url'"
    if len(path) > MAX_PATH_CHARS:
        return f"'{PATH_KEY}' is longer than {MAX_PATH_CHARS} characters"
    segments = tuple(path.split(".")) if path else ()
    if len(segments) > MAX_PATH_SEGMENTS:
        return f"'{PATH_KEY}' has more than {MAX_PATH_SEGMENTS} segments"
    if any(not s for s in segments):
        return f"'{PATH_KEY}' {path!r} has an empty segment (write 'results.0.url')"
    return target, segments


def _walk(inputs: Any) -> Iterator[tuple[Location, Mapping[str, Any]]]:
    """Every object with a `"$ref"` key (not searched inside), within the bounds."""
    budget = MAX_VALUES
    stack: list[tuple[Location, Any]] = [((), inputs)]
    while stack and budget > 0:
        where, node = stack.pop()
        budget -= 1
        if isinstance(node, dict):
            if REF_KEY in node:
                yield where, node
            elif len(where) < MAX_DEPTH:
                # Children past what the budget can visit are never pushed: a huge list costs
                # no more than the budget.
                kids = list(islice(node.items(), budget))
                stack.extend(((*where, k), v) for k, v in reversed(kids))
        elif isinstance(node, list) and len(where) < MAX_DEPTH:
            items = list(islice(enumerate(node), budget))
            stack.extend(((*where, i), v) for i, v in reversed(items))


def _scan(node: Any, depth: int) -> bool:
    """Whether `node` may hold a reference: the quick test every task's inputs go through (a
    walk that keeps locations costs more than validating the inputs does)."""
    if isinstance(node, dict):
        if REF_KEY in node:
            return True
        values: Iterable[Any] = node.values()
    elif isinstance(node, list):
        values = node
    else:
        return False
    if depth >= MAX_DEPTH:
        return False
    for value in values:  # noqa: SIM110 - a loop: `any()` over a generator costs 3x here
        if isinstance(value, (dict, list)) and _scan(value, depth + 1):
            return True
    return False


def has_refs(inputs: Any) -> bool:
    return _scan(inputs, 0) and next(_walk(inputs), None) is not None


def find_refs(inputs: Any) -> tuple[list[Ref], list[str]]:
    """The well-formed references in `inputs`, in document order, and the malformed ones' faults."""
    found: list[Ref] = []
    problems: list[str] = []
    if not _scan(inputs, 0):
        return found, problems
    for where, node in _walk(inputs):
        parsed = _parse(node)
        if isinstance(parsed, str):
            problems.append(f"input {where_text(where)!r}: {parsed}")
        else:
            found.append(Ref(task=parsed[0], path=parsed[1], where=where))
    return found, problems


def ref_locations(inputs: Any) -> list[Location]:
    """Where `inputs` hold references (well formed or not)."""
    return [where for where, _node in _walk(inputs)] if _scan(inputs, 0) else []


def check_refs(inputs: Mapping[str, Any], depends_on: Collection[str]) -> list[str]:
    """Every problem with the references in a task's inputs, as sentences a planner can act on."""
    refs, problems = find_refs(inputs)
    if len(refs) > MAX_REFS:
        problems.append(_too_many(len(refs)))
    for found in refs:
        at = where_text(found.where)
        if not found.where:
            problems.append(
                "the inputs as a whole cannot be a reference: put it in a field, "
                f'e.g. {{"field": {{"{REF_KEY}": "{found.task}", "{PATH_KEY}": "..."}}}}'
            )
        elif found.task not in depends_on:
            problems.append(
                f"input {at!r} refers to the output of {found.task!r}, which is not in its "
                f"depends_on: add {found.task!r} to depends_on"
            )
    return problems


def _too_many(count: int) -> str:
    return (
        f"the inputs hold {count} references, over the limit of {MAX_REFS} (MAX_REFS): "
        "refer to a list or object that holds the values instead of to each one"
    )


def _json_chars(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str))


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", str: "a string", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )


def _follow(found: Ref, output: Any) -> Any:
    """The value at the reference's path in `output`, or a `RefError` saying what is there."""
    value = output
    for n, segment in enumerate(found.path):
        upto = ".".join(found.path[: n + 1])
        parent = ".".join(found.path[:n]) or "the output"
        missing = f"input {where_text(found.where)!r}: task {found.task!r}'s output has no {upto!r}"
        if isinstance(value, Mapping):
            if segment not in value:
                keys = sorted(str(k) for k in value)
                shown = ", ".join(keys[:8]) + (", ..." if len(keys) > 8 else "")
                held = f"has keys {shown}" if keys else "is {}"
                raise RefError(f"{missing} ({parent} {held})")
            value = value[segment]
        elif isinstance(value, list):
            if not segment.isdigit():
                raise RefError(f"{missing} ({parent} is a list: index it with 0, 1, ...)")
            index = int(segment)
            if index >= len(value):
                raise RefError(f"{missing} ({parent} has {len(value)} items)")
            value = value[index]
        else:
            raise RefError(f"{missing} ({parent} is {_kind(value)}, not an object or a list)")
    return value


def resolve_refs(
    inputs: dict[str, Any],
    outputs: Mapping[str, Mapping[str, Any] | None],
    *,
    only: Collection[str] | None = None,
) -> dict[str, Any]:
    """`inputs` with each reference replaced by a copy of the value it names in `outputs`
    (task id -> its successful output, None when it has none).

    `only`: resolve just the references to these tasks, leaving the others as they are. Returns
    `inputs` itself when nothing was replaced. Raises `RefError` for the first reference that
    does not resolve, for a malformed one, for more than `MAX_REFS` of them, and when the values
    would copy more than `MAX_RESOLVED_CHARS` characters of JSON into the inputs.
    """
    refs, problems = find_refs(inputs)
    if problems:
        raise RefError(problems[0])
    if len(refs) > MAX_REFS:
        raise RefError(_too_many(len(refs)))
    followed: dict[Location, Any] = {}
    sizes: dict[tuple[str, tuple[str, ...]], int] = {}  # a value repeated is measured once
    total = 0
    for found in refs:
        if only is not None and found.task not in only:
            continue
        output = outputs.get(found.task)
        if output is None:
            raise RefError(
                f"input {where_text(found.where)!r}: task {found.task!r} has no output to use "
                "(it has not succeeded)"
            )
        value = _follow(found, output)
        key = (found.task, found.path)
        if key not in sizes:
            sizes[key] = _json_chars(value)
        total += sizes[key]
        if total > MAX_RESOLVED_CHARS:
            raise RefError(
                f"input {where_text(found.where)!r}: the referenced values come to more than "
                f"{MAX_RESOLVED_CHARS} characters of JSON (MAX_RESOLVED_CHARS), too much to "
                f"copy into one task's inputs ({found.task!r}'s "
                f"{'.'.join(found.path) or 'output'} alone is {sizes[key]}): refer to a smaller "
                "part of the output (a longer path), or to fewer values"
            )
        followed[found.where] = value
    # Copied only once the total is known to fit.
    values = {where: copy.deepcopy(value) for where, value in followed.items()}
    if not values:
        return inputs
    if () in values:
        whole = values[()]
        if not isinstance(whole, dict):
            raise RefError(f"the inputs as a whole must be an object, not {_kind(whole)}")
        return whole
    above = {at[:n] for at in values for n in range(len(at))}
    out: dict[str, Any] = _replaced(inputs, (), values, above)
    return out


def _replaced(
    node: Any, where: Location, values: Mapping[Location, Any], above: Collection[Location]
) -> Any:
    """`node` rebuilt with `values` at their locations; containers off their paths are shared.

    `above`: every location on the way to one of `values` (its proper prefixes)."""
    if where in values:
        return values[where]
    if where not in above:
        return node
    if isinstance(node, Mapping):
        return {k: _replaced(v, (*where, k), values, above) for k, v in node.items()}
    if isinstance(node, list):
        return [_replaced(v, (*where, i), values, above) for i, v in enumerate(node)]
    return node


def outputs_of_done(
    task: Task, tasks: Mapping[str, Task], results: Mapping[str, TaskResult]
) -> dict[str, dict[str, Any] | None]:
    """The latest successful output of each of `task`'s dependencies that is done."""
    out: dict[str, dict[str, Any] | None] = {}
    for dep in task["depends_on"]:
        other = tasks.get(dep)
        if other is None or other["status"] != "done":
            continue
        result = results.get(other["result_ref"] or "")
        out[dep] = result["output"] if result is not None and result["ok"] else None
    return out


def resolve_for_dispatch(
    task: Task, tasks: Mapping[str, Task], results: Mapping[str, TaskResult]
) -> tuple[dict[str, Any], str | None]:
    """`task`'s inputs with the references to its done dependencies resolved, or its own inputs
    and why they cannot be. References to dependencies not done yet (in the same lane) stay."""
    inputs = task["inputs"]
    if not task["depends_on"] or not has_refs(inputs):
        return inputs, None
    outputs = outputs_of_done(task, tasks, results)
    try:
        return resolve_refs(inputs, outputs, only=outputs.keys()), None
    except RefError as exc:
        return inputs, str(exc)


def resolve_in_lane(
    payload: WorkerPayload, outputs: Mapping[str, dict[str, Any] | None]
) -> WorkerPayload:
    """A lane task's payload once the tasks it waits for (`after`) have succeeded: its
    references to them resolved from `outputs`, or `ref_error` saying why they cannot be."""
    after = payload.get("after") or []
    if "ref_error" in payload or not after or not has_refs(payload["inputs"]):
        return payload
    out = payload.copy()
    try:
        out["inputs"] = resolve_refs(payload["inputs"], outputs, only=after)
        out["resolved"] = True
    except RefError as exc:
        out["ref_error"] = str(exc)
    return out
