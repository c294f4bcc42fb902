"""Compiled lattice bookkeeping: who is on which site, and scans of a neighbourhood.

Each site is one byte of ``occupancy`` holding four 2-bit *lanes* — the number of
cops, active citizens, quiet citizens and jailed citizens holding the site — and
the head of a linked list of the agents on it. The list is the exact truth; a lane
*saturates* at 3 (three or more), which only happens where a rule set lets agents
share a site (NetLogo: a released prisoner returns to its site, a cop steps onto
its arrestee's site). Wherever a saturated lane matters, the count is taken from
the list. One byte a site keeps a 2000×2000 lattice at 4 MB, inside the cache, and
lets a scan count a row of up to 16 sites with one vector load (eight sites a 64-bit
word near the lattice's edges).

Every scan walks the neighbourhood in the canonical order of
:mod:`upheaval.world.lattice` (rows by dy, then dx, both ascending) as one or two
contiguous runs of memory per row, so the torus wrap costs a branch per row, not a
modulo per site. When a scan must pick the k-th candidate and several candidates
share a site, they are taken in ascending slot order.
"""

from __future__ import annotations

import sys
from collections import namedtuple

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from upheaval.core.codes import (
    ACTIVE,
    CITIZEN,
    DEAD,
    JAILED,
    LANE_ACTIVE,
    LANE_COP,
    LANE_JAILED,
    LANE_QUIET,
    NO_LANE,
    QUIET,
)
from upheaval.core.jit import hot_rule, load_word, prefetch, rule

Lattice = namedtuple("Lattice", ["width", "height", "occupancy", "head", "active_total"])
Lattice.__doc__ = """One torus lattice: ``occupancy`` uint8[sites] (one byte a site, see
upheaval.world.grid), ``head`` int32[sites] (first agent on the site, -1 if none),
``active_total`` int64[1] (active citizens on the lattice: lets cops skip their scan
when there are none)."""


def empty_lattice(width: int, height: int) -> Lattice:
    n = width * height
    return Lattice(
        width=np.int64(width),
        height=np.int64(height),
        occupancy=np.zeros(n, np.uint8),
        head=np.full(n, -1, np.int32),
        active_total=np.zeros(1, np.int64),
    )


def copy_lattice(g: Lattice) -> Lattice:
    return Lattice(
        width=g.width,
        height=g.height,
        occupancy=g.occupancy.copy(),
        head=g.head.copy(),
        active_total=g.active_total.copy(),
    )


def lattice_nbytes(g: Lattice) -> int:
    return g.occupancy.nbytes + g.head.nbytes + g.active_total.nbytes


if sys.byteorder != "little":  # the eight-sites-a-word scans read bytes as words
    raise ImportError("upheaval's lattice scans need a little-endian machine")

_FULL = np.uint8(3)
_FREE_CITIZEN = np.uint8((3 << LANE_ACTIVE) | (3 << LANE_QUIET))


@rule(python=True)
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
def _listed_lane(a, j):
    # An agent on a site's list is on the lattice; a jailed one there holds it.
    return lane_of(a.kind[j], a.status[j], True)


@rule
def lane_count_at(g, a, site, lane):
    """Exact number of agents of ``lane`` on ``site`` (walks the list if saturated)."""
    f = (g.occupancy[site] >> np.uint8(lane)) & _FULL
    if f != _FULL:
        return np.int64(f)
    n = 0
    j = g.head[site]
    while j != -1:
        if _listed_lane(a, j) == lane:
            n += 1
        j = a.cell_next[j]
    return n


@rule
def _refresh(g, a, site):
    """Recompute a site's byte from its list (after a saturated lane changed)."""
    c0 = 0
    c1 = 0
    c2 = 0
    c3 = 0
    j = g.head[site]
    while j != -1:
        lane = _listed_lane(a, j)
        if lane == LANE_COP:
            c0 += 1
        elif lane == LANE_ACTIVE:
            c1 += 1
        elif lane == LANE_QUIET:
            c2 += 1
        else:
            c3 += 1
        j = a.cell_next[j]
    g.occupancy[site] = np.uint8(
        (min(c0, 3) << LANE_COP)
        | (min(c1, 3) << LANE_ACTIVE)
        | (min(c2, 3) << LANE_QUIET)
        | (min(c3, 3) << LANE_JAILED)
    )


