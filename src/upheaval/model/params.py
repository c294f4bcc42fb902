"""The model's parameters: sections of documented modelling choices, one record.

Every parameter is declared once, with :func:`~upheaval.model.declare.param`, in the
section it belongs to: the classic model's sections here, each mechanism's in its own
module under ``model/rules/`` (``model/mechanisms.py`` lists them). A parameter carries
its TOML location, its allowed values, a one-line meaning, the source of its default,
its scope (place or country), whether only the initial population reads it and
whether the timeline may change it. This registry is what scenario validation,
``--set`` overrides, sweeps, the ODD parameter table and the kernels read.

Code reads a value by section, ``params.citizens.legitimacy``; tables, the timeline
and keywords name it by its registry name, ``Params(legitimacy=0.7)``,
``params.replace(max_jail_term=40.0)`` (or by location,
``params.replace(**{"jail.max_jail_term": 40.0})``).

Defaults are Epstein (2002) run 2 where the paper states a value, and NetLogo's
*Rebellion* (Wilensky 2004) where the paper is silent.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from typing import Any

from upheaval.model.declare import (
    EPSTEIN,
    EPSTEIN_TEXT,
    NETLOGO,
    OURS,
    Parameter,
    ParameterError,
    Section,
    check_value,
    clock_time,
    param,
    section,
)
from upheaval.model.mechanisms import MECHANISMS


@section("model")
class Model(Section):
    """Which of Epstein's two models runs."""

    variant: str = param(
        "I",
        "Model I (rebellion against a central authority) or Model II (inter-group violence).",
        EPSTEIN_TEXT,
        kind="choice",
        choices=("I", "II"),
        initial_only=True,
    )

    def validate(self, p: Params) -> None:
        if self.variant == "II" and (
            p.legitimacy.feedback == "per_agent"
            or p.hardship.group_share > 0
            or p.lethal_force.deterrence > 0
        ):
            # Model II clones would inherit a dead slot's per-agent mechanism state.
            raise ParameterError(
                "model.variant",
                "Model II does not yet support per-agent legitimacy, hardship groups or "
                "lethal-force deterrence",
            )


@section("world")
class World(Section):
    """The lattice: its size and the shape of a neighbourhood."""

    width: int = param(
        40,
        "Lattice width in sites (a torus).",
        EPSTEIN_TEXT,
        kind="int",
        low=3,
        high=1_000_000,
        scope="place",
        initial_only=True,
    )
    height: int = param(
        40,
        "Lattice height in sites (a torus).",
        EPSTEIN_TEXT,
        kind="int",
        low=3,
        high=1_000_000,
        scope="place",
        initial_only=True,
    )
    scale: float = param(
        1.0,
        "People per agent in a country's places: a place of population N gets N / scale "
        "citizens (1: one agent per person). Unused without a [country].",
        OURS,
        kind="float",
        low=1.0,
        high=1e9,
        initial_only=True,
    )
    min_side: int = param(
        20,
        "Smallest side, in sites, of a country place's lattice: a small town still gets "
        "a neighbourhood to protest in. Unused without a [country].",
        OURS,
        kind="int",
        low=3,
        high=1_000_000,
        initial_only=True,
    )
    activation_tile: int = param(
        0,
        "Side, in sites, of the tiles of tiled random activation, a labelled variant "
        "for speed on large lattices: each tick the tiles are visited in a random order "
        "and the agents of a tile (by their site at the tick's start) take their turns "
        "together, in a random order. 0 (default): Epstein's (2002) random order over "
        "all agents. A tile as large as the lattice is the default's order, draw for "
        "draw. Turns in one tile are no longer interleaved with turns elsewhere, so "
        "results differ in distribution too (docs/odd.md §7.1, benchmarks/README).",
        OURS,
        kind="int",
        low=0,
        high=1_000_000,
        scope="place",
        initial_only=True,
    )
    vision_shape: str = param(
        "euclidean",
        "Shape of the neighbourhood within vision: Euclidean disc dx²+dy² ≤ v² "
        "(NetLogo in-radius), von Neumann diamond |dx|+|dy| ≤ v, or Moore square "
        "max(|dx|,|dy|) ≤ v. A vision of 1.7 only makes sense as a Euclidean radius.",
        NETLOGO,
        kind="choice",
        choices=("euclidean", "von_neumann", "moore"),
    )

    def validate(self, p: Params) -> None:
        if p.model.variant == "II" and self.width * self.height > 4_000_000:
            raise ParameterError("world.width", "Model II supports at most 4,000,000 sites")


