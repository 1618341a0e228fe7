"""Speed and memory benchmarks: theorycheck measured side by side with the tools users would pick instead.

Run them all with ``python -m benchmarks`` (see docs/performance.md); each module exposes
``measure(quick: bool) -> list[Row]``.
"""
