"""``theorycheck``: list, run, check and audit the claims of registered plugins, report a result store, or
scaffold a new plugin.

Exit status: 0 when every claim PASSes (or fails as declared), 1 when a claim FAILs, errors, times out, is
INCONCLUSIVE or VACUOUS (a null learner is not FAILed; unless the claim declares why), a declared failure
PASSes, a hand-written mutant escapes undeclared, or a plugin failed to load (``compare``: when a verdict
differs); 2 for a usage error (unknown algorithm, claim or parameter, missing device or store, bad plugin
name); 3 for an internal error (``--traceback`` shows it); 130 when interrupted. Heavy modules (torch, sympy) are
imported inside the commands, so ``theorycheck --help`` answers at once.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from theory.cases import Case
    from theory.harness import Harness
    from theory.model import ClaimResult
    from theory.pipeline import Plan
    from theory.registry import Registry
    from theory.spec import Algorithm

STYLES = {"PASS": "green", "FAIL": "bold red", "XFAIL": "yellow", "XPASS": "bold red",
          "INCONCLUSIVE": "yellow", "ERROR": "bold magenta", "TIMEOUT": "bold magenta", "caught": "green",
          "MISSED": "bold red", "VACUOUS": "bold red"}


class UsageError(Exception):
    """A request the command line cannot serve: exit status 2 with the message."""


DEFAULT_STORE = Path(".theorycheck") / "results.sqlite"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (the console script passes it to ``sys.exit``)."""
    args = _parser().parse_args(argv)
    try:
        return args.handler(args)
    except UsageError as exc:
        print(f"theorycheck {args.name}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # every finished run is already in the store: say so instead of a traceback
        print(f"theorycheck {args.name}: interrupted; finished runs are kept in the store, and the same "
              "command resumes from them", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.traceback:
            raise
        print(f"theorycheck {args.name}: internal error {type(exc).__name__}: {exc} "
              "(rerun with --traceback to see where)", file=sys.stderr)
        return 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="theorycheck", description="Check the claims of theory papers.")
    parser.add_argument("--traceback", action="store_true", help="show the full traceback of an internal error")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    budget = argparse.ArgumentParser(add_help=False)
    budget.add_argument("--seeds", type=int, metavar="N", help="seeds per claim (default: the claim's own)")
    budget.add_argument("--seed", type=int, default=0, metavar="BASE", help="base seed (default 0)")
    budget.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="where to run (default cpu)")
    budget.add_argument("--quick", action="store_true", help="the claims' quick grids and seed counts")
    sweep = argparse.ArgumentParser(add_help=False)
    sweep.add_argument("--store", type=Path, default=DEFAULT_STORE, metavar="PATH",
                       help="SQLite result store: runs stored under the same key are reused, new ones "
                            f"written as they finish, so an interrupted sweep resumes (default {DEFAULT_STORE})")
    sweep.add_argument("--no-store", dest="store", action="store_const", const=None, help="keep nothing")
    sweep.add_argument("--fresh", action="store_true", help="rerun even what the store holds")
    sweep.add_argument("--executor", default="local", choices=("local", "dask"), help="where runs execute")
    sweep.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                       help="worker processes (local: a process pool when N > 1; dask: local cluster size)")
    sweep.add_argument("--address", help="address of a running Dask scheduler (default: a local cluster)")
    sweep.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print machine-readable rows")
    instance = argparse.ArgumentParser(add_help=False)
    instance.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                          help="override an instance parameter of every selected claim (K=5, means=0.9,0.5, "
                               "gap=sqrt(K/T)); checked against the family's parameters; repeatable")
    instance.add_argument("--config", type=Path, metavar="FILE",
                          help="a TOML file whose [params] table overrides instance parameters (--param wins)")
    selection = argparse.ArgumentParser(add_help=False)
    selection.add_argument("names", nargs="*", metavar="NAME",
                           help="algorithms: names, glob patterns ('ogd-*') or ALGORITHM[MUTANT] (default all)")
    selection.add_argument("--family", action="append", default=[], metavar="PATTERN",
                           help="only algorithms on these instance families (glob; repeatable)")

    def command(name: str, handler, helptext: str, parents=()) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=helptext, description=helptext, parents=list(parents))
        sub.set_defaults(handler=handler, name=name)
        return sub

    command("list", cmd_list, "list algorithms, claims, mutants, families and plugin load errors", [as_json])
    command("run", cmd_run, "check every claim of the selected algorithms (default: all)",
            [selection, budget, sweep, instance, as_json])
    check = command("check", cmd_check, "check one claim and print its full verdict",
                    [budget, sweep, instance, as_json])
    check.add_argument("algorithm", help="an algorithm, or ALGORITHM[MUTANT] for a mutant")
    check.add_argument("claim")
    audit = command("audit", cmd_audit, "per claim: its verdict, its null learners' verdicts, its mutants "
                    "caught or missed and the share of generated mutants caught",
                    [selection, budget, sweep, instance, as_json])
    audit.add_argument("--repeats", type=int, default=1, metavar="N",
                       help="judge the correct versions under N base seeds (BASE, BASE+1, ...) and report the "
                            "share of their verdicts that FAIL: the observed size (default 1)")
    stored = argparse.ArgumentParser(add_help=False)
    stored.add_argument("names", nargs="*", metavar="NAME", help="algorithms (glob patterns; default all)")
    stored.add_argument("--family", action="append", default=[], metavar="PATTERN",
                        help="only algorithms run on these instance families (glob; repeatable)")
    stored.add_argument("--all", action="store_true",
                        help="also stale verdicts (of code that has changed since), flagged as such")
    stored.add_argument("--store", type=Path, default=DEFAULT_STORE, metavar="PATH",
                        help=f"a store written by run (default {DEFAULT_STORE})")
    report = command("report", _lazy("store_commands", "cmd_report"), "write a Markdown and HTML report of the "
                     "verdicts in a store that the current code would still produce", [stored])
    report.add_argument("--out", type=Path, default=Path("theorycheck-report"),
                        help="output folder (default theorycheck-report)")
    export = command("export", _lazy("store_commands", "cmd_export"), "write the per-seed data behind a store's "
                     "current verdicts as a tidy table (algorithm, mutant, claim, x, seed, metric, value)", [stored])
    export.add_argument("--out", type=Path, default=Path("theorycheck-data.csv"),
                        help="output file (default theorycheck-data.csv)")
    export.add_argument("--format", choices=("csv", "parquet"),
                        help="csv (no dependency) or parquet (needs theorycheck[data]); default from --out's suffix")
    versus = command("versus", _versus, "run several algorithms on one shared experiment (the first one's "
                     "first claim's, with --param/--config applied) and plot them together with fitted slopes",
                     [selection, budget, sweep, instance])
    versus.add_argument("--on", metavar="ALGORITHM/CLAIM", help="share this claim's experiment instead")
    versus.add_argument("--own-grids", action="store_true",
                        help="share only the instance (family and parameters): each algorithm keeps its own grid, "
                             "steps and seeds, for claims judged against a counter such as oracle calls")
    versus.add_argument("--out", type=Path, default=Path("theorycheck-versus"),
                        help="report folder (default theorycheck-versus)")
    compare = command("compare", _lazy("store_commands", "cmd_compare"), "the verdicts that differ between two stores "
                      "(two commits or settings, each run with its own --store); exit 1 if any differs")
    compare.add_argument("first", type=Path, metavar="STORE_A")
    compare.add_argument("second", type=Path, metavar="STORE_B")
    compare.add_argument("--every", action="store_true", help="list unchanged verdicts too")
    compare.add_argument("--json", action="store_true", help="print machine-readable rows")
    new = command("new", cmd_new, "scaffold a new plugin module (or, with --family, an instance family) from a "
                  "working template")
    new.add_argument("plugin", metavar="NAME", help="the plugin's name, a Python identifier (with --family: the "
                     "family's name, such as my-bandit)")
    new.add_argument("--family", action="store_true", help="write an instance family (docs/writing-a-family.md)")
    new.add_argument("--dir", type=Path, default=None,
                     help="where to write the module (default plugins/ if it exists, else the current folder)")
    _beyond_sampling(command, budget, as_json)
    return parser


