"""``theory.check_algorithm``: a plugin's claims and mutants checked from Python, with the CLI's verdicts and
its rows as data."""

from __future__ import annotations

import importlib.util

import fake_plugins as fakes
import pytest

import theory
from theory.cli import main


def test_an_algorithm_from_python_is_checked_with_its_mutants(tmp_path):
    results = theory.check_algorithm(fakes.algorithm("notebook"), families=[fakes.family(fakes.FAMILY)],
                                     quick=True, store=tmp_path / "runs.sqlite")
    assert results.ok
    [claim] = results.claims
    assert claim.verdict.status is theory.Status.PASS
    rows = results.to_rows()
    assert [(r["algorithm"], r["verdict"]) for r in rows] == [("notebook", "PASS"), ("notebook[linear]", "FAIL")]
    assert rows[1]["caught"] is True and rows[0]["experiment"]["family"] == fakes.FAMILY
    assert "notebook/rate: PASS" in str(results) and "notebook[linear]/rate: caught" in str(results)
    again = theory.check_algorithm(fakes.algorithm("notebook"), families=[fakes.family(fakes.FAMILY)],
                                   quick=True, store=tmp_path / "runs.sqlite")
    assert again.harness.reused == 2 and again.harness.computed == 0  # the store served both runs
    assert again.to_rows() == rows


def test_a_failing_claim_is_not_ok_and_names_why():
    results = theory.check_algorithm(fakes.failing("pessimist"), families=[fakes.family(fakes.FAMILY)])
    assert not results.ok
    assert results.claims[0].verdict.status is theory.Status.FAIL


def test_the_verdicts_are_the_clis(monkeypatch, capsys):
    registry = fakes.install(monkeypatch, ("fake", fakes.Plugin(fakes.algorithm())))
    main(["run", "fake", "--quick", "--json", "--no-store"])
    import json

    cli_rows = json.loads(capsys.readouterr().out)
    api_rows = theory.check_algorithm("fake", quick=True, mutants=False, registry=registry).to_rows()
    keep = ("algorithm", "claim", "verdict", "estimate", "ci", "points")
    assert [{k: r[k] for k in keep} for r in api_rows] == [{k: r[k] for k in keep} for r in cli_rows]


def test_an_unknown_name_is_a_clear_error():
    with pytest.raises(KeyError, match="no algorithm 'nowhere' is registered"):
        theory.check_algorithm("nowhere", registry=fakes.registry())


@pytest.mark.skipif(importlib.util.find_spec("pandas") is None, reason="pandas is an optional extra")
def test_the_dataframe_is_tidy():
    frame = theory.check_algorithm(fakes.algorithm("tidy"), families=[fakes.family(fakes.FAMILY)],
                                   quick=True).dataframe()
    assert list(frame.columns) == ["algorithm", "mutant", "claim", "x", "seed", "metric", "value"]
    assert set(frame["mutant"].dropna()) == {"linear"}
