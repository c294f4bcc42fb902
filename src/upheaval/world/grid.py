"""Compiled lattice bookkeeping: who is on which site, and scans of a neighbourhood.

Every scan walks the neighbourhood in the canonical order of
:mod:`upheaval.world.lattice` (rows by dy, then dx, both ascending) as one or two
contiguous runs of memory per row, so the torus wrap costs a branch per row, not
a modulo per site. When a scan must pick the k-th candidate and several
candidates share a site, they are taken in ascending slot order.
"""

from __future__ import annotations

import numpy as np

from upheaval.model.jit import prefetch, rule
from upheaval.model.state import (
    ACTIVE,
    CITIZEN,
    JAILED,
    LANE_ACTIVE,
    LANE_COP,
    LANE_JAILED,
    LANE_QUIET,
    NO_LANE,
    QUIET,
)

_LO = np.uint64(0x00FF00FF)
_BYTE = np.uint32(0xFF)


@rule
def lane_of(kind, status, hold_site):
    """The occupancy lane an agent fills, or NO_LANE if it is off the lattice."""
    if kind != CITIZEN:
        return LANE_COP
    if status == ACTIVE:
        return LANE_ACTIVE
    if status == QUIET:
        return LANE_QUIET
    if status == JAILED and hold_site:
        return LANE_JAILED
    return NO_LANE


@rule
def place(g, a, i, site, lane):
    """Put agent ``i`` on ``site`` in ``lane`` (sites may be shared)."""
    a.position[i] = site
    if lane == NO_LANE:
        return
    g.occupancy[site] += np.uint32(1) << np.uint32(lane)
    a.cell_next[i] = g.head[site]
    g.head[site] = i


@rule
def unplace(g, a, i, lane):
    """Take agent ``i`` off its site (its position is kept)."""
    if lane == NO_LANE:
        return
    site = a.position[i]
    g.occupancy[site] -= np.uint32(1) << np.uint32(lane)
    j = g.head[site]
    if j == i:
        g.head[site] = a.cell_next[i]
    else:
        while a.cell_next[j] != i:
            j = a.cell_next[j]
        a.cell_next[j] = a.cell_next[i]
    a.cell_next[i] = -1


@rule
def relane(g, site, old_lane, new_lane):
    """Change an agent's lane on its site (e.g. quiet → active) without moving it."""
    if old_lane != NO_LANE:
        g.occupancy[site] -= np.uint32(1) << np.uint32(old_lane)
    if new_lane != NO_LANE:
        g.occupancy[site] += np.uint32(1) << np.uint32(new_lane)


@rule
def move_to(g, a, i, site, lane):
    unplace(g, a, i, lane)
    place(g, a, i, site, lane)


@rule
def wrap_site(g, x, y, dx, dy):
    w = g.width
    h = g.height
    xx = x + dx
    if xx < 0:
        xx += w
    elif xx >= w:
        xx -= w
    yy = y + dy
    if yy < 0:
        yy += h
    elif yy >= h:
        yy -= h
    return yy * w + xx


@rule
def _row_bounds(g, x, y, dy, half):
    """Memory runs [s0, e0) and [s1, e1) of one neighbourhood row, in dx order."""
    w = g.width
    h = g.height
    yy = y + dy
    if yy < 0:
        yy += h
    elif yy >= h:
        yy -= h
    row = yy * w
    x0 = x - half
    x1 = x + half
    if x0 < 0:
        return row + x0 + w, row + w, row, row + x1 + 1
    if x1 >= w:
        return row + x0, row + w, row, row + x1 - w + 1
    return row + x0, row + x1 + 1, row, row


@rule
def scan_lanes(g, site, span_dy, span_half):
    """Sum every lane over the neighbourhood of ``site``.

    Returns (cops, active, quiet, jailed) counts, own site included.
    """
    occ = g.occupancy
    w = g.width
    x = site % w
    y = site // w
    even = np.uint64(0)  # lanes 0 and 2 spread to 16-bit fields
    odd = np.uint64(0)  # lanes 1 and 3
    for r in range(span_dy.shape[0]):
        s0, e0, s1, e1 = _row_bounds(g, x, y, span_dy[r], span_half[r])
        for c in range(s0, e0):
            v = np.uint64(occ[c])
            even += v & _LO
            odd += (v >> np.uint64(8)) & _LO
        for c in range(s1, e1):
            v = np.uint64(occ[c])
            even += v & _LO
            odd += (v >> np.uint64(8)) & _LO
    m = np.uint64(0xFFFF)
    return (
        np.int64(even & m),
        np.int64(odd & m),
        np.int64((even >> np.uint64(16)) & m),
        np.int64((odd >> np.uint64(16)) & m),
    )


@rule
def count_lane(g, site, span_dy, span_half, lane):
    """Number of occupants of one lane within the neighbourhood of ``site``."""
    occ = g.occupancy
    w = g.width
    x = site % w
    y = site // w
    sh = np.uint32(lane)
    n = 0
    for r in range(span_dy.shape[0]):
        s0, e0, s1, e1 = _row_bounds(g, x, y, span_dy[r], span_half[r])
        for c in range(s0, e0):
            n += (occ[c] >> sh) & _BYTE
        for c in range(s1, e1):
            n += (occ[c] >> sh) & _BYTE
    return n


@rule
def count_empty(g, site, span_dy, span_half):
    """Number of empty sites within the neighbourhood of ``site``."""
    occ = g.occupancy
    w = g.width
    x = site % w
    y = site // w
    n = 0
    for r in range(span_dy.shape[0]):
        s0, e0, s1, e1 = _row_bounds(g, x, y, span_dy[r], span_half[r])
        for c in range(s0, e0):
            n += occ[c] == 0
        for c in range(s1, e1):
            n += occ[c] == 0
    return n


