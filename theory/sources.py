"""Where plugins come from, named without importing any: the built-in instance families (those several plugins
share; a family of one plugin lives with it in ``plugins/``) and the entry-point group that every other plugin,
the paper plugins in ``plugins/`` included, registers under."""

from __future__ import annotations

ENTRY_POINT_GROUP = "theorycheck"
DISABLE_AUTOLOAD = "THEORYCHECK_DISABLE_PLUGIN_AUTOLOAD"
OWN_DISTRIBUTION = "theorycheck"
BUILTIN_FAMILIES = ("theory.instances.bandits", "theory.instances.online", "theory.instances.privacy",
                    "theory.instances.matrix_sensing")
