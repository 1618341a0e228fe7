"""A researcher's loop, played through the CLI: run, edit a claim, rerun, restore it, rerun, report.

The report must agree with what the CLI said last: a store keeps the runs of every version of the plugin, and
only those the current code would produce are shown (theory.history), the others only with ``--all``, flagged.
Each CLI call here stands for a fresh process: the plugin module is re-imported and the source digests that
key the store are recomputed, as they would be.
"""

from __future__ import annotations

import json
import re
import sys

import installed_plugin
import pytest

from theory import cli, fingerprint

MODULE = "tc_workflow"
SOURCE = '''
"""Regret a * sqrt(T) on a family without randomness: O(sqrt T) holds, the linear mutant breaks it."""
import math

import torch
from theory import Algorithm, Claim, Experiment, Family, Instance, Mutant, Paper, Param, hookimpl, measures


def init(instance, hyper, gen):
    return {"regret": torch.zeros(instance.batch), "scale": 1 + 0.01 * (gen.seeds % 10).double()}


def step(state, instance, t, hyper, gen):
    grow = 1.0 if hyper["linear"] else math.sqrt(t) - math.sqrt(t - 1)
    return {**state, "regret": state["regret"] + state["scale"] * grow * instance.params["a"]}


FAMILY = Family(name="workflow-toy", description="no randomness", defaults={"a": 1.0},
                parameters={"a": Param(meaning="scale of the regret", low=0)},
                generate=lambda params, gen: Instance(params=dict(params), batch=gen.batch))
EXPERIMENT = Experiment(family="workflow-toy", over="T", grid=(16, 32, 64, 128, 256), seeds=16,
                        params={"a": 2.0})
ALGORITHM = Algorithm(
    name="workflow-alg", paper=Paper(title="A workflow", authors="Nobody", year=2000), family="workflow-toy",
    init=init, step=step, metrics=measures("regret")(lambda state, instance: {"regret": state["regret"]}),
    hyper={"linear": False},
    claims=(Claim(name="rate", metric="regret", kind="upper", form="FORM", source="Theorem 1",
                  experiment=EXPERIMENT),),
    mutants=(Mutant(name="linear", bug="regret grows by a constant", breaks=("rate",), hyper={"linear": True}),),
)


@hookimpl
def theorycheck_families():
    return [FAMILY]


@hookimpl
def theorycheck_algorithms():
    return [ALGORITHM]
'''


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """Writes the plugin with a given claim form; each call stands for an edit of the file."""
    folder = tmp_path / "site"
    folder.mkdir()
    installed_plugin.install(folder, monkeypatch, MODULE, SOURCE.replace("FORM", "C*sqrt(T)"))

    def write(form: str) -> None:
        (folder / f"{MODULE}.py").write_text(SOURCE.replace("FORM", form))
        sys.modules.pop(MODULE, None)
        fingerprint.forget()

    yield write
    sys.modules.pop(MODULE, None)
    fingerprint.forget()


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    sys.modules.pop(MODULE, None)
    fingerprint.forget()
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _headline(report: str) -> dict[str, int]:
    line = re.search(r"Correct versions: (.*?)\.", report).group(1)
    return {label: int(n) for label, n in (part.rsplit(" ", 1) for part in line.split(", "))}


def _verdicts(rows: list[dict]) -> list[str]:
    """The correct version's verdict, then its mutants', from audit's rows (one per claim)."""
    return [v for r in rows for v in (r["verdict"], *(m["verdict"] for m in r["mutants"]))]


def test_edit_rerun_restore_report_agrees_with_the_cli(plugin, tmp_path, capsys):
    db, out = str(tmp_path / "results.sqlite"), tmp_path / "report"
    audit = ["audit", "workflow-alg", "--store", db, "-q", "--json"]
    code, first, _ = _cli(capsys, *audit)
    assert code == 0 and _verdicts(json.loads(first)["claims"]) == ["PASS", "FAIL"]
    summary = json.loads(first)["summary"]  # the power and size of the audit's last line, as numbers
    assert (summary["mutants_caught"], summary["mutant_checks"]) == (1, 1)
    assert (summary["correct_claims_failed"], summary["correct_claims_judged"]) == (0, 1)

    plugin("C*log(T)")  # an edit that breaks the claim: a new source digest, so new runs
    code, edited, _ = _cli(capsys, *audit)
    assert code == 1 and json.loads(edited)["claims"][0]["verdict"] == "FAIL"

    plugin("C*sqrt(T)")  # restored: the first runs are current again and reused
    code, restored, err = _cli(capsys, *audit)
    assert code == 0 and "0 computed" in err
    cli_rows = json.loads(restored)["claims"]
    assert _verdicts(cli_rows) == ["PASS", "FAIL"]

    code, said, _ = _cli(capsys, "report", "--store", db, "--out", str(out))
    assert code == 0 and "1 stale verdicts left out" not in said and "stale verdicts left out" in said
    report = (out / "report.md").read_text()
    counts = _headline(report)
    correct = [r["verdict"] for r in cli_rows]
    assert counts["PASS"] == correct.count("PASS") == 1 and counts["FAIL"] == 0
    assert "log(T)" not in report and "STALE" not in report
    assert "(caught)" in report and "not caught" not in report
    assert "base seed 0" in report and "commit" in report
    assert "theorycheck check workflow-alg rate --seed 0 --seeds 16" in report
    assert "a=2.0" in report  # the instance parameters of the verdict

    code, _, _ = _cli(capsys, "report", "--store", db, "--out", str(out), "--all")
    history = (out / "report.md").read_text()
    assert _headline(history) == counts  # stale verdicts are shown, never counted
    assert history.count("**STALE** (was FAIL)") == 2  # the edited claim's FAIL and its mutant's FAIL


def test_report_selects_by_name_and_family(plugin, tmp_path, capsys):
    db, out = str(tmp_path / "results.sqlite"), tmp_path / "report"
    assert _cli(capsys, "run", "workflow-alg", "--store", db, "-q")[0] == 0
    _cli(capsys, "report", "--store", db, "--out", str(out), "workflow-*")
    assert _headline((out / "report.md").read_text())["PASS"] == 1
    _cli(capsys, "report", "--store", db, "--out", str(out), "--family", "other-*")
    assert _headline((out / "report.md").read_text())["PASS"] == 0
