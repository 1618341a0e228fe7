"""Claims of in-context learning by gradient descent: every algorithm whose family matches ``icl-*`` (the
``icl-linear-regression`` family of plugins/icl_gradient_descent.py: Proposition 1's construction, checked
exactly, and a trained linear self-attention layer compared with one GD step).

Run: ``pytest checks/test_icl.py --theory-quick`` (see checks/README.md).
"""

import pytest

pytestmark = pytest.mark.theory(families=["icl-*"])


def test_claim(theory_case):
    theory_case.verify()
