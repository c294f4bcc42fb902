"""The security forces by unit over time (docs/odd.md §12.2, outputs): the units'
history a run records every tick when its timeline brings named units, what it adds
up to, its checkpoints, and a run without units recording nothing."""

from __future__ import annotations

import numpy as np
import pytest

import upheaval
from country.helpers import country_scenario, three_towns
from upheaval.engine.simulation import Checkpoint
from upheaval.model.timeline import ActionEvent

COLUMNS = ["tick", "place", "unit", "on_duty", "on_guard", "in_transit"]

#: A foreign unit reinforces Alpha, part of it is sent to Gamma (600 km by rail: on
#: the way for some ticks), then some of it is withdrawn at Alpha, and the rest of
#: Gamma's members all at once.
TIMELINE = (
    ActionEvent(tick=2, action="reinforce", place="Alpha", count=8, unit="csto", origin="foreign"),
    ActionEvent(tick=4, action="send", place="Alpha", to="Gamma", unit="csto", count=5),
    ActionEvent(tick=6, action="send", place="Beta", to="Alpha", count=3),
    ActionEvent(tick=9, action="withdraw", place="Alpha", unit="csto", count=2),
    ActionEvent(tick=25, action="withdraw", place="Gamma", unit="csto"),
)


def _scenario(timeline=TIMELINE, **params):
    base = dict(legitimacy=0.8, steps=30, transport_enabled=True)
    base.update(params)
    return country_scenario(three_towns(), timeline, **base)


@pytest.fixture(scope="module")
def run():
    return upheaval.Simulation(_scenario(), seed=3).run()


def test_the_history_has_a_row_a_tick_place_and_unit_and_ends_at_the_units_table(run):
    h = run.units_history()
    assert h.column_names == COLUMNS
    df = h.to_pandas()
    assert sorted(set(df.tick)) == list(range(31))
    # the named unit has a row in every place from the tick it arrived, zeros included
    assert set(df[df.unit == "csto"].tick) == set(range(2, 31))
    assert (df.groupby("tick").size() == [3 if t < 2 else 6 for t in range(31)]).all()
    assert h.filter(np.asarray(h.column("tick")) == run.tick).equals(run.units_table())
    assert run.units_history(first=run.tick).equals(run.units_table())
    assert run.units_history(first=4, last=5).to_pandas().tick.unique().tolist() == [4, 5]


def test_each_tick_of_the_history_is_what_the_units_table_said_then():
    sim = upheaval.Simulation(_scenario(), seed=3)
    tables = [sim.units_table()]
    for _ in range(30):
        sim.step()
        tables.append(sim.units_table())
    for t, table in enumerate(tables):
        assert sim.units_history(first=t, last=t).equals(table), t


def test_a_units_total_changes_only_by_its_reinforcements_and_withdrawals(run):
    df = run.units_history().to_pandas()
    csto = df[df.unit == "csto"].groupby("tick")[["on_duty", "on_guard", "in_transit"]].sum()
    total = csto.sum(axis=1)
    # the timeline: +8 at tick 2, −2 at tick 9, Gamma's members all gone at tick 25
    changes = {int(t): int(d) for t, d in total.diff().dropna().items() if d}
    killed = sum(run.table().to_pandas().cops_killed)  # crowds kill no cops here
    assert killed == 0
    assert total.loc[2] == 8
    assert changes == {9: -2, 25: -total.loc[24] + total.loc[25]}
    assert total.loc[25] == total.loc[24] - 5  # Gamma's five members, arrived by then
    # the send moved members between places: in transit on the way to Gamma, then there
    assert csto.in_transit.loc[4] == 5 and csto.in_transit.loc[5:].min() == 0
    gamma = df[(df.unit == "csto") & (df.place == "Gamma")].set_index("tick")
    assert gamma.in_transit.loc[4] == 5 and gamma.on_duty.loc[24] == 5
    # the initial force's total moves by the send of any cops not at all
    force = df[df.unit == ""].groupby("tick")[["on_duty", "on_guard", "in_transit"]].sum()
    assert force.sum(axis=1).nunique() == 1
    assert df[(df.unit == "") & (df.tick == 6)].in_transit.sum() == 3