@hot_rule
def place(g, a, i, site, lane):
    """Put agent ``i`` on ``site`` in ``lane`` (sites may be shared)."""
    a.position[i] = site
    if lane == NO_LANE:
        return
    a.cell_next[i] = g.head[site]
    g.head[site] = i
    if lane == LANE_ACTIVE:
        g.active_total[0] += 1
    v = g.occupancy[site]
    if (v >> np.uint8(lane)) & _FULL != _FULL:
        g.occupancy[site] = v + (np.uint8(1) << np.uint8(lane))


@hot_rule
def unplace(g, a, i, lane):
    """Take agent ``i`` off its site (its position is kept)."""
    if lane == NO_LANE:
        return
    site = a.position[i]
    j = g.head[site]
    if j == i:
        g.head[site] = a.cell_next[i]
    else:
        while a.cell_next[j] != i:
            j = a.cell_next[j]
        a.cell_next[j] = a.cell_next[i]
    a.cell_next[i] = -1
    if lane == LANE_ACTIVE:
        g.active_total[0] -= 1
    v = g.occupancy[site]
    if (v >> np.uint8(lane)) & _FULL != _FULL:
        g.occupancy[site] = v - (np.uint8(1) << np.uint8(lane))
    else:
        _refresh(g, a, site)


@hot_rule
def relane(g, a, site, old_lane, new_lane):
    """Record that an agent on ``site`` changed lane (e.g. quiet → active); its status
    must already be updated."""
    if old_lane == LANE_ACTIVE:
        g.active_total[0] -= 1
    if new_lane == LANE_ACTIVE:
        g.active_total[0] += 1
    v = g.occupancy[site]
    if (v >> np.uint8(old_lane)) & _FULL == _FULL or (v >> np.uint8(new_lane)) & _FULL == _FULL:
        _refresh(g, a, site)
    else:
        g.occupancy[site] = (
            v - (np.uint8(1) << np.uint8(old_lane)) + (np.uint8(1) << np.uint8(new_lane))
        )


@hot_rule
def move_to(g, a, i, site, lane):
    unplace(g, a, i, lane)
    place(g, a, i, site, lane)


@hot_rule
def move_to_empty(g, a, i, site, lane):
    """move_to for a ``site`` whose byte reads 0. A zero byte means an empty list
    (every agent on a list fills a lane), so the site's list head is written without
    being read first: on a large lattice that read is a cache miss a turn."""
    unplace(g, a, i, lane)  # leaves a.cell_next[i] = -1, the end of the new list
    a.position[i] = site
    g.head[site] = i
    if lane == LANE_ACTIVE:
        g.active_total[0] += 1
    g.occupancy[site] = np.uint8(1) << np.uint8(lane)


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
def _run_counts(g, a, s, e):
    """Exact (cops, active, quiet, jailed) over sites [s, e)."""
    c0 = 0
    c1 = 0
    c2 = 0
    c3 = 0
    for c in range(s, e):
        c0 += lane_count_at(g, a, c, LANE_COP)
        c1 += lane_count_at(g, a, c, LANE_ACTIVE)
        c2 += lane_count_at(g, a, c, LANE_QUIET)
        c3 += lane_count_at(g, a, c, LANE_JAILED)
    return c0, c1, c2, c3


@rule
def scan_lanes(g, a, site, span_dy, span_half):
    """Exact count of every lane over the neighbourhood of ``site``, own site
    included: (cops, active, quiet, jailed). The simple, slower scan; the rules use
    :func:`count_cops_actives`."""
    w = g.width
    x = site % w
    y = site // w
    cops = 0
    active = 0
    quiet = 0
    jailed = 0
    for r in range(span_dy.shape[0]):
        s0, e0, s1, e1 = _row_bounds(g, x, y, span_dy[r], span_half[r])
        c0, c1, c2, c3 = _run_counts(g, a, s0, e0)
        d0, d1, d2, d3 = _run_counts(g, a, s1, e1)
        cops += c0 + d0
        active += c1 + d1
        quiet += c2 + d2
        jailed += c3 + d3
    return cops, active, quiet, jailed


# Eight sites a word (SWAR): the cop lane and the active lane of every byte, and
# the bits that flag a saturated cop or active lane (lane value 3).
_LOW_LANE = np.uint64(0x0303030303030303)
_SAT_BITS = np.uint64(0x0505050505050505)
_BYTE_ONES = np.uint64(0x0101010101010101)
#: _FIRST_BYTES[k]: a word's first k bytes (k = 0 … 8).
_FIRST_BYTES = np.array([(1 << (8 * k)) - 1 for k in range(9)], np.uint64)
#: Widest half-row the vector scan reads in one 16-byte load: 2·7 + 1 = 15 sites.
_WORD_REACH = 7


