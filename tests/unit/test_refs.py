"""References between tasks (`orchestrator.refs`): found, checked, resolved, and refused clearly."""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, seed, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from orchestrator import RefError, ref
from orchestrator.context import Context
from orchestrator.planning import NewTask, PlanUpdate
from orchestrator.refs import (
    MAX_DEPTH,
    MAX_PATH_CHARS,
    MAX_REFS,
    MAX_RESOLVED_CHARS,
    check_refs,
    find_refs,
    resolve_for_dispatch,
    resolve_in_lane,
    resolve_refs,
)
from orchestrator.validation import check_resolved, validate_update
from orchestrator.workers import WorkerCall, WorkerRegistry, WorkerSpec
from state import Task, TaskResult, WorkerPayload

SEED = int(os.environ.get("PROPERTY_SEED", "20261130"))
"""Set PROPERTY_SEED to replay another run of the property."""

SEARCH = {"results": [{"url": "https://a.example", "rank": 1}, {"url": "https://b.example"}]}


def test_ref_builds_the_object_a_planner_writes() -> None:
    assert ref("search-1", "results.0.url") == {"$ref": "search-1", "path": "results.0.url"}
    assert ref("search-1") == {"$ref": "search-1"}


def test_references_are_found_anywhere_in_the_inputs_in_order() -> None:
    inputs = {
        "url": ref("s", "results.0.url"),
        "more": [1, {"x": ref("t")}],
        "plain": {"a": "b"},
    }
    refs, problems = find_refs(inputs)
    assert problems == []
    assert [(r.task, r.path, r.where) for r in refs] == [
        ("s", ("results", "0", "url"), ("url",)),
        ("t", (), ("more", 1, "x")),
    ]


def test_a_reference_must_name_a_dependency_and_be_well_formed() -> None:
    inputs = {
        "a": ref("search-1", "results.0.url"),
        "b": ref("other", "x"),
        "c": {"$ref": 3},
        "d": {"$ref": "search-1", "path": "a..b"},
        "e": {"$ref": "search-1", "pick": "x"},
        "f": {"$ref": "search-1", "path": "x" * (MAX_PATH_CHARS + 1)},
    }
    problems = check_refs(inputs, ["search-1"])
    assert len(problems) == 5, problems
    assert any("'b'" in p and "'other'" in p and "depends_on" in p for p in problems)
    assert any("'c'" in p and "task id" in p for p in problems)
    assert any("'d'" in p and "empty segment" in p for p in problems)
    assert any("'e'" in p and "pick" in p for p in problems)
    assert any("'f'" in p and "longer than" in p for p in problems)
    assert check_refs({"whole": ref("search-1")}, ["search-1"]) == []
    assert "as a whole" in check_refs(ref("search-1"), ["search-1"])[0]


def test_resolving_replaces_each_reference_with_a_copy_of_the_value() -> None:
    inputs = {"url": ref("s", "results.1.url"), "all": ref("s"), "keep": [1, 2]}
    out = resolve_refs(inputs, {"s": SEARCH})
    assert out == {"url": "https://b.example", "all": SEARCH, "keep": [1, 2]}
    assert out["all"] is not SEARCH  # a copy: the result in the state is never shared
    assert out["keep"] is inputs["keep"]  # what holds no reference is not copied
    assert inputs["url"] == ref("s", "results.1.url")  # the planner's inputs are untouched
    plain = {"a": 1}
    assert resolve_refs(plain, {}) is plain


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            "results.5.url",
            "input 'url': task 's''s output has no 'results.5' (results has 2 items)",
        ),
        ("results.x", "(results is a list: index it with 0, 1, ...)"),
        ("hits", "task 's''s output has no 'hits' (the output has keys results)"),
        ("results.0.url.host", "(results.0.url is a string, not an object or a list)"),
        ("results.1.rank", "(results.1 has keys url)"),
    ],
)
def test_a_path_that_does_not_resolve_says_what_is_there(path: str, message: str) -> None:
    with pytest.raises(RefError) as caught:
        resolve_refs({"url": ref("s", path)}, {"s": SEARCH})
    assert message in str(caught.value)


