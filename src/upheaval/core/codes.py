"""The codes the state is written in: agent kinds, statuses, occupancy lanes, groups
and factions. Shared by the lattice (world/), the rules (model/) and the views."""

from __future__ import annotations

# Agent kinds.
CITIZEN = 0
COP = 1

# Agent status. Cops on duty use QUIET; DEAD marks a free slot for any kind.
QUIET = 0
ACTIVE = 1
JAILED = 2
DEAD = 3

# Occupancy lanes: bit offset of each occupant kind's 2-bit field in a site's byte
# (see upheaval.world.grid).
LANE_COP = 0
LANE_ACTIVE = 2
LANE_QUIET = 4
LANE_JAILED = 6
NO_LANE = -1  # a jailed citizen who does not hold its site is off the lattice

#: Jail term meaning "for ever" (J_max = inf).
FOREVER = -1

#: Model II groups.
BLUE = 0
GREEN = 1

#: Elite factions commanding the security forces (mechanism 9).
RULER = 0
RIVAL = 1
FACTIONS = {"ruler": RULER, "rival": RIVAL}
