"""Meta-tests that keep the project in step with itself: every hook documented and known, every plugin
module registered by an entry point, every public name documented, every module importable with warnings as
errors."""

from __future__ import annotations

import enum
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

import theory
from theory import hookspecs

ROOT = Path(__file__).resolve().parent.parent
HOOKSPECS = sorted(name for name, value in vars(hookspecs).items()
                   if callable(value) and hasattr(value, "theorycheck_spec"))


def entry_points() -> dict[str, str]:
    with open(ROOT / "pyproject.toml", "rb") as handle:
        project = tomllib.load(handle)["project"]
    return project["entry-points"]["theorycheck"]


def modules_under(package: str) -> list[str]:
    return sorted(".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                  for path in (ROOT / package).rglob("*.py"))


# --- hooks --------------------------------------------------------------------------------------------------


def test_there_are_hookspecs():
    assert HOOKSPECS == ["theorycheck_algorithms", "theorycheck_families"]


@pytest.mark.parametrize("name", HOOKSPECS)
def test_every_hookspec_is_documented_in_full(name):
    """pytest's order: a one-line summary, the semantics, each parameter, what it returns, then notes."""
    function = getattr(hookspecs, name)
    doc = inspect.getdoc(function) or ""
    paragraphs = doc.split("\n\n")
    assert len(paragraphs) >= 3 and paragraphs[0].endswith(".") and "\n" not in paragraphs[0], doc
    signature = inspect.signature(function)
    positions = [doc.find(f":param {param}:") for param in signature.parameters]
    assert all(p > 0 for p in positions), f"{name}: every parameter needs a ':param <name>:' line"
    returns, notes = doc.find(":returns:"), doc.find("Notes:")
    assert returns > 0 and notes > returns and all(p < returns for p in positions), doc
    assert signature.return_annotation is not inspect.Signature.empty


def test_registry_knows_exactly_the_hookspecs():
    """The registry's message for an unknown hook lists the known hooks: it must list these."""
    from fakes import MisspelledHookPlugin

    registry = theory.build_registry(plugins=[("typo", MisspelledHookPlugin())], autoload=False)
    (error,) = [e for e in registry.errors if e.plugin == "typo"]
    assert error.cause.split("known: ")[1].split(", ") == HOOKSPECS


@pytest.mark.parametrize("name", HOOKSPECS)
def test_every_hook_is_exercised_by_the_tests(name):
    tests = [path for path in (ROOT / "tests").glob("*.py") if path.name != "test_meta.py"]
    sources = "".join(path.read_text() for path in tests)
    assert f"def {name}(" in sources


# --- plugins and entry points -------------------------------------------------------------------------------


def test_every_plugin_module_is_registered_by_an_entry_point():
    registered = set(entry_points().values())
    modules = {module for module in modules_under("plugins") if module != "plugins"}
    assert modules, "no plugin modules found"
    assert modules - registered == set(), "add these to [project.entry-points.theorycheck] in pyproject.toml"


def test_every_entry_point_names_a_module_that_exists():
    for name, target in entry_points().items():
        module = target.split(":")[0]
        path = ROOT.joinpath(*module.split("."))
        assert path.with_suffix(".py").exists() or (path / "__init__.py").exists(), (name, target)


# --- public names -------------------------------------------------------------------------------------------


def _own_docstring(value: object) -> str:
    if inspect.isclass(value):
        doc = value.__dict__.get("__doc__") or ""
        if doc.startswith(f"{value.__name__}("):  # a dataclass without a docstring gets its signature
            return ""
        if issubclass(value, enum.Enum) and doc.strip() in {"An enumeration.", ""}:
            return ""
        return doc
    return inspect.getdoc(value) or ""


@pytest.mark.parametrize("name", theory.__all__)
def test_every_public_name_has_a_docstring(name):
    doc = _own_docstring(getattr(theory, name))
    assert len(doc.strip()) >= 20, f"theory.{name} needs a docstring"


def test_public_names_all_resolve():
    assert sorted(theory.__all__) == sorted(set(theory.__all__))
    for name in theory.__all__:
        assert getattr(theory, name) is not None


# --- imports ------------------------------------------------------------------------------------------------

IMPORT_ALL = """
import importlib, json, sys, traceback, warnings
warnings.simplefilter("error")
failures = {}
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except BaseException as exc:
        failures[name] = "".join(traceback.format_exception_only(type(exc), exc)).strip()
print(json.dumps(failures))
"""


def test_every_module_imports_with_warnings_as_errors():
    modules = modules_under("theory") + [m for m in modules_under("plugins") if m != "plugins"]
    assert "theory.claims" in modules and "plugins.ucb1" in modules
    result = subprocess.run([sys.executable, "-W", "error", "-c", IMPORT_ALL, *modules], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    failures = json.loads(result.stdout.strip().splitlines()[-1])
    assert failures == {}, "\n".join(f"{name}: {why}" for name, why in failures.items())
