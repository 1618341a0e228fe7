"""The report: files, plots, offline HTML, escaping of everything a plugin wrote, safe plot names."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from theory import (
    Algorithm,
    Claim,
    Experiment,
    Mutant,
    Paper,
    Status,
    Trace,
    Verdict,
    build_registry,
    hookimpl,
    measures,
)
from theory.harness import Budget, Harness
from theory.model import Row
from theory.registry import Registry
from theory.report import build_context, md_escape, slug, write_report
from theory.store import Store

pytest.importorskip("matplotlib")
pytest.importorskip("jinja2")

EVIL_SCRIPT = "<script>alert(1)</script>"
EVIL_ATTR = '"><img src=x onerror=alert(1)>'
GRID = (16, 32, 64, 128, 256)
PAPER = Paper(title="A fake paper", authors="Nobody", year=2024)


def _experiment() -> Experiment:
    return Experiment(family="bernoulli-bandit", over="T", params={"K": 2, "means": (0.9, 0.6)}, grid=GRID,
                      seeds=8)


def _walker(name: str, power: float, mutants: tuple[Mutant, ...] = ()) -> Algorithm:
    """Regret grows like T**power with a little seed noise: a stand-in for a bandit algorithm."""

    def init(instance, hyper, gen):
        return {"regret": torch.zeros(instance.batch)}

    def step(state, instance, t, hyper, gen):
        noise = 1 + 0.2 * (gen.uniform("noise", t) - 0.5)
        return {"regret": state["regret"] + power * t ** (power - 1) * noise}

    claims = (Claim(name="root", metric="regret", kind="upper", form="C*sqrt(T)", source="Theorem 1",
                    experiment=_experiment()),
              Claim(name="explicit", metric="regret", kind="upper", form="3*sqrt(T)", free=(),
                    source="Theorem 2", experiment=_experiment()))
    return Algorithm(name=name, paper=PAPER, family="bernoulli-bandit", init=init, step=step,
                     metrics=measures("regret")(lambda state, instance: {"regret": state["regret"]}),
                     claims=claims, mutants=mutants)


def _linear_step(state, instance, t, hyper, gen):
    return {"regret": state["regret"] + 1.0}


class FakePlugin:
    @hookimpl
    def theorycheck_algorithms(self):
        linear = Mutant(name="linear", bug="regret grows by one every step", breaks=("root",),
                        step=_linear_step)
        return [_walker("sqrt-walker", 0.5, (linear,)), _walker("slow-walker", 0.4)]


@pytest.fixture(scope="module")
def run_results(tmp_path_factory):
    registry = build_registry(plugins=[("fake", FakePlugin())], autoload=False)
    store = Store(tmp_path_factory.mktemp("store") / "results.sqlite")
    harness = Harness(registry, Budget(seeds=8), store=store)
    for name in ("sqrt-walker", "slow-walker"):
        harness.verdicts([registry.algorithm(name)])
    harness.mutant_results(registry.algorithm("sqrt-walker"))
    results = list(store.results())
    store.close()
    return registry, results


@pytest.fixture(scope="module")
def rendered(run_results, tmp_path_factory) -> Path:
    registry, results = run_results
    return write_report(results, registry, tmp_path_factory.mktemp("report") / "out")


@pytest.fixture(scope="module")
def context(run_results, tmp_path_factory) -> tuple[Path, dict]:
    registry, results = run_results
    folder = tmp_path_factory.mktemp("context")
    return folder, build_context(results, registry, folder / "plots")


def _referenced(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"#][^"]*)"', page)


def test_report_writes_markdown_html_and_every_plot(rendered):
    assert rendered.name == "index.html"
    page = rendered.read_text()
    markdown = (rendered.parent / "report.md").read_text()
    images = _referenced(page)
    assert images and all((rendered.parent / ref).is_file() for ref in images)
    md_images = re.findall(r"\]\(([^)#]+)\)", markdown)
    assert md_images and all((rendered.parent / ref).is_file() for ref in md_images)
    assert sorted(set(images)) == sorted(set(md_images))  # the same plots in both outputs
    for text in ("sqrt-walker", "slow-walker", "Theorem 1", "Rate comparisons", "fitted exponent", "PASS"):
        assert text in page and text in markdown
    assert "Nobody, A fake paper (2024)" in page


def test_html_loads_nothing_from_the_network(rendered):
    page = rendered.read_text()
    assert not re.search(r"https?://|//[a-z]", page, re.IGNORECASE)
    assert "<script" not in page and "@import" not in page and "<link" not in page


def test_mutant_is_drawn_on_the_reference_plot(context):
    _, context = context
    section = next(s for s in context["sections"] if s["name"] == "sqrt-walker")
    root = next(c for c in section["claims"] if c["name"] == "root")
    assert root["plot"]["series"] == ["sqrt-walker", "sqrt-walker[linear]"]
    rows = {r["algorithm"]: r for r in root["results"]}
    assert rows["sqrt-walker"]["status"] == "PASS"
    assert rows["sqrt-walker[linear]"]["status"] == "FAIL"
    assert rows["sqrt-walker[linear]"]["caught"] == "caught"
    assert rows["sqrt-walker"]["seeds"] == "8" and "torch" in rows["sqrt-walker"]["environment"]
    assert not any(s["name"].endswith("]") for s in context["sections"])  # no section of its own


def test_rate_comparison_puts_two_algorithms_on_one_plot(context):
    folder, context = context
    [comparison] = context["comparisons"]  # mutants are not compared; both walkers share one experiment
    assert comparison["algorithms"] == ["slow-walker", "sqrt-walker"]
    assert (folder / comparison["png"]).is_file() and (folder / comparison["svg"]).is_file()


def _evil_results() -> tuple[Registry, list[tuple[Trace, Verdict]]]:
    evil = f"{EVIL_SCRIPT}{EVIL_ATTR}"
    claim = Claim(name=f"claim{evil}", metric="regret", kind="upper", form="C*sqrt(T)",
                  source=f"Theorem {evil}", note=evil, experiment=_experiment())
    # Set past the validation of Claim and build_registry, which refuse the form: the report must not trust it.
    object.__setattr__(claim, "form", f"C*sqrt(T) {evil}")
    algorithm = Algorithm(name=evil, paper=Paper(title=evil, authors=evil, year=2024, arxiv=evil),
                          family=f"bandit{evil}", init=None, step=None, metrics=None,
                          claims=(claim,), mutants=(Mutant(name=evil, bug=evil, breaks=(claim.name,)),))
    registry = Registry(algorithms={evil: algorithm}, families={}, errors=(), owners={evil: evil})
    experiment = Experiment(family=f"bandit{evil}", over="T", grid=GRID)
    object.__setattr__(experiment, "params", {"K": evil})  # refused by Experiment itself, as the form is
    rows = tuple(Row(x=x, mean=x**0.5, low=0.9 * x**0.5, high=1.1 * x**0.5, form=x**0.5) for x in GRID)
    results = []
    for name, mutant_of in ((evil, None), (f"{evil}[{evil}]", evil)):
        trace = Trace(algorithm=name, version=evil, experiment=experiment, grid=GRID, seeds=(1, 2),
                      metrics={}, device=evil, dtype="float64", environment={evil: evil})
        verdict = Verdict(algorithm=name, claim=claim.name, status=Status.FAIL, test="rate", level=0.99,
                          evidence=evil, source=claim.source, estimate=0.5, ci=(0.4, 0.6), claimed=0.5,
                          seeds=2, rows=rows, expected_failure=evil, mutant_of=mutant_of)
        results.append((trace, verdict))
    return registry, results


def test_everything_a_plugin_wrote_is_escaped(tmp_path):
    registry, results = _evil_results()
    index = write_report(results, registry, tmp_path)
    page = index.read_text()
    markdown = (tmp_path / "report.md").read_text()
    for raw in (EVIL_SCRIPT, EVIL_ATTR, "<img src=x", "<script"):
        assert raw not in page and raw not in markdown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;script&gt;" in markdown
    assert all((tmp_path / ref).is_file() for ref in _referenced(page))


def test_results_of_unregistered_algorithms_still_render(tmp_path):
    _, results = _evil_results()
    empty = Registry(algorithms={}, families={}, errors=(), owners={})
    page = write_report(results, empty, tmp_path).read_text()
    assert "no longer registered" in page
    assert "plots/" in page  # drawn from the verdict's rows alone


def test_path_like_names_stay_inside_the_output_folder(tmp_path):
    _, results = _evil_results()
    rows = results[0][1].rows
    traces = [(Trace(algorithm=name, version="1", experiment=_experiment(), grid=GRID, seeds=(1,),
                     metrics={}),
               Verdict(algorithm=name, claim=name, status=Status.PASS, test="envelope", level=0.99,
                       evidence="", rows=rows))
              for name in ("../../etc", "/etc/passwd", "..\\..\\x", "a/../../b")]
    out = tmp_path / "deep" / "er" / "out"
    write_report(traces, Registry(algorithms={}, families={}, errors=(), owners={}), out)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written and all(out in p.parents for p in written)
    names = [p.name for p in (out / "plots").iterdir()]
    assert len(names) == 2 * len(traces)
    assert all(re.fullmatch(r"[a-z0-9-]+\.(png|svg)", name) for name in names)


def test_every_status_has_a_style_and_expected_failures_are_marked(tmp_path):
    _, results = _evil_results()
    rows = results[0][1].rows
    pairs = []
    for status in Status:
        trace = Trace(algorithm=status.value.lower(), version="1", experiment=_experiment(), grid=GRID,
                      seeds=(1,), metrics={}, status="ok" if status.value in ("PASS", "FAIL") else "error")
        expected = "known to fail on this instance" if status is Status.FAIL else None
        verdict = Verdict(algorithm=trace.algorithm, claim="c", status=status, test="envelope", level=0.99,
                          evidence=f"{status.value} because", rows=rows if trace.status == "ok" else (),
                          expected_failure=expected)
        pairs.append((trace, verdict))
    empty = Registry(algorithms={}, families={}, errors=(), owners={})
    page = write_report(pairs, empty, tmp_path).read_text()
    for status in Status:
        assert f'class="status {status.value.lower()}' in page
    assert 'class="status fail xfail"' in page and "expected failure" in page
    assert "No plot: no run produced data." in page  # ERROR and TIMEOUT carry no rows
    markdown = (tmp_path / "report.md").read_text()
    assert "☑️ **XFAIL** *expected failure*" in markdown and "⏱️ **TIMEOUT**" in markdown


def test_slugs_are_safe_and_distinct():
    assert re.fullmatch(r"[a-z0-9-]+", slug("../../etc"))
    assert slug("a b") != slug("a-b")
    assert slug("").startswith("x-")


def test_markdown_escape_neutralises_markup():
    text = md_escape("<b>x</b> | [link](javascript:alert(1)) *em* `code`\nnext")
    assert "<" not in text and "\n" not in text
    assert "\\|" in text and "\\[link\\]" in text and "\\*em\\*" in text and "\\`" in text


def test_importing_the_module_does_not_load_matplotlib_or_jinja():
    code = "import sys, theory.report; print('matplotlib' in sys.modules, 'jinja2' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).parent.parent)
    assert result.stdout.split() == ["False", "False"]