@section("population")
class Population(Section):
    """Who is placed on the lattice at the start."""

    citizen_density: float = param(
        0.7,
        "Share of sites holding a citizen at the start.",
        EPSTEIN,
        kind="float",
        low=0.0,
        high=1.0,
        scope="place",
        initial_only=True,
    )
    cop_density: float = param(
        0.04,
        "Share of sites holding a cop; a timeline may change it, adding cops on random "
        "empty sites or withdrawing random cops.",
        EPSTEIN,
        kind="float",
        low=0.0,
        high=1.0,
        timeline=True,
        scope="place",
    )
    placement: str = param(
        "exact",
        "'exact': round(density × sites) agents of each kind on distinct random sites "
        "(NetLogo); 'bernoulli': each site independently holds a citizen, a cop or "
        "nothing with the densities as probabilities (Mesa).",
        NETLOGO,
        kind="choice",
        choices=("exact", "bernoulli"),
        scope="place",
        initial_only=True,
    )

    def validate(self, p: Params) -> None:
        total = self.citizen_density + self.cop_density
        if total > 1.0 + 1e-12:
            raise ParameterError(
                "population.citizen_density",
                f"citizen_density + cop_density = {total:g} exceeds 1",
            )


@section("citizens")
class Citizens(Section):
    """Rule A (activation) and rule M for citizens (Epstein 2002)."""

    vision: float = param(
        7.0,
        "Citizen vision v: how far a citizen sees cops and actives, and how far it moves.",
        EPSTEIN,
        kind="float",
        low=0.0,
        high=100.0,
        name="citizen_vision",
    )
    legitimacy: float = param(
        0.82,
        "Regime legitimacy L; grievance G = H(1 − L).",
        EPSTEIN,
        kind="float",
        low=0.0,
        high=1.0,
        timeline=True,
        scope="place",
    )
    threshold: float = param(
        0.1,
        "Activation threshold T: active iff G − N > T (strict).",
        EPSTEIN_TEXT,
        kind="float",
        low=-1.0,
        high=1.0,
    )
    arrest_constant: float = param(
        2.3,
        "k in P = 1 − exp(−k·(C/A)); 2.3 gives P ≈ 0.9 at C = A = 1.",
        EPSTEIN_TEXT,
        kind="float",
        low=0.0,
        high=1000.0,
    )
    ratio_rule: str = param(
        "floor",
        "How C/A enters P: 'literal' (the paper's text), 'floor' (NetLogo), "
        "'round_half_even' (Mesa, Python round) or 'round_half_up'. Without rounding "
        "there is no punctuated equilibrium (Lemos, Lopes & Coelho 2015).",
        NETLOGO,
        kind="choice",
        choices=("literal", "floor", "round_half_even", "round_half_up"),
    )
    active_count_includes_self: bool = param(
        False,
        "A = 1 + actives within vision. If true, an active citizen also counts itself "
        "among the actives on its own site, so it counts twice (NetLogo); if false, "
        "the 1 is the citizen itself (the paper, Mesa).",
        EPSTEIN_TEXT,
        kind="bool",
    )
    movement: bool = param(
        True,
        "Whether free citizens move (rule M). Off in run 1.",
        EPSTEIN,
        kind="bool",
        name="citizen_movement",
    )
    activation: str = param(
        "random_order",
        "How rule A is updated: 'random_order', each citizen in its turn against the "
        "lattice as it then stands (Epstein 2002's asynchronous activation), or "
        "'synchronous', every free citizen at the start of the tick against the lattice "
        "as the previous tick left it, all at once (a named variant; moves and arrests "
        "stay in random order).",
        OURS,
        kind="choice",
        choices=("random_order", "synchronous"),
    )
    turn_order: str = param(
        "move_then_act",
        "Within a citizen's turn: move then decide (NetLogo) or decide then move (Mesa).",
        NETLOGO,
        kind="choice",
        choices=("move_then_act", "act_then_move"),
        name="citizen_turn_order",
    )
    deterrence_exponent: float = param(
        0.0,
        "α in N = R·P·J_max^α. Off (α = 0) by default: the term could not be confirmed "
        "in the paper's text.",
        OURS,
        kind="float",
        low=0.0,
        high=10.0,
    )

    def validate(self, p: Params) -> None:
        _vision_fits("citizens.vision", self.vision, p)
        if self.activation == "synchronous" and (
            p.provocateurs.count > 0 or p.organisation.groups > 0
        ):
            raise ParameterError(
                "citizens.activation",
                "synchronous activation does not yet support provocateurs or organised "
                "groups (their decisions are taken in the turn)",
            )


