"""pytest plugin: every registered claim becomes a pytest item, generated from what plugins declare.

How ``checks/`` is parametrised. A test module says which instance families it covers with the ``theory``
marker and asks for the ``theory_case`` argument; the plugin parametrises that argument, like sklearn's
``parametrize_with_checks``, with one item per (algorithm, claim) of those families, one per (mutant,
claim it must break) and one per (null learner, claim it is run on)::

    pytestmark = pytest.mark.theory(families=["*-bandit"])   # fnmatch patterns over family names

    def test_claim(theory_case):
        theory_case.verify()

A module marked ``pytest.mark.theory(unclaimed=True)`` covers every algorithm that no
``theory(families=...)`` module of the same session covers, so a third party's plugin in a new family is
checked without anyone editing ``checks/``; it also holds one failing item per plugin that failed to load.
Families are chosen by name pattern, never by plugin name: the files stay the same as plugins come and go.
The catch-all is resolved after collection (run alone, the catch-all module covers every family).

Item ids are ``ALGORITHM/CLAIM`` and ``ALGORITHM[MUTANT]/CLAIM`` (a null learner is named like a mutant);
``-k '[ID]'`` selects exactly one. A claim PASSes as a test; FAIL, ERROR, TIMEOUT and INCONCLUSIVE fail it with
the verdict, a table of the grid and the command that reproduces it. A claim declared ``expected_failure`` is
a strict xfail. A mutant item passes when the mutant FAILs while the correct version PASSes with the same
seeds. A null-learner item passes when the null learner FAILs the claim; otherwise it fails saying the claim
is VACUOUS (an xfail, not strict, when the claim declares why in ``Claim.vacuous``).

Nothing heavy happens unless a collected test asks for ``theory_case``: this module imports only pytest, and
the registry (torch, sympy, the plugins) is built on first use, once per session, with one shared Harness so
claims that share an experiment share one trace.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from theory.cases import Case
    from theory.harness import Budget, Harness
    from theory.registry import Registry

MARKER = "theory"
ARGUMENT = "theory_case"


class ClaimFailed(pytest.fail.Exception):  # type: ignore[name-defined]  # pytest exposes Failed only so
    """A claim's verdict is FAIL (the one outcome a declared ``expected_failure`` turns into an xfail), or a
    null learner does not FAIL a claim (an xfail when the claim declares it vacuous)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("theorycheck", "theorycheck claim validation (items under checks/)")
    group.addoption("--theory-seeds", type=int, default=None, metavar="N",
                    help="seeds per claim (default: each claim's own count)")
    group.addoption("--theory-seed", type=int, default=0, metavar="BASE",
                    help="base seed: fixes every seed, so a verdict reproduces (default 0)")
    group.addoption("--theory-device", default="cpu", choices=("cpu", "cuda"),
                    help="device to run on; cuda without a GPU skips with the reason (default cpu)")
    group.addoption("--theory-quick", action="store_true", help="use the claims' quick grids and seed counts")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(families=[...], unclaimed=False, algorithms=[...]): parametrise the {ARGUMENT} "
                   "argument with the claims of these instance families (fnmatch patterns), or of every family no "
                   "other module covers; algorithms=[...] keeps only the algorithms matching these patterns")


class _Session:
    """The session's budget, registry and shared Harness, each made on first use."""

    def __init__(self, config: pytest.Config):
        self.config = config

    @cached_property
    def budget(self) -> Budget:
        from theory.harness import Budget

        option = self.config.getoption
        return Budget(quick=option("--theory-quick"), seeds=option("--theory-seeds"),
                      base_seed=option("--theory-seed"), device=option("--theory-device"))

    @cached_property
    def registry(self) -> Registry:
        from theory import registry

        return registry.build_registry()

    @cached_property
    def harness(self) -> Harness:
        from theory.harness import Harness

        return Harness(self.registry, self.budget)

    @cached_property
    def missing_device(self) -> str | None:
        """Why the requested device cannot be used here, or None."""
        from theory.backend import resolve_device
        from theory.errors import DeviceError

        try:
            resolve_device(self.budget.device)
        except DeviceError as exc:
            return str(exc)
        return None


_STATE = pytest.StashKey[_Session]()


def _session(config: pytest.Config) -> _Session:
    if _STATE not in config.stash:
        config.stash[_STATE] = _Session(config)
    return config.stash[_STATE]


