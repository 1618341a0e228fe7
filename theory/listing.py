"""What ``theorycheck list`` shows, kept in a per-user cache (``cache_file``), never in the current folder.

Building the registry imports torch and every plugin and parses every claim (seconds); what it lists changes
only when a plugin's or the core's source changes, a plugin is installed or removed, or plugin autoloading is
switched. The cache is keyed by exactly those, read from file metadata without importing any plugin, so a
listing from the cache is the listing a fresh build would give.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from theory.sources import BUILTIN_FAMILIES, DISABLE_AUTOLOAD, ENTRY_POINT_GROUP

FORMAT = 1  # bump when the listing's shape changes
CACHE_ENV = "THEORYCHECK_CACHE_DIR"


def cache_file() -> Path:
    """Where the listing is cached: ``$THEORYCHECK_CACHE_DIR``, else ``$XDG_CACHE_HOME/theorycheck``, else
    ``~/.cache/theorycheck`` (the XDG default): listing plugins must not write into the folder it is run from."""
    folder = os.environ.get(CACHE_ENV)
    if not folder:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        folder = str(Path(base) / "theorycheck")
    return Path(folder) / "listing.json"


def plugin_listing(cache: Path | None = None) -> dict[str, Any]:
    """The listing (``theorycheck list --json``'s document), from ``cache`` (default ``cache_file()``) when it
    is current."""
    cache = cache or cache_file()
    key = fingerprint()
    try:
        cached = json.loads(cache.read_text())
        if cached["key"] == key:
            return cached["listing"]
    except (OSError, ValueError, KeyError, TypeError):
        pass  # missing, unreadable or foreign: build afresh
    listing = build_listing()
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(".tmp")
        partial.write_text(json.dumps({"key": key, "listing": listing}))
        partial.replace(cache)
    except OSError:
        pass  # a read-only folder only costs the next listing its speed
    return listing


def build_listing() -> dict[str, Any]:
    """Build the registry and describe it."""
    from theory.registry import build_registry
    from theory.render import algorithm_row

    registry = build_registry()
    return {
        "algorithms": [algorithm_row(registry.algorithms[name], registry.owners[name])
                       for name in sorted(registry.algorithms)],
        "families": [{"family": name, "description": family.description, "plugin": registry.owners[name]}
                     for name, family in sorted(registry.families.items())],
        "errors": [{"plugin": error.plugin, "cause": error.cause} for error in registry.errors]}


def fingerprint() -> str:
    """A hash of everything the listing depends on: sources (path, size, mtime), entry points, the switch."""
    points = sorted({(ep.name, ep.value, ep.dist.name if ep.dist else "", ep.dist.version if ep.dist else "")
                     for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)})
    modules = {"theory", *BUILTIN_FAMILIES, *(value.partition(":")[0] for _, value, _, _ in points)}
    files = sorted({path for module in modules for path in _source_files(module.partition(".")[0])})
    stats = [(str(path), path.stat().st_mtime_ns, path.stat().st_size) for path in files if path.exists()]
    text = json.dumps([FORMAT, sys.version, os.environ.get(DISABLE_AUTOLOAD, ""), points, stats])
    return hashlib.sha256(text.encode()).hexdigest()


def _source_files(top_level: str) -> list[Path]:
    """The Python files of a top-level module or package, found without importing it."""
    try:
        spec = importlib.util.find_spec(top_level)
    except (ImportError, ValueError):
        return []
    if spec is None:
        return []
    if spec.submodule_search_locations:
        return [path for folder in spec.submodule_search_locations for path in Path(folder).rglob("*.py")]
    return [Path(spec.origin)] if spec.origin else []