def test_a_reference_to_a_task_without_output_is_an_error() -> None:
    with pytest.raises(RefError, match="task 's' has no output"):
        resolve_refs({"url": ref("s")}, {"s": None})


def test_only_the_named_tasks_references_are_resolved() -> None:
    inputs = {"a": ref("done"), "b": ref("later", "x")}
    out = resolve_refs(inputs, {"done": {"v": 1}}, only=["done"])
    assert out == {"a": {"v": 1}, "b": ref("later", "x")}


def test_the_search_is_bounded_in_depth() -> None:
    deep: Any = ref("s")
    for _ in range(MAX_DEPTH + 5):
        deep = {"n": deep}
    assert find_refs(deep) == ([], [])


def _task(task_id: str, inputs: dict[str, Any], deps: list[str], status: str = "pending") -> Task:
    return Task(
        id=task_id,
        worker="w",
        inputs=inputs,
        depends_on=deps,
        status=status,  # type: ignore[typeddict-item]
        attempts=1 if status == "done" else 0,
        failures=0,
        round=1,
        reason="",
        result_ref=f"{task_id}#1" if status == "done" else None,
        started_at=None,
        ended_at=None,
        error=None,
    )


def _result(task_id: str, output: dict[str, Any]) -> TaskResult:
    return TaskResult(
        task_id=task_id,
        worker="w",
        ok=True,
        output=output,
        error=None,
        summary="",
        attempt=1,
        started_at=0.0,
        ended_at=0.0,
    )


def test_dispatch_resolves_references_to_done_tasks_and_leaves_the_lanes() -> None:
    tasks = {
        "s": _task("s", {}, [], "done"),
        "f": _task("f", {}, [], "pending"),
        "j": _task("j", {"url": ref("s", "results.0.url"), "page": ref("f", "text")}, ["s", "f"]),
    }
    results = {"s#1": _result("s", SEARCH)}
    inputs, error = resolve_for_dispatch(tasks["j"], tasks, results)
    assert error is None
    assert inputs == {"url": "https://a.example", "page": ref("f", "text")}

    payload = WorkerPayload(task_id="j", worker="w", inputs=inputs, attempt=1, scope="")
    payload["after"] = ["f"]
    resolved = resolve_in_lane(payload, {"f": {"text": "hello"}})
    assert resolved["inputs"] == {"url": "https://a.example", "page": "hello"}
    failed = resolve_in_lane(payload, {"f": {"body": "hello"}})
    assert "has no 'text' (the output has keys body)" in failed["ref_error"]
    assert failed["inputs"] == inputs


class FetchIn(BaseModel):
    url: str
    tries: int = 1


class FetchOut(BaseModel):
    text: str


async def _fetch(inputs: FetchIn, call: WorkerCall) -> FetchOut:
    return FetchOut(text=inputs.url)


WORKERS = WorkerRegistry.of(
    WorkerSpec(name="fetch", description="", input_model=FetchIn, output_model=FetchOut, run=_fetch)
)


def test_validation_checks_the_schema_around_references_and_keeps_them() -> None:
    update = PlanUpdate(
        add=[
            NewTask(id="a", worker="fetch", inputs={"url": "https://a.example"}),
            NewTask(id="b", worker="fetch", inputs={"url": ref("a", "text")}, depends_on=["a"]),
        ]
    )
    checked = validate_update(update, {}, WORKERS, Context())
    assert checked.ok, checked.errors
    assert checked.inputs["b"] == {"url": ref("a", "text")}
    assert checked.inputs["a"] == {"url": "https://a.example", "tries": 1}


def test_validation_reports_a_reference_outside_depends_on_with_every_other_error() -> None:
    update = PlanUpdate(
        add=[
            NewTask(id="a", worker="fetch", inputs={"url": "https://a.example"}),
            NewTask(id="b", worker="fetch", inputs={"url": ref("a", "text"), "tries": "many"}),
            NewTask(id="c", worker="nope", inputs={}),
        ]
    )
    errors = validate_update(update, {}, WORKERS, Context()).errors
    assert any("'b'" in e and "refers to the output of 'a'" in e for e in errors), errors
    assert any("'b'" in e and "tries" in e for e in errors), errors  # not hidden by the ref
    assert not any("url" in e and "valid string" in e for e in errors), errors
    assert any("unknown worker 'nope'" in e for e in errors), errors


