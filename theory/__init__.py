"""theorycheck: turn the claims of theory papers into checks that run.

The public face for plugin authors: mark hook functions with ``hookimpl`` and return the dataclasses below.
Everything else in ``theory`` may change between versions.
"""

from __future__ import annotations

from theory.check import Status, Verdict, check
from theory.claims import Claim, Experiment
from theory.hookspecs import hookimpl
from theory.random import Gen
from theory.registry import Registry, build_registry
from theory.runner import Trace, run
from theory.spec import Algorithm, Family, Instance, Mutant, Paper

__all__ = [
    "Algorithm", "Claim", "Experiment", "Family", "Gen", "Instance", "Mutant", "Paper", "Registry", "Status",
    "Trace", "Verdict", "build_registry", "check", "hookimpl", "run",
]
