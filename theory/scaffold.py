"""``theorycheck new NAME``: write a new plugin module from a template that already loads, runs and passes.

The template is a real algorithm (explore-then-commit on a Bernoulli bandit) with one claim and one mutant,
so a new author starts from something green and replaces it piece by piece; TODO marks where the paper goes.
"""

from __future__ import annotations

import keyword
from pathlib import Path
from string import Template

from theory.errors import TheoryError

TEMPLATE = Template('''\
"""TODO: the paper behind ``$name``: title, authors, venue and year, arXiv id.

TODO: the theorem each claim quotes, and the update in maths. The placeholder is explore-then-commit on a
K-armed Bernoulli bandit with horizon T: pull every arm m = ceil((T/K)^(2/3)) times in turn, then play the arm
with the best empirical mean to the end; its regret is O(T^(2/3)) for fixed gaps.

Departures from the paper: TODO (every place the code departs from the paper, and why).

Register the plugin: add this line under [project.entry-points.theorycheck] in pyproject.toml, then reinstall
(pip install -e .):

    $name = "$module"
"""

from __future__ import annotations

import math

import torch

from theory import Algorithm, Claim, Experiment, Mutant, Paper, hookimpl

PAPER = Paper(title="TODO: title", authors="TODO: authors", year=2000, arxiv="TODO: arXiv id")


def init(instance, hyper, gen):
    """The state: per-arm pull counts and reward sums, and the regret so far; the first axis is the seed."""
    shape = (instance.batch, instance.arms)
    return {"pulls": torch.zeros(shape), "sums": torch.zeros(shape), "regret": torch.zeros(instance.batch)}


def step(state, instance, t, hyper, gen):
    """TODO: the paper's update. Pure: randomness only from ``gen``, no state outside ``state``."""
    rounds = math.ceil((hyper["horizon"] / instance.arms) ** hyper["rate"])
    if t <= rounds * instance.arms:
        arm = torch.full((instance.batch,), (t - 1) % instance.arms, device=state["regret"].device)
    else:
        arm = (state["sums"] / state["pulls"].clamp_min(1)).argmax(dim=1)
    reward, regret = instance.pull(arm, t, gen)
    return {"pulls": state["pulls"].scatter_add(1, arm[:, None], torch.ones_like(reward)[:, None]),
            "sums": state["sums"].scatter_add(1, arm[:, None], reward[:, None]),
            "regret": state["regret"] + regret}


def metrics(state, instance):
    return {"regret": state["regret"]}


EXPERIMENT = Experiment(family="bernoulli-bandit", over="T", grid=(250, 500, 1000, 2000, 4000, 8000),
                        params={"K": 5, "means": (0.9, 0.5, 0.5, 0.3, 0.1)}, seeds=64,
                        quick_grid=(100, 200, 400, 800, 1600), quick_seeds=32)

ALGORITHM = Algorithm(
    name="$name", paper=PAPER, family="bernoulli-bandit", init=init, step=step, metrics=metrics,
    metric_names=("regret",), hyper={"rate": 2 / 3}, schedule="per_horizon",
    claims=(
        Claim(name="regret-rate", metric="regret", kind="upper", form="C*T**(2/3)", source="TODO: Theorem 1",
              experiment=EXPERIMENT),
    ),
    mutants=(
        Mutant(name="no-exploration", bug="one pull per arm before committing", breaks=("regret-rate",),
               hyper={"rate": 0.0}),
    ),
)


@hookimpl
def theorycheck_algorithms():
    return [ALGORITHM]
''')


class ScaffoldError(TheoryError):
    """A plugin cannot be scaffolded with this name or at this place."""


def scaffold(name: str, directory: Path) -> tuple[Path, str]:
    """Write ``directory/name.py``; return its path and the entry-point line that registers it."""
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ScaffoldError(f"plugin name {name!r} is not a Python identifier (use letters, digits and _)")
    if not directory.is_dir():
        raise ScaffoldError(f"directory {directory} does not exist")
    path = directory / f"{name}.py"
    if path.exists():
        raise ScaffoldError(f"{path} already exists; choose another name or remove it first")
    module = _module_name(directory, name)
    path.write_text(TEMPLATE.substitute(name=name, module=module))
    return path, f'{name} = "{module}"'


def _module_name(directory: Path, name: str) -> str:
    """The dotted module path, when ``directory`` lies under the current directory; else the bare name."""
    try:
        parts = directory.resolve().relative_to(Path.cwd().resolve()).parts
    except ValueError:
        parts = ()
    return ".".join((*parts, name))
