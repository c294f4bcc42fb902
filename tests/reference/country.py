"""The reference twin of a country: one :class:`ReferenceModel` per place, stepped in
lockstep, with the news between places computed here the plain way.

What it shares with the engine is only the scenario's data preparation
(``place_params``: a place's parameters and lattice size; ``place_timeline``: the
events that act there; ``place_seed``: its seed): the dynamics — the distances
along the links (Floyd–Warshall here, Dijkstra in the engine), the news kernel and
the news each place hears — are written again from docs/odd.md §7.20.
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import numpy as np

from reference.model import CITIZEN, ReferenceModel
from upheaval.engine.simulation import place_seed
from upheaval.model.ticks import tick_table
from upheaval.model.timeline import first_tick
from upheaval.scenario.country import place_params, place_timeline


class ReferenceCountry:
    """A country's places as reference models (module docstring)."""

    def __init__(self, scenario: Any, seed: int):
        country = scenario.country
        params = scenario.params.replace(seed=int(seed))
        self.p = params
        root = np.random.SeedSequence(int(seed))
        timeline = sorted(scenario.timeline, key=first_tick)
        self.names = [spec.name for spec in country.places]
        self.models = []
        for i, spec in enumerate(country.places):
            sc = SimpleNamespace(
                params=place_params(params, spec), timeline=place_timeline(spec, timeline)
            )
            self.models.append(ReferenceModel(sc, seed=place_seed(root, i)))
        self.distance = self._distances(country)

    def _distances(self, country: Any) -> list[list[float]]:
        n = len(self.names)
        d = [[0.0 if i == j else math.inf for j in range(n)] for i in range(n)]
        for link in country.links:
            i, j = self.names.index(link.a), self.names.index(link.b)
            d[i][j] = d[j][i] = min(d[i][j], link.distance_km)
        for k in range(n):
            for i in range(n):
                for j in range(n):
                    if d[i][k] + d[k][j] < d[i][j]:
                        d[i][j] = d[i][k] + d[k][j]
        return d

    def _news(self, i: int) -> tuple[int, int]:
        """What place i hears of the others (tick t − 1), as-if-seen counts."""
        info = self.p.information
        if not info.enabled or len(self.models) == 1:
            return (0, 0)
        m, lam = info.national_share, info.decay_km
        out = []
        for weight, which in (
            (info.elsewhere_weight, "actives"),
            (info.elsewhere_repression_weight, "repression"),
        ):
            if weight <= 0.0:
                out.append(0)
                continue
            total = heard = 0.0
            for j, other in enumerate(self.models):
                if j == i:
                    continue
                d = self.distance[i][j]
                kappa = m + (1.0 - m) * (0.0 if math.isinf(d) else math.exp(-d / lam))
                last = other.history[-1]._asdict()
                if which == "actives":
                    count = last["active_blue"] + last["active_green"]
                else:
                    count = last["arrests"] + last["killed_by_cops"]
                total += kappa
                heard += kappa * (count / (other.width * other.height))
            v = len(self.models[i].vision[CITIZEN])
            out.append(0 if total <= 0.0 else math.floor(weight * v * (heard / total)))
        return out[0], out[1]

    def step(self, n: int = 1) -> None:
        for _ in range(n):
            news = [self._news(i) for i in range(len(self.models))]
            for model, heard in zip(self.models, news, strict=True):
                model.elsewhere = heard
                model.step()

    def table(self):
        """The tick table with a place column, as the engine's ``Simulation.table``."""
        rows = [r for m in self.models for r in m.history]
        names = [name for name, m in zip(self.names, self.models, strict=True) for _ in m.history]
        return tick_table(rows, names)