def _beyond_sampling(command, budget: argparse.ArgumentParser, as_json: argparse.ArgumentParser) -> None:
    """The commands that look past the sampled instance: worst-case certificates and counterexample search.
    Their defaults live in theory.pep and theory.falsify, which import torch: ``--help`` does not read them."""
    certify = command("certify", _lazy("worst_case_commands", "cmd_certify"), "certify explicit bounds over a "
                      "whole function class by performance estimation (PEPit)", [as_json])
    certify.add_argument("names", nargs="*", metavar="NAME", help="algorithms, or ALGORITHM[MUTANT] (default: all)")
    certify.add_argument("--horizons", metavar="N,N,...",
                         help="numbers of steps to certify (default theory.pep.HORIZONS: 1,2,4,8,16)")
    falsify = command("falsify", _lazy("worst_case_commands", "cmd_falsify"), "search the family's parameters "
                      "for an instance that breaks a claim", [budget, as_json])
    falsify.add_argument("algorithm", help="an algorithm, or ALGORITHM[MUTANT]")
    falsify.add_argument("claim")
    falsify.add_argument("--budget", type=float, metavar="SECONDS",
                         help="time for the search (default theory.falsify.BUDGET_S: 15)")
    falsify.add_argument("--vary", metavar="NAME,...", help="search only these parameters (default: every "
                         "bounded parameter the family declares)")
    falsify.add_argument("--at", action="append", default=[], metavar="NAME=VALUE",
                         help="judge this instance without searching (a tuple as comma-separated values); repeat")


