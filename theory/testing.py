"""Run a plugin's claims under pytest from any repository: ``theory.testing.claims`` makes the test function.

theorycheck's pytest plugin is installed with theorycheck (the ``pytest11`` entry point), so a plugin's own
repository needs no copy of ``checks/``: one line in any test file collects an item per claim of the chosen
algorithms or families, and per (mutant, claim it must break)::

    # tests/test_claims.py of the plugin's repository
    from theory.testing import claims

    test_claims = claims(algorithms=["nesterov"])     # or families=["my-family"], fnmatch patterns

The items, options (``--theory-quick``, ``--theory-seed``, ...) and failure text are those of ``checks/``; the
failure text's reproduce command names this file (``pytest tests/test_claims.py -k '[nesterov/rate]'``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from theory.pytest_plugin import MARKER


def claims(algorithms: Sequence[str] = (), families: Sequence[str] = ()) -> Callable[..., None]:
    """A pytest test function over the claims and mutants of the algorithms matching ``algorithms`` (names, or
    fnmatch patterns) whose family matches ``families`` (patterns; default every family). Assign it to a
    module-level name that starts with ``test``."""
    if isinstance(algorithms, str) or isinstance(families, str):
        raise TypeError("algorithms and families are lists of names or patterns, not a single string")
    if not algorithms and not families:
        raise ValueError("name the algorithms or families whose claims to check (patterns such as 'my-*')")

    def test_claim(theory_case) -> None:  # the argument the pytest plugin parametrises (ARGUMENT)
        theory_case.verify()

    marker = getattr(pytest.mark, MARKER)(families=list(families) or ["*"], algorithms=list(algorithms))
    return marker(test_claim)
