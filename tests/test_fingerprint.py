"""The code fingerprint covers what a run imports, so a store never hands back numbers of code that changed."""

from __future__ import annotations

import importlib
import sys
import textwrap

import pytest

from theory import fingerprint
from theory.harness import Budget, Harness
from theory.registry import build_registry
from theory.store import Store

FAMILY = '''
import torch
from theory import Family, Instance, hookimpl
from {package} import ledger

def generate(params, gen):
    return Instance(params=dict(params), batch=gen.batch)

@hookimpl
def theorycheck_families():
    return [Family(name="ledger-family", description="a family whose numbers come from a helper module",
                   generate=generate)]
'''
LEDGER = "def cost(t):\n    return {value} * t\n"
ALGORITHM = '''
import torch
from theory import Algorithm, Claim, Experiment, Paper, hookimpl, measures
from {package}.family import ledger

def init(instance, hyper, gen):
    return {{"total": torch.zeros(instance.batch)}}

def step(state, instance, t, hyper, gen):
    return {{"total": state["total"] + ledger.cost(1.0) + 0.01 * gen.normal("noise", t)}}

CLAIM = Claim(name="linear", metric="total", form="C*T", kind="upper", source="none",
              experiment=Experiment(family="ledger-family", over="T", grid=(8, 16, 32, 64), seeds=16))
ALGO = Algorithm(name="ledger-algo", paper=Paper(title="t", authors="a", year=2000), family="ledger-family",
                 init=init, step=step, metrics=measures("total")(lambda s, i: {{"total": s["total"]}}),
                 claims=(CLAIM,))

@hookimpl
def theorycheck_algorithms():
    return [ALGO]
'''


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A plugin package in tmp_path: its family module imports a helper module, ledger.py, that the step calls."""
    name = f"ledger_pkg_{abs(hash(str(tmp_path)))}"
    root = tmp_path / name
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "ledger.py").write_text(LEDGER.format(value=1.0))
    (root / "family.py").write_text(textwrap.dedent(FAMILY.format(package=name)))
    (root / "algorithm.py").write_text(textwrap.dedent(ALGORITHM.format(package=name)))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name, root
    for module in [m for m in sys.modules if m.startswith(name)]:
        del sys.modules[module]
    fingerprint.forget()


def _harness(name: str, store: Store) -> tuple[Harness, object]:
    plugins = [(f"{name}-family", importlib.import_module(f"{name}.family")),
               (f"{name}-algorithm", importlib.import_module(f"{name}.algorithm"))]
    registry = build_registry(plugins, autoload=False)
    return Harness(registry, Budget(quick=True), store=store), registry.algorithms["ledger-algo"]


def test_editing_a_helper_module_a_family_imports_refuses_the_stored_run(package, tmp_path):
    name, root = package
    store = Store(tmp_path / "store.sqlite")
    harness, algorithm = _harness(name, store)
    harness.verdict(algorithm, algorithm.claims[0])
    assert (harness.computed, harness.reused) == (1, 0)

    again, algorithm = _harness(name, store)
    again.verdict(algorithm, algorithm.claims[0])
    assert (again.computed, again.reused) == (0, 1)  # unchanged code: the stored run is reused

    (root / "ledger.py").write_text(LEDGER.format(value=2.0))  # not the file that defines generate or step
    fingerprint.forget()  # a new process would start with no cached hashes
    edited, algorithm = _harness(name, store)
    edited.verdict(algorithm, algorithm.claims[0])
    assert (edited.computed, edited.reused) == (1, 0)


def test_the_fingerprint_follows_imports_but_not_type_checking_blocks_or_other_packages():
    files = fingerprint.reachable_files(("plugins.sea_omd",))
    assert any(path.endswith("theory/instances/online.py") for path in files)  # theory.online_nulls, followed
    assert any(path.endswith("theory/random.py") for path in files)  # from theory import Gen, resolved lazily
    assert not any(path.endswith("theory/cli.py") for path in files)
    assert not any("site-packages" in path for path in files)


def test_library_versions_are_part_of_the_fingerprint(monkeypatch):
    before = fingerprint.code_fingerprint(test_library_versions_are_part_of_the_fingerprint)
    monkeypatch.setattr(fingerprint, "library_versions", lambda: {"torch": "0.0"})
    assert fingerprint.code_fingerprint(test_library_versions_are_part_of_the_fingerprint) != before


def test_a_lazily_exported_constant_or_library_object_is_traced_to_the_module_that_exports_it():
    assert fingerprint._target("theory", "OCO_LINEAR") == "theory.instances.online"  # a value with no module
    assert fingerprint._target("theory", "jit") == "theory.kernels"  # numba's object, re-exported by kernels
    assert fingerprint._target("theory", "Gen") == "theory.random"
