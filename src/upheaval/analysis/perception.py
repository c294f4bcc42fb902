"""What citizens perceive: cops and actives within vision, and the arrest
probability each free citizen estimates from them (Epstein 2002, eq. 2).

These read a place's state between ticks (``place.lattice``, ``place.agents``; a
one-place run's is ``sim.place``), so they see positions at the end of a tick, not
at the moment each agent took its turn.
Counts use the same neighbourhood (shape and radius, own site included) as the
kernels, and the estimated probability calls the activation rule's own
:func:`~upheaval.model.rules.activation.arrest_probability`, so no rule is
re-implemented here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from upheaval.core.codes import ACTIVE, CITIZEN, QUIET
from upheaval.model.rules.activation import RATIO_RULES, arrest_probability
from upheaval.world.grid import lane_counts
from upheaval.world.lattice import neighbourhood

if TYPE_CHECKING:
    from upheaval.engine.place import Place


@dataclass(frozen=True)
class VisionCounts:
    """Per site (flat index y·width + x): cops and actives within a vision."""

    cops: np.ndarray  # int64[sites]
    actives: np.ndarray  # int64[sites]


def _kernel_spectrum(width: int, height: int, shape: str, radius: float) -> np.ndarray:
    nb = neighbourhood(shape, radius)
    k = np.zeros((height, width))
    # The neighbourhoods are symmetric, so correlation with them is convolution.
    np.add.at(k, (nb.offset_dy % height, nb.offset_dx % width), 1.0)
    return np.fft.rfft2(k)


def counts_in_vision(
    place: Place, radius: float | None = None, shape: str | None = None
) -> VisionCounts:
    """Cops and actives within ``radius`` (default: citizen vision) of every site.

    A torus convolution of the occupancy lanes with the neighbourhood, done by FFT
    (exact after rounding: the counts are small integers).
    """
    p = place.params
    radius = p.citizens.vision if radius is None else radius
    shape = p.world.vision_shape if shape is None else shape
    w, h = int(place.lattice.width), int(place.lattice.height)
    spec = _kernel_spectrum(w, h, shape, radius)
    counts = lane_counts(place.lattice, place.agents, place.rules.hold_site)
    out = []
    for column in (0, 1):  # cops, actives
        grid = counts[:, column].reshape(h, w).astype(np.float64)
        conv = np.fft.irfft2(np.fft.rfft2(grid) * spec, s=(h, w))
        out.append(np.rint(conv).astype(np.int64).ravel())
    return VisionCounts(cops=out[0], actives=out[1])


@njit(cache=True)
def _probabilities(cops, actives, k, rule):
    out = np.empty(cops.shape[0])
    for i in range(cops.shape[0]):
        out[i] = arrest_probability(cops[i], actives[i], k, rule)
    return out


def free_citizens(place: Place) -> np.ndarray:
    """Slots of the citizens who are free (quiet or active)."""
    a = place.agents
    return np.flatnonzero((a.kind == CITIZEN) & ((a.status == QUIET) | (a.status == ACTIVE)))


def arrest_probabilities(
    place: Place, slots: np.ndarray | None = None, counts: VisionCounts | None = None
) -> np.ndarray:
    """Each free citizen's estimated arrest probability P = 1 − exp(−k·ratio(C, A)),
    with C and A counted in its vision as the activation rule counts them.

    ``slots`` defaults to :func:`free_citizens`; returns one value per slot.
    """
    p = place.params
    a = place.agents
    slots = free_citizens(place) if slots is None else np.asarray(slots)
    counts = counts_in_vision(place) if counts is None else counts
    pos = a.position[slots]
    actives = counts.actives[pos].copy()
    if not p.citizens.active_count_includes_self:
        # The scan saw an active citizen itself on its own site; A's 1 is that citizen.
        actives -= (a.status[slots] == ACTIVE).astype(np.int64)
    return _probabilities(
        counts.cops[pos].astype(np.int64),
        1 + actives,
        float(p.citizens.arrest_constant),
        np.int64(RATIO_RULES[p.citizens.ratio_rule]),
    )
