"""Figures and the progress bar: the PNG must show the series, not just exist."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.colors as mcolors
import matplotlib.image as mpimg
import numpy as np
import pytest

import upheaval
from upheaval.results import FIGURE, RunDirectoryError
from upheaval.views.figures import save_run_figure, timeseries_figure


def _pixels_near(img: np.ndarray, colour: str, tol: float = 0.08) -> int:
    rgb = np.array(mcolors.to_rgb(colour))
    return int(np.count_nonzero(np.all(np.abs(img[..., :3] - rgb) < tol, axis=-1)))


def test_model1_figure_draws_quiet_active_jailed_cops(tmp_path):
    backend = matplotlib.get_backend()
    upheaval.run("epstein2002-run2", steps=120, seed=1, out=tmp_path / "run")
    path = save_run_figure(tmp_path / "run")
    assert path == tmp_path / "run" / FIGURE
    img = mpimg.imread(path)
    assert img.ndim == 3 and img.shape[0] > 300 and img.shape[1] > 600
    # Not blank: mostly white background, with every series' colour present.
    assert img[..., :3].std() > 0.05
    for colour in ("tab:blue", "tab:red", "black", "tab:gray"):
        assert _pixels_near(img, colour) > 200, colour
    # Drawing used the Agg canvas directly; the process-wide backend is untouched.
    assert matplotlib.get_backend() == backend


def test_model2_figure_draws_both_groups_and_killings(tmp_path):
    upheaval.run("epstein2002-run7", steps=60, seed=1, out=tmp_path / "run")
    img = mpimg.imread(save_run_figure(tmp_path / "run", tmp_path / "fig.png"))
    assert _pixels_near(img, "tab:green") > 200
    assert _pixels_near(img, "tab:blue") > 200


def test_figure_axes_hold_the_data():
    sim = upheaval.Simulation(upheaval.load("epstein2002-run7"), seed=2).run(25)
    table = sim.table()
    fig = timeseries_figure(table, model2=True, title="t")
    top, bottom = fig.axes
    lines = {ln.get_label(): ln.get_ydata() for ln in top.get_lines()}
    assert "cops" not in lines  # run 7 has none; a flat zero line would hide the others
    np.testing.assert_array_equal(lines["Blue active"], table.column("active_blue").to_numpy())
    np.testing.assert_array_equal(lines["Green quiet"], table.column("quiet_green").to_numpy())
    killed = {ln.get_label(): ln.get_ydata() for ln in bottom.get_lines()}
    np.testing.assert_array_equal(
        killed["Green killed"], np.cumsum(table.column("killed_green").to_numpy())
    )
    fig1 = timeseries_figure(
        upheaval.Simulation(upheaval.load("epstein2002-run2"), seed=2).run(10).table(),
        model2=False,
    )
    assert [ln.get_label() for ln in fig1.axes[0].get_lines()] == [
        "quiet",
        "active",
        "jailed",
        "cops",
    ]


def test_figure_of_a_non_run_directory_fails_clearly(tmp_path):
    with pytest.raises(RunDirectoryError, match="not a run directory"):
        save_run_figure(tmp_path)


def test_progress_bar_counts_ticks(capsys):
    upheaval.run("epstein2002-run2", steps=20, seed=1, progress=True)
    err = capsys.readouterr().err
    assert "20/20" in err
    assert "epstein2002-run2 seed 1" in err


#: Every mechanism at work (strikes, provocateurs and their framing, forces that
#: think, killings and the legitimacy they cost): the golden case that keeps the
#: hand-written one-city scenario kz2022-almaty was before it became Almaty alone.
EVERYTHING = Path(__file__).resolve().parent / "golden" / "cases" / "everything.toml"


def test_mechanism_panel_draws_events_legitimacy_and_framing():
    scenario = upheaval.load_file(EVERYTHING)
    sim = upheaval.Simulation(scenario, seed=3).run(120)
    table = sim.table()
    fig = timeseries_figure(table, model2=False, title="mechanisms")
    top, bottom, share = fig.axes
    strikers = {ln.get_label(): ln.get_ydata() for ln in top.get_lines()}["striking"]
    np.testing.assert_array_equal(strikers, table.column("striking").to_numpy())
    events = {ln.get_label(): ln.get_ydata() for ln in bottom.get_lines()}
    np.testing.assert_array_equal(
        events["stood aside"], np.cumsum(table.column("stood_aside").to_numpy())
    )
    assert "provocations" in events and "killed by cops" in events
    assert "defected" in events or not table.column("defected").to_numpy().any()
    shares = {ln.get_label(): ln.get_ydata() for ln in share.get_lines()}
    np.testing.assert_array_equal(shares["legitimacy"], table.column("legitimacy").to_numpy())
    np.testing.assert_array_equal(shares["framing"], table.column("framing").to_numpy())
    # the classic model keeps its one panel
    classic = upheaval.Simulation(upheaval.load("epstein2002-run2"), seed=2).run(20).table()
    assert len(timeseries_figure(classic, model2=False).axes) == 1
