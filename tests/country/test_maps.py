"""The map of a country's run and its animation (views/maps.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import upheaval
from upheaval.results.recorder import FIGURE, RunDirectoryError
from upheaval.views.maps import clock_label, outlines, save_animation, save_map

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "three-towns" / "three-towns.toml"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("maps") / "run"
    upheaval.run(str(EXAMPLE), steps=24, seed=1, out=str(out))
    return out


def test_outlines_hold_the_country():
    kz = outlines()["Kazakhstan"]
    lons = np.concatenate([np.asarray(r)[:, 0] for r in kz])
    lats = np.concatenate([np.asarray(r)[:, 1] for r in kz])
    assert 46 < lons.min() < 48 and 86 < lons.max() < 88
    assert 40 < lats.min() < 41.5 and 55 < lats.max() < 56
    assert len(outlines()) > 150


def test_map_draws_places_coloured_by_unrest(run_dir, tmp_path):
    calm = save_map(run_dir, tick=0, path=tmp_path / "calm.png")
    hot = save_map(run_dir, tick=2, path=tmp_path / "hot.png")
    a = np.asarray(Image.open(calm).convert("RGB"), dtype=int)
    b = np.asarray(Image.open(hot).convert("RGB"), dtype=int)
    assert a.shape == b.shape

    # at tick 2 the towns are red: many more strongly red pixels than at tick 0
    def red(img):
        return int((img[..., 0] - img[..., 1] > 60).sum())

    assert red(b) > red(a) + 200


def test_animation_has_a_frame_per_step(run_dir, tmp_path):
    gif = save_animation(run_dir, tmp_path / "run.gif", every=6)
    with Image.open(gif) as im:
        assert im.n_frames == 5  # ticks 0, 6, 12, 18, 24


def test_clock_label():
    p = {"run.start": "2022-01-02T00:00:00+00:00", "run.tick_minutes": 60.0}
    assert clock_label(p, 30) == "tick 30 · 03 Jan 2022 06:00 UTC"
    assert clock_label({"run.start": "", "run.tick_minutes": 0.0}, 5) == "tick 5"


def test_a_one_lattice_run_has_no_map(tmp_path):
    out = tmp_path / "one"
    upheaval.run("epstein2002-run2", steps=3, seed=1, out=str(out))
    with pytest.raises(RunDirectoryError, match="no places to map"):
        save_map(out)


def test_the_run_command_maps_no_country_of_one_place(tmp_path):
    """kz2022-almaty is a country of one place: its table has no place column, and
    `upheaval run` draws its figure but no map (it had stopped with a traceback)."""
    out = tmp_path / "almaty"
    command = ["run", "kz2022-almaty", "--steps", "2", "--out", str(out), "--no-progress"]
    done = subprocess.run(
        [sys.executable, "-m", "upheaval.cli", *command],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (out / FIGURE).is_file() and not (out / "map.png").exists()
    with pytest.raises(RunDirectoryError, match="no places to map"):
        save_map(out)


def test_map_command_never_overwrites(run_dir, tmp_path):
    target = tmp_path / "mine.png"
    target.write_text("not ours")
    done = subprocess.run(
        [sys.executable, "-m", "upheaval.cli", "map", str(run_dir), "--out", str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "not overwritten" in done.stderr
    assert target.read_text() == "not ours"


def test_report_of_a_country_has_its_places_and_map(run_dir, tmp_path):
    from upheaval.results.places import place_summaries
    from upheaval.views.report import write_report

    out = write_report(run_dir, tmp_path / "country.html")
    text = out.read_text("utf-8")
    assert "<h2>Places</h2>" in text and "3 places, 3 links" in text
    assert text.count("data:image/png;base64,") >= 2  # the time series and the map
    for s in place_summaries(upheaval.results.read_run(run_dir)[1]):
        assert f'<td class="l">{s.place}</td>' in text
    assert "http://" not in text.split("</style>")[-1] and 'src="http' not in text
