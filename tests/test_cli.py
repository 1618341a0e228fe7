"""The theorycheck command line, driven in-process on tiny fake plugins (seconds, never the real papers)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import fake_plugins as fakes
import pytest
import torch

from theory import cli

VERDICT_KEYS = {"algorithm", "mutant_of", "claim", "verdict", "status", "estimate", "ci", "claimed", "threshold",
                "level", "test", "evidence", "seeds", "p_value", "detectable", "seeds_needed", "constant",
                "constant_ci", "constant_at", "looseness"}
ROW_KEYS = VERDICT_KEYS | {"grid", "points", "experiment", "provenance"}  # run and check rows carry the data
BROKEN = 'Error loading plugin "broken": theorycheck_algorithms() raised RuntimeError: hook exploded'


@pytest.fixture
def install(monkeypatch):
    """Make the CLI see only the given fake plugins."""
    return lambda *plugins: fakes.install(monkeypatch, *plugins)


def theorycheck(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def rows(capsys, *argv: str) -> tuple[int, list[dict]]:
    code, out, _ = theorycheck(capsys, *argv, "--json")
    return code, json.loads(out)


def test_help_imports_nothing_heavy():
    probe = "import sys; from theory import cli; print(sorted({'torch', 'sympy'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("list", "run", "check", "audit", "new"):
        assert command in out


def test_list_json_describes_algorithms_claims_mutants_and_families(install, capsys):
    install(("fake", fakes.Plugin(fakes.algorithm())))
    code, out, _ = theorycheck(capsys, "list", "--json")
    listing = json.loads(out)
    assert code == 0
    [algorithm] = listing["algorithms"]
    assert [algorithm[key] for key in ("algorithm", "family", "plugin")] == ["fake", "toy-bandit", "fake"]
    assert algorithm["paper"]["title"] == "A fake paper"
    assert algorithm["claims"] == [{"name": "rate", "kind": "upper", "form": "C*sqrt(T)", "metric": "regret",
                                    "over": "T", "source": "Theorem 1", "expected_failure": None,
                                    "statement": "regret <= C*sqrt(T) as T grows (C free; Theorem 1)",
                                    "experiment": {"family": "toy-bandit", "over": "T", "params": {},
                                                   "grid": list(fakes.GRID), "quick_grid": None, "seeds": 16,
                                                   "quick_seeds": None, "steps": None, "mode": None}}]
    assert algorithm["mutants"] == [{"name": "linear", "bug": "adds a constant every step",
                                     "breaks": ["rate"]}]
    assert {"toy-bandit", "bernoulli-bandit"} <= {f["family"] for f in listing["families"]}
    assert listing["errors"] == []


def test_list_reports_load_errors(install, capsys):
    install(("fake", fakes.Plugin(fakes.algorithm())), ("broken", fakes.Broken()))
    code, out, err = theorycheck(capsys, "list", "--json")
    assert code == 0
    assert BROKEN in err
    cause = "theorycheck_algorithms() raised RuntimeError: hook exploded"
    assert json.loads(out)["errors"] == [{"plugin": "broken", "cause": cause}]
    code, out, err = theorycheck(capsys, "list")
    assert "fake" in out and BROKEN in err


def test_run_json_rows_and_exit_0_when_every_claim_passes(install, capsys):
    install(("fake", fakes.Plugin(fakes.algorithm())))
    code, found = rows(capsys, "run")
    assert code == 0
    [row] = found
    assert set(row) == ROW_KEYS | {"nulls", "vacuous"}
    assert row["algorithm"] == "fake" and row["claim"] == "rate" and row["mutant_of"] is None
    assert row["verdict"] == "PASS" and row["test"] == "rate" and row["level"] == 0.99 and row["seeds"] == 16
    assert row["ci"][0] <= row["estimate"] <= row["ci"][1] and row["claimed"] == pytest.approx(0.5)


def test_run_exits_1_when_a_claim_fails(install, capsys):
    install(("fake", fakes.Plugin(fakes.algorithm(), fakes.failing())))
    code, found = rows(capsys, "run")
    assert code == 1
    assert {r["algorithm"]: r["verdict"] for r in found} == {"fake": "PASS", "bad": "FAIL"}


def test_run_table_shows_every_verdict(install, capsys):
    install(("fake", fakes.Plugin(fakes.algorithm(), fakes.failing())))
    code, out, _ = theorycheck(capsys, "run")
    assert code == 1
    assert "FAIL" in out and "PASS" in out and "2 claims: 1 FAIL, 1 PASS" in out


def test_run_only_the_named_algorithms(install, capsys):
    install(("fake", fakes.Plugin(fakes.algorithm(), fakes.failing())))
    code, found = rows(capsys, "run", "fake")
    assert code == 0 and [r["algorithm"] for r in found] == ["fake"]


def test_expected_failure_that_fails_is_xfail_and_does_not_count(install, capsys):
    install(("fake", fakes.Plugin(fakes.failing(expected_failure="the bound is known to be loose"))))
    code, [row] = rows(capsys, "run")
    assert (code, row["verdict"]) == (0, "XFAIL")


def test_expected_failure_that_passes_is_reported_as_xpass(install, capsys):
    install(("fake", fakes.Plugin(fakes.passing_expected_failure())))
    code, [row] = rows(capsys, "run")
    assert (code, row["verdict"]) == (1, "XPASS")


def test_a_crashing_algorithm_is_an_error_with_its_evidence(install, capsys):
    install(("fake", fakes.Plugin(fakes.crashing())))
    code, [row] = rows(capsys, "run")
    assert (code, row["verdict"]) == (1, "ERROR")
    assert "ZeroDivisionError: deliberate failure in step" in row["evidence"]


def test_load_error_goes_to_stderr_fails_the_run_and_others_still_run(install, capsys):
    install(("fake", fakes.Plugin(fakes.algorithm())), ("broken", fakes.Broken()))
    code, out, err = theorycheck(capsys, "run", "--json")
    assert code == 1
    assert BROKEN in err
    assert [(r["algorithm"], r["verdict"]) for r in json.loads(out)] == [("fake", "PASS")]


def test_unknown_algorithm_exits_2_and_lists_known_names(install, capsys):
    install(("fake", fakes.Plugin(fakes.algorithm(), fakes.failing())))
    for argv in (["run", "nope"], ["audit", "nope"], ["check", "nope", "rate"]):
        code, _, err = theorycheck(capsys, *argv)
        assert code == 2
        assert "unknown algorithm 'nope' (known: bad, fake)" in err


def test_budget_options_reach_the_harness(install, capsys):
    install(("fake", fakes.Plugin(fakes.algorithm())))
    code, [row] = rows(capsys, "run", "--seeds", "9", "--seed", "7")
    assert code == 0 and row["seeds"] == 9


def test_a_base_seed_is_reproduced_through_the_public_api(install, capsys):
    """Issue 17, item 7: what ``--seed BASE`` runs, a script can run from ``theory`` without private imports."""
    from theory import Budget, Harness, seed_block

    registry = install(("fake", fakes.Plugin(fakes.algorithm())))  # what build_registry() gives the CLI
    code, [row] = rows(capsys, "run", "--seeds", "9", "--seed", "7", "--no-store")
    assert code == 0
    algorithm = registry.algorithm("fake")
    harness = Harness(registry, Budget(seeds=9, base_seed=7))
    assert harness.trace(algorithm, algorithm.claims[0]).seeds == tuple(seed_block(7, 9))
    verdict = harness.verdict(algorithm, algorithm.claims[0])
    assert (verdict.status.value, verdict.estimate, list(verdict.ci)) == (row["verdict"], row["estimate"], row["ci"])


def test_check_prints_header_table_evidence_and_reproduce_commands(install, capsys):
    install(("fake", fakes.Plugin(fakes.failing())))
    code, out, _ = theorycheck(capsys, "check", "bad", "rate", "--seed", "3", "--quick")
    assert code == 1
    assert out.startswith("bad/rate: FAIL at level 99% (rate test, 16 seeds)")
    assert "claimed:  regret <= C*log(T) as T grows (C free; Theorem 1)" in out
    assert "measured: exponent of T = 0.5, CI [0.5, 0.5]; claimed 0 (decision threshold" in out
    assert "power:    an exponent" in out
    header = next(line for line in out.splitlines() if "mean/form" in line).split()
    assert header == ["T", "mean", "CI", "(99%)", "form", "mean/form"]
    assert "evidence: fitted exponent of T 0.5" in out
    assert "reproduce: pytest checks/ -k '[bad/rate]' --theory-seed 3 --theory-quick" in out
    assert "or: theorycheck check bad rate --seed 3 --quick" in out


def test_check_uses_the_store_like_run(install, capsys, tmp_path):
    install(("fake", fakes.Plugin(fakes.algorithm())))
    db = str(tmp_path / "runs.sqlite")
    first = theorycheck(capsys, "check", "fake", "rate", "--store", db)
    from theory.store import Store

    assert [t.algorithm for t, _ in Store(db).results()] == ["fake"]  # the run and its verdict were kept
    again = theorycheck(capsys, "check", "fake", "rate", "--store", db)
    assert again[:2] == first[:2] and "1 computed, 0 reused" in first[2]
    assert "0 computed, 1 reused" in again[2]  # and served again, the same verdict


def test_check_a_mutant_shows_both_verdicts(install, capsys):
    install(("fake", fakes.Plugin(fakes.algorithm())))
    code, out, _ = theorycheck(capsys, "check", "fake[linear]", "rate")
    assert code == 0
    assert "fake[linear]/rate: mutant caught (bug: adds a constant every step)" in out
    assert "fake[linear]/rate: FAIL" in out and "fake/rate: PASS" in out
    assert "theorycheck check 'fake[linear]' rate --seed 0" in out


def test_check_names_what_exists_when_the_claim_or_mutant_does_not(install, capsys):
    install(("fake", fakes.Plugin(fakes.algorithm())))
    for subject, claim, message in (("fake", "nope", "unknown claim 'nope' of 'fake' (known: rate)"),
                                    ("fake", "rat", "unknown claim 'rat' of 'fake'; did you mean 'rate'?"),
                                    ("fake[nope]", "rate", "unknown mutant 'nope' of 'fake' (known: linear)")):
        code, _, err = theorycheck(capsys, "check", subject, claim)
        assert code == 2 and message in err, err


def test_audit_exits_0_when_every_mutant_is_caught(install, capsys):
    install(("fake", fakes.Plugin(fakes.algorithm())))
    code, out, _ = theorycheck(capsys, "audit")
    assert code == 0
    assert "caught" in out and "MISSED" not in out
    assert ("power: 1/1 hand-written mutant checks caught (100%), 0/0 generated (-); "
            "observed size: 0/1 correct claims FAILed (0%) at level 99%") in out


def test_audit_json_rows_pair_mutants_with_the_correct_version(install, capsys):
    install(("fake", fakes.Plugin(fakes.algorithm())))
    code, out, _ = theorycheck(capsys, "audit", "--json")
    assert code == 0
    [claim] = json.loads(out)["claims"]
    assert json.loads(out)["summary"]["mutants_caught"] == 1
    assert (claim["algorithm"], claim["verdict"], claim["nulls"], claim["generated"]) == ("fake", "PASS", [], [])
    assert [(r["algorithm"], r["mutant_of"], r["verdict"], r["caught"]) for r in claim["mutants"]] == [
        ("fake[linear]", "fake", "FAIL", True)]
    assert set(claim["mutants"][0]) == VERDICT_KEYS | {"caught", "bug", "declared_miss"}


def test_audit_exits_1_when_a_mutant_is_missed(install, capsys):
    install(("fake", fakes.Plugin(fakes.harmless_mutant())))
    code, out, _ = theorycheck(capsys, "audit")
    assert code == 1
    assert "MISSED" in out and "power: 0/1" in out


def test_audit_exits_1_when_a_correct_claim_fails(install, capsys):
    install(("fake", fakes.Plugin(fakes.algorithm(), fakes.failing())))
    code, out, _ = theorycheck(capsys, "audit")
    assert code == 1
    assert "observed size: 1/2 correct claims FAILed (50%)" in out


def test_new_scaffolds_a_plugin_that_loads_and_passes(install, capsys, tmp_path):
    code, out, _ = theorycheck(capsys, "new", "my_paper", "--dir", str(tmp_path))
    assert code == 0
    path = tmp_path / "my_paper.py"
    assert f"created {path}" in out and 'my_paper = "my_paper"' in out
    assert "TODO" in path.read_text()
    spec = importlib.util.spec_from_file_location("my_paper", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    registry = install(("my_paper", module))
    assert registry.errors == () and list(registry.algorithms) == ["my_paper"]
    code, found = rows(capsys, "run", "--quick", "--seeds", "16")
    assert code == 0 and [r["verdict"] for r in found] == ["PASS"]


def test_new_writes_under_plugins_and_prints_the_entry_point(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plugins").mkdir()
    code, out, _ = theorycheck(capsys, "new", "fresh")
    assert code == 0 and (tmp_path / "plugins" / "fresh.py").exists()
    assert 'fresh = "plugins.fresh"' in out and "[project.entry-points.theorycheck]" in out


def test_new_refuses_to_overwrite_and_bad_names(capsys, tmp_path):
    (tmp_path / "taken.py").write_text("# mine\n")
    code, _, err = theorycheck(capsys, "new", "taken", "--dir", str(tmp_path))
    assert code == 2 and "already exists" in err
    assert (tmp_path / "taken.py").read_text() == "# mine\n"
    for bad in ("my-paper", "2fast", "class"):
        code, _, err = theorycheck(capsys, "new", bad, "--dir", str(tmp_path))
        assert code == 2 and "not a Python identifier" in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_missing_cuda_is_a_usage_error(install, capsys):
    install(("fake", fakes.Plugin(fakes.algorithm())))
    code, _, err = theorycheck(capsys, "run", "--device", "cuda")
    assert code == 2 and "cuda" in err


def test_a_store_is_reused_and_reported(install, capsys, tmp_path):
    runs = []

    def counting_init(instance, hyper, gen):
        runs.append(instance.batch)
        return fakes._init(instance, hyper, gen)

    install(("fake", fakes.Plugin(fakes.algorithm(init=counting_init, mutants=()))))
    store = tmp_path / "results.sqlite"
    first = rows(capsys, "run", "--store", str(store))
    assert rows(capsys, "run", "--store", str(store)) == first and first[0] == 0
    assert len(runs) == 1  # the second run read the trace back from the store
    code, out, _ = theorycheck(capsys, "report", "--store", str(store), "--out", str(tmp_path / "report"))
    assert code == 0 and (tmp_path / "report" / "index.html").is_file()
    assert f"wrote {tmp_path / 'report' / 'index.html'}" in out


def test_report_needs_an_existing_store(capsys, tmp_path):
    code, _, err = theorycheck(capsys, "report", "--store", str(tmp_path / "missing.sqlite"))
    assert code == 2 and "no store at" in err


def test_run_summary_states_the_family_wise_error(install, capsys):
    # One claim PASSes, one FAILs with an exact (p = 0) excess: Holm over the two keeps the FAIL.
    install(("fake", fakes.Plugin(fakes.algorithm(), fakes.failing())))
    code, out, _ = theorycheck(capsys, "run", "--quick")
    assert code == 1
    assert "family-wise (Holm over 2 claims, 0.01): 1 of 1 FAILs hold" in out


def test_audit_repeats_measure_the_size_over_several_base_seeds(install, capsys):
    install(("fake", fakes.Plugin(fakes.algorithm(), fakes.failing())))
    code, out, _ = theorycheck(capsys, "audit", "--quick", "--repeats", "3", "--no-store")
    assert code == 1
    assert "observed size: 3/6 correct-claim verdicts FAILed over 3 base seeds (50%; 3/3 runs with a FAIL)" in out
