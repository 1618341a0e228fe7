"""The README's example plugin, installed the way the README says (its own module, registered through the
``theorycheck`` entry-point group), is found and checked without touching ``theory/``; and the README's
two commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

import installed_plugin

from theory.harness import Budget, Harness
from theory.registry import build_registry

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _example() -> str:
    section = README.split("## A plugin in a few lines", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_plugin_is_found_and_its_claim_and_mutant_are_judged(tmp_path, monkeypatch):
    installed_plugin.install(tmp_path, monkeypatch, module="etc_plugin", source=_example())
    registry = build_registry()
    assert not [e for e in registry.errors if e.plugin == "etc_plugin"]
    algorithm = registry.algorithms["explore-then-commit"]
    assert registry.owners["explore-then-commit"] == "etc_plugin"
    harness = Harness(registry, Budget(seeds=64))
    [claim] = algorithm.claims
    assert harness.verdict(algorithm, claim).status.value == "PASS"
    [result] = harness.mutant_results(algorithm)
    assert result.caught, result.mutant.evidence


def test_the_readme_gives_the_commands_ci_runs():
    commands = re.findall(r"```bash\n(.*?)\n```", README, re.S)
    setup = "python3 -m venv .venv && .venv/bin/pip install torch==2.13.0 && .venv/bin/pip install -e '.[dev]'"
    assert commands[0].startswith(setup) and commands[0].endswith("theorycheck run")
    assert commands[1].startswith(setup)
    test_command = commands[1][len(setup):].strip(" &")
    assert test_command in (ROOT / ".ci" / "run").read_text()