class PairIn(BaseModel):
    a: str
    b: dict[str, int]


PAIR = WorkerRegistry.of(
    WorkerSpec(name="pair", description="", input_model=PairIn, output_model=FetchOut, run=_fetch)
)


def test_a_reference_excuses_only_errors_at_or_below_its_own_location() -> None:
    # The ref at `a` must not excuse the error at `b.a`, which merely ends in the same key.
    inputs = {"a": ref("s", "x"), "b": {"a": "not-an-int"}}
    update = PlanUpdate(
        add=[
            NewTask(id="s", worker="fetch", inputs={"url": "u"}),
            NewTask(id="p", worker="pair", inputs=inputs, depends_on=["s"]),
        ]
    )
    workers = WorkerRegistry.of(*WORKERS.values(), *PAIR.values())
    errors = validate_update(update, {}, workers, Context()).errors
    assert len(errors) == 1, errors
    assert "'p'" in errors[0] and "b.a: Input should be a valid integer" in errors[0], errors
    assert "a: Input should be a valid string" not in errors[0].replace("b.a:", ""), errors


class UnionIn(BaseModel):
    pick: list[int] | str
    deep: dict[str, PairIn] = {}


def test_a_reference_inside_a_union_is_still_excused() -> None:
    # Pydantic names the union member in the location: ('pick', 'list[int]', 1).
    unions = WorkerRegistry.of(
        WorkerSpec(name="u", description="", input_model=UnionIn, output_model=FetchOut, run=_fetch)
    )
    inputs = {"pick": [1, ref("s", "n")], "deep": {"k": {"a": ref("s", "t"), "b": {}}}}
    update = PlanUpdate(add=[NewTask(id="u1", worker="u", inputs=inputs, depends_on=["s"])])
    tasks = {"s": _task("s", {}, [], "done")}
    errors = validate_update(update, tasks, unions, Context()).errors
    # Only the str member's complaint about the whole list is left: it is not under the ref.
    assert len(errors) == 1 and "pick.str: Input should be a valid string" in errors[0], errors
    assert "list[int]" not in errors[0], errors


def test_too_many_references_are_refused_at_validation_with_the_other_errors() -> None:
    many = {"items": [ref("s", f"results.{n}") for n in range(MAX_REFS + 1)], "url": 3}
    update = PlanUpdate(
        add=[
            NewTask(id="s", worker="fetch", inputs={"url": "u"}),
            NewTask(id="b", worker="fetch", inputs=many, depends_on=["s"]),
            NewTask(id="c", worker="nope", inputs={}),
        ]
    )
    errors = validate_update(update, {}, WORKERS, Context()).errors
    assert any(f"{MAX_REFS + 1} references, over the limit of {MAX_REFS}" in e for e in errors)
    assert any("'b'" in e and "url: Input should be a valid string" in e for e in errors), errors
    assert any("unknown worker 'nope'" in e for e in errors), errors
    assert check_refs({"items": [ref("s")] * MAX_REFS}, ["s"]) == []
    with pytest.raises(RefError, match="MAX_REFS"):
        resolve_refs(many, {"s": SEARCH})


