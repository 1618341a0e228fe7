"""theorycheck: turn the claims of theory papers into checks that run.

The public face for plugin authors: mark hook functions with ``hookimpl`` and return the dataclasses below.
``Harness``, ``Budget`` and ``seed_block`` reproduce a command's run from Python (``--seed BASE`` is
``Budget(base_seed=BASE)``; its seeds are ``seed_block(BASE, count)``). Everything else in ``theory`` may
change between versions.

Names are imported on first use: the CLI's ``--help`` and the pytest plugin (loaded by every pytest run in
an environment where theorycheck is installed) must not pay for importing torch and sympy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from theory.api import Results, check_algorithm
    from theory.claims import Claim, Experiment
    from theory.harness import Budget, Harness
    from theory.hookspecs import hookimpl
    from theory.instances.matrix_sensing import SensingInstance
    from theory.judge import check
    from theory.kernels import Kernel
    from theory.model import Status, Trace, Verdict
    from theory.privacy import gaussian_noise
    from theory.random import Gen, seed_block
    from theory.registry import Registry, build_registry
    from theory.runner import run
    from theory.spec import Algorithm, Family, Instance, Invariant, Mutant, Paper, Param

_HOMES = {
    "Status": "model", "Verdict": "model", "check": "judge", "Claim": "claims", "Experiment": "claims",
    "Budget": "harness", "Harness": "harness", "hookimpl": "hookspecs", "Kernel": "kernels", "Gen": "random",
    "seed_block": "random", "Registry": "registry", "build_registry": "registry",
    "Trace": "model", "run": "runner", "Algorithm": "spec", "Family": "spec", "Instance": "spec",
    "Invariant": "spec", "Mutant": "spec", "Paper": "spec", "Param": "spec",
    "check_algorithm": "api", "Results": "api",
    "SensingInstance": "instances.matrix_sensing",  # families' instance types, for plugins' type hints and state
    "gaussian_noise": "privacy",  # the Gaussian mechanism's calibration, for private algorithms' noise
}

__all__ = [
    "Algorithm", "Budget", "Claim", "Experiment", "Family", "Gen", "Harness", "Instance", "Invariant", "Kernel",
    "Mutant", "Paper", "Param", "Registry", "Results", "SensingInstance", "Status", "Trace", "Verdict",
    "build_registry", "check", "check_algorithm", "hookimpl", "run", "seed_block", "gaussian_noise",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'theory' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"theory.{_HOMES[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
