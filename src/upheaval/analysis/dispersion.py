"""How spread out protest is: clusters of active citizens on the torus.

Hassanpour (2014) found that the 2011 Egyptian internet shutdown made protest *more
dispersed*: many local foci instead of one central square. On the lattice we measure
this from the sites holding at least one active citizen, joined into clusters by the
8-neighbourhood (Moore, across the torus's edges):

* ``clusters`` — the number of separate clusters (foci);
* ``largest_share`` — the share of active sites in the largest cluster (1 when all
  protest is one crowd; small when it is scattered);
* ``active_sites`` — sites with an active citizen.

The definitions are ours (docs/odd.md §7.15).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from upheaval.core.codes import ACTIVE, CITIZEN
from upheaval.model.state import Agents

_MOORE = np.ones((3, 3), dtype=bool)


@dataclass(frozen=True)
class Dispersion:
    """Clusters of active sites at one tick (see the module docstring)."""

    clusters: int
    largest_share: float
    active_sites: int


def active_mask(agents: Agents, width: int, height: int) -> np.ndarray:
    """bool[height, width]: sites holding at least one active citizen."""
    on = (agents.kind == CITIZEN) & (agents.status == ACTIVE)
    mask = np.zeros(width * height, dtype=bool)
    mask[agents.position[on]] = True
    return mask.reshape(height, width)


def torus_clusters(mask: np.ndarray) -> np.ndarray:
    """Cluster label of every site of ``mask`` (0 where False, 1..n otherwise), Moore
    neighbours joined across the torus's edges; labels are renumbered 1..n in order of
    first appearance in row-major order."""
    labels, n = ndimage.label(mask, structure=_MOORE)
    if n == 0:
        return labels
    h, w = mask.shape
    parent = np.arange(n + 1)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def join(u: np.ndarray, v: np.ndarray) -> None:
        for a, b in zip(u.tolist(), v.tolist(), strict=True):
            if a and b:
                ra, rb = find(a), find(b)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)

    # Edge pairs that touch across the wrap: a site touches the three sites facing it
    # on the opposite edge (the diagonals included), and the four corners touch.
    if h > 1:
        top, bottom = labels[0], labels[h - 1]
        for shift in (-1, 0, 1):
            join(top, np.roll(bottom, shift))
    if w > 1:
        left, right = labels[:, 0], labels[:, w - 1]
        for shift in (-1, 0, 1):
            join(left, np.roll(right, shift))
    roots = np.array([find(x) for x in range(n + 1)])
    merged = roots[labels].ravel()
    values, first = np.unique(merged, return_index=True)
    keep = values != 0
    values = values[keep][np.argsort(first[keep])]
    renumber = np.zeros(n + 1, dtype=labels.dtype)
    renumber[values] = np.arange(1, len(values) + 1)
    return renumber[merged].reshape(h, w)


def dispersion(agents: Agents, width: int, height: int) -> Dispersion:
    """Clusters of active sites now (see the module docstring)."""
    labels = torus_clusters(active_mask(agents, width, height))
    sizes = np.bincount(labels.ravel())[1:]
    n_sites = int(sizes.sum())
    return Dispersion(
        clusters=int(sizes.shape[0]),
        largest_share=float(sizes.max() / n_sites) if n_sites else 0.0,
        active_sites=n_sites,
    )
