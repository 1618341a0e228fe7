"""``theorycheck``: list, run, check and audit the claims of registered plugins, report a result store, or
scaffold a new plugin.

Exit status: 0 when every claim PASSes (or fails as declared), 1 when a claim FAILs, errors, times out or is
INCONCLUSIVE, a declared failure PASSes, a mutant escapes, or a plugin failed to load; 2 for a usage error
(unknown algorithm or claim, missing device or store, bad plugin name). Heavy modules (torch, sympy) are
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
    from theory.registry import Registry
    from theory.spec import Algorithm

STYLES = {"PASS": "green", "FAIL": "bold red", "XFAIL": "yellow", "XPASS": "bold red",
          "INCONCLUSIVE": "yellow", "ERROR": "bold magenta", "TIMEOUT": "bold magenta", "caught": "green",
          "MISSED": "bold red"}


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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="theorycheck", description="Check the claims of theory papers.")
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

    def command(name: str, handler, helptext: str, parents=()) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=helptext, description=helptext, parents=list(parents))
        sub.set_defaults(handler=handler, name=name)
        return sub

    command("list", cmd_list, "list algorithms, claims, mutants, families and plugin load errors", [as_json])
    run = command("run", cmd_run, "check every claim of the named algorithms (default: all)",
                  [budget, sweep, as_json])
    run.add_argument("names", nargs="*", metavar="NAME")
    check = command("check", cmd_check, "check one claim and print its full verdict", [budget, as_json])
    check.add_argument("algorithm", help="an algorithm, or ALGORITHM[MUTANT] for a mutant")
    check.add_argument("claim")
    audit = command("audit", cmd_audit, "run every mutant on the claims it must break: power and "
                    "observed size", [budget, sweep, as_json])
    audit.add_argument("names", nargs="*", metavar="NAME")
    report = command("report", cmd_report, "write a Markdown and HTML report of the results in a store")
    report.add_argument("--store", type=Path, default=DEFAULT_STORE, metavar="PATH",
                        help=f"a store written by run (default {DEFAULT_STORE})")
    report.add_argument("--out", type=Path, default=Path("theorycheck-report"),
                        help="output folder (default theorycheck-report)")
    new = command("new", cmd_new, "scaffold a new plugin module from a working template")
    new.add_argument("plugin", metavar="NAME", help="the plugin's name, a Python identifier")
    new.add_argument("--dir", type=Path, default=Path("plugins"),
                     help="where to write NAME.py (default plugins)")
    _beyond_sampling(command, budget, as_json)
    return parser


def _beyond_sampling(command, budget: argparse.ArgumentParser, as_json: argparse.ArgumentParser) -> None:
    """The commands that look past the sampled instance: worst-case certificates and counterexample search.
    Their defaults live in theory.pep and theory.falsify, which import torch: ``--help`` does not read them."""
    certify = command("certify", cmd_certify, "certify explicit bounds over a whole function class by "
                      "performance estimation (PEPit)", [as_json])
    certify.add_argument("names", nargs="*", metavar="NAME", help="algorithms, or ALGORITHM[MUTANT] (default: all)")
    certify.add_argument("--horizons", metavar="N,N,...",
                         help="numbers of steps to certify (default theory.pep.HORIZONS: 1,2,4,8,16)")
    falsify = command("falsify", cmd_falsify, "search the family's parameters for an instance that breaks a "
                      "claim", [budget, as_json])
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

    The listing comes from a cache beside the default store while no plugin source changed (theory.listing):
    building the registry costs seconds of imports.
    """
    from theory.errors import PluginError
    from theory.listing import plugin_listing

    listing = plugin_listing(DEFAULT_STORE.parent / "listing.json")
    for error in listing["errors"]:
        print(PluginError(error["plugin"], error["cause"]), file=sys.stderr)
    if args.json:
        print(json.dumps(listing, indent=2))
        return 0
    table = _table("algorithm", "family", "paper", "plugin", title="Algorithms")
    claims = _table("algorithm", "claim", "kind", "claim (form)", "source", title="Claims")
    mutants = _table("algorithm", "mutant", "bug", "breaks", title="Mutants")
    for a in listing["algorithms"]:
        paper = a["paper"]
        _add(table, a["algorithm"], a["family"], f"{paper['authors']} ({paper['year']}): {paper['title']}", a["plugin"])
        for claim in a["claims"]:
            _add(claims, a["algorithm"], claim["name"], claim["kind"], claim["statement"], claim["source"])
        for m in a["mutants"]:
            _add(mutants, a["algorithm"], m["name"], m["bug"], ", ".join(m["breaks"]))
    family_table = _table("family", "description", "plugin", title="Families")
    for family in listing["families"]:
        _add(family_table, family["family"], family["description"], family["plugin"])
    for shown in (table, claims, mutants, family_table):
        _console().print(shown)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Check every claim of the selected algorithms; print a verdict table (or JSON rows)."""
    from theory.cases import BLOCKING, claim_cases, judge, outcome
    from theory.render import row

    registry = _registry()
    harness = _harness(registry, args)
    todo = [case for a in _select(registry, args.names) for case in claim_cases(a)]
    _measure(harness, todo, args)
    verdicts = [judge(harness, case) for case in todo]
    if args.json:
        print(json.dumps([row(v) for v in verdicts], indent=2))
    else:
        _console().print(_verdict_table(verdicts, "Verdicts"))
        _summary(f"{len(verdicts)} claims: " + _tally(outcome(v) for v in verdicts), registry)
    failed = any(outcome(v) in BLOCKING for v in verdicts)
    return 1 if failed or registry.errors else 0


def cmd_check(args: argparse.Namespace) -> int:
    """One claim (or one mutant on a claim it must break), with the full verdict and how to reproduce it."""
    from theory.cases import BLOCKING, judge, outcome
    from theory.render import mutant_report, report, row

    registry = _registry()
    harness = _harness(registry, args)
    case = _case(registry, args.algorithm, args.claim)
    claim = registry.algorithms[case.algorithm].claim(case.claim)
    result = judge(harness, case)
    if case.mutant is None:
        text, rows = report(case, result, claim, harness.budget), [row(result)]
        ok = outcome(result) not in BLOCKING
    else:
        text = mutant_report(case, result, claim, harness.budget)
        rows = [row(result.mutant, caught=result.caught), row(result.reference, caught=None)]
        ok = result.caught
    print(json.dumps(rows, indent=2) if args.json else text)
    return 0 if ok else 1


def _case(registry: Registry, subject: str, claim: str) -> Case:
    """The case ``check SUBJECT CLAIM`` names; a usage error lists the ones that exist."""
    from theory.cases import claim_cases, mutant_cases

    base = subject.partition("[")[0]
    if base not in registry.algorithms:
        raise UsageError(_unknown(base, registry))
    known = claim_cases(registry.algorithms[base]) + mutant_cases(registry.algorithms[base])
    for case in known:
        if (case.subject, case.claim) == (subject, claim):
            return case
    raise UsageError(f"{subject!r} has no claim {claim!r} to check "
                     f"(known: {', '.join(f'{c.subject} {c.claim}' for c in known)})")


def cmd_audit(args: argparse.Namespace) -> int:
    """Every mutant on every claim it must break, beside the correct versions: power and observed size."""
    from theory.cases import BLOCKING, claim_cases, judge, mutant_cases, outcome
    from theory.check import Status
    from theory.render import row

    registry = _registry()
    harness = _harness(registry, args)
    algorithms = _select(registry, args.names)
    correct_cases = [case for a in algorithms for case in claim_cases(a)]
    todo = [case for a in algorithms for case in mutant_cases(a)]
    _measure(harness, correct_cases + todo, args)
    correct = [judge(harness, case) for case in correct_cases]
    results = [(case, judge(harness, case)) for case in todo]
    caught = sum(r.caught for _, r in results)
    judged = [v for v in correct if not v.expected_failure]
    failed = sum(v.status is Status.FAIL for v in judged)
    levels = ", ".join(sorted({f"{v.level:.0%}" for v in judged})) or "-"
    if args.json:
        print(json.dumps([*(row(v, caught=None) for v in correct),
                          *(row(r.mutant, caught=r.caught) for _, r in results)], indent=2))
    else:
        table = _table("mutant", "claim", "bug", "mutant verdict", "correct verdict", "result",
                       title="Mutants")
        for case, r in results:
            _add(table, case.subject, case.claim, case.bug, r.mutant.status.value,
                 r.reference.status.value, "caught" if r.caught else "MISSED")
        _console().print(table)
        _console().print(_verdict_table(correct, "Correct versions"))
        power = f"{caught}/{len(results)} mutant checks caught ({_share(caught, len(results))})"
        size = f"{failed}/{len(judged)} correct claims FAILed ({_share(failed, len(judged))})"
        _summary(f"power: {power}; observed size: {size} at level {levels}", registry)
    broken = caught < len(results) or any(outcome(v) in BLOCKING for v in correct)
    return 1 if broken or registry.errors else 0


def cmd_report(args: argparse.Namespace) -> int:
    """Render what a store holds (every run and verdict written by ``run --store``) as a report folder."""
    from theory.report import write_report

    if not args.store.is_file():
        raise UsageError(f"no store at {args.store} (write one with: theorycheck run --store {args.store})")
    index = write_report(_store(args.store).results(), _registry(), args.out)
    print(f"wrote {index}")
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    """Write plugins/NAME.py from the template and say how to register it."""
    from theory.scaffold import ScaffoldError, scaffold

    try:
        path, entry_point = scaffold(args.plugin, args.dir)
    except ScaffoldError as exc:
        raise UsageError(str(exc)) from None
    print(f"created {path}\nregister it: add this line under [project.entry-points.theorycheck] in "
          f"pyproject.toml, then reinstall (pip install -e .):\n\n    {entry_point}")
    return 0


def cmd_certify(args: argparse.Namespace) -> int:
    """Certify every explicit upper bound of the selected algorithms at the given horizons; exit 1 when one
    is refuted, undecided or errs (a skipped claim, with its reason, does not count)."""
    from theory.pep import HORIZONS, Certificate, certify
    from theory.render import certificate_row

    registry = _registry()
    try:
        horizons = [int(n) for n in args.horizons.split(",")] if args.horizons else list(HORIZONS)
    except ValueError:
        raise UsageError(f"--horizons must be integers separated by commas, not {args.horizons!r}") from None
    if not horizons or min(horizons) < 1:
        raise UsageError(f"--horizons must be positive, not {args.horizons!r}")
    certificates = []
    for name in args.names or sorted(registry.algorithms):
        algorithm = _algorithm(registry, name)
        if algorithm.pep is None:
            certificates.append(Certificate(algorithm=algorithm.name, claim="-", status="SKIPPED",
                                            evidence="declares no PEP form (Algorithm.pep)"))
            continue
        certificates += [certify(algorithm, claim, horizons) for claim in algorithm.claims]
    rows = [certificate_row(c) for c in certificates]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        table = _table("algorithm", "claim", "certificate", "function class", "N", "worst/bound", "evidence",
                       title="Worst-case certificates (PEP)")
        for r in rows:
            _add(table, r["algorithm"], r["claim"], r["certificate"], r["function_class"],
                 ",".join(map(str, r["horizons"])), r["worst_over_bound"], r["evidence"])
        _console().print(table)
        _summary(f"{len(rows)} claims: " + _tally(r["certificate"] for r in rows), registry)
    failed = any(c.status in ("FAIL", "ERROR", "INCONCLUSIVE") for c in certificates)
    return 1 if failed or registry.errors else 0


def cmd_falsify(args: argparse.Namespace) -> int:
    """Search one claim's family for a counterexample; exit 1 when one is found (the claim FAILs on it)."""
    from theory.errors import ClaimError
    from theory.falsify import BUDGET_S, NotSearchable, falsify
    from theory.render import search_report

    registry = _registry()
    algorithm = _algorithm(registry, args.algorithm)
    try:
        claim = algorithm.claim(args.claim)
        at = _assignments(args.at) if args.at else None
        vary = [name.strip() for name in args.vary.split(",")] if args.vary else None
        result = falsify(algorithm, registry.families[claim.experiment.family], claim, budget_s=args.budget or BUDGET_S,
                         vary=vary, at=at, base_seed=args.seed, seeds=args.seeds, quick=args.quick,
                         device=args.device)
    except (ClaimError, NotSearchable) as exc:
        raise UsageError(str(exc)) from None
    text, row = search_report(result, claim, _reproduce_falsify(args, result.params))
    print(json.dumps(row, indent=2) if args.json else text)
    return 1 if result.counterexample else 0


