"""Install a small plugin the way a third party would: a module plus a dist-info folder with an entry point in
the ``theorycheck`` group, on a path that this process and the worker processes it starts both import from."""

from __future__ import annotations

import importlib
import os
import textwrap
from pathlib import Path

MODULE = "tc_random_player"
ALGORITHM = "random-player"

SOURCE = textwrap.dedent('''
    """Plays a uniformly random arm: linear regret, cheap to run (slow on request, to be interrupted)."""
    import os
    import time

    import torch
    from theory import Algorithm, Claim, Experiment, Mutant, Paper, hookimpl, measures

    DELAY = float(os.environ.get("TC_RANDOM_PLAYER_DELAY", "0"))

    def init(instance, hyper, gen):
        return {"regret": torch.zeros(instance.batch)}

    def step(state, instance, t, hyper, gen):
        if hyper["crash"] and t == 5:
            import os
            os._exit(1)  # a worker that dies
        if DELAY:
            time.sleep(DELAY)
        arm = gen.categorical("arm", t, torch.ones(instance.batch, instance.arms))
        reward, regret = instance.pull(arm, t, gen)
        return {"regret": state["regret"] + regret}

    EXPERIMENT = Experiment(family="bernoulli-bandit", over="T", grid=(16, 32, 64, 128, 256),
                            params={"K": 3, "means": (0.9, 0.5, 0.4)}, seeds=32)
    ALGORITHM = Algorithm(
        name="random-player", paper=Paper(title="none", authors="none", year=2000), family="bernoulli-bandit",
        init=init, step=step, metrics=measures("regret")(lambda state, instance: {"regret": state["regret"]}),
        hyper={"crash": False},
        claims=(Claim(name="linear", metric="regret", kind="upper", form="C*T", source="none",
                      experiment=EXPERIMENT),
                Claim(name="sqrt", metric="regret", kind="upper", form="C*sqrt(T)", source="none",
                      experiment=EXPERIMENT),
                *(Claim(name=f"linear-{i}", metric="regret", kind="upper", form="C*T", source="none",
                        experiment=Experiment(family="bernoulli-bandit", over="T", grid=EXPERIMENT.grid,
                                              params={"K": 2, "best": 0.5, "gap": 0.1 * i}, seeds=32))
                  for i in (1, 2, 3))),
        mutants=(Mutant(name="crash", bug="kills its process", breaks=("linear",), hyper={"crash": True}),),
    )

    @hookimpl
    def theorycheck_algorithms():
        return [ALGORITHM]
''')


RUNS = 4  # distinct experiments among the claims: the runs a full sweep needs


def install(folder: Path, monkeypatch, module: str = MODULE, source: str = SOURCE) -> None:
    """Write ``source`` as ``module`` under ``folder``, with a dist-info folder whose ``theorycheck`` entry point
    names it, and put ``folder`` on this process's and its children's path."""
    (folder / f"{module}.py").write_text(source)
    info = folder / f"{module}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[theorycheck]\n{module} = {module}\n")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")])))
    importlib.invalidate_caches()
