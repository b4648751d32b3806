"""`write_domain_skeleton` writes a domain package whose tests and notebook pass at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator import write_domain_skeleton
from orchestrator.templates import SkeletonError


def test_a_new_domain_has_each_seat_and_no_placeholder_left(tmp_path: Path) -> None:
    written = write_domain_skeleton(tmp_path, "word_games")

    names = {p.relative_to(tmp_path / "word_games").as_posix() for p in written}
    assert names == {
        "__init__.py",
        "domain.py",
        "planner.py",
        "verifier.py",
        "workers.py",
        "tests/__init__.py",
        "tests/test_domain.py",
        "notebook.ipynb",
    }
    assert "{{" not in "".join(p.read_text() for p in written)
    assert "class WordGamesPlanner" in (tmp_path / "word_games" / "planner.py").read_text()
    # Whether it all passes at once: tests/unit/adapters/test_readme_own_domain.py runs them.


@pytest.mark.parametrize("name", ["Word", "two words", "class", "1st", "orchestrator", ""])
def test_a_name_that_cannot_be_a_new_package_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(SkeletonError):
        write_domain_skeleton(tmp_path, name)
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_is_not_empty_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "keep.txt").write_text("x")

    with pytest.raises(SkeletonError, match="not empty"):
        write_domain_skeleton(tmp_path, "mine")
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["keep.txt"]
