"""Claims of the last iterate of SGD and of its learning-rate schedules, on the stochastic convex families
(``stochastic-convex-*``, plugins/stochastic_convex_instances.py): plugins/last_iterate_sgd.py (Liu and Zhou
2024) and plugins/schedule_refinement.py (Defazio, Cutkosky, Mehta, Mishchenko 2023).

Run: ``pytest checks/test_stochastic_convex.py --theory-quick`` (see checks/README.md).
"""

import pytest

pytestmark = pytest.mark.theory(families=["stochastic-convex-*"])


def test_claim(theory_case):
    theory_case.verify()