def test_a_checkpoint_carries_the_history_bit_for_bit(tmp_path):
    straight = upheaval.Simulation(_scenario(), seed=3, threads=1).run()
    sim = upheaval.Simulation(_scenario(), seed=3, threads=2)
    sim.step(5)  # members of csto on their way to Gamma
    assert sim.units_table().to_pandas().in_transit.sum() > 0
    path = sim.checkpoint().save(tmp_path / "units.ckpt")
    sim.step(3)  # the checkpoint's history is not the live run's
    resumed = upheaval.Simulation.restore(Checkpoint.load(path), threads=3)
    assert resumed.units_history().equals(straight.units_history(last=5))
    resumed.run(30 - resumed.tick)
    assert resumed.units_history().equals(straight.units_history())
    assert resumed.table().equals(straight.table())


def test_a_checkpoint_without_the_history_continues_it_from_where_it_was_taken():
    """A checkpoint of format 6 written before the history existed has none: the
    restored run records from its next tick on, and nothing else changes."""
    sim = upheaval.Simulation(_scenario(), seed=3)
    sim.step(5)
    cp = sim.checkpoint()
    del cp.state["reinforcement"]["units"]
    resumed = upheaval.Simulation.restore(cp)
    resumed.step(3)
    sim.step(3)
    assert resumed.units_history().equals(sim.units_history(first=6))
    assert resumed.table().equals(sim.table())


def test_a_run_without_named_units_records_no_history():
    timeline = (ActionEvent(tick=2, action="send", place="Alpha", to="Beta", count=4),)
    sim = upheaval.Simulation(_scenario(timeline), seed=1)
    assert not sim._units_recorded
    sim.run(10)
    assert sim.state["reinforcement"]["units"] == ()
    h = sim.units_history()
    assert h.num_rows == 0 and h.schema.equals(sim.units_table().schema)
    assert sim.units_table().num_rows == 3  # the table of now still counts the force


# -- stored in the run directory, shown, mapped ---------------------------------------
@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    out = tmp_path_factory.mktemp("units") / "run"
    sim = upheaval.run(_scenario(), seed=3, out=out)
    return out, sim


def test_the_run_directory_stores_the_units_and_links_and_reads_them_back(stored):
    from upheaval.results.recorder import LINKS, UNITS, read_manifest, read_run

    out, sim = stored
    assert (out / UNITS).is_file() and (out / LINKS).is_file()
    assert not (out / "units").exists() and not (out / "links").exists()  # merged
    _, units = read_run(out, "units")
    assert units.equals(sim.units_history())
    _, links = read_run(out, "links")
    assert links.equals(sim.links_table())
    files = read_manifest(out)["files"]
    assert files["units"] == UNITS and files["links"] == LINKS
    from upheaval.experiments.store import query

    got = query(out, "SELECT sum(on_duty + on_guard + in_transit) AS n FROM units "
                "WHERE unit = 'csto' AND tick = 10")  # fmt: skip
    assert got.column("n").to_pylist() == [6]
    assert query(out, "SELECT count(*) AS n FROM links").column("n")[0].as_py() == 2 * 30


def test_the_units_and_links_are_written_in_parts_as_the_run_goes(tmp_path):
    """A run still going (or killed) has its units and links as far as its last
    flush, in parts beside the ticks' parts (results/recorder.py)."""
    from upheaval.results import Recorder
    from upheaval.results.recorder import read_run

    sim = upheaval.Simulation(_scenario(), seed=3)
    rec = Recorder(tmp_path / "run", sim, flush_every=5)
    sim.run(12, on_tick=rec.on_tick)
    _, ticks = read_run(tmp_path / "run")
    assert ticks.column("tick").to_pylist()[-1] == 9
    _, units = read_run(tmp_path / "run", "units")
    assert units.equals(sim.units_history(last=9))
    _, links = read_run(tmp_path / "run", "links")
    assert links.equals(sim.links_table(last=9))
    assert len(list((tmp_path / "run" / "units").iterdir())) == 2
    rec.close()
    assert read_run(tmp_path / "run", "units")[1].equals(sim.units_history())
    assert read_run(tmp_path / "run", "links")[1].equals(sim.links_table())


def test_a_run_without_units_or_travel_stores_neither(tmp_path):
    from upheaval.results.recorder import read_manifest, read_run

    sc = country_scenario(three_towns(), (), legitimacy=0.8, steps=5)
    upheaval.run(sc, seed=1, out=tmp_path / "run")
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [
        "manifest.json",
        "ticks.parquet",
    ]
    files = read_manifest(tmp_path / "run")["files"]
    assert "units" not in files and "links" not in files
    for table in ("units", "links"):
        assert read_run(tmp_path / "run", table)[1].num_rows == 0


def _show(out) -> list[str]:
    from typer.testing import CliRunner

    from upheaval.cli import app

    shown = CliRunner().invoke(app, ["show", str(out)])
    assert shown.exit_code == 0, shown.output
    return shown.output.splitlines()


