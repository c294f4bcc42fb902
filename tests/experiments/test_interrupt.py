"""Ctrl-C during a sweep: parts already written are kept, not orphaned.

A task whose worker has finished has written its part; if Ctrl-C comes before the
driver logged it, the part would be an orphan, deleted and its runs redone on
resume. The driver logs such tasks on its way out instead.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import upheaval
from upheaval.experiments import SerialExecutor, designs, read_runs, run_sweep
from upheaval.experiments.designs import parse_factor
from upheaval.experiments.store import SUMMARIES, read_status


def test_finished_tasks_are_logged_when_ctrl_c_comes(tmp_path, small_scenario):
    d = designs.grid([parse_factor("legitimacy=0.6:0.9")], levels=8)
    out = tmp_path / "s"

    def ctrl_c(done, failed, to_run):
        raise KeyboardInterrupt

    # SerialExecutor finishes each task as it is submitted: with two workers the
    # driver keeps four in flight, so four parts are written before the first is
    # recorded, and Ctrl-C comes at that first record.
    with pytest.raises(KeyboardInterrupt):
        run_sweep(
            small_scenario, d, out, steps=4, executor=SerialExecutor(), workers=2,
            batch_size=1, on_progress=ctrl_c,
        )  # fmt: skip
    status = read_status(out)
    parts = {f"{SUMMARIES}/{p.name}" for p in (out / SUMMARIES).iterdir()}
    assert len(parts) == 4
    assert {e["part"] for e in status.values() if e["status"] == "done"} == parts
    assert read_runs(out).num_rows == 4
    report = run_sweep(small_scenario, d, out, steps=4, executor=SerialExecutor())
    assert (report.already, report.done) == (4, 4)


def _status_lines(out: Path) -> int:
    return sum(len(p.read_text().splitlines()) for p in out.rglob("status.jsonl"))


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("command", ["compare", "calibrate"])
def test_sigterm_stops_compare_and_calibrate_like_ctrl_c_and_they_resume(tmp_path, command):
    obs = tmp_path / "obs"
    upheaval.run("epstein2002-run2", steps=30, out=obs, overrides={"width": 20, "height": 20})
    out = tmp_path / command
    args = {
        "compare": ["compare", "epstein2002-run2", "--what-if", "x:cop_density=0.06",
                    "-r", "12", "--resamples", "10"],
        "calibrate": ["calibrate", "epstein2002-run2", "--observed", str(obs),
                      "-p", "legitimacy=0.6:0.9", "--particles", "24", "--generations", "2"],
    }[command]  # fmt: skip
    args += ["--set", "width=20", "--set", "height=20", "--steps", "30", "--workers", "1"]
    args += ["--out", str(out), "--no-figure", "--no-progress"]
    cmd = [sys.executable, "-m", "upheaval.cli", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    while _status_lines(out) < 2:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no run finished"
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143, stderr
    assert "run again to resume" in stderr and "Traceback" not in stderr
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
