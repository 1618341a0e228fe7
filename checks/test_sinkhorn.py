"""Claims of the Sinkhorn-Newton-Sparse plugin on entropic optimal transport: every algorithm whose family
matches ``entropic-*`` (the ``entropic-ot`` family of plugins/sinkhorn_newton.py).

Run: ``pytest checks/test_sinkhorn.py --theory-quick`` (see checks/README.md).
"""

import pytest

pytestmark = pytest.mark.theory(families=["entropic-*"])


def test_claim(theory_case):
    theory_case.verify()
