"""Selection by glob, mutant and family; "did you mean"; instance overrides, validated and in the store key."""

from __future__ import annotations

import json

import fake_plugins as fakes
import pytest

from theory import cli


@pytest.fixture
def installed(monkeypatch):
    algorithms = (fakes.algorithm("ogd-a"), fakes.algorithm("ogd-b"), fakes.algorithm("other"),
                  fakes.algorithm("bandit-alg", family="bernoulli-bandit"))
    return fakes.install(monkeypatch, ("fake", fakes.Plugin(*algorithms)))


def _run(capsys, *argv: str) -> tuple[int, list[dict], str]:
    code = cli.main(["run", "--no-store", "--json", *argv])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else [], err


def test_select_by_glob_mutant_and_family(installed, capsys):
    code, rows, _ = _run(capsys, "ogd-*")
    assert code == 0 and [r["algorithm"] for r in rows] == ["ogd-a", "ogd-b"]
    code, rows, _ = _run(capsys, "ogd-a[linear]")
    assert code == 1 and [(r["algorithm"], r["mutant_of"], r["verdict"]) for r in rows] == [
        ("ogd-a[linear]", "ogd-a", "FAIL")]  # the mutant breaks the claim, as it should
    code, rows, _ = _run(capsys, "--family", "bernoulli-*")
    assert code == 0 and [r["algorithm"] for r in rows] == ["bandit-alg"]


@pytest.mark.parametrize(("argv", "message"), [
    (["uc1"], "unknown algorithm 'uc1'"),
    (["otherr"], "did you mean 'other'?"),
    (["toy-bandit"], "'toy-bandit' is an instance family: select its algorithms with --family toy-bandit"),
    (["ogd-a[lineer]"], "unknown mutant 'lineer' of 'ogd-a'; did you mean 'linear'?"),
    (["--family", "bernouli-bandit"], "unknown family 'bernouli-bandit'; did you mean 'bernoulli-bandit'?"),
    (["bandit-alg", "--param", "gapp=0.2"], "no parameter 'gapp'; did you mean 'gap'?"),
    (["bandit-alg", "--param", "K=0"], "K=0 is below 2"),
    (["bandit-alg", "--param", "K"], "write NAME=VALUE"),
])
def test_bad_selections_and_overrides_are_usage_errors(installed, capsys, argv, message):
    code, _, err = _run(capsys, *argv)
    assert code == 2 and message in err, err


def test_overrides_reach_the_instance_and_the_store_key(installed, capsys, tmp_path):
    db = str(tmp_path / "results.sqlite")

    def run(*argv):
        code = cli.main(["run", "bandit-alg", "--store", db, "-q", "--json", *argv])
        out, err = capsys.readouterr()
        return code, json.loads(out)[0], err

    code, row, err = run("--param", "K=3", "--param", "means=0.9,0.5,0.1")
    assert code == 0 and "1 computed" in err
    assert row["experiment"]["params"] == {"K": 3, "means": [0.9, 0.5, 0.1]}
    code, row, err = run()
    assert code == 0 and "1 computed" in err and row["experiment"]["params"] == {}
    config = tmp_path / "instance.toml"
    config.write_text("[params]\nK = 3\nmeans = [0.9, 0.5, 0.1]\n")
    code, row, err = run("--config", str(config))
    assert "0 computed, 1 reused" in err and row["experiment"]["params"] == {"K": 3, "means": [0.9, 0.5, 0.1]}


def test_a_config_with_other_tables_is_refused(installed, capsys, tmp_path):
    config = tmp_path / "instance.toml"
    config.write_text("[parameters]\nK = 3\n")
    code, _, err = _run(capsys, "bandit-alg", "--config", str(config))
    assert code == 2 and "only a [params] table is read" in err