def cmd_list(args: argparse.Namespace) -> int:
    """Print what is registered; load errors go to stderr (listing is not a check, so the status stays 0).

    The listing comes from a per-user cache while no plugin source changed (theory.listing): building the
    registry costs seconds of imports.
    """
    from theory.errors import PluginError
    from theory.listing import plugin_listing

    listing = plugin_listing()
    for error in listing["errors"]:
        print(PluginError(error["plugin"], error["cause"]), file=sys.stderr)
    if args.json:
        print(json.dumps(listing, indent=2))
        return 0
    table = _table("algorithm", "family", "paper", "plugin", title="Algorithms")
    claims = _table("algorithm", "claim", "kind", "claim (form)", "source", title="Claims")
    mutants = _table("algorithm", "mutant", "bug", "breaks", title="Mutants and null learners (null: must FAIL)")
    for a in listing["algorithms"]:
        paper = a["paper"]
        _add(table, a["algorithm"], a["family"], f"{paper['authors']} ({paper['year']}): {paper['title']}", a["plugin"])
        for claim in a["claims"]:
            _add(claims, a["algorithm"], claim["name"], claim["kind"], claim["statement"], claim["source"])
        for m in a["mutants"]:
            _add(mutants, a["algorithm"], m["name"], m["bug"], ", ".join(m["breaks"]))
        for m in a["nulls"]:
            _add(mutants, a["algorithm"], m["name"], f"null: {m['bug']}", ", ".join(m["breaks"]))
    family_table = _table("family", "description", "plugin", title="Families")
    for family in listing["families"]:
        _add(family_table, family["family"], family["description"], family["plugin"])
    for shown in (table, claims, mutants, family_table):
        _console().print(shown)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Check every claim of the selected algorithms, each also on its null learners; print a verdict table
    (or JSON rows)."""
    from theory import pipeline
    from theory.cases import blocking, claim_cases, outcome
    from theory.export import claim_result_row

    registry, algorithms = _selected(args)
    harness = _harness(registry, args)
    planned = pipeline.plan(harness, [case for a in algorithms for case in claim_cases(a, args.quick)])
    results = pipeline.judge(_measure(planned, args)).claims
    if args.json:
        print(json.dumps([claim_result_row(harness, r) for r in results], indent=2))
    else:
        _console().print(_verdict_table(results, "Verdicts"))
        _summary(f"{len(results)} claims: " + _tally(outcome(r) for r in results) + _teeth(results) + "; "
                 + _family_wise([r.verdict for r in results]), registry)
    return 1 if any(blocking(r) for r in results) or registry.errors else 0


def cmd_check(args: argparse.Namespace) -> int:
    """One claim (with its null learners), one mutant on a claim it must break, or one null learner on a
    claim it must FAIL, with the full verdict and how to reproduce it."""
    from theory import pipeline
    from theory.cases import blocking
    from theory.export import claim_result_row, harness_row
    from theory.model import Subject
    from theory.render import mutant_report, null_report, report

    registry, _ = _selected(args, [Subject.parse(args.algorithm).algorithm])
    harness = _harness(registry, args)
    case = _case(registry, args.algorithm, args.claim)
    claim = registry.algorithms[case.algorithm].claim(case.claim)
    judged = pipeline.judge(_measure(pipeline.plan(harness, [case]), args))
    if judged.claims:
        result = judged.claims[0]
        text, rows = report(case, result, claim, harness.budget), [claim_result_row(harness, result)]
        ok = not blocking(result)
    elif judged.nulls:
        refuting = judged.nulls[0][1]
        text = null_report(case, refuting, claim, harness.budget)
        rows = [harness_row(harness, refuting.null, refuted=refuting.refuted),
                harness_row(harness, refuting.reference)]
        ok = refuting.refuted
    else:
        checked = judged.mutants[0][1]
        text = mutant_report(case, checked, claim, harness.budget)
        rows = [harness_row(harness, checked.mutant, caught=checked.caught),
                harness_row(harness, checked.reference, caught=None)]
        ok = checked.caught
    print(json.dumps(rows, indent=2) if args.json else text)
    return 0 if ok else 1


def _case(registry: Registry, subject: str, claim: str) -> Case:
    """The case ``check SUBJECT CLAIM`` names; a usage error lists the ones that exist."""
    from theory.cases import claim_cases, mutant_cases, null_cases
    from theory.model import Subject
    from theory.selection import unknown

    parsed = Subject.parse(subject)
    base, mutant = parsed.algorithm, parsed.mutant
    if base not in registry.algorithms:
        raise UsageError(unknown("algorithm", base, registry.algorithms, registry))
    algorithm = registry.algorithms[base]
    known = claim_cases(algorithm) + mutant_cases(algorithm) + null_cases(registry, algorithm)
    for case in known:
        if (case.subject, case.claim) == (subject, claim):
            return case
    mutants = [m.name for m in algorithm.mutants]
    if mutant and mutant not in mutants:
        raise UsageError(unknown("mutant", mutant, mutants, registry, of=base))
    if claim not in {c.name for c in algorithm.claims}:
        raise UsageError(unknown("claim", claim, [c.name for c in algorithm.claims], registry, of=base))
    raise UsageError(f"mutant {subject!r} does not break claim {claim!r}, so there is nothing to check "
                     f"(known: {', '.join(f'{c.subject} {c.claim}' for c in known)})")


def cmd_audit(args: argparse.Namespace) -> int:
    """Per claim: its verdict, its null learners' verdicts (each must FAIL), its hand-written mutants caught or
    missed and the share of generated mutants it catches; then power and observed size."""
    from theory import audit, pipeline
    from theory.cases import claim_cases, mutant_cases, outcome, verdict

    registry, algorithms = _selected(args)
    harness = _harness(registry, args)
    cases = [case for a in algorithms for case in claim_cases(a, args.quick) + mutant_cases(a, args.quick)]
    judged = pipeline.judge(_measure(pipeline.plan(harness, cases, also=audit.pairs(harness, algorithms)), args))
    audits = audit.audit(judged, algorithms)
    repeated = [[a.result.verdict for a in audits]]
    claims = [(a, c) for a in algorithms for c in a.claims]
    for repeat in range(1, max(args.repeats, 1)):  # the size over further base seeds: the claims alone
        again = _measure(pipeline.plan(_harness(registry, args, base_seed=args.seed + repeat), (), also=claims), args)
        repeated.append([verdict(again.harness, algorithm, claim) for algorithm, claim in claims])
    numbers = audit.summary(audits, repeated)
    if args.json:
        print(json.dumps({"claims": [a.data() for a in audits], "summary": numbers}, indent=2))
    else:
        table = _table("algorithm", "claim", "verdict", "null learners (must FAIL)", "mutants", "generated mutants",
                       title="Audit")
        for a in audits:
            shown = a.result.verdict
            _add(table, shown.algorithm, shown.claim, outcome(a.result), _null_cell(a.result), a.mutants_text(),
                 a.generated_share())
        _console().print(table)
        _console().print(_verdict_table([a.result for a in audits], "Correct versions", power=True))
        _summary(_audit_line(numbers) + _teeth([a.result for a in audits]) + "; " + _family_wise(repeated[0]),
                 registry)
    return 1 if any(a.blocking() for a in audits) or registry.errors else 0


def _audit_line(n: dict) -> str:
    """``power: 5/6 hand-written mutant checks caught (83%), ...; observed size: ...``."""
    caught, checks = n["mutants_caught"], n["mutant_checks"]
    generated, counted = n["generated_caught"], n["generated_counted"]
    failed, judged = n["correct_claims_failed"], n["correct_claims_judged"]
    size = f"{failed}/{judged} correct claims FAILed ({_share(failed, judged)})"
    if n["base_seeds"] > 1:
        false, every = n["failed_over_base_seeds"], n["verdicts_over_base_seeds"]
        size = (f"{false}/{every} correct-claim verdicts FAILed over {n['base_seeds']} base seeds "
                f"({_share(false, every)}; {n['base_seeds_with_a_fail']}/{n['base_seeds']} runs with a FAIL)")
    levels = ", ".join(f"{level:.0%}" for level in n["levels"]) or "-"
    return (f"power: {caught}/{checks} hand-written mutant checks caught ({_share(caught, checks)}), "
            f"{generated}/{counted} generated ({_share(generated, counted)}); observed size: {size} at level {levels}")


def _versus(args: argparse.Namespace) -> int:
    from theory.versus import cmd_versus

    return cmd_versus(args)


def _lazy(module: str, name: str):
    """A handler from ``theory.<module>``, imported when it runs (``--help`` stays free of heavy imports)."""
    def handler(args: argparse.Namespace) -> int:
        import importlib

        return getattr(importlib.import_module(f"theory.{module}"), name)(args)
    return handler


def cmd_new(args: argparse.Namespace) -> int:
    """Write plugins/NAME.py from the template and say how to register it."""
    from theory.scaffold import ScaffoldError, scaffold

    try:
        path, entry_point = scaffold(args.plugin, args.dir, family=args.family)
    except ScaffoldError as exc:
        raise UsageError(str(exc)) from None
    print(f"created {path}\nregister it: add this line under [project.entry-points.theorycheck] in "
          f"pyproject.toml, then reinstall (pip install -e .):\n\n    {entry_point}")
    return 0


def _registry() -> Registry:
    """Every plugin, through the entry points a user installs; each load error is reported on stderr."""
    from theory import registry

    built = registry.build_registry()
    for error in built.errors:
        print(error, file=sys.stderr)
    return built


def _harness(registry: Registry, args: argparse.Namespace, base_seed: int | None = None) -> Harness:
    from theory.backend import resolve_device
    from theory.errors import DeviceError
    from theory.harness import Budget, Harness

    try:
        resolve_device(args.device)
    except DeviceError as exc:
        raise UsageError(str(exc)) from None
    budget = Budget(quick=args.quick, seeds=args.seeds, base_seed=args.seed if base_seed is None else base_seed,
                    device=args.device)
    store = _store(args.store) if getattr(args, "store", None) else None
    return Harness(registry, budget, store=store, fresh=getattr(args, "fresh", False))


def _store(path: Path) -> Any:
    from theory.store import Store, StoreError

    try:
        return Store(path)
    except StoreError as exc:
        raise UsageError(str(exc)) from None


def _selected(args: argparse.Namespace, names: Sequence[str] | None = None) -> tuple[Registry, list[Algorithm]]:
    """The registry, with ``--param``/``--config`` applied to the selected algorithms, and those algorithms."""
    from theory.selection import SelectionError, override, parse_overrides, select

    registry = _registry()
    names = args.names if names is None else names
    families = getattr(args, "family", [])
    try:
        algorithms = select(registry, names, families)
        params = parse_overrides(args.param, args.config)
        if params:
            registry = override(registry, algorithms, params)
            algorithms = select(registry, names, families)
    except SelectionError as exc:
        raise UsageError(str(exc)) from None
    return registry, algorithms


def _measure(planned: Plan, args: argparse.Namespace) -> Plan:
    """Run every trace the plan needs up front, through the chosen executor, behind one progress bar."""
    from theory import pipeline
    from theory.executors import make_executor
    from theory.progress import Bar

    harness = planned.harness
    executor = make_executor(args.executor, harness.registry, args.jobs, args.address)
    claims = {(algorithm.mutant_of or algorithm.name, claim.name) for algorithm, claim in planned.runs}
    with Bar(quiet=args.quiet, claims=len(claims)) as bar:
        pipeline.measure(planned, executor=executor, progress=bar)
    if harness.store is not None:
        print(f"runs: {harness.computed} computed, {harness.reused} reused from the store {harness.store.path}",
              file=sys.stderr)
    return planned


def _verdict_table(results: Sequence[ClaimResult], title: str, power: bool = False) -> Any:
    """The claims' verdicts with their null learners; with ``power``, a column for each one's minimal
    detectable effect (an exponent shift, a contraction factor or a factor over the bound: docs/statistics.md).
    On a terminal narrower than 120 columns the level, the null learners and the evidence (long prose that would
    fold every row into a column of words) are left to ``check`` and ``--json``."""
    from theory.cases import outcome
    from theory.render import constant_cell, interval, level, number

    wide = _console().width >= 120
    extra = ("detectable",) if power else ()
    columns = ("algorithm", "claim", "verdict", "estimate", "CI", "claimed", *extra)
    table = _table(*columns, *(("level", "null learners", "constant", "evidence") if wide else ()),
                   title=title if wide else f"{title} (evidence: theorycheck check ALGORITHM CLAIM)")
    for r in results:
        v = r.verdict
        shown = (number(v.detectable),) if power else ()
        cells = (v.algorithm, v.claim, outcome(r), number(v.estimate), interval(v.ci), number(v.claimed), *shown)
        _add(table, *cells, *((level(v), _null_cell(r), constant_cell(v), v.evidence) if wide else ()))
    return table


def _null_cell(result: ClaimResult) -> str:
    from theory.cases import null_summary

    declared = f"; declared vacuous: {result.vacuous}" if result.vacuous and result.nulls else ""
    return null_summary(result) + declared


def _teeth(results: Sequence[ClaimResult]) -> str:
    """The summary's words on null learners: how many VACUOUS claims are declared, and how many have none."""
    from theory.cases import outcome

    declared = sum(bool(r.vacuous) for r in results if outcome(r) == "VACUOUS")
    bare = sum(not r.nulls for r in results)
    text = f"; {declared} VACUOUS declared (not blocking)" if declared else ""
    return text + f"; {bare} of {len(results)} claims have no null learner"