def _algorithm(registry: Registry, name: str) -> Algorithm:
    from theory.errors import ClaimError, PluginError

    try:
        return registry.algorithm(name)
    except (PluginError, ClaimError) as exc:
        raise UsageError(str(exc)) from None


def _assignments(items: Sequence[str]) -> dict[str, Any]:
    """``NAME=VALUE`` pairs; a VALUE with commas is a tuple."""
    out: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            numbers = tuple(float(v) for v in value.split(","))
        except ValueError:
            numbers = ()
        if not sep or not name or not numbers:
            raise UsageError(f"--at takes NAME=VALUE with a number or comma-separated numbers, not {item!r}")
        out[name] = numbers if len(numbers) > 1 else numbers[0]
    return out


def _reproduce_falsify(args: argparse.Namespace, params: dict[str, Any]) -> str:
    import shlex

    at = [f"--at={k}={','.join(f'{x:.17g}' for x in v) if isinstance(v, tuple) else f'{v:.17g}'}"
          for k, v in params.items()]
    flags = ["--seed", str(args.seed), *(["--quick"] if args.quick else []),
             *(["--seeds", str(args.seeds)] if args.seeds else []),
             *(["--device", args.device] if args.device != "cpu" else [])]
    return shlex.join(["theorycheck", "falsify", args.algorithm, args.claim, *at, *flags])


