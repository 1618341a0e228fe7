"""Claims of bandit algorithms: every algorithm whose family matches ``*-bandit`` (bernoulli-bandit,
gaussian-bandit, and any bandit family a plugin adds), one item per claim and per (mutant, claim it breaks).

Run: ``pytest checks/test_bandits.py --theory-quick`` (see checks/README.md).
"""

import pytest

pytestmark = pytest.mark.theory(families=["*-bandit"])


def test_claim(theory_case):
    theory_case.verify()
