"""``theorycheck new``: a family template that loads and generates, a folder without plugins/, clashing names."""

from __future__ import annotations

import importlib.util
import sys

import fake_plugins as fakes
import torch

from theory import cli
from theory.random import Gen


def _new(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["new", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_new_family_writes_a_family_that_loads_and_generates(capsys, tmp_path, monkeypatch):
    code, out, _ = _new(capsys, "--family", "my-bandit", "--dir", str(tmp_path))
    path = tmp_path / "my_bandit.py"
    assert code == 0 and f"created {path}" in out and 'my_bandit = "my_bandit"' in out
    spec = importlib.util.spec_from_file_location("my_bandit", path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "my_bandit", module)  # as an import would (dataclasses look it up)
    spec.loader.exec_module(module)
    registry = fakes.registry(("my_bandit", module))
    assert registry.errors == () and "my-bandit" in registry.families
    family = registry.families["my-bandit"]
    assert set(family.parameters) == set(family.defaults) == {"d", "sigma"}
    gen = Gen([0, 1, 2])
    instance = family.instance({"d": 3}, gen)
    x, y = instance.sample(1, gen)
    assert instance.theta.shape == (3, 3) and x.shape == (3, 3) and y.shape == (3,)
    assert torch.equal(family.instance({"d": 3}, Gen([0, 1, 2])).theta, instance.theta)  # reproducible


def test_new_works_in_a_folder_without_plugins(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = _new(capsys, "fresh_paper")
    assert code == 0 and (tmp_path / "fresh_paper.py").exists() and 'fresh_paper = "fresh_paper"' in out


def test_new_refuses_names_that_clash(capsys, tmp_path):
    for name, why in (("ucb1", "already the name of an installed plugin"),
                      ("bandits", "clashes with the built-in instance module"),
                      ("json", "already an importable module")):
        code, _, err = _new(capsys, name, "--dir", str(tmp_path))
        assert code == 2 and why in err, err
    code, _, err = _new(capsys, "--family", "bernoulli-bandit", "--dir", str(tmp_path))
    assert code == 2 and "already a registered family" in err
    code, _, err = _new(capsys, "--family", "My_Family", "--dir", str(tmp_path))
    assert code == 2 and "lowercase letters" in err
    assert list(tmp_path.iterdir()) == []