@section("cops")
class Cops(Section):
    """Rule C (arrest) and rule M for cops (Epstein 2002)."""

    vision: float = param(
        7.0,
        "Cop vision v*: how far a cop sees actives and moves.",
        EPSTEIN,
        kind="float",
        low=0.0,
        high=100.0,
        name="cop_vision",
    )
    movement: bool = param(
        True,
        "Whether cops move (rule M).",
        EPSTEIN,
        kind="bool",
        name="cop_movement",
    )
    turn_order: str = param(
        "move_then_act",
        "Within a cop's turn: move then arrest (NetLogo) or arrest then move (Mesa).",
        NETLOGO,
        kind="choice",
        choices=("move_then_act", "act_then_move"),
        name="cop_turn_order",
    )
    after_arrest: str = param(
        "arrestee_site",
        "Where a cop goes after an arrest: onto the arrestee's site (NetLogo) or it "
        "stays ('stay'; Mesa's cop then makes its ordinary move if its turn order says so).",
        NETLOGO,
        kind="choice",
        choices=("arrestee_site", "stay"),
        name="cop_after_arrest",
    )
    arrest_rate: float = param(
        1.0,
        "q_arr: chance that a cop who sees active citizens acts on one this turn (arrests "
        "it, or uses force under a lethal-force order); otherwise it lets them be. 1: "
        "Epstein's rule C, which acts whenever it can, and no extra draw. Per place, and "
        "a timeline can change it (a crackdown, a counter-terrorist operation).",
        OURS,
        kind="float",
        low=0.0,
        high=1.0,
        scope="place",
        timeline=True,
        name="arrest_rate",
    )

    def validate(self, p: Params) -> None:
        _vision_fits("cops.vision", self.vision, p)


@section("jail")
class Jail(Section):
    """Jail terms and how they are served."""

    max_jail_term: float = param(
        30.0,
        "J_max: jail terms are integers drawn uniformly up to J_max (see term_range); "
        "inf means jailed for ever (runs 3-5).",
        EPSTEIN,
        kind="term",
        low=0.0,
        high=32000.0,
        timeline=True,
    )
    term_range: str = param(
        "exclusive",
        "'exclusive': term in 0 … J_max−1 (NetLogo `random`); 'inclusive': 0 … J_max "
        "(Mesa `randint`).",
        NETLOGO,
        kind="choice",
        choices=("exclusive", "inclusive"),
        name="jail_term_range",
    )
    countdown: str = param(
        "end_of_tick",
        "'end_of_tick': every jailed citizen's term falls by one after all turns, and a "
        "term of 0 means free (NetLogo; a term-0 arrest only makes the citizen quiet); "
        "'own_activation': a jailed citizen spends its turn counting down and is released "
        "at the first turn its term is already 0 (Mesa).",
        NETLOGO,
        kind="choice",
        choices=("end_of_tick", "own_activation"),
        name="jail_countdown",
    )
    hold_site: bool = param(
        False,
        "Whether a jailed citizen keeps its site occupied (Mesa) or leaves it free and "
        "returns to it on release, sharing it if someone moved in (NetLogo).",
        NETLOGO,
        kind="bool",
        name="jailed_hold_site",
    )