@rule
def kth_empty(g, site, span_dy, span_half, k):
    """The k-th (0-based) empty site in canonical order; -1 if there are fewer."""
    occ = g.occupancy
    w = g.width
    x = site % w
    y = site // w
    for r in range(span_dy.shape[0]):
        s0, e0, s1, e1 = _row_bounds(g, x, y, span_dy[r], span_half[r])
        for c in range(s0, e0):
            if occ[c] == 0:
                if k == 0:
                    return c
                k -= 1
        for c in range(s1, e1):
            if occ[c] == 0:
                if k == 0:
                    return c
                k -= 1
    return -1


@rule
def _kth_on_site_with_status(g, a, c, status, k):
    """The k-th (0-based, ascending slot) citizen with ``status`` on site c."""
    best = -1
    # Co-location is rare: a selection by repeated minimum is cheapest here.
    lower = -1
    for _ in range(k + 1):
        best = -1
        j = g.head[c]
        while j != -1:
            if a.kind[j] == CITIZEN and a.status[j] == status and j > lower:
                if best == -1 or j < best:
                    best = j
            j = a.cell_next[j]
        lower = best
    return best


@rule
def kth_in_lane(g, a, site, span_dy, span_half, lane, status, k):
    """The k-th (0-based) citizen of ``status`` (filling ``lane``) in canonical order."""
    occ = g.occupancy
    w = g.width
    x = site % w
    y = site // w
    sh = np.uint32(lane)
    for r in range(span_dy.shape[0]):
        s0, e0, s1, e1 = _row_bounds(g, x, y, span_dy[r], span_half[r])
        for seg in range(2):
            s = s0 if seg == 0 else s1
            e = e0 if seg == 0 else e1
            for c in range(s, e):
                m = np.int64((occ[c] >> sh) & _BYTE)
                if m:
                    if k < m:
                        if m == 1:
                            j = g.head[c]
                            while not (a.kind[j] == CITIZEN and a.status[j] == status):
                                j = a.cell_next[j]
                            return j
                        return _kth_on_site_with_status(g, a, c, status, k)
                    k -= m
    return -1


@rule
def _is_free_member_of_other(a, j, group):
    return (
        a.kind[j] == CITIZEN
        and (a.status[j] == QUIET or a.status[j] == ACTIVE)
        and a.group[j] != group
    )


@rule
def count_other_group(g, a, site, span_dy, span_half, group):
    """Model II: free citizens not of ``group`` within the neighbourhood."""
    occ = g.occupancy
    w = g.width
    x = site % w
    y = site // w
    mask = (np.uint32(0xFF) << np.uint32(LANE_ACTIVE)) | (np.uint32(0xFF) << np.uint32(LANE_QUIET))
    n = 0
    for r in range(span_dy.shape[0]):
        s0, e0, s1, e1 = _row_bounds(g, x, y, span_dy[r], span_half[r])
        for seg in range(2):
            s = s0 if seg == 0 else s1
            e = e0 if seg == 0 else e1
            for c in range(s, e):
                if occ[c] & mask:
                    j = g.head[c]
                    while j != -1:
                        if _is_free_member_of_other(a, j, group):
                            n += 1
                        j = a.cell_next[j]
    return n


@rule
def kth_other_group(g, a, site, span_dy, span_half, group, k):
    """Model II: the k-th free citizen not of ``group``, canonical order."""
    occ = g.occupancy
    w = g.width
    x = site % w
    y = site // w
    mask = (np.uint32(0xFF) << np.uint32(LANE_ACTIVE)) | (np.uint32(0xFF) << np.uint32(LANE_QUIET))
    for r in range(span_dy.shape[0]):
        s0, e0, s1, e1 = _row_bounds(g, x, y, span_dy[r], span_half[r])
        for seg in range(2):
            s = s0 if seg == 0 else s1
            e = e0 if seg == 0 else e1
            for c in range(s, e):
                if occ[c] & mask:
                    m = 0
                    j = g.head[c]
                    while j != -1:
                        if _is_free_member_of_other(a, j, group):
                            m += 1
                        j = a.cell_next[j]
                    if k < m:
                        # ascending slot order among this site's candidates
                        lower = -1
                        best = -1
                        for _ in range(k + 1):
                            best = -1
                            j = g.head[c]
                            while j != -1:
                                if _is_free_member_of_other(a, j, group) and j > lower:
                                    if best == -1 or j < best:
                                        best = j
                                j = a.cell_next[j]
                            lower = best
                        return best
                    k -= m
    return -1


# Lanes exported for the rules.
__all__ = [
    "LANE_ACTIVE",
    "LANE_COP",
    "LANE_JAILED",
    "LANE_QUIET",
    "count_empty",
    "count_lane",
    "count_other_group",
    "kth_empty",
    "kth_in_lane",
    "kth_other_group",
    "lane_of",
    "move_to",
    "place",
    "relane",
    "scan_lanes",
    "unplace",
    "wrap_site",
]


@rule
def prefetch_neighbourhood(g, site, span_dy):
    """Start fetching the lattice rows around ``site`` (one line per row) and its
    agent list head, ahead of the turn that will scan them."""
    w = g.width
    h = g.height
    x = site % w
    y = site // w
    prefetch(g.head, site)
    for r in range(span_dy.shape[0]):
        yy = y + span_dy[r]
        if yy < 0:
            yy += h
        elif yy >= h:
            yy -= h
        prefetch(g.occupancy, yy * w + x)
