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
    from theory.instances.bandits import BanditInstance
    from theory.instances.bandits import null_learners as bandit_nulls
    from theory.instances.matrix_sensing import SensingInstance
    from theory.instances.online import LINEAR as OCO_LINEAR
    from theory.instances.online import QUADRATIC as OCO_QUADRATIC
    from theory.instances.online import OnlineInstance
    from theory.instances.online import bounds as online_bounds
    from theory.instances.online import null_learners as online_nulls
    from theory.instances.privacy import constant_release
    from theory.judge import check
    from theory.kernels import Kernel, beta_keys, jit
    from theory.kernels import beta as kernel_beta
    from theory.kernels import uniform as kernel_uniform
    from theory.model import Status, Trace, Verdict
    from theory.privacy import gaussian_noise
    from theory.random import Gen, seed_block
    from theory.registry import Registry, build_registry
    from theory.runner import run
    from theory.spec import Algorithm, Family, Instance, Invariant, Mutant, Paper, Param, measures

_HOMES = {  # where each name lives; theory.fingerprint reads it to hash the module a plugin's import reaches
    "Status": "model", "Verdict": "model", "check": "judge", "Claim": "claims", "Experiment": "claims",
    "Budget": "harness", "Harness": "harness", "hookimpl": "hookspecs", "Kernel": "kernels", "Gen": "random",
    "seed_block": "random", "Registry": "registry", "build_registry": "registry",
    "Trace": "model", "run": "runner", "Algorithm": "spec", "Family": "spec", "Instance": "spec",
    "Invariant": "spec", "Mutant": "spec", "measures": "spec", "Paper": "spec", "Param": "spec",
    "check_algorithm": "api", "Results": "api",
    "SensingInstance": "instances.matrix_sensing",  # families' instance types, for plugins' type hints and state
    "BanditInstance": "instances.bandits", "OnlineInstance": "instances.online",
    # what the shared built-in families offer their plugins, named apart where two modules use one name
    "bandit_nulls": "instances.bandits:null_learners", "online_nulls": "instances.online:null_learners",
    "online_bounds": "instances.online:bounds", "OCO_LINEAR": "instances.online:LINEAR",
    "OCO_QUADRATIC": "instances.online:QUADRATIC", "constant_release": "instances.privacy",
    "gaussian_noise": "privacy",
    # helpers for a Kernel's compiled steps (the numbers Gen gives, element by element)
    "jit": "kernels", "kernel_uniform": "kernels:uniform", "kernel_beta": "kernels:beta", "beta_keys": "kernels",
}

__all__ = [
    "Algorithm", "Budget", "Claim", "Experiment", "Family", "Gen", "Harness", "Instance", "Invariant", "Kernel",
    "Mutant", "Paper", "Param", "Registry", "Results", "SensingInstance", "Status", "Trace", "Verdict",
    "build_registry", "check", "check_algorithm", "hookimpl", "measures", "run", "seed_block",
    "BanditInstance", "OCO_LINEAR", "OCO_QUADRATIC", "OnlineInstance", "bandit_nulls", "beta_keys",
    "constant_release", "gaussian_noise", "jit", "kernel_beta", "kernel_uniform", "online_bounds", "online_nulls",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'theory' has no attribute {name!r}")
    module, _, attribute = _HOMES[name].partition(":")  # "module:attribute" where the name differs there
    value = getattr(importlib.import_module(f"theory.{module}"), attribute or name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
