"""Every algorithm whose family no other module in checks/ covers (a third party's plugin in a new family is
checked here without editing checks/), and one failing item per plugin that failed to load.

Run alone (``pytest checks/test_all_families.py``) it covers every family.
"""

import pytest

pytestmark = pytest.mark.theory(unclaimed=True)


def test_claim(theory_case):
    theory_case.verify()
