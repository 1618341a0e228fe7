"""Claims of the bilevel methods on the bilevel instance families (plugins/bilevel_instances.py): every
algorithm whose family matches ``bilevel-*`` (BO-REP, MAID, and the penalty, BSVRB and LV-HBA plugins).

Run: ``pytest checks/test_bilevel.py --theory-quick`` (see checks/README.md).
"""

import pytest

pytestmark = pytest.mark.theory(families=["bilevel-*"])


def test_claim(theory_case):
    theory_case.verify()
