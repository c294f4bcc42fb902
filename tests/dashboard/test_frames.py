"""A frame's lattice is the stored snapshot's, site by site, with cops by unit and
faction: the fast path (a lookup on the occupancy bytes) against a slow reference
(the snapshot, then every cop walked in Python), for every preset."""

from __future__ import annotations

import numpy as np
import pytest

import upheaval
from upheaval.core.codes import COP, DEAD, RIVAL
from upheaval.results.snapshots import lattice_snapshot
from upheaval.scenario.loading import preset_names
from upheaval.views.dashboard.frames import (
    COP_RIVAL,
    COP_UNIT,
    PALETTE,
    UNIT_COLOURS,
    lattice_indices,
    legend,
    palette_rgba,
    snapshot_indices,
)


def reference(place) -> np.ndarray:
    snap = lattice_snapshot(place)
    ref = snapshot_indices(snap["occupant"], snap["group"]).ravel().copy()
    a = place.agents
    best: dict[int, int] = {}
    for i in range(a.kind.shape[0]):
        if a.kind[i] != COP or a.status[i] == DEAD or a.position[i] < 0:
            continue
        colour = COP_UNIT + (min(int(a.unit[i]), UNIT_COLOURS - 1) if a.unit.shape[0] else 0)
        if a.faction.shape[0] and a.faction[i] == RIVAL:
            colour = COP_RIVAL
        best[int(a.position[i])] = max(best.get(int(a.position[i]), 0), colour)
    for site, colour in best.items():
        ref[site] = colour
    return ref


@pytest.mark.parametrize("name", preset_names())
def test_frame_lattice_matches_the_reference(name):
    sc = upheaval.load(name)
    w, h = sc.params.world.width, sc.params.world.height
    if sc.country is not None:  # a country: every place, at a coarse scale
        sc = upheaval.apply_overrides(sc, {"scale": 2000.0})
    elif w * h > 80 * 80:
        sc = upheaval.apply_overrides(sc, {"width": 80, "height": 80})
    sim = upheaval.Simulation(sc, seed=5)
    steps = min(sc.params.run.steps, 150)
    for t in (0, steps // 3, steps):
        sim.step(t - sim.tick)
        for place in sim.places:
            got = lattice_indices(place)
            assert got.dtype == np.uint8 and got.shape == (place.params.n_sites,)
            assert (got == reference(place)).all(), f"{name} {place.name} at tick {sim.tick}"


def test_a_reinforcement_unit_gets_its_own_colour():
    from upheaval.model.rules.forces import unit_codes

    sc = upheaval.load("kz2022-almaty")
    (arrival,) = [e.tick for e in sc.timeline if getattr(e, "action", "") == "reinforce"]
    sim = upheaval.Simulation(sc, seed=1)
    sim.run(arrival + 1)
    idx = lattice_indices(sim.place)
    assert (idx == COP_UNIT + 1).sum() > 0, "the CSTO's cops are drawn in unit 1's colour"
    assert (idx == COP_UNIT).sum() > 0, "the initial force in its own"
    labels = [e["label"] for e in legend(sim.place, unit_codes(sc.timeline))]
    assert "cop, unit 'csto'" in labels and "cop" in labels


def test_palette_bytes_are_rgba_in_index_order():
    raw = palette_rgba()
    assert len(raw) == 4 * len(PALETTE)
    for c in PALETTE:
        assert tuple(raw[4 * c.index : 4 * c.index + 4]) == (*c.rgb, 255)
    assert len({c.rgb for c in PALETTE}) == len(PALETTE), "every colour tells one thing"
