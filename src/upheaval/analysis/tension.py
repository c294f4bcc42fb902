"""A tension index: how much rebellion is held down by fear alone.

Epstein (2002) argues that outbursts come without any change in grievance or
legitimacy, from the build-up of agents who are aggrieved but deterred. The paper
gives no formula for such a "tension" measure, so the index here is ours. It is
Kuran's (1991) preference falsification made countable (T. Kuran, "Now out of
never: the element of surprise in the East European revolution of 1989", World
Politics 44(1):7-48): citizens whose private grievance would make them act were
there no risk, but who stay quiet in public.

Primary index (``latent``):

    tension(t) = #{ free quiet citizens i : G_i − T > 0 },    G_i = H_i (1 − L(t))

i.e. the quiet citizens for whom only the net risk N_i keeps G_i − N_i ≤ T.

Secondary index (``margin``): the mean of G_i − N_i − T over those same latent
rebels, with N_i = R_i·P_i from what each sees at the end of the tick (always
≤ 0 for a citizen the rule kept quiet; closer to 0 means closer to the edge).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from upheaval.analysis.perception import arrest_probabilities
from upheaval.core.codes import CITIZEN, QUIET

if TYPE_CHECKING:
    from upheaval.engine.place import Place


@dataclass(frozen=True)
class TensionIndex:
    """The tension index of one tick."""

    latent: int  # free quiet citizens with G − T > 0
    margin: float  # mean G − N − T over them (nan if there are none)


def tension(place: Place, *, with_margin: bool = True) -> TensionIndex:
    """The tension index of a place at the current tick (see the module docstring)."""
    a = place.agents
    p = place.params
    legitimacy = place.now("legitimacy")
    quiet = np.flatnonzero((a.kind == CITIZEN) & (a.status == QUIET))
    grievance = a.hardship[quiet].astype(np.float64) * (1.0 - legitimacy)
    latent = quiet[grievance - p.citizens.threshold > 0]
    margin = float("nan")
    if with_margin and latent.size:
        g = a.hardship[latent].astype(np.float64) * (1.0 - legitimacy)
        n = a.risk_aversion[latent].astype(np.float64) * arrest_probabilities(place, latent)
        if p.citizens.deterrence_exponent:
            n *= place.now("max_jail_term") ** p.citizens.deterrence_exponent
        margin = float(np.mean(g - n - p.citizens.threshold))
    return TensionIndex(latent=int(latent.size), margin=margin)