def test_resolving_more_than_the_size_limit_fails_before_copying() -> None:
    big = {"text": "x" * 1_000_000}
    # 2000 references to a 1 MB output would be 2 GB: refused at once, with the limit named.
    with pytest.raises(RefError) as caught:
        resolve_refs({"items": [ref("s")] * 2000}, {"s": big})
    assert "MAX_REFS" in str(caught.value)
    for inputs in ({"items": [ref("s")] * 3}, {"text": ref("s", "text")}):
        with pytest.raises(RefError) as caught:
            resolve_refs(inputs, {"s": big})
        message = str(caught.value)
        assert f"more than {MAX_RESOLVED_CHARS} characters of JSON (MAX_RESOLVED_CHARS)" in message
        assert len(message) < 500, message
    # Repeats count each time: under the limit alone, over it together.
    part = {"text": "y" * (MAX_RESOLVED_CHARS // 3)}
    assert len(resolve_refs({"items": [ref("s")] * 2}, {"s": part})["items"]) == 2
    with pytest.raises(RefError, match="MAX_RESOLVED_CHARS"):
        resolve_refs({"items": [ref("s")] * 3}, {"s": part})
    # At dispatch the error is the task's, and its inputs stay as planned.
    tasks = {"s": _task("s", {}, [], "done"), "t": _task("t", {"v": ref("s")}, ["s"])}
    inputs, error = resolve_for_dispatch(tasks["t"], tasks, {"s#1": _result("s", big)})
    assert error is not None and "MAX_RESOLVED_CHARS" in error
    assert inputs == {"v": ref("s")}


def test_resolving_many_references_in_large_inputs_rebuilds_only_their_paths() -> None:
    rows: list[Any] = [{"n": n} for n in range(5000)]
    for n in range(0, 5000, 100):
        rows[n] = {"n": ref("s", "results.0.rank")}
    inputs = {"rows": rows, "other": {"kept": [1, 2]}}
    out = resolve_refs(inputs, {"s": SEARCH})
    assert [r["n"] for r in out["rows"]] == [1 if n % 100 == 0 else n for n in range(5000)]
    assert out["other"] is inputs["other"]  # off every reference's path: shared, not copied
    assert out["rows"][1] is rows[1]


def test_resolved_inputs_are_checked_and_normalized_by_the_worker_schema() -> None:
    spec = WORKERS["fetch"]
    raw = {"url": ref("s", "results.0.rank")}
    inputs, error = check_resolved(spec, raw, {"url": "https://a.example"})
    assert error is None and inputs == {"url": "https://a.example", "tries": 1}
    inputs, error = check_resolved(spec, raw, {"url": 1})
    assert error == (
        "the resolved inputs do not fit worker 'fetch': input 'url' (from task 's', path "
        "'results.0.rank'): Input should be a valid string"
    )


# A JSON value, and a path into it that exists: resolution must agree with plain indexing.
json_leaves = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
json_values = st.recursive(
    json_leaves,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(alphabet="abcxyz_", min_size=1, max_size=4), inner, max_size=4)
    ),
    max_leaves=25,
)


@st.composite
def output_and_path(draw: st.DrawFn) -> tuple[dict[str, Any], list[str | int]]:
    output = draw(st.dictionaries(st.sampled_from(["a", "b", "c"]), json_values, min_size=1))
    path: list[str | int] = []
    value: Any = output
    while draw(st.booleans()):
        if isinstance(value, dict) and value:
            key = draw(st.sampled_from(sorted(value)))
        elif isinstance(value, list) and value:
            key = draw(st.integers(0, len(value) - 1))
        else:
            break
        path.append(key)
        value = value[key]
    return output, path


def test_resolving_into_random_outputs_equals_indexing_them() -> None:
    @seed(SEED)
    @settings(
        max_examples=200,
        deadline=None,
        database=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(case=output_and_path(), bad=st.text(alphabet="abcxyz_", min_size=1, max_size=4))
    def resolves_like_indexing(case: tuple[dict[str, Any], list[str | int]], bad: str) -> None:
        note(f"PROPERTY_SEED={SEED}")
        output, path = case
        expected: Any = output
        for key in path:
            expected = expected[key]  # type: ignore[index]
        text = ".".join(str(k) for k in path)
        assert resolve_refs({"v": ref("t", text)}, {"t": output}) == {"v": expected}
        # One more segment past a leaf, or a key that is not there, never resolves silently.
        if not isinstance(expected, dict | list) or (
            isinstance(expected, dict) and bad not in expected
        ):
            with pytest.raises(RefError, match="output has no"):
                resolve_refs({"v": ref("t", f"{text}.{bad}" if text else bad)}, {"t": output})

    try:
        resolves_like_indexing()
    except Exception:
        print(f"property failed with PROPERTY_SEED={SEED}")
        raise
