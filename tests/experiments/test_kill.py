"""A real kill: SIGKILL an `upheaval sweep` mid-way, run it again, nothing lost or doubled."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from upheaval.experiments import read_runs
from upheaval.experiments.store import STATUS

ARGS = [
    "sweep", "epstein2002-run2", "--design", "lhs",
    "--param", "legitimacy=0.6:0.9", "--param", "cop_density=0.02:0.06",
    "--samples", "30", "--replicates", "2", "--steps", "150",
    "--set", "width=30", "--set", "height=30",
    "--workers", "2", "--batch-size", "2", "--no-progress",
]  # fmt: skip


def _sweep(out, **kw):
    cmd = [sys.executable, "-m", "upheaval.cli", *ARGS, "--out", str(out)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def _done(out) -> int:
    path = out / STATUS
    if not path.exists():
        return 0
    return sum(1 for line in path.read_text().splitlines() if '"done"' in line)


@pytest.mark.skipif(sys.platform == "win32", reason="process groups and SIGKILL are POSIX")
def test_sigkill_mid_sweep_then_resume(tmp_path):
    out = tmp_path / "killed"
    proc = _sweep(out, start_new_session=True)
    deadline = time.monotonic() + 120
    while _done(out) < 8:
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "the sweep made no progress"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and its workers, as a kill -9 of the job
    proc.wait()
    before = _done(out)
    assert 8 <= before < 60, f"{before} runs done before the kill: the kill came too late"

    again = _sweep(out)
    stdout, stderr = again.communicate(timeout=300)
    assert again.returncode == 0, stderr.decode()
    assert f"({60 - before} now, {before} before)" in stdout.decode()

    table = read_runs(out)
    keys = list(
        zip(table.column("point").to_pylist(), table.column("replicate").to_pylist(), strict=True)
    )
    assert len(keys) == len(set(keys)) == 60
    # every run logged done exactly once after the first attempt's lines
    entries = [json.loads(x) for x in (out / STATUS).read_text().splitlines() if x.strip()]
    done = [(e["point"], e["replicate"]) for e in entries if e["status"] == "done"]
    assert len(done) == len(set(done)) == 60

    fresh = _sweep(tmp_path / "fresh")
    _, stderr = fresh.communicate(timeout=300)
    assert fresh.returncode == 0, stderr.decode()
    assert table.equals(read_runs(tmp_path / "fresh"))


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_stops_the_sweep_keeping_finished_runs(tmp_path):
    out = tmp_path / "s"
    proc = _sweep(out)
    deadline = time.monotonic() + 120
    while _done(out) < 4:
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "the sweep made no progress"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr.decode()
    assert "run again to resume" in stderr.decode()
    done = _done(out)
    assert 4 <= done < 60
    assert read_runs(out).num_rows == done
