"""The cached listing of ``theorycheck list``: the same as a fresh build, rebuilt when what it depends on
changes, and never trusted when the cache file is damaged."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import fake_plugins as fakes

from theory import listing


def test_the_cached_listing_is_the_fresh_one_and_is_reused(monkeypatch, tmp_path):
    fakes.install(monkeypatch, ("fake", fakes.Plugin(fakes.algorithm())))
    cache = tmp_path / "listing.json"
    first = listing.plugin_listing(cache)
    assert first == listing.build_listing()
    assert json.loads(cache.read_text())["listing"] == first
    monkeypatch.setattr(listing, "build_listing", lambda: {"rebuilt": True})
    assert listing.plugin_listing(cache) == first  # nothing changed: no rebuild


def test_a_damaged_cache_is_rebuilt(monkeypatch, tmp_path):
    cache = tmp_path / "listing.json"
    cache.write_text("{not json")
    monkeypatch.setattr(listing, "build_listing", lambda: {"rebuilt": True})
    assert listing.plugin_listing(cache) == {"rebuilt": True}
    cache.write_text(json.dumps({"key": "from another version", "listing": {"stale": True}}))
    assert listing.plugin_listing(cache) == {"rebuilt": True}


def test_the_key_changes_with_a_plugin_source_and_with_the_autoload_switch(monkeypatch, tmp_path):
    package = tmp_path / "tc_fake_package"
    package.mkdir()
    module = package / "plugin.py"
    module.write_text("X = 1\n")
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(listing, "BUILTIN_FAMILIES", ("tc_fake_package.plugin",))
    monkeypatch.delenv(listing.DISABLE_AUTOLOAD, raising=False)
    before = listing.fingerprint()
    assert listing.fingerprint() == before
    stat = module.stat()
    os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    edited = listing.fingerprint()
    assert edited != before
    monkeypatch.setenv(listing.DISABLE_AUTOLOAD, "1")
    assert listing.fingerprint() != edited


def test_a_cached_list_imports_neither_torch_nor_sympy(tmp_path):
    probe = ("import contextlib, io, sys; from theory import cli\n"
             "with contextlib.redirect_stdout(io.StringIO()): cli.main(['list'])\n"
             "print(sorted({'torch', 'sympy'} & set(sys.modules)))")
    run = [sys.executable, "-c", probe]
    first = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    second = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert first.strip() == "['sympy', 'torch']"  # the first listing builds the registry
    assert second.strip() == "[]"


def test_list_keeps_its_cache_in_the_user_cache_folder_not_the_current_one(monkeypatch, tmp_path, capsys):
    """Issue 17, item 7: ``theorycheck list`` wrote .theorycheck/listing.json into whatever folder it ran in."""
    from theory import cli

    work = tmp_path / "project"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.delenv(listing.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cli.main(["list", "--json"]) == 0
    capsys.readouterr()
    assert list(work.iterdir()) == []
    assert (tmp_path / "xdg" / "theorycheck" / "listing.json").is_file()
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert listing.cache_file() == tmp_path / "home" / ".cache" / "theorycheck" / "listing.json"
    monkeypatch.setenv(listing.CACHE_ENV, str(tmp_path / "mine"))
    assert listing.cache_file() == tmp_path / "mine" / "listing.json"
