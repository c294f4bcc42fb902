"""No data loss through ``--out``: every writing command (run, sweep, calibrate, compare)
refuses a directory it did not create, with or without ``--force``, and ``--force``
removes only what that command's kind of directory holds (results/directories.py).

Each command is driven from the command line in-process; every refusal must come
before anything is removed or created, so each test compares the directory's whole
tree before and after.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

import upheaval
from upheaval.cli import app
from upheaval.experiments import SerialExecutor, designs, run_sweep
from upheaval.experiments.calibration import calibrate
from upheaval.experiments.compare import compare
from upheaval.experiments.designs import parse_factor
from upheaval.experiments.store import StoreError
from upheaval.results import RunDirectoryError, read_run
from upheaval.results.directories import CALIBRATION, COMPARISON, RUN, SWEEP, kind_of

runner = CliRunner()
RUN2 = "epstein2002-run2"
TINY = ["--set", "width=16", "--set", "height=16", "--steps", "3"]


def _tree(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its bytes (None for a directory)."""
    return {
        str(p.relative_to(root)): (None if p.is_dir() else p.read_bytes())
        for p in sorted(root.rglob("*"))
    }


def _project(tmp_path: Path) -> Path:
    """A user's folder that no command made: it must survive every command."""
    d = tmp_path / "project"
    (d / "data").mkdir(parents=True)
    (d / "thesis.tex").write_text("precious")
    (d / "data" / "observations.csv").write_text("a,b\n1,2\n")
    # names a sweep, a calibration and a comparison would hold, to tempt --force
    (d / "manifest.json").write_text('{"mine": true}')
    (d / "status.jsonl").write_text("my log\n")
    (d / "summaries").mkdir()
    (d / "gen-01").mkdir()
    (d / "gen-01" / "notes.txt").write_text("mine")
    (d / "variants").mkdir()
    return d


def _sweep_args(out: Path) -> list[str]:
    return ["sweep", RUN2, "-p", "legitimacy=0.6:0.9", "--samples", "2", *TINY, "--out", str(out)]


def _calibrate_args(out: Path, observed: Path) -> list[str]:
    return [
        "calibrate", RUN2, "--observed", str(observed), "-p", "legitimacy=0.6:0.9",
        "--particles", "2", "--generations", "1", *TINY, "--out", str(out),
        "--no-figure", "--workers", "1",
    ]  # fmt: skip


def _compare_args(out: Path) -> list[str]:
    return [
        "compare", RUN2, "--what-if", "more:cop_density=0.08", "--replicates", "2",
        *TINY, "--out", str(out), "--no-figure", "--workers", "1", "--resamples", "20",
    ]  # fmt: skip


def _run_args(out: Path) -> list[str]:
    return ["run", RUN2, *TINY, "--out", str(out), "--no-progress", "--no-figure"]


@pytest.fixture(scope="module")
def small_scenario():
    return upheaval.apply_overrides(upheaval.load(RUN2), {"width": 16, "height": 16})


