"""Claims of the zeroth-order fine-tuning methods on the ``finetune-quadratic`` family (plugins/finetune_quadratic.py):
MeZO (plugins/mezo.py) and Sparse MeZO (plugins/sparse_mezo.py).

Run: ``pytest checks/test_mezo.py --theory-quick`` (see checks/README.md).
"""

import pytest

pytestmark = pytest.mark.theory(families=["finetune-*"])


def test_claim(theory_case):
    theory_case.verify()
