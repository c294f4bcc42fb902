"""Neighbourhoods on the torus: sizes, canonical order, validation, compiled scans."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from reference import neighbourhood_offsets
from upheaval import Simulation
from upheaval.core.codes import CITIZEN, COP, DEAD, JAILED
from upheaval.model.params import ParameterError, Params, validate_params
from upheaval.model.state import empty_agents
from upheaval.world.grid import (
    count_cops_actives,
    count_empty,
    decode_occupancy,
    empty_lattice,
    kth_empty,
    lane_counts,
    lane_of,
    place,
    relane,
    scan_lanes,
    unplace,
)
from upheaval.world.lattice import clone_neighbourhood, neighbourhood


@njit(cache=True)
def _scan_every_site(g, a, span_dy, span_half, size):
    """Per site: the four lane sums, the number of empty sites and each k-th empty site."""
    n = g.width * g.height
    lanes = np.zeros((n, 4), np.int64)
    empties = np.zeros(n, np.int64)
    kth = np.full((n, size + 1), -2, np.int64)
    for site in range(n):
        c, act, q, j = scan_lanes(g, a, site, span_dy, span_half)
        c2, act2 = count_cops_actives(g, a, site, span_dy, span_half)
        if c2 != c or act2 != act:
            lanes[site, :] = -1
            continue
        lanes[site, 0] = c
        lanes[site, 1] = act
        lanes[site, 2] = q
        lanes[site, 3] = j
        m = count_empty(g, site, span_dy, span_half)
        empties[site] = m
        for k in range(m + 1):
            kth[site, k] = kth_empty(g, site, span_dy, span_half, k)
    return lanes, empties, kth


@pytest.mark.parametrize(
    ("shape", "radius", "size"),
    [
        ("euclidean", 7.0, 149),
        ("euclidean", 1.7, 9),
        ("euclidean", 1.0, 5),
        ("euclidean", 1.5, 9),
        ("euclidean", 0.0, 1),
        ("von_neumann", 7.0, 113),
        ("von_neumann", 1.0, 5),
        ("moore", 7.0, 225),
        ("moore", 1.0, 9),
    ],
)
def test_neighbourhood_sizes(shape, radius, size):
    assert neighbourhood(shape, radius).size == size
    assert len(neighbourhood_offsets(shape, radius)) == size


@pytest.mark.parametrize("shape", ["euclidean", "von_neumann", "moore"])
@pytest.mark.parametrize("radius", [0.0, 1.0, 1.5, 1.7, 2.0, 2.9, 3.0, 4.5, 7.0])
def test_offsets_follow_the_definition_in_canonical_order(shape, radius):
    nb = neighbourhood(shape, radius)
    offsets = list(zip(nb.offset_dx.tolist(), nb.offset_dy.tolist(), strict=True))
    assert offsets == neighbourhood_offsets(shape, radius)
    # Canonical order: rows by dy ascending, then dx ascending; own site included.
    assert offsets == sorted(offsets, key=lambda o: (o[1], o[0]))
    assert (0, 0) in offsets
    # Row spans describe the same sites.
    from_spans = [
        (dx, int(dy))
        for dy, h in zip(nb.span_dy, nb.span_half, strict=True)
        for dx in range(-int(h), int(h) + 1)
    ]
    assert from_spans == offsets


def test_clone_neighbourhoods():
    assert clone_neighbourhood("moore").size == 9
    assert clone_neighbourhood("von_neumann").size == 5


@pytest.mark.parametrize("field", ["citizen_vision", "cop_vision"])
def test_validation_rejects_vision_wider_than_the_lattice(field):
    loc = "citizens.vision" if field == "citizen_vision" else "cops.vision"
    base = Params(citizen_vision=1.0, cop_vision=1.0)
    validate_params(base.replace(width=15, height=15, **{field: 7.0}))
    validate_params(base.replace(width=10, height=30, **{field: 4.9}))
    with pytest.raises(ParameterError) as err:
        validate_params(base.replace(width=14, height=15, **{field: 7.0}))
    assert err.value.location == loc
    assert "14×15" in str(err.value)
    with pytest.raises(ParameterError) as err:
        validate_params(base.replace(width=30, height=10, **{field: 5.0}))
    assert err.value.location == loc


@pytest.mark.parametrize("hold_site", [False, True])
def test_compiled_scans_equal_a_brute_force_count(hold_site):
    """scan_lanes / count_empty / kth_empty against sites enumerated from the definition."""
    p = Params(
        width=11,
        height=9,
        citizen_vision=3.0,
        cop_vision=2.0,
        legitimacy=0.5,
        cop_density=0.1,
        jailed_hold_site=hold_site,
    )
    sim = Simulation(p, seed=3)
    sim.step(6)
    a, g = sim.place.agents, sim.place.lattice
    w, h = p.world.width, p.world.height
    nb = neighbourhood(p.world.vision_shape, p.citizens.vision)
    offsets = neighbourhood_offsets(p.world.vision_shape, p.citizens.vision)
    on = {}
    for i in np.flatnonzero(a.status != DEAD):
        if a.kind[i] == CITIZEN and a.status[i] == JAILED and not hold_site:
            continue
        on.setdefault(int(a.position[i]), []).append(int(i))
    assert any(a.status == JAILED), "the state should hold jailed citizens"
    lanes, n_empty, kth = _scan_every_site(g, a, nb.span_dy, nb.span_half, nb.size)
    for site in range(w * h):
        x, y = site % w, site // w
        around = [((y + dy) % h) * w + (x + dx) % w for dx, dy in offsets]
        here = [j for s in around for j in on.get(s, [])]
        cops = sum(a.kind[j] == COP for j in here)
        citizens = [j for j in here if a.kind[j] == CITIZEN]
        expect = [
            cops,
            sum(a.status[j] == 1 for j in citizens),
            sum(a.status[j] == 0 for j in citizens),
            sum(a.status[j] == JAILED for j in citizens),
        ]
        assert lanes[site].tolist() == expect
        empties = [s for s in around if s not in on]
        assert n_empty[site] == len(empties)
        assert kth[site, : len(empties) + 1].tolist() == [*empties, -1]


def test_saturated_sites_are_counted_exactly():
    """Five cops, four actives and four quiet citizens stacked on one site overflow the
    2-bit lanes; every scan must still count them exactly, and taking them off again
    must restore the byte."""
    p = Params(
        width=9,
        height=9,
        citizen_vision=2.0,
        cop_vision=2.0,
        cop_density=0.0,
        citizen_density=0.2,
        legitimacy=0.0,
        threshold=-1.0,
    )
    sim = Simulation(p, seed=1)
    g, a = sim.place.lattice, sim.place.agents
    nb = neighbourhood(p.world.vision_shape, p.citizens.vision)
    target = 40
    citizens = [int(i) for i in np.flatnonzero(a.kind == CITIZEN)[:8]]
    _stack(g, a, np.array(citizens, np.int64), target)
    for i in citizens[:4]:
        _set_active(g, a, i)
    before = lane_counts(g, a, False)
    assert before[target, 1] == 4 and before[target, 2] == 4
    assert decode_occupancy(g)[target].tolist() == [0, 3, 3, 0]
    c, act = _cops_actives(g, a, target, nb.span_dy, nb.span_half)
    around = [
        ((target // 9 + dy) % 9) * 9 + (target % 9 + dx) % 9
        for dx, dy in zip(nb.offset_dx, nb.offset_dy, strict=True)
    ]
    assert act == before[around, 1].sum() and c == before[around, 0].sum()
    # take three actives off: the lane falls back from "three or more" to exactly 1
    for i in citizens[:3]:
        _unstack(g, a, i)
    assert decode_occupancy(g)[target].tolist() == [0, 1, 3, 0]
    assert _cops_actives(g, a, target, nb.span_dy, nb.span_half) == (c, act - 3)


@njit(cache=True)
def _stack(g, a, slots, site):
    for i in slots:
        unplace(g, a, i, lane_of(a.kind[i], a.status[i], False))
        place(g, a, i, site, lane_of(a.kind[i], a.status[i], False))


@njit(cache=True)
def _set_active(g, a, i):
    a.status[i] = 1
    relane(g, a, a.position[i], lane_of(0, 0, False), lane_of(0, 1, False))


@njit(cache=True)
def _unstack(g, a, i):
    unplace(g, a, i, lane_of(a.kind[i], a.status[i], False))


@njit(cache=True)
def _cops_actives(g, a, site, span_dy, span_half):
    return count_cops_actives(g, a, site, span_dy, span_half)


@njit(cache=True)
def _fast_and_exact_counts(g, a, span_dy, span_half):
    """Per site: (cops, actives) by the word-at-a-time scan and by the exact scan."""
    n = g.width * g.height
    out = np.zeros((n, 4), np.int64)
    for site in range(n):
        c, act = count_cops_actives(g, a, site, span_dy, span_half)
        c2, act2, _, _ = scan_lanes(g, a, site, span_dy, span_half)
        out[site, 0] = c
        out[site, 1] = act
        out[site, 2] = c2
        out[site, 3] = act2
    return out


@pytest.mark.parametrize(
    ("width", "height", "shape", "radius"),
    [
        (3, 2, "moore", 1.0),  # fewer than eight sites: no word fits in the lattice
        (5, 4, "von_neumann", 2.0),  # fewer than 16 sites: every row reads bytewise
        (40, 13, "von_neumann", 7.0),  # rows of up to 15 sites, wrapped in y
        (40, 40, "von_neumann", 7.0),  # one vector a row away from the edges
        (31, 29, "moore", 12.0),  # rows of 25 sites: the looping path
        (45, 43, "von_neumann", 20.0),  # 41 rows: accumulators flushed mid-scan
        (17, 50, "euclidean", 7.9),  # rows as wide as the lattice is nearly
    ],
)
def test_word_scan_counts_every_site_like_the_exact_scan(width, height, shape, radius):
    """count_cops_actives (eight sites a word, rows masked at both ends, wrapped rows,
    the lattice's last bytes) against scan_lanes (site by site) on random bytes with
    every lane value 0-2 at every site of lattices small and large."""
    rng = np.random.default_rng(width * height)
    g = empty_lattice(width, height)
    g.occupancy[:] = rng.integers(0, 3, (width * height, 4)) @ np.array([1, 4, 16, 64])
    nb = neighbourhood(shape, radius)
    counts = _fast_and_exact_counts(g, empty_agents(1, False), nb.span_dy, nb.span_half)
    assert counts[:, 0].sum() > 0 and counts[:, 1].sum() > 0
    assert np.array_equal(counts[:, :2], counts[:, 2:])


@pytest.mark.parametrize("rows", [64, 80, 130])
def test_word_scan_flushes_its_bytewise_sums_before_they_overflow(rows):
    """Rows of 15 sites, every cop and active lane at 2: 64 rows (the most the vector
    scan takes) bring a byte of its sums to 128; 80 and 130 rows go the word-at-a-time
    way, whose bytewise sums would pass 255 (after 64 rows; the vector scan's after
    128) unless summed out on the way."""
    g = empty_lattice(20, rows + 10)
    g.occupancy[:] = 2 * (1 + 4)
    span_dy = np.arange(-(rows // 2), rows - rows // 2, dtype=np.int32)
    span_half = np.full(rows, 7, np.int32)
    counts = _fast_and_exact_counts(g, empty_agents(1, False), span_dy, span_half)
    assert (counts[:, :2] == 2 * rows * 15).all()
    assert np.array_equal(counts[:, :2], counts[:, 2:])
