"""The locked dependencies (`requirements/*.lock`, written by `make lock`) still match
pyproject.toml, agree with each other, carry hashes, and are what this environment runs."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
RUN_LOCK = ROOT / "requirements" / "run.lock"
DEV_LOCK = ROOT / "requirements" / "dev.lock"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")


def pins(lock: Path) -> dict[str, tuple[Version, int]]:
    """Each pinned package: its version and how many hashes it carries."""
    found: dict[str, tuple[Version, int]] = {}
    current = ""
    for line in lock.read_text().splitlines():
        if match := PIN.match(line):
            current = canonicalize_name(match[1])
            assert current not in found, f"{lock.name} pins {current} twice"
            found[current] = (Version(match[2]), 0)
        elif line.strip().startswith("--hash=sha256:") and current:
            version, hashes = found[current]
            found[current] = (version, hashes + 1)
        elif line and not line.startswith((" ", "#")):
            pytest.fail(f"{lock.name}: not an exact pin with hashes: {line!r}")
    return found


def declared() -> tuple[list[Requirement], list[Requirement]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    run = [Requirement(r) for r in project["dependencies"]]
    dev = [Requirement(r) for r in project["optional-dependencies"]["dev"]]
    return run, dev


@pytest.mark.parametrize("lock", [RUN_LOCK, DEV_LOCK], ids=["run", "dev"])
def test_every_pin_is_exact_and_hashed(lock: Path) -> None:
    locked = pins(lock)
    assert locked
    unhashed = sorted(name for name, (_, hashes) in locked.items() if hashes == 0)
    assert not unhashed, f"{lock.name}: no hash for {unhashed}"


def test_the_locks_cover_pyproject() -> None:
    run, dev = declared()
    assert "psycopg-binary" in pins(RUN_LOCK)  # psycopg[binary]: the extra's package is locked too
    for lock, wanted in ((RUN_LOCK, run), (DEV_LOCK, run + dev)):
        locked = pins(lock)
        for req in wanted:
            name = canonicalize_name(req.name)
            assert name in locked, f"{req} is missing from {lock.name}: run `make lock`"
            version = locked[name][0]
            assert req.specifier.contains(version, prereleases=True), (
                f"{lock.name} pins {name}=={version}, outside {req}: run `make lock`"
            )


def test_the_run_lock_is_the_dev_lock_without_the_dev_extra() -> None:
    run, dev = pins(RUN_LOCK), pins(DEV_LOCK)
    differ = {
        n: (v, dev.get(n, (None,))[0]) for n, (v, _) in run.items() if dev.get(n, (v,))[0] != v
    }
    assert not differ, f"run.lock and dev.lock disagree: {differ}"
    assert set(run) <= set(dev)
    assert "hypothesis" in dev and "hypothesis" not in run


def test_this_environment_runs_the_locked_versions() -> None:
    """`make` installs from the locks; a drift here means a stale .venv or a lock never applied."""
    drift = {}
    for name, (version, _) in pins(DEV_LOCK).items():
        try:
            installed = Version(metadata.version(name))
        except metadata.PackageNotFoundError:
            continue  # the dev lock may be applied on top of a run-only install elsewhere
        if installed != version:
            drift[name] = f"installed {installed}, locked {version}"
    assert not drift, f"not the locked versions (run `make test` to reinstall): {drift}"


def test_the_makefile_installs_from_the_locks() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes -r $(RUN_LOCK)" in makefile
    assert "--require-hashes -r $(DEV_LOCK)" in makefile
    assert "--no-deps -e ." in makefile
    assert not re.search(r"pip install[^\n]*-e '?\.\[dev\]", makefile), "unlocked dev install"
