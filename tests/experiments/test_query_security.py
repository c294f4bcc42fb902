"""`upheaval query`, `query()` and `connect()` are read-only and confined to the results
they were given, and a part changed after it was written is noticed.

Every attack a hostile tester tried is tried again here, from the command line and
from Python: reading a file outside the store, globbing a home directory, writing
files (COPY … TO, EXPORT DATABASE), attaching a database, installing and loading
extensions, undoing the settings, and overwriting the store's own parts. Each must
fail with an error (one line, exit 2, from the command line) and leave every file
under the test's directory exactly as it was.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from upheaval.cli import app
from upheaval.experiments import SerialExecutor, designs, run_sweep
from upheaval.experiments.designs import parse_factor
from upheaval.experiments.store import (
    STATUS,
    QueryError,
    StoreError,
    connect,
    query,
    read_runs,
    read_status,
)

runner = CliRunner()


def _tree(root: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(root)): (None if p.is_dir() else p.read_bytes())
        for p in sorted(root.rglob("*"))
    }


def _sweep(small_scenario, out: Path, ticks: bool = True):
    d = designs.grid([parse_factor("legitimacy=0.6:0.9")], levels=3, replicates=2)
    return run_sweep(
        small_scenario, d, out, steps=5, executor=SerialExecutor(), keep_ticks=ticks, batch_size=2
    )


@pytest.fixture(scope="module")
def made(tmp_path_factory, small_scenario) -> Path:
    root = tmp_path_factory.mktemp("made")
    _sweep(small_scenario, root / "sweep")
    return root / "sweep"


@pytest.fixture
def world(tmp_path, made) -> dict[str, Path]:
    """A store, a secret beside it and a home directory, all under tmp_path."""
    store = tmp_path / "store"
    shutil.copytree(made, store)
    (tmp_path / "secret.csv").write_text("password\nhunter2\n")
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("KEY")
    part = sorted((store / "summaries").iterdir())[0]
    return {"root": tmp_path, "store": store, "secret": tmp_path / "secret.csv",
            "home": home, "part": part}  # fmt: skip


def _attacks(w: dict[str, Path]) -> dict[str, str]:
    s, secret, home, part = w["store"], w["secret"], w["home"], w["part"]
    return {
        "read_csv outside the store": f"SELECT * FROM read_csv('{secret}')",
        "read_text outside the store": f"SELECT * FROM read_text('{secret}')",
        "glob of a home directory": f"SELECT * FROM glob('{home}/**')",
        "COPY TO a file": f"COPY (SELECT 1 AS x) TO '{w['root'] / 'out.csv'}'",
        "EXPORT DATABASE": f"EXPORT DATABASE '{w['root'] / 'exported'}'",
        "ATTACH a database": f"ATTACH '{w['root'] / 'x.db'}' AS x",
        "INSTALL an extension": "INSTALL httpfs",
        "LOAD an extension": "LOAD httpfs",
        "undo the settings": "SET enable_external_access = true",
        "overwrite a part": (
            f"COPY (SELECT * REPLACE (999999 AS peak_active) FROM runs) TO '{part}' "
            "(FORMAT parquet, USE_TMP_FILE false)"
        ),
        "read a part behind the views' back": f"SELECT * FROM read_parquet('{s}/summaries/*')",
        "a write after a read": f"SELECT 1; COPY (SELECT 1) TO '{w['root'] / 'o.csv'}'",
        "create a table": "CREATE TABLE t AS SELECT 1",
    }


def test_every_attack_fails_from_the_command_line(world):
    before = _tree(world["root"])
    for name, sql in _attacks(world).items():
        r = runner.invoke(app, ["query", str(world["store"]), sql])
        assert r.exit_code == 2, (name, r.output)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: query: "), (name, r.stderr)
        assert "hunter2" not in r.output and "id_rsa" not in r.output, name
    assert _tree(world["root"]) == before
    # and the store still reads, unchanged
    sql = "SELECT count(*) AS n FROM runs"
    r = runner.invoke(app, ["query", str(world["store"]), sql, "-f", "json"])
    assert r.exit_code == 0 and json.loads(r.stdout) == {"n": 6}


def test_every_attack_fails_from_python(world):
    before = _tree(world["root"])
    for name, sql in _attacks(world).items():
        with pytest.raises(QueryError):
            query(world["store"], sql)
        con = connect(world["store"])
        try:
            if name == "create a table":
                con.execute(sql)  # in memory only, which a raw connection may do
                continue
            with pytest.raises(duckdb.Error):
                con.execute(sql).fetchall()
        finally:
            con.close()
    assert _tree(world["root"]) == before


def test_opting_out_is_explicit_and_works(world):
    target = world["root"] / "copy.csv"
    con = connect(world["store"], confined=False)
    try:
        con.execute(f"COPY (SELECT point, peak_active FROM runs) TO '{target}'")
    finally:
        con.close()
    assert target.read_text().startswith("point,peak_active")
    t = query(world["store"], f"SELECT count(*) AS n FROM read_csv('{target}')", confined=False)
    assert t.column("n").to_pylist() == [6]


def _forge(part: Path) -> None:
    t = pq.read_table(part)
    col = t.schema.get_field_index("peak_active")
    pq.write_table(t.set_column(col, "peak_active", pa.array([999999] * t.num_rows)), part)


def test_a_changed_part_is_noticed_by_query_and_resume(world, small_scenario):
    _forge(world["part"])
    rel = f"summaries/{world['part'].name}"
    r = runner.invoke(app, ["query", str(world["store"]), "SELECT max(peak_active) FROM runs"])
    assert r.exit_code == 2, r.output
    assert rel in r.stderr and "changed after it was written" in r.stderr
    with pytest.raises(StoreError, match="changed after it was written") as e:
        read_runs(world["store"])
    assert rel in str(e.value)
    with pytest.raises(StoreError, match="changed after it was written"):
        _sweep(small_scenario, world["store"])
    # a ticks part too
    ticks_part = sorted((world["store"] / "ticks").iterdir())[0]
    world["part"].unlink()
    with ticks_part.open("r+b") as fh:
        fh.seek(100)
        fh.write(b"\x00\x01\x02")
    with pytest.raises(StoreError, match=f"ticks/{ticks_part.name}: changed"):
        _sweep(small_scenario, world["store"])


def test_a_deleted_part_is_redone_on_resume(world, small_scenario, made):
    expected = read_runs(made)
    world["part"].unlink()
    with pytest.raises(StoreError, match="missing"):
        read_runs(world["store"])
    report = _sweep(small_scenario, world["store"])
    assert report.done == 2 and report.already == 4  # the part held one task: two runs
    assert read_runs(world["store"]).equals(expected)
    assert read_status(world["store"])[(0, 0)].get("part_sha256")


def test_the_status_log_records_checksums(made):
    entries = [json.loads(x) for x in (made / STATUS).read_text().splitlines()]
    assert all(len(e["part_sha256"]) == 64 and len(e["ticks_part_sha256"]) == 64 for e in entries)


def test_ticks_of_a_sweep_without_them_says_so(tmp_path, small_scenario):
    _sweep(small_scenario, tmp_path / "s", ticks=False)
    r = runner.invoke(app, ["query", str(tmp_path / "s"), "SELECT * FROM ticks"])
    assert r.exit_code == 2 and "--ticks" in r.stderr and "no ticks view" in r.stderr


def test_query_mistakes(world):
    store = str(world["store"])
    for args, needle in (
        (["--limit", "-1"], "--limit"),
        (["--limit", "0"], "--limit"),
        (["-f", "xml"], "--format"),
    ):
        r = runner.invoke(app, ["query", store, "SELECT 1", *args])
        assert r.exit_code == 2 and needle in r.stderr and len(r.stderr.splitlines()) == 1
    r = runner.invoke(app, ["query", store, "SELECT * FROM nope"])
    assert r.exit_code == 2 and "no table or view 'nope'" in r.stderr and "runs" in r.stderr
    r = runner.invoke(app, ["query", store, "SELEC 1"])
    assert r.exit_code == 2 and "syntax error" in r.stderr.lower()
    r = runner.invoke(app, ["query", str(world["secret"]), "SELECT 1"])
    assert r.exit_code == 2 and "not a directory" in r.stderr