@pytest.fixture(scope="module")
def observed(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("obs") / "run"
    upheaval.run(RUN2, steps=3, out=out, overrides={"width": 16, "height": 16})
    return out


COMMANDS = {
    "run": lambda out, obs: _run_args(out),
    "sweep": lambda out, obs: [*_sweep_args(out), "--no-progress", "--workers", "1"],
    "calibrate": _calibrate_args,
    "compare": lambda out, obs: _compare_args(out),
}


def _refused(result, *needles: str) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("force", [False, True])
def test_a_folder_no_command_made_is_never_touched(tmp_path, observed, command, force):
    d = _project(tmp_path)
    before = _tree(d)
    args = COMMANDS[command](d, observed) + (["--force"] if force else [])
    _refused(runner.invoke(app, args), str(d), "refusing")
    assert _tree(d) == before  # nothing removed, nothing written (not even a lock file)


def _make(kind: str, out: Path, observed: Path) -> None:
    r = runner.invoke(app, COMMANDS[kind](out, observed))
    assert r.exit_code == 0, r.output


@pytest.fixture(scope="module")
def made(tmp_path_factory, observed) -> dict[str, Path]:
    """One directory of each kind, made by its command (copied by the tests)."""
    base = tmp_path_factory.mktemp("made")
    out = {}
    for kind in COMMANDS:
        out[kind] = base / kind
        _make(kind, out[kind], observed)
    return out


def _copy(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_each_command_marks_its_directory(made):
    expected = {"run": RUN, "sweep": SWEEP, "calibrate": CALIBRATION, "compare": COMPARISON}
    for command, d in made.items():
        assert kind_of(d) is expected[command], command
    # the nested sweeps of a calibration and a comparison are sweeps
    assert kind_of(made["calibrate"] / "gen-00" / "round-00") is SWEEP
    assert kind_of(made["compare"] / "variants" / "baseline") is SWEEP


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("other", sorted(COMMANDS))
def test_force_never_clears_another_kind(tmp_path, made, observed, command, other):
    if command == other:
        return
    d = _copy(made[other], tmp_path / other)
    before = _tree(d)
    args = [*COMMANDS[command](d, observed), "--force"]
    _refused(runner.invoke(app, args), str(d), "refusing")
    assert _tree(d) == before


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_force_clears_own_kind_but_not_a_stranger_inside_it(tmp_path, made, observed, command):
    d = _copy(made[command], tmp_path / command)
    (d / "my-notes.txt").write_text("mine")
    before = _tree(d)
    args = [*COMMANDS[command](d, observed), "--force"]
    _refused(runner.invoke(app, args), "my-notes.txt", "refusing to remove anything")
    assert _tree(d) == before
    (d / "my-notes.txt").unlink()
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    assert kind_of(d) is not None


def test_sweep_force_replaces_only_its_own_sweep(tmp_path, small_scenario):
    out = tmp_path / "s"
    d1 = designs.grid([parse_factor("legitimacy=0.6:0.9")], levels=2)
    run_sweep(small_scenario, d1, out, steps=3, executor=SerialExecutor())
    d2 = designs.grid([parse_factor("legitimacy=0.6:0.9")], levels=3)
    with pytest.raises(StoreError, match=r"different sweep .*force=True"):
        run_sweep(small_scenario, d2, out, steps=3, executor=SerialExecutor())
    report = run_sweep(small_scenario, d2, out, steps=3, executor=SerialExecutor(), force=True)
    assert report.done == 3 and report.already == 0


def test_python_api_names_its_own_argument(tmp_path):
    out = tmp_path / "r"
    upheaval.run(RUN2, steps=2, out=out)
    with pytest.raises(RunDirectoryError) as e:
        upheaval.run(RUN2, steps=2, out=out)
    assert "overwrite=True" in str(e.value) and "--force" not in str(e.value)
    # and the command line says the flag
    r = runner.invoke(app, _run_args(out))
    _refused(r, "--force")
    assert "overwrite=True" not in r.stderr


def test_calibrate_and_compare_python_api_refuse_a_stranger(tmp_path, small_scenario):
    d = _project(tmp_path)
    before = _tree(d)
    obs = upheaval.run(small_scenario, steps=3)
    from upheaval.experiments.summary_stats import Observed, run_statistics

    o = Observed("x", "run", run_statistics(obs.table()), tuple(run_statistics(obs.table())))
    for force in (False, True):
        with pytest.raises(ValueError, match="refusing"):
            calibrate(small_scenario, o, [parse_factor("legitimacy=0.6:0.9")], d, force=force)
        with pytest.raises(StoreError, match="refusing"):
            compare(small_scenario, ["x:cop_density=0.05"], d, replicates=2, force=force)
    assert _tree(d) == before


# -- where --out cannot be ------------------------------------------------------------------


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_out_is_a_file_or_under_a_file(tmp_path, observed, command):
    f = tmp_path / "a-file"
    f.write_text("keep")
    for out, needle in ((f, "not a directory"), (f / "sub", "a parent of it is a file")):
        _refused(runner.invoke(app, COMMANDS[command](out, observed)), str(out), needle)
    assert f.read_text() == "keep"


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_out_on_a_read_only_file_system(tmp_path, observed, command, monkeypatch):
    # A real read-only mount needs privileges a test does not have; the failure the
    # kernel would give (EROFS from mkdir and from creating a file) is reproduced.
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(os, "mkdir", read_only)
    out = tmp_path / "ro" / "out"
    _refused(runner.invoke(app, COMMANDS[command](out, observed)), str(out), "ead-only file system")
    monkeypatch.undo()
    (tmp_path / "ro2").mkdir()
    real_open = os.open

    def no_create(path, flags, *args, **kwargs):
        if flags & os.O_CREAT and str(path).startswith(str(tmp_path / "ro2")):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", no_create)
    _refused(
        runner.invoke(app, COMMANDS[command](tmp_path / "ro2", observed)),
        str(tmp_path / "ro2"),
        "ead-only file system",
    )


def test_a_run_directory_still_reads_after_a_refused_sweep(tmp_path, made, observed):
    d = _copy(made["run"], tmp_path / "run")
    r = runner.invoke(app, [*_sweep_args(d), "--force", "--no-progress"])
    _refused(r, "holds the results of a run")
    manifest, table = read_run(d)
    assert manifest["status"] == "complete" and table.num_rows == 4
    assert json.loads((d / "manifest.json").read_text())["format"] == "upheaval-run/1"
