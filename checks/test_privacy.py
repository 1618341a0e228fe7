"""Claims of differentially private mechanisms: every algorithm whose family matches ``privacy-*``
(privacy-pair, and any neighbouring-input family a plugin adds): privacy audits and utility rates.

Run: ``pytest checks/test_privacy.py --theory-quick`` (see checks/README.md and docs/privacy.md).
"""

import pytest

pytestmark = pytest.mark.theory(families=["privacy-*"])


def test_claim(theory_case):
    theory_case.verify()