def _table(*columns: str, title: str) -> Any:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _add(table: Any, *cells: str) -> None:
    """A row of plain text (a name such as ``ucb1[greedy]`` is never read as markup); labels are coloured."""
    from rich.text import Text

    table.add_row(*(Text(cell, style=STYLES.get(cell, "")) for cell in cells))


def _tally(labels: Any) -> str:
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    return ", ".join(f"{n} [{STYLES.get(label, 'default')}]{label}[/]" for label, n in sorted(counts.items()))


def _family_wise(verdicts: Sequence, alpha: float = 0.01) -> str:
    """Holm across the claims of a run: how many FAILs hold with family-wise error ``alpha`` over every claim
    that has a p-value (declared failures left out); docs/statistics.md."""
    import numpy as np

    from theory.model import Status
    from theory.stats import holm

    tested = [v for v in verdicts if v.p_value is not None and not v.expected_failure]
    fails = [i for i, v in enumerate(tested) if v.status is Status.FAIL]
    held = holm(np.array([v.p_value for v in tested]), alpha) if tested else np.zeros(0, dtype=bool)
    return (f"family-wise (Holm over {len(tested)} claims, {alpha:g}): "
            f"{int(sum(held[i] for i in fails))} of {len(fails)} FAILs hold")


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "-"


def _summary(line: str, registry: Registry) -> None:
    if registry.errors:
        line += f"; [bold red]{len(registry.errors)} plugin(s) failed to load[/] (see above)"
    console = _console()
    console.print(line, soft_wrap=console.width >= 120)  # a narrow terminal gets the line wrapped


def _console() -> Any:
    from rich.console import Console

    # Piped output gets wide tables rather than rich's default of 80 columns, which folds every cell.
    return Console(highlight=False, width=None if sys.stdout.isatty() else 200)


if __name__ == "__main__":
    sys.exit(main())