@section("groups")
class Groups(Section):
    """Model II's groups (and the identity groups of Model I, mechanism 10)."""

    blue_share: float = param(
        0.5,
        "Model II, and Model I with identity.enabled: share of citizens in the Blue group "
        "(the rest are Green).",
        OURS,
        kind="float",
        low=0.0,
        high=1.0,
        scope="place",
        initial_only=True,
    )
    clone_probability: float = param(
        0.05,
        "Model II: chance per tick that a free citizen clones onto a "
        "free neighbouring site (offspring keep group, H and R).",
        EPSTEIN_TEXT,
        kind="float",
        low=0.0,
        high=1.0,
    )
    max_age: int = param(
        200,
        "Model II: death ages are drawn uniformly from 1 … max_age ticks.",
        EPSTEIN_TEXT,
        kind="int",
        low=1,
        high=32000,
    )
    clone_neighbourhood: str = param(
        "moore",
        "Model II: the 'neighbouring sites' a clone may be placed on.",
        OURS,
        kind="choice",
        choices=("moore", "von_neumann"),
    )


def _vision_fits(location: str, vision: float, p: Params) -> None:
    r = int(math.floor(vision))
    w, h = p.world.width, p.world.height
    if 2 * r + 1 > min(w, h):
        raise ParameterError(
            location,
            f"vision {vision:g} spans {2 * r + 1} sites, more than the {w}×{h} lattice; "
            "the neighbourhood would wrap onto itself",
        )


@section("run")
class Run(Section):
    """How long a run lasts, its seed and its clock."""

    steps: int = param(
        500,
        "Number of ticks to run.",
        OURS,
        kind="int",
        low=0,
        high=10**9,
    )
    seed: int = param(
        0,
        "Root seed; all random streams derive from numpy.random.SeedSequence(seed).",
        OURS,
        kind="int",
        low=0,
        high=2**63 - 1,
    )
    start: str = param(
        "",
        "Clock time at which tick 1 begins (ISO 8601 or a TOML date-time, e.g. "
        "2022-01-02T00:00:00Z; without an offset, UTC). With run.tick_minutes, timeline "
        'entries may give a clock `time` instead of a `tick`. "": no clock.',
        OURS,
        kind="datetime",
    )
    burn_in: int = param(
        0,
        "Ticks each place plays before tick 0, unrecorded, on its own (no timeline, no "
        "news, no mechanism hooks between ticks; the kernel's rules as at tick 0), so "
        "that a run starts from the model's ordinary state rather than from everyone "
        "quiet and free — whose relaxation is the classic opening burst of the first "
        "ticks. 0: start from the initial placement (the classic model).",
        "our design (docs/odd.md §7, Initialisation): a spin-up period, as is usual "
        "for models whose initial condition is not an equilibrium (Grimm et al. 2020, "
        "JASSS 23(2) 7, ODD 'initialisation')",
        kind="int",
        low=0,
        high=10**6,
    )
    tick_minutes: float = param(
        0.0,
        "Clock length of a tick in minutes (a tick k covers [start + (k − 1)·Δ, "
        "start + k·Δ)); 0: ticks have no clock length.",
        OURS,
        kind="float",
        low=0.0,
        high=525_600.0,
    )


#: The classic model's sections, in the order a scenario file lists them; the
#: mechanisms' sections follow in registry order, then ``run``.
CLASSIC_SECTIONS: tuple[type[Section], ...] = (
    Model,
    World,
    Population,
    Citizens,
    Cops,
    Jail,
    Groups,
)

#: Every section, in the order a scenario file lists them.
SECTION_TYPES: tuple[type[Section], ...] = (
    *CLASSIC_SECTIONS,
    *(m.section for m in MECHANISMS if m.section is not None),
    Run,
)
#: Their TOML table names.
SECTIONS: tuple[str, ...] = tuple(s.NAME for s in SECTION_TYPES)

_PARAMETERS: tuple[Parameter, ...] = tuple(p for s in SECTION_TYPES for p in s.PARAMETERS)
_BY_NAME: dict[str, Parameter] = {p.name: p for p in _PARAMETERS}
_BY_LOCATION: dict[str, Parameter] = {p.location: p for p in _PARAMETERS}
if len(_BY_NAME) != len(_PARAMETERS):
    raise RuntimeError("two parameters share a name")