def _registry() -> Registry:
    """Every plugin, through the entry points a user installs; each load error is reported on stderr."""
    from theory import registry

    built = registry.build_registry()
    for error in built.errors:
        print(error, file=sys.stderr)
    return built


def _harness(registry: Registry, args: argparse.Namespace) -> Harness:
    from theory.backend import resolve_device
    from theory.errors import DeviceError
    from theory.harness import Budget, Harness

    try:
        resolve_device(args.device)
    except DeviceError as exc:
        raise UsageError(str(exc)) from None
    budget = Budget(quick=args.quick, seeds=args.seeds, base_seed=args.seed, device=args.device)
    store = _store(args.store) if getattr(args, "store", None) else None
    return Harness(registry, budget, store=store, fresh=getattr(args, "fresh", False))


def _store(path: Path) -> Any:
    from theory.store import Store, StoreError

    try:
        return Store(path)
    except StoreError as exc:
        raise UsageError(str(exc)) from None


def _select(registry: Registry, names: Sequence[str]) -> list[Algorithm]:
    unknown = [name for name in names if name not in registry.algorithms]
    if unknown:
        raise UsageError(_unknown(unknown[0], registry))
    return [registry.algorithms[name] for name in (names or sorted(registry.algorithms))]


def _unknown(name: str, registry: Registry) -> str:
    known = ", ".join(sorted(registry.algorithms)) or "none"
    failed = ", ".join(e.plugin for e in registry.errors)
    why = f"; plugins that failed to load: {failed}" if failed else ""
    return f"unknown algorithm {name!r} (known: {known}{why})"


