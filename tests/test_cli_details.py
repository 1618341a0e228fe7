"""The command line's smaller manners: 80-column tables, Ctrl-C, --traceback, '^' in a form, pytest counts."""

from __future__ import annotations

import fake_plugins as fakes
import pytest
from rich.console import Console

from theory import cli
from theory.claims import parse_form
from theory.errors import ClaimError


@pytest.fixture
def installed(monkeypatch):
    return fakes.install(monkeypatch, ("fake", fakes.Plugin(fakes.algorithm("fairly-long-algorithm"))))


def test_the_verdict_table_fits_80_columns(installed, monkeypatch, capsys):
    monkeypatch.setattr(cli, "_console", lambda: Console(highlight=False, width=80))
    assert cli.main(["run", "--no-store", "-q"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert any("fairly-long-algorithm" in line and "PASS" in line for line in lines)


def test_ctrl_c_is_one_line_not_a_traceback(installed, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("theory.harness.Harness.prefetch", interrupted)
    assert cli.main(["run", "--no-store", "-q"]) == 130
    err = capsys.readouterr().err
    assert "interrupted; finished runs are kept in the store" in err and "Traceback" not in err


def test_an_internal_error_says_how_to_see_its_traceback(installed, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug in theorycheck")

    monkeypatch.setattr("theory.harness.Harness.prefetch", broken)
    assert cli.main(["run", "--no-store", "-q"]) == 3
    assert "internal error RuntimeError: a bug in theorycheck (rerun with --traceback" in capsys.readouterr().err
    with pytest.raises(RuntimeError, match="a bug in theorycheck"):
        cli.main(["--traceback", "run", "--no-store", "-q"])


def test_a_caret_is_refused_with_the_right_spelling():
    with pytest.raises(ClaimError, match=r"'\^' \(write a power with \*\*, as in T\*\*\(2/3\)\)"):
        parse_form("C*T^(2/3)", {"C", "T"})


def test_pytest_counts_add_up_with_the_catch_all(installed, pytester):
    pytester.makepyfile(
        test_bandits="import pytest\npytestmark = pytest.mark.theory(families=['*-bandit'])\n"
                     "def test_claim(theory_case):\n    theory_case.verify()\n",
        test_all="import pytest\npytestmark = pytest.mark.theory(unclaimed=True)\n"
                 "def test_claim(theory_case):\n    theory_case.verify()\n")
    result = pytester.runpytest("-k", "fairly-long-algorithm/rate]", "-p", "no:warnings")
    # 2 items per module (claim, mutant) are collected; the catch-all's 2 are claimed by test_bandits
    result.stdout.fnmatch_lines(["collected 4 items / 3 deselected / 1 selected"])
    result.assert_outcomes(passed=1, deselected=3)
