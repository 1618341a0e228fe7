"""The import layers of docs/architecture.md, checked on the source: one direction, no back-edges.

Imports are read from the source (module level and inside functions alike), so a lazy import inside a function
counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FACES = {"theory.cli", "theory.pytest_plugin", "theory.report", "theory.render", "theory.listing", "theory.audit",
         "theory.progress", "theory.scaffold", "theory.export", "theory.store_commands", "theory.testing",
         "theory.versus", "theory.plots", "theory.worst_case_commands", "theory.api"}
ENGINE = {"theory.runner", "theory.executors", "theory.harness", "theory.kernels", "theory.backend"}
JUDGE = {"theory.judge", "theory.stats", "theory.privacy", "theory.claims"}


def _modules(folder: str) -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(name: str, path: Path, names: bool = True) -> set[str]:
    """The modules ``name`` imports; with ``names``, also ``module.name`` for each name taken from a module
    (which may be a submodule)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            found.add(base)
            if names:
                found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def _reaches(imports: set[str], targets: set[str]) -> set[str]:
    return {t for t in targets for i in imports if i == t or i.startswith(t + ".")}


CORE = _modules("theory")
PLUGINS = _modules("plugins")


@pytest.mark.parametrize("name", sorted(CORE))
def test_the_core_never_imports_plugins(name):
    assert not {i for i in _imports(name, CORE[name]) if i == "plugins" or i.startswith("plugins.")}


@pytest.mark.parametrize("name", sorted(JUDGE))
def test_the_judge_never_imports_the_engine(name):
    assert not _reaches(_imports(name, CORE[name]), ENGINE), f"{name} imports the engine"


@pytest.mark.parametrize("name", sorted(set(CORE) - FACES - {"theory"}))
def test_nothing_below_the_faces_imports_them(name):
    assert not _reaches(_imports(name, CORE[name]), FACES), f"{name} imports a face"


def test_the_value_types_import_nothing_but_the_claims():
    assert _imports("theory.model", CORE["theory.model"]) & set(CORE) <= {"theory.claims"}


@pytest.mark.parametrize("name", sorted(set(PLUGINS) - {"plugins"}))
def test_plugins_import_only_the_public_face(name):
    deeper = {i for i in _imports(name, PLUGINS[name], names=False) if i.startswith("theory.")}
    assert not deeper, f"{name} imports {sorted(deeper)}: import from theory (re-export what is missing)"
