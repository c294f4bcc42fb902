"""Jail: terms, countdown and release (Epstein 2002, rule C and its jail term).

A term is an integer drawn uniformly from 0 … J_max−1 ('exclusive', NetLogo's
``random J_max``) or 0 … J_max ('inclusive', Mesa's ``randint(0, J_max)``); J_max = ∞
means for ever and draws nothing. Two countdown rules, as the two reference
implementations differ:

* ``end_of_tick`` (NetLogo): after all turns every finite term falls by one; a
  citizen whose term reaches 0 is released, and a term-0 arrest never jails.
* ``own_activation`` (Mesa): a jailed citizen spends its turn counting down; at the
  first turn its term is already 0 it is released and takes the rest of its turn.

A released citizen is quiet and returns to the site it was jailed on.
"""

from __future__ import annotations

import math

import numpy as np

from upheaval.core.codes import CITIZEN, FOREVER, JAILED, LANE_JAILED, LANE_QUIET, QUIET
from upheaval.core.jit import hot_rule, rule
from upheaval.core.rng import randint
from upheaval.world.grid import place, relane

EV_RELEASED = 7


@rule(python=True)
def draw_jail_term(max_jail_term, inclusive, rng):
    """A jail term under the range rule; FOREVER when J_max is infinite."""
    if math.isinf(max_jail_term):
        return FOREVER
    j = np.int64(max_jail_term)
    n = j + 1 if inclusive else j
    if n <= 0:
        return 0
    return randint(rng, n)


@hot_rule
def release(g, a, i, hold_site, events):
    """Free jailed citizen ``i``: quiet, back on the site it was jailed on."""
    a.status[i] = QUIET
    a.jail_left[i] = 0
    if hold_site:
        relane(g, a, a.position[i], LANE_JAILED, LANE_QUIET)
    else:
        place(g, a, i, a.position[i], LANE_QUIET)
    events[EV_RELEASED] += 1


@hot_rule
def serve_turn(g, a, i, hold_site, events):
    """Own-activation countdown. True if the citizen is still jailed after it."""
    left = a.jail_left[i]
    if left == FOREVER:
        return True
    if left > 0:
        a.jail_left[i] = left - 1
        return True
    release(g, a, i, hold_site, events)
    return False


@rule
def end_of_tick_countdown(g, a, n_slots, hold_site, events):
    """End-of-tick countdown for every jailed citizen, in slot order."""
    for i in range(n_slots):
        if a.kind[i] == CITIZEN and a.status[i] == JAILED:
            left = a.jail_left[i]
            if left > 0:
                left -= 1
                a.jail_left[i] = left
                if left == 0:
                    release(g, a, i, hold_site, events)
