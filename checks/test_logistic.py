"""Claims of the logistic-regression plugins: the large-step LR+GD / batch perceptron / Normalized LR+GD of
plugins/logistic_to_perceptron.py and the gradient-regularised Newton steps of
plugins/gradient_normalized_smoothness.py, on the ``logistic-*`` families of plugins/logistic_instances.py.

Run: ``pytest checks/test_logistic.py --theory-quick`` (see checks/README.md).
"""

import pytest

pytestmark = pytest.mark.theory(families=["logistic-*"])


def test_claim(theory_case):
    theory_case.verify()
