"""Claims of online convex optimisation algorithms: every algorithm whose family matches ``oco-*``
(oco-linear, oco-quadratic, and any such family a plugin adds).

Run: ``pytest checks/test_online.py --theory-quick`` (see checks/README.md).
"""

import pytest

pytestmark = pytest.mark.theory(families=["oco-*"])


def test_claim(theory_case):
    theory_case.verify()
