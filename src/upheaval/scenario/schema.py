"""A scenario: plain, validated data — a name, the parameters and a timeline."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from upheaval.model.params import Params, validate_params
from upheaval.model.timeline import TimelineEvent
from upheaval.scenario.country import Country


@dataclass(frozen=True)
class Scenario:
    """Everything that defines a run except the code: parameters, timeline and, for a
    country, its places and links.

    Build one with :func:`upheaval.load` (a preset name or a TOML file), or directly
    from :class:`~upheaval.model.params.Params`.
    """

    name: str = "custom"
    description: str = ""
    params: Params = field(default_factory=Params)
    timeline: tuple[TimelineEvent, ...] = ()
    source: str = "<python>"
    #: the places and links of a country; None: one lattice (``params.world``)
    country: Country | None = None

    def with_params(self, **changes: Any) -> Scenario:
        """A copy with some parameters changed and validated (e.g. ``legitimacy=0.7``)."""
        p = validate_params(self.params.replace(**changes))
        return dataclasses.replace(self, params=p)