@rule(python=True)
def _byte_sum(x):
    """Sum of the eight bytes of ``x``, each at most 31 (the total fits in a byte)."""
    return np.int64((x * _BYTE_ONES) >> np.uint64(56))


@rule
def _long_run_cops_actives(occ, s, e):
    """(cops, actives, saturated flags) over the sites [s, e), a word at a time."""
    cops = 0
    active = 0
    sat = np.uint64(0)
    c = s
    while c < e:
        if c + 8 <= occ.shape[0]:
            x = load_word(occ, c)
        else:  # the lattice's last bytes: read byte by byte
            x = np.uint64(0)
            for k in range(occ.shape[0] - c):
                x |= np.uint64(occ[c + k]) << np.uint64(8 * k)
        x &= _FIRST_BYTES[min(e - c, 8)]
        cops += _byte_sum(x & _LOW_LANE)
        active += _byte_sum((x >> np.uint64(2)) & _LOW_LANE)
        sat |= x & (x >> np.uint64(1))
        c += 8
    return cops, active, sat


@hot_rule
def _run_cops_actives(occ, s, e):
    """(cops, actives, saturated flags) over the sites [s, e); see _long_run_…."""
    if e <= s:
        return 0, 0, np.uint64(0)
    return _long_run_cops_actives(occ, s, e)


_SITES16 = ir.VectorType(ir.IntType(8), 16)
_SITES16_WIDE = ir.VectorType(ir.IntType(16), 16)
#: Most rows _inner_cops_actives takes: 3 a row keeps its bytewise sums below 256.
_INNER_ROWS = 64


def _splat(value: int) -> ir.Constant:
    return ir.Constant(_SITES16, [value] * 16)


@intrinsic
def _inner_cops_actives(typingctx, occ, site, w, span_dy, span_half):
    """(cops, actives, saturated, done) around a ``site`` whose neighbourhood lies
    inside the lattice, at most _INNER_ROWS rows, the last row at least 16 bytes
    before the lattice's end. ``saturated`` is non-zero if a cop or active lane reads
    3; ``done`` is 0 (counts void) if a row is wider than 15 sites.

    Written as LLVM vector code, as numba has no vector types: each row is one
    16-byte load, the bytes beyond the row zeroed by a compare with 0…15, its two
    lanes added bytewise into 16-byte accumulators, summed across once at the end.
    (A 64-bit-word version of the same loop measured 41 ns a radius-7 scan, this one
    16 ns.)"""
    sig = types.UniTuple(types.int64, 4)(occ, site, w, span_dy, span_half)

    def codegen(context, builder, signature, args):
        occ_t, site_t, w_t, dy_t, half_t = signature.args
        occ_a = context.make_array(occ_t)(context, builder, args[0])
        dy_a = context.make_array(dy_t)(context, builder, args[3])
        half_a = context.make_array(half_t)(context, builder, args[4])
        i64 = ir.IntType(64)
        zero = ir.Constant(_SITES16, None)
        site_v = context.cast(builder, args[1], site_t, types.int64)
        w_v = context.cast(builder, args[2], w_t, types.int64)
        reach = ir.Constant(i64, _WORD_REACH)
        offsets = ir.Constant(_SITES16, list(range(16)))
        cops = cgutils.alloca_once_value(builder, zero)
        active = cgutils.alloca_once_value(builder, zero)
        saturated = cgutils.alloca_once_value(builder, zero)
        wide = cgutils.alloca_once_value(builder, ir.Constant(ir.IntType(1), 0))
        with cgutils.for_range(builder, builder.extract_value(dy_a.shape, 0)) as loop:
            r = loop.index
            dy_p = cgutils.get_item_pointer(context, builder, dy_t, dy_a, [r], wraparound=False)
            half_p = cgutils.get_item_pointer(
                context, builder, half_t, half_a, [r], wraparound=False
            )
            dy = builder.sext(builder.load(dy_p), i64)
            half = builder.sext(builder.load(half_p), i64)
            too_wide = builder.icmp_signed(">", half, reach)
            builder.store(builder.or_(builder.load(wide), too_wide), wide)
            half = builder.select(too_wide, reach, half)  # keeps the load in bounds
            start = builder.sub(builder.add(site_v, builder.mul(dy, w_v)), half)
            p = cgutils.get_item_pointer(context, builder, occ_t, occ_a, [start], wraparound=False)
            row = builder.load(builder.bitcast(p, _SITES16.as_pointer()), align=1)
            n = builder.trunc(
                builder.add(builder.add(half, half), ir.Constant(i64, 1)), ir.IntType(8)
            )
            n16 = builder.shuffle_vector(
                builder.insert_element(zero, n, ir.Constant(ir.IntType(32), 0)),
                zero,
                ir.Constant(ir.VectorType(ir.IntType(32), 16), [0] * 16),
            )
            row = builder.select(builder.icmp_unsigned("<", offsets, n16), row, zero)
            lane = _splat(3)
            builder.store(builder.add(builder.load(cops), builder.and_(row, lane)), cops)
            act = builder.and_(builder.lshr(row, _splat(2)), lane)
            builder.store(builder.add(builder.load(active), act), active)
            both_bits = builder.and_(row, builder.lshr(row, _splat(1)))
            builder.store(builder.or_(builder.load(saturated), both_bits), saturated)
        add_across = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(ir.IntType(16), [_SITES16_WIDE]),
            "llvm.vector.reduce.add.v16i16",
        )
        or_across = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(ir.IntType(8), [_SITES16]),
            "llvm.vector.reduce.or.v16i8",
        )

        def total(acc):
            wide_acc = builder.zext(builder.load(acc), _SITES16_WIDE)
            return builder.zext(builder.call(add_across, [wide_acc]), i64)

        flags = builder.call(or_across, [builder.and_(builder.load(saturated), _splat(0x05))])
        done = builder.zext(builder.not_(builder.load(wide)), i64)
        values = [total(cops), total(active), builder.zext(flags, i64), done]
        return context.make_tuple(builder, signature.return_type, values)

    return sig, codegen