if set(_BY_NAME) & set(SECTIONS) - {"legitimacy"}:
    # ``legitimacy`` is both the citizens' parameter and the mechanism's section: a
    # keyword names the parameter, an attribute the section.
    raise RuntimeError("a parameter name shadows a section")


def parameters() -> tuple[Parameter, ...]:
    """The registry: every parameter, section by section, in declaration order."""
    return _PARAMETERS


def parameter(name_or_location: str) -> Parameter:
    """One parameter by registry name (``max_jail_term``) or location
    (``jail.max_jail_term``); KeyError if there is none."""
    spec = _BY_NAME.get(name_or_location) or _BY_LOCATION.get(name_or_location)
    if spec is None:
        raise KeyError(name_or_location)
    return spec


def by_location() -> dict[tuple[str, str], Parameter]:
    """Map (section, key) → parameter, as scenario files address parameters."""
    return {(p.section, p.key): p for p in _PARAMETERS}


class Params:
    """All parameters of one run, section by section, as given (no logic, no
    validation here: :func:`validate_params` checks them).

    >>> p = Params(legitimacy=0.7, max_jail_term=40.0)
    >>> p.citizens.legitimacy, p.jail.max_jail_term
    (0.7, 40.0)
    >>> p.replace(**{"citizens.legitimacy": 0.6}).value("legitimacy")
    0.6
    """

    __slots__ = SECTIONS

    def __init__(self, **values: Any):
        grouped: dict[str, dict[str, Any]] = {}
        for key, value in values.items():
            try:
                spec = parameter(key)
            except KeyError:
                raise TypeError(f"Params: unknown parameter {key!r}") from None
            grouped.setdefault(spec.section, {})[spec.key] = value
        for s in SECTION_TYPES:
            object.__setattr__(self, s.NAME, s(**grouped.get(s.NAME, {})))

    @classmethod
    def _of(cls, sections: tuple[Section, ...]) -> Params:
        p = cls.__new__(cls)
        for s in sections:
            object.__setattr__(p, s.NAME, s)
        return p

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Params is frozen; use replace()")

    def __reduce__(self) -> tuple[Any, ...]:
        return (Params._of, (self.sections(),))

    def sections(self) -> tuple[Section, ...]:
        """The section records, in :data:`SECTIONS` order."""
        return tuple(getattr(self, name) for name in SECTIONS)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Params) and self.sections() == other.sections()

    def __hash__(self) -> int:
        return hash(self.sections())

    def __repr__(self) -> str:
        changed = [
            f"{p.name}={self.value(p.name)!r}"
            for p in _PARAMETERS
            if self.value(p.name) != p.default
        ]
        return f"Params({', '.join(changed)})"

    def value(self, name_or_location: str) -> Any:
        """One value by registry name or location."""
        spec = parameter(name_or_location)
        return getattr(getattr(self, spec.section), spec.key)

    def items(self) -> Iterator[tuple[Parameter, Any]]:
        """(parameter, value) for every parameter, in registry order."""
        for spec in _PARAMETERS:
            yield spec, getattr(getattr(self, spec.section), spec.key)

    def replace(self, **changes: Any) -> Params:
        """A copy with some values changed, by name or location (no validation)."""
        grouped: dict[str, dict[str, Any]] = {}
        for key, value in changes.items():
            try:
                spec = parameter(key)
            except KeyError:
                raise TypeError(f"Params.replace: unknown parameter {key!r}") from None
            grouped.setdefault(spec.section, {})[spec.key] = value
        return Params._of(
            tuple(
                dataclasses.replace(s, **grouped[s.NAME]) if s.NAME in grouped else s
                for s in self.sections()
            )
        )

    # -- derived values -------------------------------------------------------------
    @property
    def n_sites(self) -> int:
        return self.world.width * self.world.height


def validate_params(p: Params) -> Params:
    """Check every value against its declaration, then each section's rules; return p.

    Raises ParameterError naming the offending ``section.key``.
    """
    for spec, value in p.items():
        check_value(spec, value)
    for s in p.sections():
        s.validate(p)
    return p


__all__ = [
    "SECTIONS",
    "ParameterError",
    "Params",
    "by_location",
    "check_value",
    "clock_time",
    "parameter",
    "parameters",
    "validate_params",
]
