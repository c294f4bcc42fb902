"""Free agent slots, handed out lowest first.

A removed agent's slot goes back on a min-heap; a new agent (a clone, a
reinforcement) takes the lowest free slot. "Lowest first" makes the slot an agent
gets independent of array capacity and of when the arrays grew, which keeps runs
reproducible and lets the reference implementation mirror slot numbers exactly.
``meta[0]`` holds the number of free slots.
"""

from __future__ import annotations

import numpy as np

from upheaval.core.codes import DEAD
from upheaval.core.jit import kernel, rule
from upheaval.core.rng import randint
from upheaval.world.grid import lane_of, unplace


@rule(python=True)
def push_free(heap, meta, slot):
    n = meta[0]
    heap[n] = slot
    meta[0] = n + 1
    while n > 0:
        parent = (n - 1) >> 1
        if heap[parent] <= heap[n]:
            break
        heap[parent], heap[n] = heap[n], heap[parent]
        n = parent


@rule(python=True)
def pop_free(heap, meta):
    """The lowest free slot (the caller checks that one exists)."""
    n = meta[0] - 1
    top = heap[0]
    heap[0] = heap[n]
    meta[0] = n
    i = 0
    while True:
        left = 2 * i + 1
        if left >= n:
            break
        small = left
        right = left + 1
        if right < n and heap[right] < heap[left]:
            small = right
        if heap[i] <= heap[small]:
            break
        heap[i], heap[small] = heap[small], heap[i]
        i = small
    return top


def free_heap(capacity: int, used: int, full: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """A heap of the free slots used … capacity-1 (a sorted array is a heap).

    ``full`` sizes it for every slot; otherwise just for the slots free now.
    """
    heap = np.zeros(capacity if full else capacity - used, np.int32)
    heap[: capacity - used] = np.arange(used, capacity, dtype=np.int32)
    meta = np.array([capacity - used], np.int64)
    return heap, meta


@kernel(allocates=True)
def grow_heap(heap: np.ndarray, meta: np.ndarray, old: int, new: int) -> np.ndarray:
    """Add slots old … new-1 (all larger than any slot already there). Compiled and
    cached: from Python, ``push_free`` compiled afresh in every process at the first
    reinforcement, mid-run (0.15–0.3 s at 1:100, serial between the threads)."""
    out = np.zeros(new, np.int32)
    n = int(meta[0])
    out[:n] = heap[:n]
    for s in range(old, new):
        push_free(out, meta, s)
    return out


@rule
def remove_agent(g, a, j, hold_site, free_slots, meta):
    """Take agent ``j`` out of the world and put its slot on the free list."""
    unplace(g, a, j, lane_of(a.kind[j], a.status[j], hold_site))
    a.status[j] = DEAD
    a.cell_next[j] = -1
    push_free(free_slots, meta, j)


@rule(python=True)
def take_drawn(members, n, rng):
    """Draw one of ``members[:n]`` uniformly (one ``randint(n)``), remove it keeping
    the rest in order, and return it: one draw of sampling without replacement, as
    withdrawals, command shifts and provocateurs draw (the caller counts n down)."""
    k = randint(rng, n)
    j = members[k]
    for t in range(k, n - 1):  # keep the rest ascending (a slice copy would allocate)
        members[t] = members[t + 1]
    return j