@dataclass(frozen=True)
class TheoryCase:
    """What a checks/ test receives: one case of the session; ``verify()`` judges it and fails the test
    with the verdict when it does not hold."""

    case: Case
    session: _Session = field(repr=False, compare=False)
    where: str = field(default="checks/", repr=False, compare=False)  # the test file, for the reproduce command

    def verify(self) -> None:
        from theory.cases import judge
        from theory.model import Status
        from theory.render import mutant_report, null_report, report

        case, session = self.case, self.session
        if case.error is not None:
            pytest.fail(f"{case.error}\n(every other plugin still runs; fix or uninstall this one)",
                        pytrace=False)
        if session.missing_device:
            pytest.skip(session.missing_device)
        algorithm = session.registry.algorithms[case.algorithm]
        claim = algorithm.claim(case.claim)
        result: Any = judge(session.harness, case)  # a NullResult, a MutantResult or a Verdict, by the case
        if case.null:
            text = null_report(case, result, claim, session.budget, self.where)
            if not result.refuted:
                raise ClaimFailed(text, pytrace=False)
        elif case.mutant is not None:
            text = mutant_report(case, result, claim, session.budget, self.where)
            if not result.caught:
                raise ClaimFailed(text, pytrace=False)
        else:
            text = report(case, result, claim, session.budget, self.where)
            if result.status is Status.FAIL or (case.expected_failure and result.status is Status.INCONCLUSIVE):
                raise ClaimFailed(text, pytrace=False)
            if result.status is not Status.PASS:
                pytest.fail(text, pytrace=False)
        print(text)  # shown for passes with -rP, and for a strict XPASS, which pytest reports as a failure


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if ARGUMENT not in metafunc.fixturenames:
        return
    from theory.cases import cases

    families, unclaimed = _selection(metafunc.definition)
    session = _session(metafunc.config)
    found = cases(session.registry, families, errors=unclaimed, quick=session.budget.quick)
    marker = metafunc.definition.get_closest_marker(MARKER)
    names = marker.kwargs.get("algorithms") if marker else None
    if names:  # theory.testing.claims(algorithms=...): a plugin's repository picks its own algorithms
        found = [c for c in found if any(fnmatch.fnmatchcase(c.algorithm, p) for p in names)]
    where = metafunc.definition.nodeid.partition("::")[0]
    metafunc.parametrize(ARGUMENT, [_param(TheoryCase(case, session, where)) for case in found])


def _selection(definition: pytest.Item) -> tuple[tuple[str, ...] | None, bool]:
    """The family patterns a test's ``theory`` marker names, or (None, True) for the catch-all."""
    marker = definition.get_closest_marker(MARKER)
    families = marker.kwargs.get("families") if marker else None
    unclaimed = bool(marker.kwargs.get("unclaimed")) if marker else False
    if marker is None or bool(families) == unclaimed or marker.args:
        pytest.fail(f"{definition.nodeid}: a test taking {ARGUMENT!r} needs exactly one of "
                    f"@pytest.mark.{MARKER}(families=[PATTERN, ...]) or "
                    f"@pytest.mark.{MARKER}(unclaimed=True)", pytrace=False)
    if unclaimed:
        return None, True
    return ((families,) if isinstance(families, str) else tuple(families or ())), False


def _param(check: TheoryCase) -> Any:
    case = check.case
    marks: tuple[Any, ...] = ()
    if case.expected_failure and case.mutant is None:
        marks = (pytest.mark.xfail(reason=f"declared expected failure: {case.expected_failure}",
                                   strict=True, raises=ClaimFailed),)
    elif case.missed and not case.null:
        marks = (pytest.mark.xfail(reason=f"declared missed: {case.missed}", strict=True, raises=ClaimFailed),)
    elif case.null and case.vacuous:
        marks = (pytest.mark.xfail(reason=f"declared vacuous: {case.vacuous}", strict=False, raises=ClaimFailed),)
    return pytest.param(check, id=case.id, marks=marks)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Drop catch-all items whose case a ``theory(families=...)`` module already covers (before -k and -m
    deselect anything, so what the catch-all covers does not depend on what the user selects). They are
    reported as deselected, so that collected = deselected + selected in pytest's summary."""
    claimed = {check.case.id for item, check in _checks(items) if not _unclaimed(item)}
    dropped = {id(item) for item, check in _checks(items) if _unclaimed(item) and check.case.id in claimed}
    if dropped:
        config.hook.pytest_deselected(items=[item for item in items if id(item) in dropped])
        items[:] = [item for item in items if id(item) not in dropped]


def _checks(items: list[pytest.Item]) -> list[tuple[pytest.Item, TheoryCase]]:
    found = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        check = callspec.params.get(ARGUMENT) if callspec else None
        if isinstance(check, TheoryCase):
            found.append((item, check))
    return found


def _unclaimed(item: pytest.Item) -> bool:
    marker = item.get_closest_marker(MARKER)
    return bool(marker and marker.kwargs.get("unclaimed"))
