"""Neighbourhoods on a torus lattice.

A neighbourhood of radius ``v`` is stored two ways, both in one *canonical order*
(rows by ``dy`` ascending, then ``dx`` ascending), the order in which every "k-th
candidate" choice in the kernels and the reference implementation counts:

* row spans ``(dy, half_width)``: every shape here (disc, diamond, square) is
  symmetric and convex, so each row is the contiguous run ``dx ∈ [-h, h]``; the
  kernels scan these runs, which keeps memory access sequential;
* an offset list ``(dx, dy)`` used to draw a random site by index.

The own site ``(0, 0)`` is part of every neighbourhood: NetLogo's ``in-radius``
includes it, and rules that must not count the agent itself correct for that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SHAPES = ("euclidean", "von_neumann", "moore")


@dataclass(frozen=True)
class Neighbourhood:
    """The sites within ``radius`` of a site, relative to it."""

    shape: str
    radius: float
    span_dy: np.ndarray  # int32[rows]
    span_half: np.ndarray  # int32[rows]
    offset_dx: np.ndarray  # int32[sites]
    offset_dy: np.ndarray  # int32[sites]

    @property
    def size(self) -> int:
        return int(self.offset_dx.shape[0])

    @property
    def reach(self) -> int:
        """Largest |dx| or |dy| in the neighbourhood."""
        return int(self.span_half.max()) if self.span_half.size else 0


def row_half_width(shape: str, radius: float, dy: int) -> int:
    """Largest dx with (dx, dy) inside the neighbourhood, or -1 if the row is empty."""
    r = int(math.floor(radius))
    ady = abs(dy)
    if ady > r:
        return -1
    if shape == "moore":
        return r
    if shape == "von_neumann":
        return int(math.floor(radius - ady))
    if shape == "euclidean":
        # Exact integer test dx² + dy² ≤ radius², as NetLogo's in-radius compares
        # distances between patch centres.
        h = r
        while h >= 0 and h * h + ady * ady > radius * radius:
            h -= 1
        return h
    raise ValueError(f"unknown neighbourhood shape {shape!r}; expected one of {SHAPES}")


def neighbourhood(shape: str, radius: float) -> Neighbourhood:
    """Build the neighbourhood of a shape and radius (radius ≥ 0)."""
    if radius < 0:
        raise ValueError(f"radius must be ≥ 0, got {radius}")
    r = int(math.floor(radius))
    span_dy, span_half, odx, ody = [], [], [], []
    for dy in range(-r, r + 1):
        h = row_half_width(shape, radius, dy)
        if h < 0:
            continue
        span_dy.append(dy)
        span_half.append(h)
        for dx in range(-h, h + 1):
            odx.append(dx)
            ody.append(dy)
    return Neighbourhood(
        shape=shape,
        radius=float(radius),
        span_dy=np.asarray(span_dy, dtype=np.int32),
        span_half=np.asarray(span_half, dtype=np.int32),
        offset_dx=np.asarray(odx, dtype=np.int32),
        offset_dy=np.asarray(ody, dtype=np.int32),
    )


def clone_neighbourhood(kind: str) -> Neighbourhood:
    """The immediate neighbours a Model II clone may be placed on (own site excluded
    by occupancy: it is never empty)."""
    return neighbourhood("moore" if kind == "moore" else "von_neumann", 1.0)