def test_show_has_a_block_of_the_named_units_at_each_place(stored):
    out, sim = stored
    lines = _show(out)
    head = next(i for i, line in enumerate(lines) if line.startswith("units "))
    # 8 came to Alpha, 5 went on to Gamma, 2 withdrawn at Alpha, Gamma's 5 withdrawn
    assert lines[head] == "units        at the end: csto 1 on duty, 0 on guard, 0 on the way"
    assert lines[head + 1].split() == ["place", "unit", "on", "duty", "on", "guard", "coming",
                                       "peak", "at"]  # fmt: skip
    rows = {line.split()[0]: [int(x) for x in line.split()[2:]] for line in lines[head + 2 :]}
    df = sim.units_history().to_pandas()
    for place in ("Alpha", "Gamma"):
        mine = df[(df.unit == "csto") & (df.place == place)]
        there = mine.on_duty + mine.on_guard
        peak = int(there.max())
        end = mine[mine.tick == sim.tick]
        final = [int(end[c].sum()) for c in ("on_duty", "on_guard", "in_transit")]
        assert rows[place] == [*final, peak, int(mine.tick[there.idxmax()])]
    assert rows["Alpha"][:3] == [1, 0, 0] and rows["Gamma"][:3] == [0, 0, 0]
    assert rows["Alpha"][3] == 8 and rows["Gamma"][3] == 5
    assert "Beta" not in rows  # csto never came there


def test_show_has_no_units_block_without_named_units(tmp_path):
    timeline = (ActionEvent(tick=2, action="send", place="Alpha", to="Beta", count=4),)
    upheaval.run(_scenario(timeline, steps=6), seed=1, out=tmp_path / "run")
    lines = _show(tmp_path / "run")
    assert any(line.startswith("places       3") for line in lines)
    assert not any(line.startswith("units ") for line in lines)


def _pixels(fig) -> np.ndarray:
    from io import BytesIO

    from PIL import Image

    buf = BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("RGB"), dtype=int)


def _blue(img: np.ndarray) -> int:
    """Pixels of the forces' blue (views/maps.py: FORCES_COLOUR, #1f4e9c)."""
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    return int(((b - r > 80) & (b - g > 30)).sum())


def test_the_map_draws_forces_on_a_link_and_the_places_holding_a_unit(stored):
    from upheaval.results.recorder import read_run
    from upheaval.views.maps import map_figure

    out, _ = stored
    manifest, table = read_run(out)
    _, links = read_run(out, "links")
    _, units = read_run(out, "units")
    # tick 5: csto members on the rail to Gamma, the rest of csto at Alpha
    on = links.to_pandas().query("tick == 5").forces_on_link.tolist()
    assert on[1] == 5
    bare = _pixels(map_figure(manifest, table, 5))
    with_links = _pixels(map_figure(manifest, table, 5, links=links))
    with_both = _pixels(map_figure(manifest, table, 5, links=links, units=units))
    assert bare.shape == with_links.shape == with_both.shape
    assert _blue(with_links) > _blue(bare) + 200  # the blue line on Beta—Gamma
    assert _blue(with_both) > _blue(with_links) + 100  # the square around Alpha
    # at tick 1 nothing travels and no unit has come: the same map with or without
    quiet = _pixels(map_figure(manifest, table, 1, links=links, units=units))
    legend_free = _pixels(map_figure(manifest, table, 1))
    assert _blue(quiet) - _blue(legend_free) < 100  # the legend's keys only
    # the map command draws them from the run directory
    from upheaval.views.maps import save_map

    path = save_map(out, tick=5, path=out.parent / "five.png")
    from PIL import Image

    assert _blue(np.asarray(Image.open(path).convert("RGB"), dtype=int)) > _blue(bare) + 200


def test_a_country_run_with_its_map_links_and_units_may_be_overwritten(tmp_path):
    """`upheaval run --force` replaces a country's run: its map.png, links and units
    are a run directory's own (the map had made it refuse)."""
    from upheaval.views.maps import save_map

    out = tmp_path / "run"
    upheaval.run(_scenario(TIMELINE[:2], steps=6), seed=1, out=out)
    save_map(out)
    assert {"map.png", "links.parquet", "units.parquet"} <= {p.name for p in out.iterdir()}
    upheaval.run(_scenario(TIMELINE[:2], steps=4), seed=2, out=out, overwrite=True)
    assert not (out / "map.png").exists()
    assert read_units(out).to_pandas().tick.max() == 4


def read_units(out):
    from upheaval.results.recorder import read_run

    return read_run(out, "units")[1]
