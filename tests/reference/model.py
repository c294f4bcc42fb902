"""Reference model: Epstein's civil violence (Models I and II) written from the rules
as documented, in plain Python objects, for checking the numba engine on small grids.

Written from the docstrings (model/rules/*.py, model/kernels.py, engine/population.py,
model/slots.py, model/rules/forces.py, scenario/timeline.py), not from the kernels'
code: agents are objects, the lattice is a dict ``site -> agents standing there``,
neighbourhoods are enumerated from their definitions, the decision rule is the
equation G − N > T, and ratio rules use Python's own arithmetic. Only the random
streams are shared with the engine, because they *are* the contract:
:func:`~upheaval.core.rng.seed_streams` and :class:`~upheaval.core.rng.PyStream`.

Draw order (the contract, as documented):

* init stream — placement ('exact': Fisher–Yates shuffle of the sites in ascending
  order; first citizens then cops; 'bernoulli': one uniform per site), then per
  citizen in slot order H, R (stored as float32) and, in Model II, group, death age
  and age;
* events stream — timeline cop additions (up to 64 uniform site draws over the whole
  lattice, then enumeration of the empty sites) and removals (uniform index into the
  ascending list of cops on duty, one at a time);
* dynamics stream — activation order (Fisher–Yates over the live slots; tiled
  activation: over the tiles, then within each tile in that order), then each
  turn's moves (up to 16 draws from the neighbourhood, then enumeration), arrests
  (index among actives in canonical order, then the jail term), killings, and after
  all turns the Model II clone draws.

Mechanisms (issue 3), written from docs/odd.md §7.9-7.12 and the docstrings of
model/rules/legitimacy.py, hardship.py, lethal.py, forces.py, defection.py and
scenario/timeline.py (cops' minds: two uniforms per cop, init stream after the
hardship group at the start, events stream after each added cop's site):
hardship shaping draws one init uniform per citizen (the hardship group) after all
other initial draws; a lethal-force order q > 0 draws one dynamics uniform per
enforcement after the suspect; reinforcements draw from the events stream like
classic additions but within their area; organised groups (docs/odd.md §7.17) draw
per citizen one init uniform (membership) and, for a member, one init randint(groups)
after the cops' minds; everything else is arithmetic in float64 stored to float32
where the engine stores float32.

Identities (docs/odd.md §7.19): with ``identity.enabled`` one init uniform per
citizen in slot order after every other initial draw (Blue iff u < blue_share); rule A
counts the other group's actives as ⌊s · n⌋.

Key sites (docs/odd.md §12.4): no draws of their own; a ``guard`` of the place's
cops draws them from the events stream as a ``cop_density`` cut does (with ``unit``,
among the unit's members, as a ``withdraw`` does) and keeps each as it was; an
``unguard`` puts the first posted back, each on a cell drawn as a ``cop_density``
rise draws it, with everything it kept (no mind drawn); with ``unit``, only that
unit's guards, first posted first. A whole ``withdraw`` or ``send`` of a unit (no
``count``) takes its guards off their posts with it, drawing nothing.
At the start of each tick's play each site counts the actives and cops standing within
Chebyshev distance r of its cell (torus), adds its guards to the cops, and changes
hands by the ratio rule; control is 1 − w·held/sites − (1 − w)·actives/citizens of the
last row.

Canonical order: neighbourhood rows by dy ascending, then dx ascending; several
candidates on one site are taken in ascending slot order.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import betaincinv

from upheaval.core.rng import PyStream, seed_streams
from upheaval.model.rules.sites import parse_sites
from upheaval.model.ticks import TickRow

CITIZEN, COP = "citizen", "cop"
QUIET, ACTIVE, JAILED, DEAD = "quiet", "active", "jailed", "dead"
BLUE, GREEN = 0, 1

#: Rule M's rejection phase: draws from the neighbourhood before enumerating.
MOVE_TRIES = 16
#: Reinforcements' rejection phase: draws from the whole lattice before enumerating.
SITE_TRIES = 64

#: The tallies of a row (the state after a tick), by name.
TALLIES = (
    "quiet_blue",
    "active_blue",
    "jailed_blue",
    "quiet_green",
    "active_green",
    "jailed_green",
    "cops",
)
#: The counters of a row (the tick's events), classic then mechanisms'.
EVENT_NAMES = (
    "arrests",
    "killed_blue",
    "killed_green",
    "born_blue",
    "born_green",
    "died_blue",
    "died_green",
    "released",
    "killed_by_cops",
    "stood_aside",
    "defected",
    "disarmed",
    "provocations",
    "striking",
    "cops_killed",
)


TRANSPORT_COUNTS = ("forces_sent", "forces_arrived", "forces_in_transit", "links_blocked")
TRAVEL_COUNTS = ("travellers_left", "travellers_arrived", "travellers_in_transit")
SITE_COUNTS = (
    "sites_declared",
    "sites_held",
    "sites_seized",
    "sites_retaken",
    "sites_burned",
    "site_guards",
)


def _no_country(e: Any) -> None:
    raise AssertionError("a send needs a country")


@dataclass
class Agent:
    """One citizen or cop. ``site`` is (x, y) and is kept while jailed off the lattice."""

    slot: int
    kind: str
    status: str
    site: tuple[int, int]
    hardship: float = 0.0
    risk_aversion: float = 0.0
    jail_left: float = 0  # an int, or math.inf for life
    group: int = BLUE
    age: int = 0
    death_age: int = 0
    legit: float = 0.0  # per-agent legitimacy (float32 values)
    fear: float = 0.0
    cohort: int = 0
    hardship0: float = 0.0
    unit: int = 0
    faction: int = 0  # elite split: 0 the ruler, 1 the rival faction
    role: int = 0  # 1: a provocateur
    org: int = 0  # organised group + 1; 0 for a non-member


def within(shape: str, radius: float, dx: int, dy: int) -> bool:
    """Whether offset (dx, dy) lies in the neighbourhood of a shape and radius."""
    if shape == "euclidean":
        return dx * dx + dy * dy <= radius * radius
    if shape == "von_neumann":
        return abs(dx) + abs(dy) <= radius
    if shape == "moore":
        return max(abs(dx), abs(dy)) <= radius
    raise ValueError(f"unknown vision shape {shape!r}")


def neighbourhood_offsets(shape: str, radius: float) -> list[tuple[int, int]]:
    """Offsets within ``radius`` (own site included), rows by dy then dx ascending."""
    reach = math.ceil(radius)
    return [
        (dx, dy)
        for dy in range(-reach, reach + 1)
        for dx in range(-reach, reach + 1)
        if within(shape, radius, dx, dy)
    ]


def ratio(cops: int, actives: int, rule: str) -> float:
    """(C/A) under a ratio rule, by Python's own arithmetic."""
    if rule == "literal":
        return cops / actives
    if rule == "floor":
        return float(math.floor(cops / actives))
    if rule == "round_half_even":
        return float(round(cops / actives))  # Python's round: half to even (Mesa)
    if rule == "round_half_up":
        q, r = divmod(cops, actives)
        return float(q + 1 if 2 * r >= actives else q)
    raise ValueError(f"unknown ratio rule {rule!r}")