@rule
def _edge_cops_actives(g, site, span_dy, span_half):
    """(cops, actives, saturated flags) around any ``site``, row by row."""
    occ = g.occupancy
    w = g.width
    x = site % w
    y = site // w
    cops = 0
    active = 0
    saturated = np.uint64(0)
    for r in range(span_dy.shape[0]):
        s0, e0, s1, e1 = _row_bounds(g, x, y, span_dy[r], span_half[r])
        c0, a0, f0 = _run_cops_actives(occ, s0, e0)
        c1, a1, f1 = _run_cops_actives(occ, s1, e1)
        cops += c0 + c1
        active += a0 + a1
        saturated |= f0 | f1
    return cops, active, saturated


@hot_rule
def count_cops_actives(g, a, site, span_dy, span_half):
    """(cops, actives) within the neighbourhood of ``site``, own site included.

    The hot scan of rules A and C: two lanes summed straight from the bytes; a
    saturated lane anywhere (rare) sends the count to the exact, list-walking scan.
    Away from the lattice's edges (all but 7 sites on each side for a radius-7
    neighbourhood) the scan needs no wrap-around and reads every row as one 16-byte
    vector (_inner_cops_actives); elsewhere rows go eight sites a word, wrapped.
    """
    w = g.width
    n_rows = span_dy.shape[0]
    x = site % w
    y = site // w
    done = 0
    # rows come in ascending dy (canonical order): the first and last are the extremes
    if (
        0 < n_rows <= _INNER_ROWS
        and y + span_dy[0] >= 0
        and y + span_dy[n_rows - 1] < g.height
        and x >= _WORD_REACH
        and x + _WORD_REACH < w
        and (y + span_dy[n_rows - 1]) * w + x + _WORD_REACH + 9 <= g.occupancy.shape[0]
    ):
        cops, active, flags, done = _inner_cops_actives(g.occupancy, site, w, span_dy, span_half)
        saturated = flags != 0
    if done == 0:
        cops, active, edge_flags = _edge_cops_actives(g, site, span_dy, span_half)
        saturated = (edge_flags & _SAT_BITS) != 0
    if saturated:  # a cop or active lane reads 3: three or more
        cops, active, _, _ = scan_lanes(g, a, site, span_dy, span_half)
    return cops, active


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


# Candidates a scan may pick or count: citizens of a given status (rule C's arrestee),
# free citizens of another group (Model II's victim), or active citizens of a group
# (identities' solidarity count).
BY_STATUS = 0
OF_OTHER_GROUP = 1
ACTIVE_OF_GROUP = 2


@rule
def _is_candidate(a, j, mode, value):
    if a.kind[j] != CITIZEN:
        return False
    if mode == BY_STATUS:
        return a.status[j] == value
    if mode == ACTIVE_OF_GROUP:
        return a.status[j] == ACTIVE and a.group[j] == value
    return (a.status[j] == QUIET or a.status[j] == ACTIVE) and a.group[j] != value


