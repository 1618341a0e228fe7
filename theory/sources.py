"""Where plugins come from, named without importing any: the built-in instance families and the entry-point
group that every other plugin, the paper plugins in ``plugins/`` included, registers under."""

from __future__ import annotations

ENTRY_POINT_GROUP = "theorycheck"
DISABLE_AUTOLOAD = "THEORYCHECK_DISABLE_PLUGIN_AUTOLOAD"
OWN_DISTRIBUTION = "theorycheck"
BUILTIN_FAMILIES = ("theory.instances.bandits", "theory.instances.online", "theory.instances.inference",
                    "theory.instances.privacy", "theory.instances.linear_systems", "theory.instances.sea",
                    "theory.instances.switching", "theory.instances.linear_bandits", "theory.instances.linear_mdp",
                    "theory.instances.matrix_sensing")
