"""Checks that the Python lock files agree with pyproject.toml (and, with --installed, with the venv).

Offline and exact, so `make lint` can run it in CI:
- every requirement of pyproject.toml (runtime in requirements/runtime.txt; runtime plus the dev,
  postgres and parquet extras in requirements/dev.txt) is pinned there with a version its specifier
  allows, and every pin that the lock says comes from pyproject.toml is still a requirement;
- every pin carries at least one --hash;
- the packages both locks pin have the same version in both;
- with --installed LOCK: every distribution installed in this interpreter's environment (but the
  project itself) is pinned in LOCK at exactly the installed version, so two machines that
  installed from the lock hold the same environment.

Exit 0 when all agree, 1 with one line per disagreement. `make lock` rewrites the locks.
"""

from __future__ import annotations

import re
import sys
import tomllib
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "cityledger"
RUNTIME = ROOT / "requirements" / "runtime.txt"
DEV = ROOT / "requirements" / "dev.txt"
DEV_EXTRAS = ("dev", "postgres", "parquet")
PIN = re.compile(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s;\\]+)")


@dataclass
class Pin:
    versions: set[str] = field(default_factory=set)
    hashed: bool = False
    direct: bool = False  # "# via cityledger (pyproject.toml)"


def read_lock(path: Path) -> dict[str, Pin]:
    """name -> Pin, from a `uv pip compile --generate-hashes` file (a universal lock may pin one
    name twice under different markers)."""
    pins: dict[str, Pin] = {}
    current: Pin | None = None
    for line in path.read_text().splitlines():
        m = PIN.match(line)
        if m:
            name = canonicalize_name(m.group(1).split("[")[0])
            current = pins.setdefault(name, Pin())
            current.versions.add(m.group(2))
            continue
        if current is None:
            continue
        stripped = line.strip()
        if stripped.startswith("--hash=sha256:"):
            current.hashed = True
        elif stripped.startswith("#") and f"{PROJECT} (pyproject.toml)" in stripped:
            current.direct = True
    return pins


def requirements(extras: tuple[str, ...]) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    for extra in extras:
        reqs += [Requirement(r) for r in project["optional-dependencies"][extra]]
    return reqs


def check_lock(path: Path, extras: tuple[str, ...]) -> list[str]:
    pins = read_lock(path)
    rel = path.relative_to(ROOT)
    problems = []
    wanted = set()
    for req in requirements(extras):
        name = canonicalize_name(req.name)
        wanted.add(name)
        pin = pins.get(name)
        if pin is None:
            problems.append(f"{rel}: {req} is in pyproject.toml but not pinned")
            continue
        bad = [v for v in pin.versions if not req.specifier.contains(Version(v), prereleases=True)]
        if bad:
            problems.append(f"{rel}: {name}=={bad[0]} does not satisfy pyproject.toml's {req}")
    for name, pin in sorted(pins.items()):
        if pin.direct and name not in wanted:
            problems.append(f"{rel}: {name} is pinned as a requirement that pyproject.toml no longer has")
        if not pin.hashed:
            problems.append(f"{rel}: {name} has no --hash")
    return problems


def check_agreement() -> list[str]:
    runtime, dev = read_lock(RUNTIME), read_lock(DEV)
    return [
        f"requirements/dev.txt pins {name} {sorted(dev[name].versions)} but runtime.txt pins {sorted(pin.versions)}"
        for name, pin in sorted(runtime.items())
        if name in dev and dev[name].versions != pin.versions
    ]


def check_installed(path: Path) -> list[str]:
    pins = read_lock(path)
    problems = []
    for dist in metadata.distributions():
        name = canonicalize_name(dist.metadata["Name"])
        if name in (PROJECT, "pip", "setuptools"):  # the venv seeds these itself
            continue
        pin = pins.get(name)
        if pin is None or dist.version not in pin.versions:
            locked = sorted(pin.versions) if pin else "nothing"
            problems.append(f"installed {name}=={dist.version}, {path.name} pins {locked}")
    return problems


def main(argv: list[str]) -> int:
    problems = check_lock(RUNTIME, ()) + check_lock(DEV, DEV_EXTRAS) + check_agreement()
    if len(argv) == 2 and argv[0] == "--installed":
        problems += check_installed(ROOT / argv[1])
    elif argv:
        print("usage: check_lock.py [--installed requirements/dev.txt]", file=sys.stderr)
        return 2
    for p in problems:
        print(p)
    if problems:
        print("the lock disagrees: run `make lock` (see README, 'Dependencies')", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
