"""Data out: --json rows carry grid, points, experiment and provenance; export round-trips the per-seed data."""

from __future__ import annotations

import json

import fake_plugins as fakes
import pytest

from theory import cli, export
from theory.store import Store


@pytest.fixture
def stored(monkeypatch, tmp_path, capsys):
    """A store holding the toy algorithm's claim and its caught mutant."""
    fakes.install(monkeypatch, ("fake", fakes.Plugin(fakes.algorithm())))
    db = tmp_path / "results.sqlite"
    assert cli.main(["audit", "--store", str(db), "-q", "--seed", "3"]) == 0
    capsys.readouterr()
    return db


def test_json_rows_carry_grid_points_experiment_and_provenance(monkeypatch, capsys):
    fakes.install(monkeypatch, ("fake", fakes.Plugin(fakes.algorithm())))
    assert cli.main(["run", "--no-store", "--json", "--seed", "2", "--quick"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["grid"] == list(fakes.GRID)
    assert [p["x"] for p in row["points"]] == row["grid"]
    assert all(p["low"] <= p["mean"] <= p["high"] for p in row["points"])
    experiment = row["experiment"]
    assert (experiment["family"], experiment["over"], experiment["form"]) == ("toy-bandit", "T", "C*sqrt(T)")
    provenance = row["provenance"]
    assert (provenance["base_seed"], provenance["quick"], provenance["device"]) == (2, True, "cpu")
    assert provenance["seeds"] == 16 and provenance["elapsed_s"] > 0 and "torch" in provenance["environment"]


def test_csv_export_round_trips_the_per_seed_data(stored, tmp_path, capsys):
    out = tmp_path / "data.csv"
    assert cli.main(["export", "--store", str(stored), "--out", str(out)]) == 0
    rows = export.read(out)
    expected = export.tidy(Store(stored).results())
    assert rows == expected
    # one row per (version, x, seed): the claim's trace and the mutant's, 16 seeds x 5 grid points each
    assert len(rows) == 2 * 16 * len(fakes.GRID)
    assert {r["mutant"] for r in rows} == {None, "linear"} and {r["algorithm"] for r in rows} == {"fake"}
    assert {r["seed"] for r in rows} == {3 * 1_000_003 + i for i in range(16)}
    first = next(r for r in rows if r["mutant"] is None and r["x"] == 256.0)
    assert first["metric"] == "regret" and first["value"] == pytest.approx(16.0, rel=0.1)


def test_parquet_export_and_dataframe_round_trip(stored, tmp_path):
    pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    out = tmp_path / "data.parquet"
    assert cli.main(["export", "--store", str(stored), "--out", str(out)]) == 0
    assert export.read(out) == export.tidy(Store(stored).results())
    frame = export.dataframe(Store(stored).results())
    assert list(frame.columns) == list(export.COLUMNS) and len(frame) == 2 * 16 * len(fakes.GRID)
    assert frame.groupby("mutant", dropna=False)["value"].max().notna().all()


def test_export_without_a_store_is_a_usage_error(tmp_path, capsys):
    assert cli.main(["export", "--store", str(tmp_path / "none.sqlite")]) == 2
    assert "no store at" in capsys.readouterr().err
