"""Claims of the convex two-layer ReLU programs (plugins/convex_relu.py, plugins/convex_relu_admm.py) on the
``relu-arrangements`` family: the convex optimum against non-convex training, the robust certificate, and the
ADMM's rate and cost per iteration.

Run: ``pytest checks/test_convex_relu.py --theory-quick`` (see checks/README.md).
"""

import pytest

pytestmark = pytest.mark.theory(families=["relu-arrangements"])


def test_claim(theory_case):
    theory_case.verify()
