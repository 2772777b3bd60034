"""What the production wheel and image hold: the product's packages and the dependencies they use,
nothing for development or tests (the sandbox and what only it needs stay out)."""

from __future__ import annotations

import ast
import re
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SHIPPED = PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
# Declared for what they provide without being imported by name.
NOT_IMPORTED = {"tzdata": "the time-zone database zoneinfo reads where the system has none"}


def _imported_top_levels() -> set[str]:
    found: set[str] = set()
    for package in SHIPPED:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    found |= {alias.name.partition(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    found.add(node.module.partition(".")[0])
    return found


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _distribution(requirement: str) -> str:
    name = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert name is not None
    return _normal(name.group(0))


def _owners() -> dict[str, set[str]]:
    """Each importable top-level name's distributions, by normalised name."""
    return {name: {_normal(dist) for dist in dists} for name, dists in packages_distributions().items()}


def test_the_wheel_ships_the_product_and_not_the_sandbox() -> None:
    assert set(SHIPPED) == {"app", "portal", "workers", "migrations"}
    assert "sandbox" not in _imported_top_levels()
    assert "COPY sandbox" not in (ROOT / "Dockerfile").read_text()


def test_every_runtime_dependency_is_used_by_the_product() -> None:
    owners = _owners()
    used = {dist for name in _imported_top_levels() for dist in owners.get(name, ())}
    declared = {_distribution(requirement) for requirement in PYPROJECT["project"]["dependencies"]}
    assert declared - used - set(NOT_IMPORTED) == set()


def test_nothing_the_product_imports_is_a_development_dependency() -> None:
    owners = _owners()
    runtime = {_distribution(requirement) for requirement in PYPROJECT["project"]["dependencies"]}
    development = {_distribution(requirement) for requirement in PYPROJECT["dependency-groups"]["dev"]}
    only_for_development = development - runtime
    leaking = {name for name in _imported_top_levels() if owners.get(name, set()) & only_for_development}
    assert leaking == set()
