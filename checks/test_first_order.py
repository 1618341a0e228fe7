"""Claims of first-order methods sampled on smooth convex functions: every algorithm whose family matches
``convex-*`` (the ``convex-quadratic`` family of plugins/first_order_methods.py, and any such family a plugin
adds). Their explicit bounds are also certified over the whole class by ``theorycheck certify``.

Run: ``pytest checks/test_first_order.py --theory-quick`` (see checks/README.md).
"""

import pytest

pytestmark = pytest.mark.theory(families=["convex-*"])


def test_claim(theory_case):
    theory_case.verify()
