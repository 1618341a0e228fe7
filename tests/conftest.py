"""Shared test configuration: the ``pytester`` fixture tests the pytest plugin in isolated sessions."""

import pytest

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def _store_in_tmp(tmp_path, monkeypatch):
    """CLI runs keep their default result store in the test's own folder, never in the working tree."""
    monkeypatch.setattr("theory.cli.DEFAULT_STORE", tmp_path / "results.sqlite")
    monkeypatch.setenv("THEORYCHECK_CACHE_DIR", str(tmp_path / "cache"))  # nor the listing in the user's cache


@pytest.fixture
def float64():
    """torch's default dtype float64 for one test (families build their instances in the default dtype)."""
    import torch

    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)
