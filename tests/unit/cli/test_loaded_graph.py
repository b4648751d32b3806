"""What the CLI knows of a graph it loads: which workers have side effects, from the `Domain`
when it has one, else from the compiled graph's structure (what `approve` routes to). `fork --at
latest` stops before the first of them was sent."""

from __future__ import annotations

import pytest

from domains.synthetic import COMMIT, ScriptedPlanner, synthetic_domain
from domains.travel.domain import travel_domain
from graph.builder import build_graph
from orchestrator.cli.graphs import Loaded
from orchestrator.domain import Domain


def test_travel_books_and_cancels_from_the_domain_or_from_the_structure() -> None:
    domain = travel_domain()
    graph = build_graph(domain)

    assert Loaded(graph, domain).side_effect_workers() == {"book", "cancel"}
    assert Loaded(graph).side_effect_workers() == {"book", "cancel"}


@pytest.mark.parametrize(("side_effects", "expected"), [(False, set()), (True, {COMMIT})])
def test_a_domain_has_the_side_effects_its_workers_declare(
    side_effects: bool, expected: set[str]
) -> None:
    domain: Domain = synthetic_domain(ScriptedPlanner([]), side_effects=side_effects)
    graph = build_graph(domain)

    assert Loaded(graph, domain).side_effect_workers() == expected
    assert Loaded(graph).side_effect_workers() == expected
