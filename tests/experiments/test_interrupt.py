"""Ctrl-C during a sweep: parts already written are kept, not orphaned.

A task whose worker has finished has written its part; if Ctrl-C comes before the
driver logged it, the part would be an orphan, deleted and its runs redone on
resume. The driver logs such tasks on its way out instead.
"""

from __future__ import annotations

import pytest

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