def as_float32(u: float) -> float:
    """Attributes are stored as float32 (state.Agents); the decision reads them widened."""
    return float(np.float32(u))


class ReferenceModel:
    """One run of the model, the slow and plain way.

    ``history`` holds one row per tick, a :class:`~upheaval.model.ticks.TickRow` built
    by column name, like a place's ``history`` (the row's layout is the engine's; its
    values are the twin's).
    """

    def __init__(self, scenario: Any, seed: int | np.random.SeedSequence | None = None):
        params = getattr(scenario, "params", scenario)
        timeline = tuple(getattr(scenario, "timeline", ()))
        if seed is not None and not isinstance(seed, np.random.SeedSequence):
            params = params.replace(seed=int(seed))
        self.p = params
        self.width, self.height = params.world.width, params.world.height
        ss = (
            seed
            if isinstance(seed, np.random.SeedSequence)
            else np.random.SeedSequence(params.run.seed)
        )
        self.streams = {name: PyStream(state) for name, state in seed_streams(ss).items()}
        # Timeline events in order of their first tick (ties keep file order).
        self.timeline = sorted(timeline, key=lambda e: e.tick if hasattr(e, "tick") else e.start)
        self.ramp_origin: dict[int, float] = {}
        self.legitimacy = float(params.citizens.legitimacy)
        self.max_jail_term = float(params.jail.max_jail_term)
        self.cop_density = float(params.population.cop_density)
        self.vision = {
            CITIZEN: neighbourhood_offsets(params.world.vision_shape, params.citizens.vision),
            COP: neighbourhood_offsets(params.world.vision_shape, params.cops.vision),
        }
        self.clone_offsets = neighbourhood_offsets(params.groups.clone_neighbourhood, 1.0)
        self.agents: list[Agent] = []  # indexed by slot; dead ones stay until reused
        self.on_site: dict[tuple[int, int], list[Agent]] = {}
        self.tick = 0
        self.events = dict.fromkeys(EVENT_NAMES, 0)
        self.lethal_probability = float(params.lethal_force.probability)
        self.arrest_rate = float(params.cops.arrest_rate)  # q_arr, set by the timeline
        self.anchor = float(params.citizens.legitimacy)
        self.online = bool(params.information.online)
        self.framing = 0.0  # the regime's framing F (provocateurs, docs/odd.md §7.16)
        self.lethal_in_force = float(params.lethal_force.probability)
        self.elite_ruler_loyalty = float(params.elite.ruler_loyalty)
        self.elite_rival_loyalty = float(params.elite.rival_loyalty)
        self.media = (0, 0)  # (as-if-seen actives, as-if-seen cops) of the broadcast
        # in a country (tests/reference/country.py): the news from the other places,
        # (as-if-seen actives, as-if-seen cops), set before each tick
        self.elsewhere = (0, 0)
        # forces that travel (tests/reference/country.py): this tick's counts, and
        # what a timeline ``send`` does (only a country knows)
        self.transport = dict.fromkeys(TRANSPORT_COUNTS, 0)
        self.travel = dict.fromkeys(TRAVEL_COUNTS, 0)
        self.on_send = _no_country
        # states of emergency: the one in force, the place's clock offset, the factor
        self.emergency = None
        self.utc_offset = 0.0
        self.emergency_risk = 1.0
        # organised groups: which act next tick (by group code), and this tick's tallies
        self.acting: set[int] = set()
        self.group_mode: dict[int, str] = {}
        self.willing: dict[int, int] = {}
        self.free_members: dict[int, int] = {}
        self.identity_solidarity = float(params.identity.solidarity)
        # key sites: [name, x, y, r] and per site the crowd's hold, burned, ticks held,
        # the place's own guards and outsiders; this tick's counts; the control
        self.sites = [
            [
                s.name,
                int(s.x * self.width),
                int(s.y * self.height),
                s.radius if s.radius >= 0 else params.sites.radius,
            ]
            for s in parse_sites(params.sites.list)
        ]
        n_sites = len(self.sites)
        self.site_held = [False] * n_sites
        self.site_burned = [False] * n_sites
        self.site_held_for = [0] * n_sites
        self.own_guards = [0] * n_sites
        self.new_guards = [0] * n_sites
        # the place's own guards as they left the lattice, (site, agent) in the order
        # they were posted
        self.posted: list[tuple[int, Agent]] = []
        self.sites_counts = dict.fromkeys(SITE_COUNTS, 0)
        self.control = 1.0
        self._mechanism_flags()
        self._populate()
        self._init_mechanisms()
        self.history: list[tuple] = [self.row()]
        if params.run.burn_in > 0:
            self.burn_in(params.run.burn_in)

    # -- the lattice ------------------------------------------------------------------
    def on_lattice(self, ag: Agent) -> bool:
        """Free agents stand on their site; a jailed citizen does only if it holds it."""
        if ag.status in (QUIET, ACTIVE):
            return True
        return ag.status == JAILED and self.p.jail.hold_site

    def _change(self, ag: Agent, **changes: Any) -> None:
        """The one way an agent's status or site changes: lift it, change it, put it back."""
        if self.on_lattice(ag):
            self.on_site[ag.site].remove(ag)
        for name, value in changes.items():
            setattr(ag, name, value)
        if self.on_lattice(ag):
            self.on_site.setdefault(ag.site, []).append(ag)

    def empty(self, site: tuple[int, int]) -> bool:
        return not self.on_site.get(site)

    def sites_around(self, site: tuple[int, int], offsets) -> list[tuple[int, int]]:
        x, y = site
        return [((x + dx) % self.width, (y + dy) % self.height) for dx, dy in offsets]

    def occupants(self, site: tuple[int, int]) -> list[Agent]:
        """Agents standing on ``site`` in ascending slot order."""
        return sorted(self.on_site.get(site, ()), key=lambda ag: ag.slot)

    def all_sites(self) -> list[tuple[int, int]]:
        """Every site in ascending flat index y·width + x."""
        return [(s % self.width, s // self.width) for s in range(self.width * self.height)]

    # -- slots ------------------------------------------------------------------------
    def lowest_free_slot(self) -> int:
        for ag in self.agents:
            if ag.status == DEAD:
                return ag.slot
        return len(self.agents)

    def _new_agent(self, **fields: Any) -> Agent:
        slot = self.lowest_free_slot()
        ag = Agent(slot=slot, **fields)
        if slot == len(self.agents):
            self.agents.append(ag)
        else:
            self.agents[slot] = ag
        if self.on_lattice(ag):
            self.on_site.setdefault(ag.site, []).append(ag)
        return ag

    def _remove(self, ag: Agent) -> None:
        self._change(ag, status=DEAD)

    # -- initial population -----------------------------------------------------------
    def _populate(self) -> None:
        p, rng = self.p, self.streams["init"]
        sites = self.all_sites()
        if p.population.placement == "exact":
            n = len(sites)
            n_cit, n_cop = (
                round(p.population.citizen_density * n),
                round(p.population.cop_density * n),
            )
            for k in range(n - 1, 0, -1):
                j = rng.randint(k + 1)
                sites[k], sites[j] = sites[j], sites[k]
            for site in sites[:n_cit]:
                self._new_agent(kind=CITIZEN, status=QUIET, site=site)
            for site in sites[n_cit : n_cit + n_cop]:
                self._new_agent(kind=COP, status=QUIET, site=site)
        else:
            for site in sites:
                u = rng.uniform()
                if u < p.population.citizen_density:
                    self._new_agent(kind=CITIZEN, status=QUIET, site=site)
                elif u < p.population.citizen_density + p.population.cop_density:
                    self._new_agent(kind=COP, status=QUIET, site=site)
        for ag in self.agents:
            if ag.kind != CITIZEN:
                continue
            ag.hardship = as_float32(rng.uniform())
            ag.risk_aversion = as_float32(rng.uniform())
            if p.model.variant == "II":
                ag.group = BLUE if rng.uniform() < p.groups.blue_share else GREEN
                ag.death_age = 1 + rng.randint(p.groups.max_age)
                ag.age = rng.randint(ag.death_age)

    # -- mechanisms -------------------------------------------------------------------
    def _mechanism_flags(self) -> None:
        p = self.p
        self.per_agent = p.legitimacy.feedback == "per_agent"
        self.lethal_ever = (
            p.lethal_force.probability > 0
            or any(
                getattr(e, "param", None) == "lethal_probability" and e.value > 0
                for e in self.timeline
            )
            or (p.provocateurs.count > 0 and p.provocateurs.framing_lethal > 0)  # a pretext
        )
        self.fear_on = self.lethal_ever and p.lethal_force.deterrence > 0
        self.units: dict[str, int] = {}
        self.guards: set[int] = set()
        self.elite_split = p.elite.rival_share > 0 or any(
            getattr(e, "action", None) == "shift_command" for e in self.timeline
        )
        self.unit_origin: dict[int, str] = {}  # code → origin given on its actions
        for e in self.timeline:
            if getattr(e, "action", None) == "reinforce":
                code = self.units.setdefault(e.unit, len(self.units) + 1)
                if e.mode == "guard":
                    self.guards.add(code)
                if e.origin:
                    self.unit_origin[code] = e.origin

    def citizens(self) -> list[Agent]:
        return [ag for ag in self.agents if ag.kind == CITIZEN and ag.status != DEAD]

    def _init_mechanisms(self) -> None:
        p = self.p
        shaped = (
            p.hardship.distribution != "uniform"
            or (p.hardship.low, p.hardship.high) != (0.0, 1.0)
            or p.hardship.group_share > 0
        )
        if shaped:
            if p.hardship.group_share > 0:
                for ag in self.citizens():
                    ag.cohort = 1 if self.streams["init"].uniform() < p.hardship.group_share else 0
            for ag in self.citizens():
                u = ag.hardship
                if ag.cohort == 1:
                    h = p.hardship.group_low + (p.hardship.group_high - p.hardship.group_low) * u
                elif p.hardship.distribution == "beta":
                    h = float(betaincinv(p.hardship.beta_a, p.hardship.beta_b, u))
                elif (p.hardship.low, p.hardship.high) != (0.0, 1.0):
                    h = p.hardship.low + (p.hardship.high - p.hardship.low) * u
                else:
                    h = u
                ag.hardship = as_float32(h)
        if p.security_forces.minds:
            for ag in self.agents:
                if ag.kind == COP and ag.status != DEAD:
                    self._draw_mind(ag, p.security_forces.initial_origin, self.streams["init"])
        if p.elite.rival_share > 0:  # factions of the initial force (docs/odd.md §7.18)
            for ag in self.agents:
                if ag.kind == COP and ag.status != DEAD:
                    rival = self.streams["init"].uniform() < p.elite.rival_share
                    ag.faction = 1 if rival else 0
        if p.provocateurs.count > 0:  # drawn one by one from the citizens left
            left = self.citizens()
            for _ in range(min(p.provocateurs.count, len(left))):
                left.pop(self.streams["init"].randint(len(left))).role = 1
        if p.organisation.groups > 0:
            rng = self.streams["init"]
            for ag in self.citizens():
                if rng.uniform() < p.organisation.member_share:
                    ag.org = 1 + rng.randint(p.organisation.groups)
        if p.identity.enabled:  # identities: the last initial draw (docs/odd.md §7.19)
            for ag in self.citizens():
                ag.group = BLUE if self.streams["init"].uniform() < p.groups.blue_share else GREEN
        for ag in self.citizens():
            if self.per_agent:
                ag.legit = as_float32(p.citizens.legitimacy)
            ag.hardship0 = ag.hardship

    # -- security forces with minds (docs/odd.md §7.14) --------------------------------
    def _draw_mind(self, cop: Agent, origin: str, rng: PyStream) -> None:
        """H_c = hardship_high·u₁, ℓ = lo + (hi − lo)·u₂, stored as H and R."""
        p = self.p
        cop.hardship = as_float32(p.security_forces.hardship_high * rng.uniform())
        lo = p.value(f"forces_{origin}_loyalty_low")
        hi = p.value(f"forces_{origin}_loyalty_high")
        cop.risk_aversion = as_float32(lo + (hi - lo) * rng.uniform())

    def _origin(self, cop: Agent) -> str:
        p = self.p
        if cop.unit == 0:
            return p.security_forces.initial_origin
        return self.unit_origin.get(cop.unit) or p.security_forces.reinforcement_origin

    def _leave_force(self, cop: Agent, status: str) -> None:
        """A cop becomes a citizen of ``status`` on its site; H_c, ℓ become H, R."""
        self._change(cop, kind=CITIZEN, status=status)
        cop.legit = as_float32(self.legitimacy) if self.per_agent else 0.0
        cop.fear = 0.0
        cop.cohort = 0
        cop.hardship0 = cop.hardship
        cop.faction = 0
        cop.org = 0

    def _cops_and_actives(self, site, offsets, excluding: Agent | None = None) -> tuple[int, int]:
        """Cops and active citizens on the sites around ``site`` (``excluding`` one)."""
        cops = actives = 0
        for s in self.sites_around(site, offsets):
            for other in self.on_site.get(s, ()):
                if other.kind == COP:
                    cops += 1
                elif other.status == ACTIVE and other is not excluding:
                    actives += 1
        return cops, actives

    def _mind(self, cop: Agent) -> str:
        """'enforce', 'aside' or 'gone' (disarmed or defected)."""
        p = self.p
        cops, actives = self._cops_and_actives(cop.site, self.vision[COP])
        origin = self._origin(cop)
        if (
            p.security_forces.disarm_ratio > 0
            and actives > 0
            and actives >= p.security_forces.disarm_ratio * cops
        ):
            self.events["disarmed"] += 1
            kill = p.security_forces.disarm_kill
            if kill > 0 and self.streams["dynamics"].uniform() < kill:
                self.events["cops_killed"] += 1  # the crowd kills it
                self._remove(cop)
            elif origin == "foreign":
                self._remove(cop)
            else:
                self._leave_force(cop, QUIET)
            return "gone"
        grievance = cop.hardship * (1.0 - self.legitimacy)
        fellow_risk = 1.0 - math.exp(-p.citizens.arrest_constant * cops / (1 + actives))
        loyalty = cop.risk_aversion
        if self.elite_split:  # the faction's loyalty to the ruler weighs the cop's
            loyalty = (self.elite_ruler_loyalty, self.elite_rival_loyalty)[cop.faction] * loyalty
        d = grievance - loyalty * fellow_risk
        if d > p.security_forces.defect_threshold and origin != "foreign":
            self.events["defected"] += 1
            self._leave_force(cop, ACTIVE)
            return "gone"
        if d > p.security_forces.stand_aside_threshold:
            self.events["stood_aside"] += 1
            return "aside"
        return "enforce"

    @staticmethod
    def _clamp(v: float) -> float:
        return min(1.0, max(0.0, v))

    def _set_legitimacy(self, value: float) -> None:
        if self.per_agent:
            delta = value - self.legitimacy
            for ag in self.citizens():
                ag.legit = as_float32(self._clamp(ag.legit + delta))
        self.anchor = value
        self.legitimacy = value

    def _in_area(self, ag: Agent, area) -> bool:
        if area is None:
            return True
        x0, y0, x1, y1 = area
        return x0 <= ag.site[0] <= x1 and y0 <= ag.site[1] <= y1

    def _act(self, e: Any) -> None:
        area, target = getattr(e, "area", None), getattr(e, "target", "all")
        targets = [
            ag
            for ag in self.citizens()
            if self._in_area(ag, area) and (target == "all" or ag.cohort == 1)
        ]
        if e.action == "shock":
            for ag in targets:
                ag.hardship = as_float32(min(1.0, ag.hardship * e.factor))
        elif e.action == "rollback":
            for ag in targets:
                ag.hardship = as_float32(ag.hardship + e.share * (ag.hardship0 - ag.hardship))
        elif e.action == "concession":
            if self.per_agent:
                for ag in self.citizens():
                    ag.legit = as_float32(self._clamp(ag.legit + e.legitimacy))
            else:
                self.legitimacy = self._clamp(self.legitimacy + e.legitimacy)
        elif e.action == "reinforce":
            area = e.area or (0, 0, self.width - 1, self.height - 1)
            for _ in range(e.count):
                site = self._random_empty_site_in(area, self.streams["events"])
                if site is None:
                    break
                cop = self._new_agent(kind=COP, status=QUIET, site=site, unit=self.units[e.unit])
                if self.p.security_forces.minds:
                    self._draw_mind(cop, self._origin(cop), self.streams["events"])
        elif e.action == "shift_command":
            to = {"ruler": 0, "rival": 1}[e.to]
            others = [
                ag
                for ag in self.agents
                if ag.kind == COP and ag.status != DEAD and ag.faction != to
            ]
            count = len(others) if e.share >= 1.0 else round(e.share * len(others))
            for _ in range(count):
                pick = others.pop(self.streams["events"].randint(len(others)) if e.share < 1 else 0)
                pick.faction = to
        elif e.action in ("shutdown", "restore"):
            self.online = e.action == "restore"
        elif e.action == "emergency":
            self.emergency = e
        elif e.action == "lift_emergency":
            self.emergency = None
        elif e.action == "send":
            self.on_send(e)  # forces leave for another place: the country's business
        elif e.action in ("guard", "unguard"):
            self._guard(e)
        elif e.action == "withdraw":
            code = self.units[e.unit]
            members = [
                ag for ag in self.agents if ag.kind == COP and ag.status != DEAD and ag.unit == code
            ]
            if e.count < 0:
                self.relieve_unit(code)  # the whole unit leaves, its guards with it
                for ag in members:
                    self._remove(ag)
            else:
                for _ in range(min(e.count, len(members))):
                    self._remove(members.pop(self.streams["events"].randint(len(members))))

    # -- key sites --------------------------------------------------------------------
    def _guard(self, e: Any) -> None:
        k = [site[0] for site in self.sites].index(e.site)
        rng = self.streams["events"]
        if e.action == "guard":
            if e.source == "new":
                self.new_guards[k] += e.count
                return
            on_duty = [ag for ag in self.agents if ag.kind == COP and ag.status != DEAD]
            if e.unit:
                on_duty = [ag for ag in on_duty if ag.unit == self.units[e.unit]]
            taken = [
                on_duty.pop(rng.randint(len(on_duty))) for _ in range(min(e.count, len(on_duty)))
            ]
            for ag in sorted(taken, key=lambda ag: ag.slot):  # posted in slot order
                self._remove(ag)
                self.posted.append((k, dataclasses.replace(ag)))
            self.own_guards[k] += len(taken)
            return
        mine = [entry for entry in self.posted if entry[0] == k]
        outsiders = self.new_guards[k]
        if e.unit:  # that unit's own guards only; outsiders have no unit
            mine = [entry for entry in mine if entry[1].unit == self.units[e.unit]]
            outsiders = 0
        total = len(mine) + outsiders
        n = total if e.count < 0 else min(e.count, total)
        leave = min(n, outsiders)
        self.new_guards[k] -= leave
        back = []
        for entry in mine[: n - leave]:
            site = self._random_empty_site_anywhere(rng)
            if site is None:
                break  # the rest stay on guard
            fields = dataclasses.asdict(entry[1])
            del fields["slot"]
            fields.update(kind=COP, status=QUIET, site=site, jail_left=0)
            self._new_agent(**fields)
            back.append(entry)
        self.posted = [entry for entry in self.posted if not any(entry is b for b in back)]
        self.own_guards[k] -= len(back)

    def relieve_unit(self, code: int) -> list[Agent]:
        """The unit's guards leave every post with their unit (no draw): their
        records, first posted first."""
        leaving = [entry for entry in self.posted if entry[1].unit == code]
        for k, _ in leaving:
            self.own_guards[k] -= 1
        self.posted = [entry for entry in self.posted if entry[1].unit != code]
        return [ag for _, ag in leaving]

    def _sites_tick(self) -> None:
        """Each site changes hands by the ratio rule, from the lattice as it stands."""
        p = self.p.sites
        self.sites_counts = dict.fromkeys(SITE_COUNTS, 0)
        if not self.sites:
            return
        for k, (_, x, y, r) in enumerate(self.sites):
            actives = cops = 0
            for dy in range(-r, r + 1):
                for dx in range(-r, r + 1):
                    for ag in self.on_site.get(((x + dx) % self.width, (y + dy) % self.height), ()):
                        if ag.kind == COP:
                            cops += 1
                        elif ag.status == ACTIVE:
                            actives += 1
            forces = cops + self.own_guards[k] + self.new_guards[k]
            if self.site_held[k]:
                held = not (forces >= 1 and forces > p.seize_ratio * actives)
            else:
                held = actives >= p.min_crowd and actives > p.seize_ratio * forces
            if held and not self.site_held[k]:
                self.sites_counts["sites_seized"] += 1
            if self.site_held[k] and not held:
                self.sites_counts["sites_retaken"] += 1
            self.site_held[k] = held
            self.site_held_for[k] = self.site_held_for[k] + 1 if held else 0
            if held and not self.site_burned[k] and self.site_held_for[k] >= p.burn_after:
                self.site_burned[k] = True
                self.sites_counts["sites_burned"] += 1
        self.sites_counts["sites_declared"] = len(self.sites)
        self.sites_counts["sites_held"] = sum(self.site_held)
        self.sites_counts["site_guards"] = sum(self.own_guards) + sum(self.new_guards)
        self.control = self._control(p.control_weight, self.sites_counts["sites_held"])

    def _control(self, weight: float, held: int) -> float:
        """1 − w·held/sites − (1 − w)·actives/citizens, of the last row."""
        last = self.history[-1]._asdict()
        citizens = sum(
            last[f"{s}_{g}"] for s in ("quiet", "active", "jailed") for g in ("blue", "green")
        )
        actives = last["active_blue"] + last["active_green"]
        w = weight if self.sites else 0.0
        share = held / len(self.sites) if self.sites else 0.0
        return 1.0 - w * share - (1.0 - w) * (actives / citizens if citizens else 0.0)

    def _random_empty_site_in(self, area, rng: PyStream) -> tuple[int, int] | None:
        x0, y0, x1, y1 = area
        sites = [(x, y) for y in range(y0, y1 + 1) for x in range(x0, x1 + 1)]
        for _ in range(SITE_TRIES):
            site = sites[rng.randint(len(sites))]
            if self.empty(site):
                return site
        empties = [s for s in sites if self.empty(s)]
        if not empties:
            return None
        return empties[rng.randint(len(empties))]

    def _witness(self, site, legit_drop: float, fear_rise: float, skip: Agent | None) -> None:
        for s in self.sites_around(site, self.vision[CITIZEN]):
            for ag in self.on_site.get(s, ()):
                if ag is skip or ag.kind != CITIZEN or ag.status not in (QUIET, ACTIVE):
                    continue
                if legit_drop > 0:
                    ag.legit = as_float32(max(0.0, ag.legit - legit_drop))
                if fear_rise > 0:
                    ag.fear = as_float32(min(1.0, ag.fear + fear_rise))

    def _after_tick(self) -> None:
        """Legitimacy feedback and fear decay, after the tick's row is recorded."""
        p = self.p
        on = p.legitimacy.feedback != "off"
        strikes = p.organisation.groups > 0 and p.organisation.strike_impact > 0
        if on or (self.lethal_ever and p.lethal_force.backlash > 0) or strikes:
            n = len(self.citizens())
            arr = p.legitimacy.arrest_impact if on else 0.0
            kill = p.lethal_force.backlash if self.lethal_ever else 0.0
            drop = (
                (arr * self.events["arrests"] + kill * self.events["killed_by_cops"]) / n
                if n > 0
                else 0.0
            )
            if strikes and n > 0:
                drop += p.organisation.strike_impact * self.events["striking"] / n
            rec = p.legitimacy.recovery if on else 0.0
            if self.per_agent:
                for ag in self.citizens():
                    ag.legit = as_float32(
                        self._clamp(ag.legit + rec * (self.anchor - ag.legit) - drop)
                    )
            else:
                self.legitimacy = self._clamp(
                    self.legitimacy + rec * (self.anchor - self.legitimacy) - drop
                )
        if self.fear_on:
            for ag in self.agents:
                if ag.status != DEAD:
                    ag.fear = as_float32(ag.fear * p.lethal_force.fear_decay)
        if p.provocateurs.count > 0:
            self.framing = min(
                1.0,
                p.provocateurs.framing_decay * self.framing
                + p.provocateurs.framing_rise * self.events["provocations"],
            )
            if self.sites_counts["sites_seized"]:  # seizures feed the framing too
                self.framing = min(
                    1.0, self.framing + p.sites.framing_rise * self.sites_counts["sites_seized"]
                )

    # -- timeline ---------------------------------------------------------------------
    def _apply_timeline(self) -> None:
        for idx, e in enumerate(self.timeline):
            if hasattr(e, "action"):
                if self.tick == e.tick:
                    self._act(e)
                continue
            current = getattr(self, e.param)
            if hasattr(e, "tick"):
                if self.tick != e.tick:
                    continue
                value = e.value
            else:
                if self.tick == e.start:
                    self.ramp_origin[idx] = current
                if not e.start <= self.tick <= e.end:
                    continue
                # Equal steps from the value before the ramp to the target at ``end``.
                origin = self.ramp_origin[idx]
                steps_done = self.tick - e.start + 1
                value = origin + (e.value - origin) * steps_done / (e.end - e.start + 1)
            if e.param == "max_jail_term" and math.isfinite(value):
                value = round(value)  # jail terms are whole ticks
            if e.param == "cop_density":
                sites = self.width * self.height
                target = round(value * sites)
                on_duty = self._set_cop_count(target)
                if on_duty != target:  # too few empty sites: record what was reached
                    value = on_duty / sites
            if e.param == "legitimacy":
                self._set_legitimacy(float(value))
            else:
                setattr(self, e.param, float(value))

    def _set_cop_count(self, target: int) -> int:
        rng = self.streams["events"]
        cops = [ag for ag in self.agents if ag.kind == COP and ag.status != DEAD]
        on_duty = len(cops)
        for _ in range(target - len(cops)):
            site = self._random_empty_site_anywhere(rng)
            if site is None:
                break
            cop = self._new_agent(kind=COP, status=QUIET, site=site)
            if self.p.security_forces.minds:
                self._draw_mind(cop, self.p.security_forces.initial_origin, rng)
            on_duty += 1
        for _ in range(len(cops) - target):
            self._remove(cops.pop(rng.randint(len(cops))))
            on_duty -= 1
        return on_duty

    def _random_empty_site_anywhere(self, rng: PyStream) -> tuple[int, int] | None:
        sites = self.all_sites()
        for _ in range(SITE_TRIES):
            site = sites[rng.randint(len(sites))]
            if self.empty(site):
                return site
        empties = [s for s in sites if self.empty(s)]
        if not empties:
            return None
        return empties[rng.randint(len(empties))]

    # -- rules ------------------------------------------------------------------------
    def _move(self, ag: Agent, offsets) -> None:
        """Rule M: to a uniformly drawn empty site in vision; stay if none."""
        rng = self.streams["dynamics"]
        around = self.sites_around(ag.site, offsets)
        for _ in range(MOVE_TRIES):
            site = around[rng.randint(len(around))]
            if self.empty(site):
                self._change(ag, site=site)
                return
        empties = [s for s in around if self.empty(s)]
        if empties:
            self._change(ag, site=empties[rng.randint(len(empties))])

    def _focal_distance2(self, site: tuple[int, int]) -> int:
        """Squared distance to the focal site, the shorter way round the torus."""
        dx = abs(site[0] - self.p.information.focal_x)
        dy = abs(site[1] - self.p.information.focal_y)
        dx, dy = min(dx, self.width - dx), min(dy, self.height - dy)
        return dx * dx + dy * dy

    def _move_citizen(self, ag: Agent) -> None:
        """Rule M, or, while the channel is online and points to a focal site, an
        active citizen's step to the nearest empty site in vision nearer the focal
        site than it stands (the first such in canonical order; no draw)."""
        p = self.p
        focal = p.information.enabled and self.online and p.information.focal_x >= 0
        if not (focal and ag.status == ACTIVE):
            self._move(ag, self.vision[CITIZEN])
            return
        best, best_d = None, self._focal_distance2(ag.site)
        for site in self.sites_around(ag.site, self.vision[CITIZEN]):
            if self.empty(site) and self._focal_distance2(site) < best_d:
                best, best_d = site, self._focal_distance2(site)
        if best is not None:
            self._change(ag, site=best)

    def _broadcast(self) -> tuple[int, int]:
        """The information channel: last tick's lattice-wide actives and repression,
        spread evenly over the lattice and counted within a citizen's vision (floored)."""
        p = self.p
        if not (p.information.enabled and self.online):
            return (0, 0)
        last = self.history[-1]._asdict()
        actives = last["active_blue"] + last["active_green"]
        repression = last["arrests"] + last["killed_by_cops"]
        v, sites = len(self.vision[CITIZEN]), self.width * self.height
        # the same association as the engine: ((w · count) · |V|) / sites
        return (
            math.floor(p.information.actives_weight * actives * v / sites) + self.elsewhere[0],
            math.floor(p.information.repression_weight * repression * v / sites)
            + self.elsewhere[1],
        )

    def _decide(self, ag: Agent, apply: bool = True) -> bool:
        """Rule A: active iff G − N > T (the status changes unless ``apply`` is false)."""
        p = self.p
        cops, others_active = self._cops_and_actives(ag.site, self.vision[CITIZEN], ag)
        if p.identity.enabled:
            # own group's actives in full, the other group's as far as solidarity reaches
            other_group = sum(
                other.kind == CITIZEN and other.status == ACTIVE and other.group != ag.group
                for s in self.sites_around(ag.site, self.vision[CITIZEN])
                for other in self.on_site.get(s, ())
            )
            own_group = others_active - other_group
            others_active = own_group + math.floor(self.identity_solidarity * other_group)
        counted_twice = p.citizens.active_count_includes_self and ag.status == ACTIVE
        actives = 1 + others_active + (1 if counted_twice else 0) + self.media[0]
        cops += self.media[1]
        arrest_p = 1.0 - math.exp(
            -p.citizens.arrest_constant * ratio(cops, actives, p.citizens.ratio_rule)
        )
        if self.fear_on:
            arrest_p = min(1.0, arrest_p + ag.fear)  # killings seen raise perceived risk
        legitimacy = ag.legit if self.per_agent else self.legitimacy
        hardship = ag.hardship
        if p.provocateurs.count > 0:  # framing costs the protest bystanders' sympathy
            hardship = hardship * (1.0 - p.provocateurs.framing_bystander * self.framing)
        grievance = hardship * (1.0 - legitimacy)
        deterrence = (
            1.0
            if p.citizens.deterrence_exponent == 0
            else self.max_jail_term**p.citizens.deterrence_exponent
        )
        if p.organisation.groups > 0 and ag.org > 0:
            return self._follow_group(ag, grievance, arrest_p, deterrence)
        # under a state of emergency or a curfew (docs/odd.md §12.3)
        risk = (
            ag.risk_aversion
            if self.emergency_risk == 1.0
            else self.emergency_risk * ag.risk_aversion
        )
        net_risk = risk * arrest_p * deterrence
        active = grievance - net_risk > p.citizens.threshold
        if apply:
            self._change(ag, status=ACTIVE if active else QUIET)
        return active

    # -- organised groups and strikes (docs/odd.md §7.17) -------------------------------
    def _follow_group(self, ag: Agent, grievance: float, arrest_p: float, deterrence: float):
        """A member: willing iff G − (ρ·R)·P·J^α > T, tallied; then it does what its
        group does this tick (strike: quiet and counted; protest: active; else quiet)."""
        p = self.p
        net_risk = (p.organisation.risk_factor * ag.risk_aversion) * arrest_p * deterrence
        self.free_members[ag.org] = self.free_members.get(ag.org, 0) + 1
        if grievance - net_risk > p.citizens.threshold:
            self.willing[ag.org] = self.willing.get(ag.org, 0) + 1
        mode = self.group_mode.get(ag.org, "idle")
        if mode == "strike":
            self.events["striking"] += 1
        active = mode == "protest"
        self._change(ag, status=ACTIVE if active else QUIET)
        return active

    def _general_strike(self) -> bool:
        return any(
            getattr(e, "action", None) == "general_strike"
            and e.tick <= self.tick
            and (e.ticks < 0 or self.tick < e.tick + e.ticks)
            for e in self.timeline
        )

    def _organise(self) -> None:
        p = self.p
        codes = range(1, p.organisation.groups + 1)
        if self._general_strike():
            self.group_mode = dict.fromkeys(codes, "strike")
        else:
            self.group_mode = {
                c: (p.organisation.action if c in self.acting else "idle") for c in codes
            }
        self.willing, self.free_members = {}, {}

    def _groups_verdict(self) -> None:
        q = self.p.organisation.quorum
        self.acting = {
            c
            for c, free in self.free_members.items()
            if free > 0 and self.willing.get(c, 0) >= q * free
        }

    def _jail_term(self) -> float:
        j = self.max_jail_term
        if math.isinf(j):
            return math.inf
        choices = int(j) + 1 if self.p.jail.term_range == "inclusive" else int(j)
        return self.streams["dynamics"].randint(choices) if choices > 0 else 0

    def _provoke(self, ag: Agent) -> None:
        """A free provocateur is active; a cop in its vision sees the violence."""
        self._change(ag, status=ACTIVE)
        cops, _ = self._cops_and_actives(ag.site, self.vision[CITIZEN])
        if cops > 0:
            self.events["provocations"] += 1

    def _enforce(self, cop: Agent) -> bool:
        """Rule C: arrest one active citizen in vision, drawn uniformly; False if none,
        or if the cop lets them be (arrest rate below 1)."""
        suspects = [
            ag
            for site in self.sites_around(cop.site, self.vision[COP])
            for ag in self.occupants(site)
            if ag.kind == CITIZEN and ag.status == ACTIVE
        ]
        if not suspects:
            return False
        if self.arrest_rate < 1 and self.streams["dynamics"].uniform() >= self.arrest_rate:
            return False  # it lets them be this turn (cops.arrest_rate)
        suspect = suspects[self.streams["dynamics"].randint(len(suspects))]
        p = self.p
        if self.lethal_in_force > 0 and self.streams["dynamics"].uniform() < self.lethal_in_force:
            self.events["killed_by_cops"] += 1
            self._remove(suspect)
            self._witness(
                suspect.site,
                p.legitimacy.seen_kill_impact if self.per_agent else 0.0,
                p.lethal_force.deterrence if self.fear_on else 0.0,
                None,
            )
        else:
            term = self._jail_term()
            self.events["arrests"] += 1
            if term == 0 and p.jail.countdown == "end_of_tick":
                self._change(suspect, status=QUIET)  # NetLogo: a term of 0 is no jail
            else:
                self._change(suspect, status=JAILED, jail_left=term)
            if self.per_agent:
                self._witness(suspect.site, p.legitimacy.seen_arrest_impact, 0.0, suspect)
        if p.cops.after_arrest == "arrestee_site" and cop.unit not in self.guards:
            self._change(cop, site=suspect.site)
        return True

    def _kill(self, killer: Agent) -> None:
        """Model II: kill a random free member of the other group in vision."""
        victims = [
            ag
            for site in self.sites_around(killer.site, self.vision[CITIZEN])
            for ag in self.occupants(site)
            if ag.kind == CITIZEN and ag.status in (QUIET, ACTIVE) and ag.group != killer.group
        ]
        if not victims:
            return
        victim = victims[self.streams["dynamics"].randint(len(victims))]
        self.events[("killed_blue", "killed_green")[victim.group]] += 1
        self._remove(victim)

    def _release(self, ag: Agent) -> None:
        self._change(ag, status=QUIET, jail_left=0)
        self.events["released"] += 1

    def _citizen_turn(self, ag: Agent) -> None:
        p = self.p
        if ag.status == JAILED:
            if p.jail.countdown != "own_activation":
                return
            if ag.jail_left > 0:  # includes a life term (inf - 1 = inf)
                ag.jail_left -= 1
                return
            self._release(ag)  # term already 0: out, and the rest of the turn is its own
        if p.citizens.movement and p.citizens.turn_order == "move_then_act":
            self._move_citizen(ag)
        if p.citizens.activation == "synchronous":  # decided with everyone at the tick's start
            active = ag.status == ACTIVE
        elif ag.role == 1:
            self._provoke(ag)
            active = True
        else:
            active = self._decide(ag)
        if p.model.variant == "II" and active:
            self._kill(ag)
        if p.citizens.movement and p.citizens.turn_order == "act_then_move":
            self._move_citizen(ag)

    def _cop_turn(self, cop: Agent) -> None:
        p = self.p
        aside = False
        if p.security_forces.minds:
            verdict = self._mind(cop)
            if verdict == "gone":
                return
            aside = verdict == "aside"
        moves = p.cops.movement and cop.unit not in self.guards  # guards keep their post
        if moves and p.cops.turn_order == "move_then_act":
            self._move(cop, self.vision[COP])
        if not aside:
            found = self._enforce(cop)
            crackdown = p.provocateurs.framing_arrest * self.framing  # framing: once more
            if p.provocateurs.count > 0 and found and crackdown > 0:
                if self.streams["dynamics"].uniform() < crackdown:
                    self._enforce(cop)
        if moves and p.cops.turn_order == "act_then_move":
            self._move(cop, self.vision[COP])

    def _end_of_tick_countdown(self) -> None:
        for ag in self.agents:
            if ag.kind == CITIZEN and ag.status == JAILED and 0 < ag.jail_left < math.inf:
                ag.jail_left -= 1
                if ag.jail_left == 0:
                    self._release(ag)

    def _age_and_die(self) -> None:
        for ag in self.agents:
            if ag.kind == CITIZEN and ag.status != DEAD:
                ag.age += 1
                if ag.age >= ag.death_age:
                    self.events[("died_blue", "died_green")[ag.group]] += 1
                    self._remove(ag)

    def _clone(self) -> None:
        rng = self.streams["dynamics"]
        parents = [ag for ag in self.agents if ag.kind == CITIZEN and ag.status in (QUIET, ACTIVE)]
        for parent in parents:
            if rng.uniform() >= self.p.groups.clone_probability:
                continue
            empties = [
                s for s in self.sites_around(parent.site, self.clone_offsets) if self.empty(s)
            ]
            if not empties:
                continue
            site = empties[rng.randint(len(empties))]
            self._new_agent(
                kind=CITIZEN,
                status=QUIET,
                site=site,
                hardship=parent.hardship,
                risk_aversion=parent.risk_aversion,
                group=parent.group,
                age=0,
                death_age=1 + rng.randint(self.p.groups.max_age),
            )
            self.events[("born_blue", "born_green")[parent.group]] += 1

    # -- the tick ---------------------------------------------------------------------
    def step(self, n: int = 1) -> None:
        for _ in range(n):
            self.begin_tick()
            self.play_tick()

    def burn_in(self, ticks: int) -> None:
        """``run.burn_in``: ticks played before tick 0 and not recorded — every
        agent's turn under the rules as they stand at tick 0, with no news, no
        emergency and no hooks between ticks; the tick-0 row is then taken again."""
        for _ in range(ticks):
            self.emergency_risk = 1.0
            self.media = (0, 0)
            self.lethal_in_force = self.lethal_probability
            self.events = dict.fromkeys(EVENT_NAMES, 0)
            self._turns()
        self.events = dict.fromkeys(EVENT_NAMES, 0)
        self.history = [self.row()]

    def begin_tick(self) -> None:
        """The tick's start: its number and its timeline (a country steps every place's
        start, then what acts between places, then every place's play)."""
        self.tick += 1
        self.transport = dict.fromkeys(TRANSPORT_COUNTS, 0)
        self.travel = dict.fromkeys(TRAVEL_COUNTS, 0)
        self._apply_timeline()

    def _emergency_now(self) -> tuple[float, int, int]:
        """(risk factor, under emergency, under curfew) at this tick."""
        e, p = self.emergency, self.p
        if e is None:
            return 1.0, 0, 0
        if e.curfew_from >= 0:
            start = dt.datetime.fromisoformat(p.run.start)
            local = start + dt.timedelta(
                minutes=p.run.tick_minutes * (self.tick - 1), hours=self.utc_offset
            )
            hour = local.hour + local.minute / 60
            a, b = int(e.curfew_from), int(e.curfew_to)
            inside = (a <= hour < b) if a < b else (a != b and (hour >= a or hour < b))
            if inside:
                return p.emergency.curfew_risk_factor, 1, 1
        return p.emergency.risk_factor, 1, 0

    def play_tick(self) -> None:
        """The rest of the tick: the signals, every agent's turn, the row."""
        self.emergency_risk, under, curfew = self._emergency_now()
        self.emergency_counts = {"under_emergency": under, "under_curfew": curfew}
        self._sites_tick()
        self.media = self._broadcast()
        self.lethal_in_force = self.lethal_probability
        if self.p.provocateurs.count > 0 and self.framing > 0:  # the pretext
            gain = self.p.provocateurs.framing_lethal
            if gain > 0:
                self.lethal_in_force = min(1.0, self.lethal_probability + gain * self.framing)
        if self.p.organisation.groups > 0:
            self._organise()
        self.events = dict.fromkeys(EVENT_NAMES, 0)
        if self.p.citizens.activation == "synchronous":
            # every free citizen decides on the same lattice, then all change at once
            free = [ag for ag in self.citizens() if ag.status in (QUIET, ACTIVE)]
            decided = [self._decide(ag, apply=False) for ag in free]
            for ag, active in zip(free, decided, strict=True):
                self._change(ag, status=ACTIVE if active else QUIET)
        self._turns()
        self.history.append(self.row())
        self._after_tick()
        if self.p.organisation.groups > 0:
            self._groups_verdict()

    def _shuffled(self, items: list[int]) -> list[int]:
        """``items`` Fisher–Yates shuffled in place by the dynamics stream."""
        rng = self.streams["dynamics"]
        for k in range(len(items) - 1, 0, -1):
            j = rng.randint(k + 1)
            items[k], items[j] = items[j], items[k]
        return items

    def _turns(self) -> None:
        """Every agent's turn in a random order, then the jail countdown and Model II's
        deaths and births."""
        live = [ag for ag in self.agents if ag.status != DEAD]
        side = self.p.world.activation_tile
        if side == 0:
            order = self._shuffled([ag.slot for ag in live])
        else:  # tiled: the tiles in a shuffled order, then each tile's agents shuffled
            w, h = self.p.world.width, self.p.world.height
            across = math.ceil(w / side)
            tiles = self._shuffled(list(range(across * math.ceil(h / side))))
            members: dict[int, list[int]] = {t: [] for t in tiles}
            for ag in live:  # slot order
                x, y = ag.site
                members[(y // side) * across + x // side].append(ag.slot)
            order = [slot for t in tiles for slot in self._shuffled(members[t])]
        for slot in order:
            ag = self.agents[slot]
            if ag.status == DEAD:  # killed earlier this tick
                continue
            if ag.kind == COP:
                self._cop_turn(ag)
            else:
                self._citizen_turn(ag)
        if self.p.jail.countdown == "end_of_tick":
            self._end_of_tick_countdown()
        if self.p.model.variant == "II":
            self._age_and_die()
            self._clone()

    # -- records ----------------------------------------------------------------------
    def row(self) -> tuple:
        counts = dict.fromkeys(TALLIES, 0)
        for ag in self.agents:
            if ag.status == DEAD:
                continue
            if ag.kind == COP:
                counts["cops"] += 1
            else:
                counts[f"{ag.status}_{('blue', 'green')[ag.group]}"] += 1
        return TickRow(
            tick=self.tick,
            **counts,
            **self.events,
            **self.transport,
            **self.travel,
            **getattr(self, "emergency_counts", {"under_emergency": 0, "under_curfew": 0}),
            framing=self.framing,
            legitimacy=self._shown_legitimacy(),
            **self.sites_counts,
            control=self._shown_control(),
        )

    def _shown_control(self) -> float:
        """The control column: the sites' update's value; without sites the streets'
        of the last row (1 at tick 0)."""
        if self.sites or not getattr(self, "history", None):
            return self.control
        return self._control(0.0, 0)

    def _shown_legitimacy(self) -> float:
        """The legitimacy column: L, or under per-agent legitimacy the mean L_i of the
        live citizens in slot order (numpy's float64 mean, as the engine)."""
        if not self.per_agent:
            return self.legitimacy
        values = [ag.legit for ag in self.citizens()]
        return float(np.mean(np.array(values, np.float64))) if values else 0.0

    def mechanism_snapshot(self) -> dict[int, tuple]:
        """Live agents: slot → (legit, fear, cohort, hardship0, unit, faction, role, org)."""
        return {
            ag.slot: (
                ag.legit,
                ag.fear,
                ag.cohort,
                ag.hardship0,
                ag.unit,
                ag.faction,
                ag.role,
                ag.org,
            )
            for ag in self.agents
            if ag.status != DEAD
        }

    def snapshot(self) -> dict[int, tuple]:
        """Live agents: slot → (kind, status, x, y, jail_left, group, age, death_age, H, R).

        A life term reads as -1 and Model I ages as 0, as the engine stores them.
        """
        out = {}
        for ag in self.agents:
            if ag.status == DEAD:
                continue
            term = -1 if ag.jail_left == math.inf else int(ag.jail_left)
            out[ag.slot] = (
                ag.kind,
                ag.status,
                ag.site[0],
                ag.site[1],
                term,
                ag.group,
                ag.age,
                ag.death_age,
                ag.hardship,
                ag.risk_aversion,
            )
        return out

    def site_counts(self) -> dict[tuple[int, int], tuple[int, int, int, int]]:
        """Per non-empty site: (cops, active, quiet, jailed) standing there."""
        out = {}
        for site, agents in self.on_site.items():
            if not agents:
                continue
            c = sum(ag.kind == COP for ag in agents)
            a = sum(ag.kind == CITIZEN and ag.status == ACTIVE for ag in agents)
            q = sum(ag.kind == CITIZEN and ag.status == QUIET for ag in agents)
            j = sum(ag.kind == CITIZEN and ag.status == JAILED for ag in agents)
            out[site] = (c, a, q, j)
        return out