def _measure(harness: Harness, cases: Sequence[Case], args: argparse.Namespace) -> None:
    """Run every trace the cases need up front, through the chosen executor, behind one progress bar."""
    from theory.executors import make_executor
    from theory.progress import Bar

    pairs = []
    for case in cases:
        algorithm = harness.registry.algorithms[case.algorithm]
        claim = algorithm.claim(case.claim)
        pairs.append((algorithm, claim))
        if case.mutant:
            pairs.append((algorithm.mutant(case.mutant), claim))
    executor = make_executor(args.executor, harness.registry, args.jobs, args.address)
    with Bar(quiet=args.quiet) as bar:
        harness.prefetch(pairs, executor=executor, progress=bar)
    if harness.store is not None:
        print(f"runs: {harness.computed} computed, {harness.reused} reused from the store {harness.store.path}",
              file=sys.stderr)


def _verdict_table(verdicts: Sequence, title: str) -> Any:
    from theory.cases import outcome
    from theory.render import constant_cell, interval, level, number

    table = _table("algorithm", "claim", "verdict", "estimate", "CI", "claimed", "level", "constant", "evidence",
                   title=title)
    for v in verdicts:
        _add(table, v.algorithm, v.claim, outcome(v), number(v.estimate), interval(v.ci), number(v.claimed),
             level(v), constant_cell(v), v.evidence)
    return table


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


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "-"


def _summary(line: str, registry: Registry) -> None:
    if registry.errors:
        line += f"; [bold red]{len(registry.errors)} plugin(s) failed to load[/] (see above)"
    _console().print(line, soft_wrap=True)


def _console() -> Any:
    from rich.console import Console

    # Piped output gets wide tables rather than rich's default of 80 columns, which folds every cell.
    return Console(highlight=False, width=None if sys.stdout.isatty() else 200)


if __name__ == "__main__":
    sys.exit(main())
