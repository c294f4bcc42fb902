"""A run killed outright (SIGKILL, the OOM killer) loses at most its last flush window.

Two kinds of test: a real ``kill -9`` of ``upheaval run`` in a subprocess, at a few
moments of a long run, after which ``read_run``, ``upheaval show`` and
``upheaval query`` must read every tick up to the last flush, exactly as an
uninterrupted run computes them; and a process forked from the test that
SIGKILLs itself at each step of writing a part and of closing the run (merging
the parts into ticks.parquet, removing them, finishing the manifest), the
instants a kill from outside would only hit by luck.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import upheaval
from upheaval.cli import app
from upheaval.results import MANIFEST, TICKS, Recorder, read_run, read_snapshots
from upheaval.results import recorder as recorder_module

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and fork are POSIX")

RUN2 = "epstein2002-run2"
ENTRY_POINT = Path(sys.executable).with_name("upheaval")
runner = CliRunner()


def _parts(out: Path) -> list[str]:
    d = out / "ticks"
    return sorted(p.name for p in d.iterdir() if p.suffix == ".parquet") if d.is_dir() else []


def _expected(seed: int, last_tick: int):
    return upheaval.Simulation(upheaval.load(RUN2), seed=seed).run(last_tick).table()


def _check_readable(out: Path, seed: int, at_least: int) -> int:
    """Everything on disk reads back, by every reader, as the uninterrupted run."""
    manifest, table = read_run(out)
    ticks = table.column("tick").to_pylist()
    assert ticks == list(range(len(ticks))), "ticks missing or out of order"
    assert len(ticks) >= at_least
    assert table.equals(_expected(seed, len(ticks) - 1))
    # the manifest lags at most one part behind what is on disk
    assert manifest["ticks"]["count"] in (len(ticks), len(ticks) - 20, 0)

    shown = runner.invoke(app, ["show", str(out)])
    assert shown.exit_code == 0, shown.output
    assert f"({len(ticks)} rows)" in shown.stdout
    queried = runner.invoke(
        app, ["query", str(out), "SELECT count(*) AS n, max(tick) AS t FROM ticks", "-f", "json"]
    )
    assert queried.exit_code == 0, queried.output
    assert json.loads(queried.stdout) == {"n": len(ticks), "t": len(ticks) - 1}
    return len(ticks)


@pytest.mark.parametrize("flushes", [0, 1, 4])
def test_kill_9_during_a_run_keeps_every_flushed_tick(tmp_path, flushes):
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [
            str(ENTRY_POINT), "run", RUN2, "--steps", "1000000", "--seed", "5",
            "--out", str(out), "--flush-every", "20", "--no-figure",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        # 0 flushes: killed as soon as the run directory exists (nothing flushed yet)
        while not (out / MANIFEST).exists() or len(_parts(out)) < flushes:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the run wrote no parts"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert json.loads((out / MANIFEST).read_text())["status"] == "running"
    assert not (out / TICKS).exists()  # it never closed
    if not _parts(out):
        _, table = read_run(out)
        assert table.num_rows == 0  # the first window, lost: nothing else was there
        return
    n = _check_readable(out, seed=5, at_least=20 * flushes)
    assert n % 20 == 0  # whole flush windows only
    # and the directory is still a run directory that --force may replace
    r = runner.invoke(
        app, ["run", RUN2, "--steps", "3", "--out", str(out), "--force", "--no-progress"]
    )
    assert r.exit_code == 0, r.output
    assert not (out / "ticks").exists() and read_run(out)[1].num_rows == 4


# -- a kill at each step of writing and closing ---------------------------------------------

MOMENTS = (
    "part-written-not-renamed",
    "merged-file-written-not-renamed",
    "merged-file-renamed-parts-still-there",
    "half-the-parts-removed",
    "before-the-final-manifest",
)


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _record_and_die(out: Path, moment: str) -> None:
    """In a forked child: record 35 ticks (flushes of 10) with snapshots, dying at
    ``moment``."""
    real_atomic = recorder_module._write_atomically
    real_rmtree = recorder_module.shutil.rmtree
    real_json = recorder_module._write_json
    calls = {"parts": 0}

    def atomic(path, write):
        if moment == "part-written-not-renamed" and path.parent.name == "ticks":
            calls["parts"] += 1
            if calls["parts"] == 3:
                write(path.with_name(f".{path.name}.tmp"))
                _die()
        if moment == "merged-file-written-not-renamed" and path.name == TICKS:
            write(path.with_name(f".{path.name}.tmp"))
            _die()
        real_atomic(path, write)

    def rmtree(path, *args, **kwargs):
        if moment == "merged-file-renamed-parts-still-there":
            _die()
        if moment == "half-the-parts-removed" and Path(path).name == "ticks":
            parts = sorted(Path(path).iterdir())
            for p in parts[: len(parts) // 2]:
                p.unlink()
            _die()
        real_rmtree(path, *args, **kwargs)

    def write_json(path, obj):
        if moment == "before-the-final-manifest" and obj.get("finished_utc"):
            _die()
        real_json(path, obj)

    recorder_module._write_atomically = atomic
    recorder_module.shutil.rmtree = rmtree
    recorder_module._write_json = write_json
    sim = upheaval.Simulation(upheaval.load(RUN2), seed=2)
    rec = Recorder(out, sim, flush_every=10, snapshots=(0, 12, 30))
    sim.run(35, on_tick=rec.on_tick)
    rec.close()


@pytest.mark.parametrize("moment", MOMENTS)
def test_a_kill_at_each_step_of_writing_and_closing(tmp_path, moment):
    out = tmp_path / "run"
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            _record_and_die(out, moment)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status
    _, table = read_run(out)
    ticks = table.column("tick").to_pylist()
    # a kill while writing the third part loses that window only; a kill while
    # closing loses nothing (the last window was flushed before the merge began)
    expected = 20 if moment == "part-written-not-renamed" else 36
    assert ticks == list(range(expected))
    assert table.equals(upheaval.Simulation(upheaval.load(RUN2), seed=2).run(expected - 1).table())
    snaps = read_snapshots(out)
    assert sorted(snaps) == ([0, 12] if moment == "part-written-not-renamed" else [0, 12, 30])
    # leftovers (a temporary file, parts beside a merged file) are a run's own
    r = runner.invoke(
        app, ["run", RUN2, "--steps", "2", "--out", str(out), "--force", "--no-progress"]
    )
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, TICKS, "timeseries.png"]
