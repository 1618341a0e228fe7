"""compare: verdict changes between two stores; versus: several algorithms on one shared experiment."""

from __future__ import annotations

import dataclasses
import json

import fake_plugins as fakes

from theory import cli


def test_compare_lists_the_verdicts_that_changed(monkeypatch, tmp_path, capsys):
    first, second = str(tmp_path / "a.sqlite"), str(tmp_path / "b.sqlite")
    fakes.install(monkeypatch, ("fake", fakes.Plugin(fakes.algorithm("steady"), fakes.algorithm("flaky"))))
    assert cli.main(["run", "--store", first, "-q"]) == 0
    fakes.install(monkeypatch, ("fake", fakes.Plugin(fakes.algorithm("steady"), fakes.failing("flaky"))))
    assert cli.main(["run", "--store", second, "-q"]) == 1
    capsys.readouterr()
    assert cli.main(["compare", first, second, "--json"]) == 1
    [row] = json.loads(capsys.readouterr().out)
    assert (row["algorithm"], row["claim"], row["first"], row["second"]) == ("flaky", "rate", "PASS", "FAIL")
    assert cli.main(["compare", first, second, "--json", "--every"]) == 1
    assert len(json.loads(capsys.readouterr().out)) == 2
    assert cli.main(["compare", first, first]) == 0
    assert "0 of 2 verdicts changed" in capsys.readouterr().err


def test_versus_runs_every_algorithm_on_the_first_ones_experiment(monkeypatch, tmp_path, capsys):
    other = fakes.algorithm("wide")
    grid = (8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0)
    moved = dataclasses.replace(other.claims[0], experiment=dataclasses.replace(other.claims[0].experiment,
                                                                                 grid=grid))
    algorithms = (fakes.algorithm("narrow"), dataclasses.replace(other, claims=(moved,)))
    fakes.install(monkeypatch, ("fake", fakes.Plugin(*algorithms)))
    out = tmp_path / "versus"
    assert cli.main(["versus", "narrow", "wide", "--no-store", "-q", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.count("PASS") == 2
    report = (out / "report.md").read_text()
    assert "## Rate comparisons" in report and "narrow, wide on toy-bandit over T" in report
    assert report.count("slope 0.5") >= 2  # both grow like sqrt(T) on the shared grid
    assert "grid 16, 32, 64, 128, 256" in report and "grid 8, 16" not in report


def test_versus_own_grids_shares_the_instance_and_keeps_each_grid(monkeypatch, tmp_path, capsys):
    other = fakes.algorithm("wide")
    grid = (8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0)
    moved = dataclasses.replace(other.claims[0], experiment=dataclasses.replace(other.claims[0].experiment,
                                                                                 grid=grid))
    wide = dataclasses.replace(other, claims=(moved,))
    fakes.install(monkeypatch, ("fake", fakes.Plugin(fakes.algorithm("narrow"), wide)))
    out = tmp_path / "versus"
    assert cli.main(["versus", "narrow", "wide", "--own-grids", "--no-store", "-q", "--out", str(out)]) == 0
    report = (out / "report.md").read_text()
    assert "grid 16, 32, 64, 128, 256" in report and "grid 8, 16, 32, 64, 128, 256, 512" in report
    assert "narrow, wide on toy-bandit over T" in report  # one comparison plot over both grids


def test_versus_needs_two_algorithms(monkeypatch, capsys):
    fakes.install(monkeypatch, ("fake", fakes.Plugin(fakes.algorithm("alone"))))
    assert cli.main(["versus", "alone", "--no-store"]) == 2
    assert "at least two algorithms" in capsys.readouterr().err