@rule
def _candidates_on_site(g, a, c, mode, value, lane):
    """How many candidates stand on site c (the lane byte answers without a walk)."""
    if mode == BY_STATUS:
        m = np.int64((g.occupancy[c] >> np.uint8(lane)) & _FULL)
        return lane_count_at(g, a, c, lane) if m == 3 else m
    if mode == ACTIVE_OF_GROUP:
        if (g.occupancy[c] >> np.uint8(LANE_ACTIVE)) & _FULL == 0:
            return 0
    elif not g.occupancy[c] & _FREE_CITIZEN:
        return 0
    m = 0
    j = g.head[c]
    while j != -1:
        if _is_candidate(a, j, mode, value):
            m += 1
        j = a.cell_next[j]
    return m


@rule
def _kth_on_site(g, a, c, mode, value, k):
    """The k-th (0-based, ascending slot) candidate on site c."""
    # Sharing is rare: a selection by repeated minimum is cheapest here.
    lower = -1
    best = -1
    for _ in range(k + 1):
        best = -1
        j = g.head[c]
        while j != -1:
            if j > lower and _is_candidate(a, j, mode, value) and (best == -1 or j < best):
                best = j
            j = a.cell_next[j]
        lower = best
    return best


@rule
def _candidates(g, a, site, span_dy, span_half, mode, value, lane, k):
    """With k < 0: the number of candidates in the neighbourhood. Otherwise the k-th
    (0-based) candidate in canonical order, or -1 if there are fewer."""
    w = g.width
    x = site % w
    y = site // w
    n = 0
    for r in range(span_dy.shape[0]):
        s0, e0, s1, e1 = _row_bounds(g, x, y, span_dy[r], span_half[r])
        for seg in range(2):
            s = s0 if seg == 0 else s1
            e = e0 if seg == 0 else e1
            for c in range(s, e):
                m = _candidates_on_site(g, a, c, mode, value, lane)
                if k >= 0 and k - n < m:
                    return _kth_on_site(g, a, c, mode, value, k - n)
                n += m
    return n if k < 0 else -1


@rule
def kth_in_lane(g, a, site, span_dy, span_half, lane, status, k):
    """The k-th (0-based) citizen of ``status`` (filling ``lane``) in canonical order."""
    return _candidates(g, a, site, span_dy, span_half, BY_STATUS, status, lane, k)


@rule
def count_other_group(g, a, site, span_dy, span_half, group):
    """Model II: free citizens not of ``group`` within the neighbourhood."""
    return _candidates(g, a, site, span_dy, span_half, OF_OTHER_GROUP, group, 0, -1)


@rule
def count_actives_of_group(g, a, site, span_dy, span_half, group):
    """Active citizens of ``group`` within the neighbourhood of ``site``, own site
    included (identities, docs/odd.md §7.19). The lanes do not know groups, so the
    site lists are walked, but only on sites whose active lane is non-zero."""
    return _candidates(g, a, site, span_dy, span_half, ACTIVE_OF_GROUP, group, 0, -1)


@rule
def kth_other_group(g, a, site, span_dy, span_half, group, k):
    """Model II: the k-th free citizen not of ``group``, canonical order."""
    return _candidates(g, a, site, span_dy, span_half, OF_OTHER_GROUP, group, 0, k)


@rule
def prefetch_neighbourhood(g, site, span_dy):
    """Start fetching the lattice around ``site`` ahead of the turn that will use it:
    one line of occupancy bytes per row, and the site's own list head. The list head
    of a move's target is only written (see move_to_empty); prefetching a line of list
    heads per row for it cost more than it saved (2000×2000: 170 vs 161 ns per
    agent-step)."""
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


def lane_counts(g: Lattice, a, hold_site: bool) -> np.ndarray:
    """Exact per-site occupant counts, shape (sites, 4): cops, active, quiet, jailed
    holding the site — recounted from the agents, for analysis and tests."""
    n = int(g.width) * int(g.height)
    counts = np.zeros((n, 4), np.int64)
    live = a.status != DEAD
    cop = live & (a.kind != CITIZEN)
    cit = live & (a.kind == CITIZEN)
    for column, mask in enumerate(
        (cop, cit & (a.status == ACTIVE), cit & (a.status == QUIET), cit & (a.status == JAILED))
    ):
        if column == 3 and not hold_site:
            continue
        np.add.at(counts[:, column], a.position[mask], 1)
    return counts


def decode_occupancy(g: Lattice) -> np.ndarray:
    """The occupancy bytes as (sites, 4) lane values, each 0–3 (3: three or more)."""
    n = int(g.width) * int(g.height)
    b = g.occupancy[:n].astype(np.int64)
    return np.stack([(b >> s) & 3 for s in (LANE_COP, LANE_ACTIVE, LANE_QUIET, LANE_JAILED)], 1)
