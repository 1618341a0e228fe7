"""The commands that read result stores: ``report``, ``export`` and ``compare`` (the CLI's parser is in cli.py).

``report`` and ``export`` show what the current code would produce (theory.history); ``compare`` sets two
stores side by side, for two commits or two settings: each ran with its own ``--store``, and every
(algorithm, claim) whose newest verdict differs between them is listed.
"""

from __future__ import annotations

import argparse
import json
import sys

from theory.cli import UsageError, _add, _console, _registry, _store, _table


def _entries(path):
    if not path.is_file():
        raise UsageError(f"no store at {path} (write one with: theorycheck run --store {path})")
    return _store(path).entries()


def cmd_report(args: argparse.Namespace) -> int:
    """Render the store's verdicts that the current code would still produce (all with ``--all``)."""
    from theory.history import commit, date, select
    from theory.report import write_report

    registry = _registry()
    dated = select(date(_entries(args.store), registry), args.names, args.family)
    shown = dated if args.all else [d for d in dated if d.current]
    index = write_report(shown, registry, args.out, commit=commit())
    stale = sum(not d.current for d in dated)
    hidden = f"; {stale} stale verdicts left out (--all shows them)" if stale and not args.all else ""
    print(f"wrote {index} ({sum(d.current for d in dated)} current verdicts{hidden})")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Write the per-seed data behind the store's current verdicts as a tidy CSV or parquet table."""
    from theory import export
    from theory.history import date, select

    dated = select(date(_entries(args.store), _registry()), args.names, args.family)
    pairs = [(d.entry.trace, d.entry.verdict) for d in dated if args.all or d.current]
    if not args.all:  # as the report does: the newest current run of each algorithm and claim
        pairs = list({(v.algorithm, v.claim): (t, v) for t, v in pairs}.values())
    fmt = args.format or ("parquet" if args.out.suffix == ".parquet" else "csv")
    try:
        path = export.write(export.tidy(pairs), args.out, fmt)
    except ImportError as exc:
        raise UsageError(f"{exc} (CSV needs nothing: --format csv)") from None
    print(f"wrote {path}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """The newest verdict of every (algorithm, claim) in two stores, row by row; exit 1 when one changed."""
    from theory.cases import outcome

    sides = []
    for path in (args.first, args.second):
        newest = {}
        for entry in _entries(path):
            newest[(entry.verdict.algorithm, entry.verdict.claim)] = entry.verdict
        sides.append(newest)
    a, b = sides
    rows = []
    for key in sorted(set(a) | set(b)):
        left, right = a.get(key), b.get(key)
        was, now = (outcome(v) if v else "absent" for v in (left, right))
        rows.append({"algorithm": key[0], "claim": key[1], "first": was, "second": now, "changed": was != now,
                     "first_estimate": left.estimate if left else None,
                     "second_estimate": right.estimate if right else None})
    changed = [r for r in rows if r["changed"]]
    if args.json:
        print(json.dumps(rows if args.every else changed, indent=2))
    else:
        table = _table("algorithm", "claim", str(args.first), str(args.second), "estimates",
                       title="Verdicts that changed" if not args.every else "Verdicts")
        for r in rows if args.every else changed:
            estimates = " -> ".join("-" if e is None else f"{e:.4g}" for e in (r["first_estimate"],
                                                                                r["second_estimate"]))
            _add(table, r["algorithm"], r["claim"], r["first"], r["second"], estimates)
        _console().print(table)
        print(f"{len(changed)} of {len(rows)} verdicts changed", file=sys.stderr)
    return 1 if changed else 0
