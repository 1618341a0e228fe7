"""``theorycheck new NAME``: write a new plugin module from a template that already loads, runs and passes.

The template is a real algorithm (explore-then-commit on a Bernoulli bandit) with one claim and one mutant,
so a new author starts from something green and replaces it piece by piece; TODO marks where the paper goes.
``theorycheck new --family NAME`` writes an instance family instead (docs/writing-a-family.md): an Instance
subclass, a generator drawing from ``Gen`` and declared parameters, which loads as it is.
"""

from __future__ import annotations

import importlib.util
import keyword
import re
from importlib import metadata
from pathlib import Path
from string import Template

from theory.errors import TheoryError
from theory.sources import BUILTIN_FAMILIES, ENTRY_POINT_GROUP

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

from theory import Algorithm, Claim, Experiment, Mutant, Paper, hookimpl, measures

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


@measures("regret")  # the metrics it returns, named once
def metrics(state, instance):
    return {"regret": state["regret"]}


EXPERIMENT = Experiment(family="bernoulli-bandit", over="T", grid=(250, 500, 1000, 2000, 4000, 8000),
                        params={"K": 5, "means": (0.9, 0.5, 0.5, 0.3, 0.1)}, seeds=64,
                        quick_grid=(100, 200, 400, 800, 1600), quick_seeds=32)

ALGORITHM = Algorithm(
    name="$name", paper=PAPER, family="bernoulli-bandit", init=init, step=step, metrics=metrics,
    hyper={"rate": 2 / 3}, schedule="per_horizon",
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


FAMILY_TEMPLATE = Template('''\
"""TODO: the instance family ``$family``: what one instance is, what each parameter means, and the paper's
assumptions the ranges in ``parameters`` encode.

The placeholder is a d-dimensional noisy linear model: each seed draws theta ~ N(0, I/d), and step t reveals
a Rademacher feature x_t and y_t = <theta, x_t> + sigma * N(0, 1). Every tensor's first axis is the seed.

Register the plugin: add this line under [project.entry-points.theorycheck] in pyproject.toml, then reinstall
(pip install -e .):

    $module_name = "$module"
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from theory import Family, Instance, Param, hookimpl
from theory.random import Gen


@dataclass(frozen=True, kw_only=True)
class ${cls}Instance(Instance):
    """One instance per seed: ``theta`` has shape (batch, d)."""

    theta: torch.Tensor
    sigma: float

    def sample(self, t: int, gen: Gen) -> tuple[torch.Tensor, torch.Tensor]:
        """The feature x_t (batch, d) and label y_t (batch,) of step t: random numbers only from ``gen``."""
        x = gen.rademacher("x", t, self.theta.shape[1], dtype=self.theta.dtype)
        y = (x * self.theta).sum(dim=1) + self.sigma * gen.normal("noise", t, dtype=self.theta.dtype)
        return x, y


def generate(params, gen: Gen) -> ${cls}Instance:
    """Draw every seed's instance at once (step 0 of an ``instance/...`` stream, on ``gen.device``)."""
    d = int(params["d"])
    theta = gen.normal("instance/theta", 0, d, dtype=torch.get_default_dtype()).to(gen.device) / d**0.5
    return ${cls}Instance(params=dict(params), batch=gen.batch, theta=theta, sigma=float(params["sigma"]))


FAMILY = Family(name="$family", description="TODO: one line on what an instance is", generate=generate,
                defaults={"d": 4, "sigma": 0.1},
                parameters={"d": Param(meaning="dimension", low=1, integer=True),
                            "sigma": Param(meaning="standard deviation of the label noise", low=0)})


@hookimpl
def theorycheck_families():
    return [FAMILY]
''')


class ScaffoldError(TheoryError):
    """A plugin cannot be scaffolded with this name or at this place."""


def scaffold(name: str, directory: Path | None = None, family: bool = False) -> tuple[Path, str]:
    """Write ``directory/name.py`` (``plugins/`` when it exists, else the current folder) from the plugin
    template, or from the family template with ``family`` (then ``name`` is the family's name, e.g.
    ``my-bandit``, and the module is that with ``_`` for ``-``); return the path and the entry-point line."""
    module_name = name.replace("-", "_") if family else name
    if family and not re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", name):
        raise ScaffoldError(f"family name {name!r}: use lowercase letters, digits and single dashes (my-bandit)")
    if not module_name.isidentifier() or keyword.iskeyword(module_name):
        raise ScaffoldError(f"plugin name {name!r} is not a Python identifier (use letters, digits and _)")
    _refuse_clash(name, module_name, family)
    directory = directory if directory is not None else (Path("plugins") if Path("plugins").is_dir() else Path("."))
    if not directory.is_dir():
        raise ScaffoldError(f"directory {directory} does not exist")
    path = directory / f"{module_name}.py"
    if path.exists():
        raise ScaffoldError(f"{path} already exists; choose another name or remove it first")
    module = _module_name(directory, module_name)
    if family:
        cls = "".join(part.capitalize() for part in name.split("-"))
        text = FAMILY_TEMPLATE.substitute(family=name, module_name=module_name, module=module, cls=cls)
    else:
        text = TEMPLATE.substitute(name=name, module=module)
    path.write_text(text)
    return path, f'{module_name} = "{module}"'


def _refuse_clash(name: str, module_name: str, family: bool) -> None:
    """A name already taken by a registered plugin, a built-in family module or an importable module would
    shadow it or be refused at load: refuse it now, before anything is written."""
    plugins = {ep.name for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}
    builtins = {module.rpartition(".")[2] for module in BUILTIN_FAMILIES}
    if module_name in plugins or name in plugins:
        raise ScaffoldError(f"{name!r} is already the name of an installed plugin; choose another")
    if module_name in builtins:
        raise ScaffoldError(f"{name!r} clashes with the built-in instance module theory.instances.{module_name}")
    try:
        found = importlib.util.find_spec(module_name) is not None
    except (ImportError, ValueError):
        found = False
    if found:
        raise ScaffoldError(f"{name!r} is already an importable module; a plugin of that name would shadow it")
    if family:
        from theory.registry import build_registry

        if name in build_registry().families:
            raise ScaffoldError(f"{name!r} is already a registered family (theorycheck list shows them)")


def _module_name(directory: Path, name: str) -> str:
    """The dotted module path, when ``directory`` lies under the current directory; else the bare name."""
    try:
        parts = directory.resolve().relative_to(Path.cwd().resolve()).parts
    except ValueError:
        parts = ()
    return ".".join((*parts, name))
