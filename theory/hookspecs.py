"""The plugin contract: what a theorycheck plugin may provide. Each hook returns data, never runs anything.

A plugin is a module (or object) with functions marked ``@theory.hookimpl`` whose names match the specs
below. It is found through the ``theorycheck`` entry-point group. No hook is called in the hot loop: the
runner calls an Algorithm's ``step`` directly.
"""

from __future__ import annotations

import pluggy

from theory.spec import Algorithm, Family

hookspec = pluggy.HookspecMarker("theorycheck")
hookimpl = pluggy.HookimplMarker("theorycheck")


@hookspec
def theorycheck_algorithms() -> list[Algorithm]:
    """Return the algorithms this plugin contributes.

    Each Algorithm carries its paper, its claims (with the experiment each is tested on) and its mutants.
    Names must be unique across all plugins; a claim's metric must be one of the algorithm's
    ``metric_names`` and its family must be registered by some plugin.

    :returns: a list of :class:`theory.Algorithm` (empty if the plugin only adds families).

    Notes: called once when the registry is built; keep it free of heavy work.
    """
    raise NotImplementedError  # a specification: plugins implement it


@hookspec
def theorycheck_families() -> list[Family]:
    """Return the instance families this plugin contributes.

    A Family's ``generate(params, gen)`` returns an Instance whose tensors are batched over ``gen``'s seeds.
    The built-in families (bandits, online convex optimisation) are registered through this same hook.

    :returns: a list of :class:`theory.Family`.

    Notes: family names must be unique across all plugins.
    """
    raise NotImplementedError  # a specification: plugins implement it
