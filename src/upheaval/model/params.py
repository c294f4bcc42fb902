"""The model's parameters: one frozen record, each field a documented modelling choice.

Every field carries its TOML location, its allowed values, a one-line meaning and
the source of its default. This metadata is the single registry that scenario
validation, ``--set`` overrides, the ODD parameter table and the kernels read;
adding a parameter means adding one field here.

Defaults are Epstein (2002) run 2 where the paper states a value, and NetLogo's
*Rebellion* (Wilensky 2004) where the paper is silent.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

EPSTEIN = "Epstein 2002, PNAS 99(suppl 3):7243, Table 2"
EPSTEIN_TEXT = "Epstein 2002, PNAS 99(suppl 3):7243, text"
NETLOGO = "NetLogo Rebellion (Wilensky 2004), where the paper is silent"
MESA = "Mesa epstein_civil_violence example"
OURS = "our design (documented in docs/odd.md)"
LEMOS = "Lemos, Lopes & Coelho 2016, Int. J. Intelligent Systems 31(2); form ours (model-spec §4)"
LETHAL = "our design after model-spec §4 (lethal force; Moro 2016, PLoS ONE 11(4))"
INFORMATION = (
    "our design after Makowsky & Rubin 2013, PLoS ONE 8(11) and Hassanpour 2014, "
    "Political Communication 31(1) (docs/odd.md §7.15)"
)
FORCES = "our design (security forces with minds of their own; docs/odd.md §7.14)"
PROVOCATEURS = (
    "our design after model-spec §4 (no published model has state-planted "
    "provocateurs; docs/odd.md §7.16)"
)
ELITE = (
    "our design (model-spec §4: factions that command shares of the forces, each with its "
    "own loyalty; the Kazakh split of January 2022, brief.md; docs/odd.md §7.18)"
)
ORGANISATION = (
    "our design after Granovetter 1978, AJS 83(6) and Oliver & Marwell 1988, ASR 53(1) "
    "(organised collective action; docs/odd.md §7.17)"
)
IDENTITY = "our design after Kim & Hanneman 2011, JASSS 14(3) 1 (tags; docs/odd.md §7.19)"
ORIGINS = ("local_police", "national_guard", "foreign")

#: TOML tables, in the order a scenario file lists them.
SECTIONS = (
    "model",
    "world",
    "population",
    "citizens",
    "cops",
    "jail",
    "groups",
    "legitimacy",
    "hardship",
    "lethal_force",
    "security_forces",
    "information",
    "provocateurs",
    "organisation",
    "elite",
    "identity",
    "run",
)


def _p(
    default: Any,
    section: str,
    key: str,
    doc: str,
    source: str,
    *,
    kind: str,
    low: float | None = None,
    high: float | None = None,
    choices: tuple[str, ...] = (),
    timeline: bool = False,
) -> Any:
    """Declare a parameter: its default plus the metadata the registry needs."""
    return field(
        default=default,
        metadata={
            "section": section,
            "key": key,
            "doc": doc,
            "source": source,
            "kind": kind,
            "low": low,
            "high": high,
            "choices": choices,
            "timeline": timeline,
        },
    )


@dataclass(frozen=True)
class Params:
    """All parameters of one run, as given (no logic, no validation here).

    Validation lives in :func:`validate_params`; construction from a scenario
    file lives in :mod:`upheaval.scenario`.
    """

    # -- model ------------------------------------------------------------------
    variant: str = _p(
        "I",
        "model",
        "variant",
        "Model I (rebellion against a central authority) or Model II (inter-group violence).",
        EPSTEIN_TEXT,
        kind="choice",
        choices=("I", "II"),
    )

    # -- world ------------------------------------------------------------------
    width: int = _p(
        40,
        "world",
        "width",
        "Lattice width in sites (a torus).",
        EPSTEIN_TEXT,
        kind="int",
        low=3,
        high=1_000_000,
    )
    height: int = _p(
        40,
        "world",
        "height",
        "Lattice height in sites (a torus).",
        EPSTEIN_TEXT,
        kind="int",
        low=3,
        high=1_000_000,
    )
    vision_shape: str = _p(
        "euclidean",
        "world",
        "vision_shape",
        "Shape of the neighbourhood within vision: Euclidean disc dx²+dy² ≤ v² "
        "(NetLogo in-radius), von Neumann diamond |dx|+|dy| ≤ v, or Moore square "
        "max(|dx|,|dy|) ≤ v. A vision of 1.7 only makes sense as a Euclidean radius.",
        NETLOGO,
        kind="choice",
        choices=("euclidean", "von_neumann", "moore"),
    )

    # -- population ---------------------------------------------------------------
    citizen_density: float = _p(
        0.7,
        "population",
        "citizen_density",
        "Share of sites holding a citizen at the start.",
        EPSTEIN,
        kind="float",
        low=0.0,
        high=1.0,
    )
    cop_density: float = _p(
        0.04,
        "population",
        "cop_density",
        "Share of sites holding a cop; a timeline may change it, adding cops on random "
        "empty sites or withdrawing random cops.",
        EPSTEIN,
        kind="float",
        low=0.0,
        high=1.0,
        timeline=True,
    )
    placement: str = _p(
        "exact",
        "population",
        "placement",
        "'exact': round(density × sites) agents of each kind on distinct random sites "
        "(NetLogo); 'bernoulli': each site independently holds a citizen, a cop or "
        "nothing with the densities as probabilities (Mesa).",
        NETLOGO,
        kind="choice",
        choices=("exact", "bernoulli"),
    )

    # -- citizens -----------------------------------------------------------------
    citizen_vision: float = _p(
        7.0,
        "citizens",
        "vision",
        "Citizen vision v: how far a citizen sees cops and actives, and how far it moves.",
        EPSTEIN,
        kind="float",
        low=0.0,
        high=100.0,
    )
    legitimacy: float = _p(
        0.82,
        "citizens",
        "legitimacy",
        "Regime legitimacy L; grievance G = H(1 − L).",
        EPSTEIN,
        kind="float",
        low=0.0,
        high=1.0,
        timeline=True,
    )
    threshold: float = _p(
        0.1,
        "citizens",
        "threshold",
        "Activation threshold T: active iff G − N > T (strict).",
        EPSTEIN_TEXT,
        kind="float",
        low=-1.0,
        high=1.0,
    )
    arrest_constant: float = _p(
        2.3,
        "citizens",
        "arrest_constant",
        "k in P = 1 − exp(−k·(C/A)); 2.3 gives P ≈ 0.9 at C = A = 1.",
        EPSTEIN_TEXT,
        kind="float",
        low=0.0,
        high=1000.0,
    )
    ratio_rule: str = _p(
        "floor",
        "citizens",
        "ratio_rule",
        "How C/A enters P: 'literal' (the paper's text), 'floor' (NetLogo), "
        "'round_half_even' (Mesa, Python round) or 'round_half_up'. Without rounding "
        "there is no punctuated equilibrium (Lemos, Lopes & Coelho 2015).",
        NETLOGO,
        kind="choice",
        choices=("literal", "floor", "round_half_even", "round_half_up"),
    )
    active_count_includes_self: bool = _p(
        False,
        "citizens",
        "active_count_includes_self",
        "A = 1 + actives within vision. If true, an active citizen also counts itself "
        "among the actives on its own site, so it counts twice (NetLogo); if false, "
        "the 1 is the citizen itself (the paper, Mesa).",
        EPSTEIN_TEXT,
        kind="bool",
    )
    citizen_movement: bool = _p(
        True,
        "citizens",
        "movement",
        "Whether free citizens move (rule M). Off in run 1.",
        EPSTEIN,
        kind="bool",
    )
    activation: str = _p(
        "random_order",
        "citizens",
        "activation",
        "How rule A is updated: 'random_order', each citizen in its turn against the "
        "lattice as it then stands (Epstein 2002's asynchronous activation), or "
        "'synchronous', every free citizen at the start of the tick against the lattice "
        "as the previous tick left it, all at once (a named variant; moves and arrests "
        "stay in random order).",
        OURS,
        kind="choice",
        choices=("random_order", "synchronous"),
    )
    citizen_turn_order: str = _p(
        "move_then_act",
        "citizens",
        "turn_order",
        "Within a citizen's turn: move then decide (NetLogo) or decide then move (Mesa).",
        NETLOGO,
        kind="choice",
        choices=("move_then_act", "act_then_move"),
    )
    deterrence_exponent: float = _p(
        0.0,
        "citizens",
        "deterrence_exponent",
        "α in N = R·P·J_max^α. Off (α = 0) by default: the term could not be confirmed "
        "in the paper's text.",
        OURS,
        kind="float",
        low=0.0,
        high=10.0,
    )

    # -- cops -----------------------------------------------------------------------
    cop_vision: float = _p(
        7.0,
        "cops",
        "vision",
        "Cop vision v*: how far a cop sees actives and moves.",
        EPSTEIN,
        kind="float",
        low=0.0,
        high=100.0,
    )
    cop_movement: bool = _p(
        True, "cops", "movement", "Whether cops move (rule M).", EPSTEIN, kind="bool"
    )
    cop_turn_order: str = _p(
        "move_then_act",
        "cops",
        "turn_order",
        "Within a cop's turn: move then arrest (NetLogo) or arrest then move (Mesa).",
        NETLOGO,
        kind="choice",
        choices=("move_then_act", "act_then_move"),
    )
    cop_after_arrest: str = _p(
        "arrestee_site",
        "cops",
        "after_arrest",
        "Where a cop goes after an arrest: onto the arrestee's site (NetLogo) or it "
        "stays ('stay'; Mesa's cop then makes its ordinary move if its turn order says so).",
        NETLOGO,
        kind="choice",
        choices=("arrestee_site", "stay"),
    )

    # -- jail -------------------------------------------------------------------------
    max_jail_term: float = _p(
        30.0,
        "jail",
        "max_jail_term",
        "J_max: jail terms are integers drawn uniformly up to J_max (see term_range); "
        "inf means jailed for ever (runs 3-5).",
        EPSTEIN,
        kind="term",
        low=0.0,
        high=32000.0,
        timeline=True,
    )
    jail_term_range: str = _p(
        "exclusive",
        "jail",
        "term_range",
        "'exclusive': term in 0 … J_max−1 (NetLogo `random`); 'inclusive': 0 … J_max "
        "(Mesa `randint`).",
        NETLOGO,
        kind="choice",
        choices=("exclusive", "inclusive"),
    )
    jail_countdown: str = _p(
        "end_of_tick",
        "jail",
        "countdown",
        "'end_of_tick': every jailed citizen's term falls by one after all turns, and a "
        "term of 0 means free (NetLogo; a term-0 arrest only makes the citizen quiet); "
        "'own_activation': a jailed citizen spends its turn counting down and is released "
        "at the first turn its term is already 0 (Mesa).",
        NETLOGO,
        kind="choice",
        choices=("end_of_tick", "own_activation"),
    )
    jailed_hold_site: bool = _p(
        False,
        "jail",
        "hold_site",
        "Whether a jailed citizen keeps its site occupied (Mesa) or leaves it free and "
        "returns to it on release, sharing it if someone moved in (NetLogo).",
        NETLOGO,
        kind="bool",
    )

    # -- groups (Model II) ---------------------------------------------------------------
    blue_share: float = _p(
        0.5,
        "groups",
        "blue_share",
        "Model II, and Model I with identity.enabled: share of citizens in the Blue group "
        "(the rest are Green).",
        OURS,
        kind="float",
        low=0.0,
        high=1.0,
    )
    clone_probability: float = _p(
        0.05,
        "groups",
        "clone_probability",
        "Model II: chance per tick that a free citizen clones onto a "
        "free neighbouring site (offspring keep group, H and R).",
        EPSTEIN_TEXT,
        kind="float",
        low=0.0,
        high=1.0,
    )
    max_age: int = _p(
        200,
        "groups",
        "max_age",
        "Model II: death ages are drawn uniformly from 1 … max_age ticks.",
        EPSTEIN_TEXT,
        kind="int",
        low=1,
        high=32000,
    )
    clone_neighbourhood: str = _p(
        "moore",
        "groups",
        "clone_neighbourhood",
        "Model II: the 'neighbouring sites' a clone may be placed on.",
        OURS,
        kind="choice",
        choices=("moore", "von_neumann"),
    )

    # -- legitimacy (mechanism 1: legitimacy that answers to events) -----------------------
    legitimacy_feedback: str = _p(
        "off",
        "legitimacy",
        "feedback",
        "'off': L only changes by the timeline (the classic model); 'global': one L that "
        "falls with the arrests and killings of each tick and recovers toward its anchor; "
        "'per_agent': every citizen has its own L, which also falls with each arrest or "
        "killing it sees.",
        LEMOS,
        kind="choice",
        choices=("off", "global", "per_agent"),
    )
    legitimacy_recovery: float = _p(
        0.01,
        "legitimacy",
        "recovery",
        "λ_rec: share of the gap to the anchor L0 (citizens.legitimacy as the timeline "
        "sets it) that L recovers each tick.",
        LEMOS,
        kind="float",
        low=0.0,
        high=1.0,
    )
    legitimacy_arrest_impact: float = _p(
        0.1,
        "legitimacy",
        "arrest_impact",
        "λ_arr: L falls by λ_arr × arrests / citizens each tick (arrests heard of by all).",
        LEMOS,
        kind="float",
        low=0.0,
        high=1000.0,
    )
    legitimacy_seen_arrest: float = _p(
        0.001,
        "legitimacy",
        "seen_arrest_impact",
        "per_agent only: a citizen's L falls by this much for each arrest within its vision.",
        OURS,
        kind="float",
        low=0.0,
        high=1.0,
    )
    legitimacy_seen_kill: float = _p(
        0.02,
        "legitimacy",
        "seen_kill_impact",
        "per_agent only: a citizen's L falls by this much for each killing by the police "
        "within its vision.",
        OURS,
        kind="float",
        low=0.0,
        high=1.0,
    )

    # -- hardship (mechanism 2: heterogeneity and shocks) -----------------------------------
    hardship_distribution: str = _p(
        "uniform",
        "hardship",
        "distribution",
        "Distribution of H: 'uniform' on [low, high] (U(0, 1) is the paper's), or 'beta' "
        "with shapes beta_a, beta_b; both are quantile transforms of the one uniform drawn "
        "per citizen, so no extra draw.",
        EPSTEIN,
        kind="choice",
        choices=("uniform", "beta"),
    )
    hardship_low: float = _p(
        0.0, "hardship", "low", "Lower end of uniform H.", EPSTEIN, kind="float", low=0.0, high=1.0
    )
    hardship_high: float = _p(
        1.0, "hardship", "high", "Upper end of uniform H.", EPSTEIN, kind="float", low=0.0, high=1.0
    )
    hardship_beta_a: float = _p(
        2.0, "hardship", "beta_a", "Beta shape a of H.", OURS, kind="float", low=0.01, high=1000.0
    )
    hardship_beta_b: float = _p(
        2.0, "hardship", "beta_b", "Beta shape b of H.", OURS, kind="float", low=0.01, high=1000.0
    )
    hardship_group_share: float = _p(
        0.0,
        "hardship",
        "group_share",
        "Share of citizens in a group with its own hardship (e.g. oil workers), drawn "
        "one uniform per citizen from the init stream after all other attributes; 0: no group.",
        OURS,
        kind="float",
        low=0.0,
        high=1.0,
    )
    hardship_group_low: float = _p(
        0.0,
        "hardship",
        "group_low",
        "The group's H is uniform on [group_low, group_high] (same uniform as H).",
        OURS,
        kind="float",
        low=0.0,
        high=1.0,
    )
    hardship_group_high: float = _p(
        1.0,
        "hardship",
        "group_high",
        "Upper end of the group's uniform H.",
        OURS,
        kind="float",
        low=0.0,
        high=1.0,
    )

    # -- lethal force (mechanism 3) -----------------------------------------------------------
    lethal_probability: float = _p(
        0.0,
        "lethal_force",
        "probability",
        "q: chance that an enforcement kills instead of arresting (the order in force; a "
        "timeline switches it on and off). 0: no killings and no extra draw.",
        LETHAL,
        kind="float",
        low=0.0,
        high=1.0,
        timeline=True,
    )
    lethal_backlash: float = _p(
        2.0,
        "lethal_force",
        "backlash",
        "λ_kill: L falls by λ_kill × killings by the police / citizens each tick "
        "(heard of by all).",
        LETHAL,
        kind="float",
        low=0.0,
        high=1000.0,
    )
    lethal_deterrence: float = _p(
        0.0,
        "lethal_force",
        "deterrence",
        "Fear added to the estimated arrest probability P of every citizen who sees a "
        "killing (P + fear, capped at 1); 0: no deterrence and no fear array.",
        LETHAL,
        kind="float",
        low=0.0,
        high=1.0,
    )
    lethal_fear_decay: float = _p(
        0.9,
        "lethal_force",
        "fear_decay",
        "Fear is multiplied by this each tick.",
        LETHAL,
        kind="float",
        low=0.0,
        high=1.0,
    )

    # -- security forces with minds of their own (mechanism 4) --------------------------------
    forces_minds: bool = _p(
        False,
        "security_forces",
        "minds",
        "Cops have hardship and loyalty and decide each turn to enforce, stand aside or "
        "defect, and may be disarmed by a crowd. false: the classic cop (no draws).",
        FORCES,
        kind="bool",
    )
    forces_initial_origin: str = _p(
        "local_police",
        "security_forces",
        "initial_origin",
        "Origin of the initial force (unit 0): its loyalty distribution; foreign troops "
        "never defect.",
        FORCES,
        kind="choice",
        choices=ORIGINS,
    )
    forces_reinforcement_origin: str = _p(
        "national_guard",
        "security_forces",
        "reinforcement_origin",
        "Origin of every unit a timeline `reinforce` brings (cops a cop_density change "
        "adds join the initial force).",
        FORCES,
        kind="choice",
        choices=ORIGINS,
    )
    forces_hardship_high: float = _p(
        1.0,
        "security_forces",
        "hardship_high",
        "A cop's hardship H_c ~ U(0, hardship_high).",
        FORCES,
        kind="float",
        low=0.0,
        high=1.0,
    )
    forces_local_police_loyalty_low: float = _p(
        0.3,
        "security_forces",
        "local_police_loyalty_low",
        "Loyalty ℓ of local police ~ U(low, high): lower end.",
        FORCES,
        kind="float",
        low=0.0,
        high=1.0,
    )
    forces_local_police_loyalty_high: float = _p(
        0.9,
        "security_forces",
        "local_police_loyalty_high",
        "Loyalty ℓ of local police ~ U(low, high): upper end.",
        FORCES,
        kind="float",
        low=0.0,
        high=1.0,
    )
    forces_national_guard_loyalty_low: float = _p(
        0.5,
        "security_forces",
        "national_guard_loyalty_low",
        "Loyalty ℓ of national guard units ~ U(low, high): lower end.",
        FORCES,
        kind="float",
        low=0.0,
        high=1.0,
    )
    forces_national_guard_loyalty_high: float = _p(
        1.0,
        "security_forces",
        "national_guard_loyalty_high",
        "Loyalty ℓ of national guard units ~ U(low, high): upper end.",
        FORCES,
        kind="float",
        low=0.0,
        high=1.0,
    )
    forces_foreign_loyalty_low: float = _p(
        0.7,
        "security_forces",
        "foreign_loyalty_low",
        "Loyalty ℓ of foreign troops ~ U(low, high): lower end (they may stand aside, "
        "never defect).",
        FORCES,
        kind="float",
        low=0.0,
        high=1.0,
    )
    forces_foreign_loyalty_high: float = _p(
        1.0,
        "security_forces",
        "foreign_loyalty_high",
        "Loyalty ℓ of foreign troops ~ U(low, high): upper end.",
        FORCES,
        kind="float",
        low=0.0,
        high=1.0,
    )
    forces_stand_aside_threshold: float = _p(
        0.1,
        "security_forces",
        "stand_aside_threshold",
        "T_s: a cop stands aside (makes no arrest this turn) iff H_c(1 − L) − ℓ·P_c > T_s.",
        FORCES,
        kind="float",
        low=-1.0,
        high=1.0,
    )
    forces_defect_threshold: float = _p(
        0.3,
        "security_forces",
        "defect_threshold",
        "T_d ≥ T_s: a cop defects (becomes an active citizen on its site) iff "
        "H_c(1 − L) − ℓ·P_c > T_d; foreign troops never do.",
        FORCES,
        kind="float",
        low=-1.0,
        high=1.0,
    )
    forces_disarm_ratio: float = _p(
        0.0,
        "security_forces",
        "disarm_ratio",
        "A cop is disarmed when the actives within its vision number ≥ disarm_ratio × "
        "the cops there (itself included); 0: never.",
        FORCES,
        kind="float",
        low=0.0,
        high=1000.0,
    )

    forces_disarm_kill: float = _p(
        0.0,
        "security_forces",
        "disarm_kill",
        "Chance that a cop disarmed by a crowd is killed (removed from the world, counted "
        "in cops_killed) rather than let go; one draw per disarming when > 0.",
        FORCES,
        kind="float",
        low=0.0,
        high=1.0,
    )

    # -- information beyond sight (mechanism 7) ------------------------------------------------
    information_enabled: bool = _p(
        False,
        "information",
        "enabled",
        "A long-range channel (media, the internet) tells every citizen the lattice-wide "
        "actives and repression of the previous tick, as if seen within its vision. "
        "false: citizens know only what they see (the classic model).",
        INFORMATION,
        kind="bool",
    )
    information_online: bool = _p(
        True,
        "information",
        "online",
        "Whether the channel is up at tick 0; timeline actions shutdown and restore "
        "switch it off and on.",
        INFORMATION,
        kind="bool",
    )
    information_actives_weight: float = _p(
        1.0,
        "information",
        "actives_weight",
        "w_A: a citizen adds ⌊w_A · actives · |V| / sites⌋ to the actives it sees "
        "(mobilising: rebellion elsewhere lowers perceived risk).",
        INFORMATION,
        kind="float",
        low=0.0,
        high=100.0,
    )
    information_repression_weight: float = _p(
        0.0,
        "information",
        "repression_weight",
        "w_R: a citizen adds ⌊w_R · (arrests + killings) · |V| / sites⌋ to the cops it "
        "sees (damping: broadcast repression raises perceived risk).",
        INFORMATION,
        kind="float",
        low=0.0,
        high=1000.0,
    )

    information_focal_x: int = _p(
        -1,
        "information",
        "focal_x",
        "x of a focal site (a central square) the channel points protesters to: while "
        "it is online an active citizen's rule M goes to the empty site in vision "
        "nearest to it. -1: no focal site.",
        INFORMATION,
        kind="int",
        low=-1,
        high=1_000_000,
    )
    information_focal_y: int = _p(
        -1,
        "information",
        "focal_y",
        "y of the focal site; -1 (with focal_x = -1): none.",
        INFORMATION,
        kind="int",
        low=-1,
        high=1_000_000,
    )

    # -- provocateurs and framing (mechanism 6) --------------------------------------------
    provocateurs_count: int = _p(
        0,
        "provocateurs",
        "count",
        "Citizens drawn at the start to be provocateurs: always active (violent) when "
        "free. 0: none (no draws, no framing).",
        PROVOCATEURS,
        kind="int",
        low=0,
        high=10**9,
    )
    provocateurs_framing_rise: float = _p(
        0.02,
        "provocateurs",
        "framing_rise",
        "ρ_F: the regime's 'terrorist' framing F rises by ρ_F per provocation (a "
        "provocateur's violence with a cop in its vision) each tick.",
        PROVOCATEURS,
        kind="float",
        low=0.0,
        high=1.0,
    )
    provocateurs_framing_decay: float = _p(
        0.95,
        "provocateurs",
        "framing_decay",
        "δ_F: the framing is multiplied by δ_F each tick before new provocations add to it.",
        PROVOCATEURS,
        kind="float",
        low=0.0,
        high=1.0,
    )
    provocateurs_framing_lethal: float = _p(
        0.2,
        "provocateurs",
        "framing_lethal",
        "γ_kill: the lethal-force order in force q becomes min(1, q + γ_kill·F).",
        PROVOCATEURS,
        kind="float",
        low=0.0,
        high=1.0,
    )
    provocateurs_framing_arrest: float = _p(
        0.5,
        "provocateurs",
        "framing_arrest",
        "γ_arr: after each enforcement a cop enforces once more this turn with "
        "probability γ_arr·F.",
        PROVOCATEURS,
        kind="float",
        low=0.0,
        high=1.0,
    )
    provocateurs_framing_bystander: float = _p(
        0.5,
        "provocateurs",
        "framing_bystander",
        "β: an ordinary citizen's grievance is H(1 − L)(1 − β·F): the framed protest "
        "loses bystanders' sympathy.",
        PROVOCATEURS,
        kind="float",
        low=0.0,
        high=1.0,
    )

    # -- organised groups and strikes (mechanism 8) --------------------------------------------
    organisation_groups: int = _p(
        0,
        "organisation",
        "groups",
        "Number of organised groups (workers of one employer, a strike committee) that "
        "decide together; 0: no organisation (the classic model, no draws).",
        ORGANISATION,
        kind="int",
        low=0,
        high=32000,
    )
    organisation_member_share: float = _p(
        0.3,
        "organisation",
        "member_share",
        "Share of citizens who are members, each of one group drawn uniformly (init "
        "stream, after every other initial draw).",
        ORGANISATION,
        kind="float",
        low=0.0,
        high=1.0,
    )
    organisation_quorum: float = _p(
        0.5,
        "organisation",
        "quorum",
        "A group acts next tick iff its willing members number ≥ quorum × its free "
        "members this tick (0 < quorum ≤ 1).",
        ORGANISATION,
        kind="float",
        low=0.0,
        high=1.0,
    )
    organisation_action: str = _p(
        "strike",
        "organisation",
        "action",
        "What an acting group does: 'strike' (members stay off the street: quiet, not "
        "arrestable, counted in `striking`) or 'protest' (members go active).",
        ORGANISATION,
        kind="choice",
        choices=("strike", "protest"),
    )
    organisation_risk_factor: float = _p(
        0.5,
        "organisation",
        "risk_factor",
        "ρ: a member is willing iff H(1 − L) − ρ·R·P·J_max^α > T (rule A with net risk "
        "scaled; a strike risks less than the street).",
        ORGANISATION,
        kind="float",
        low=0.0,
        high=10.0,
    )
    organisation_strike_impact: float = _p(
        0.01,
        "organisation",
        "strike_impact",
        "λ_strike: L falls by λ_strike × striking / citizens each tick (news every "
        "citizen hears of, as lethal_force.backlash).",
        ORGANISATION,
        kind="float",
        low=0.0,
        high=1000.0,
    )

    # -- elite split (mechanism 9) ---------------------------------------------------------
    elite_rival_share: float = _p(
        0.0,
        "elite",
        "rival_share",
        "Share of the initial force (unit 0) that answers to the rival faction rather "
        "than the ruler; each initial cop draws its faction. 0: one command (no draws). "
        "Needs security_forces.minds.",
        ELITE,
        kind="float",
        low=0.0,
        high=1.0,
    )
    elite_ruler_loyalty: float = _p(
        1.0,
        "elite",
        "ruler_loyalty",
        "λ_ruler: a cop under the ruler's command weighs its loyalty as λ_ruler·ℓ.",
        ELITE,
        kind="float",
        low=0.0,
        high=1.0,
        timeline=True,
    )
    elite_rival_loyalty: float = _p(
        0.5,
        "elite",
        "rival_loyalty",
        "λ_rival: a cop under the rival faction's command weighs its loyalty to the "
        "regime as λ_rival·ℓ (the faction's own loyalty to the ruler).",
        ELITE,
        kind="float",
        low=0.0,
        high=1.0,
        timeline=True,
    )

    # -- divided identities (mechanism 10) -----------------------------------------------------
    identity_enabled: bool = _p(
        False,
        "identity",
        "enabled",
        "Model I citizens carry an identity tag, Blue or Green (groups.blue_share), drawn "
        "after every other initial draw; actives of the other group count toward A only "
        "as far as solidarity reaches. false: no tags (the classic model, no draws).",
        IDENTITY,
        kind="bool",
    )
    identity_solidarity: float = _p(
        1.0,
        "identity",
        "solidarity",
        "s: A = 1 + own-group actives in vision + ⌊s · other-group actives⌋. 1: full "
        "solidarity (identities make no difference); divisive propaganda is a timeline "
        "set or ramp that lowers it.",
        IDENTITY,
        kind="float",
        low=0.0,
        high=1.0,
        timeline=True,
    )

    # -- run -----------------------------------------------------------------------------
    steps: int = _p(
        500, "run", "steps", "Number of ticks to run.", OURS, kind="int", low=0, high=10**9
    )
    seed: int = _p(
        0,
        "run",
        "seed",
        "Root seed; all random streams derive from numpy.random.SeedSequence(seed).",
        OURS,
        kind="int",
        low=0,
        high=2**63 - 1,
    )
    start: str = _p(
        "",
        "run",
        "start",
        "Clock time at which tick 1 begins (ISO 8601 or a TOML date-time, e.g. "
        "2022-01-02T00:00:00Z; without an offset, UTC). With run.tick_minutes, timeline "
        'entries may give a clock `time` instead of a `tick`. "": no clock.',
        OURS,
        kind="datetime",
    )
    tick_minutes: float = _p(
        0.0,
        "run",
        "tick_minutes",
        "Clock length of a tick in minutes (a tick k covers [start + (k − 1)·Δ, "
        "start + k·Δ)); 0: ticks have no clock length.",
        OURS,
        kind="float",
        low=0.0,
        high=525_600.0,
    )

    # -- derived values -------------------------------------------------------------------
    @property
    def n_sites(self) -> int:
        return self.width * self.height

    def replace(self, **changes: Any) -> Params:
        """A copy with some fields changed (no validation; call validate_params)."""
        return dataclasses.replace(self, **changes)


def parameter_fields() -> tuple[dataclasses.Field, ...]:
    """The registry: every parameter with its metadata, in declaration order."""
    return dataclasses.fields(Params)


def field_by_location() -> dict[tuple[str, str], dataclasses.Field]:
    """Map (section, key) → field, as scenario files address parameters."""
    return {(f.metadata["section"], f.metadata["key"]): f for f in parameter_fields()}


class ParameterError(ValueError):
    """A parameter value is out of its allowed range or of the wrong type.

    ``location`` is ``section.key`` as written in a scenario file.
    """

    def __init__(self, location: str, reason: str):
        self.location = location
        self.reason = reason
        super().__init__(f"{location}: {reason}")


def clock_time(loc: str, value: Any) -> str:
    """A clock time as its ISO 8601 text in UTC ("" stays "": no clock)."""
    if value == "":
        return ""
    when = value
    if isinstance(value, str):
        try:
            when = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ParameterError(
                loc, f"expected an ISO 8601 date-time like 2022-01-02T00:00:00Z, got {value!r}"
            ) from None
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        when = dt.datetime(value.year, value.month, value.day)
    if not isinstance(when, dt.datetime):
        raise ParameterError(loc, f"expected a date-time, got {value!r}")
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).isoformat()


def check_value(f: dataclasses.Field, value: Any) -> Any:
    """Check one value against its field's declared kind and range.

    Returns the value normalised (ints widened to float where a float is asked for).
    """
    m = f.metadata
    loc = f"{m['section']}.{m['key']}"
    kind = m["kind"]
    if kind == "bool":
        if not isinstance(value, bool):
            raise ParameterError(loc, f"expected true or false, got {value!r}")
        return value
    if kind == "datetime":
        return clock_time(loc, value)
    if kind == "choice":
        if not isinstance(value, str) or value not in m["choices"]:
            allowed = ", ".join(repr(c) for c in m["choices"])
            raise ParameterError(loc, f"expected one of {allowed}, got {value!r}")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParameterError(loc, f"expected an integer, got {value!r}")
    elif kind in ("float", "term"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParameterError(loc, f"expected a number, got {value!r}")
        value = float(value)
        if math.isnan(value):
            raise ParameterError(loc, "expected a number, got nan")
        if kind == "term":
            if math.isinf(value) and value > 0:
                return value
            if value != int(value):
                raise ParameterError(loc, f"expected a whole number of ticks or inf, got {value}")
        elif math.isinf(value):
            raise ParameterError(loc, f"expected a finite number, got {value}")
    lo, hi = m["low"], m["high"]
    if lo is not None and value < lo:
        raise ParameterError(loc, f"must be ≥ {lo:g}, got {value!r}")
    if hi is not None and value > hi:
        raise ParameterError(loc, f"must be ≤ {hi:g}, got {value!r}")
    return value


def validate_params(p: Params) -> Params:
    """Check every field and the rules that tie fields together; return p.

    Raises ParameterError naming the offending ``section.key``.
    """
    for f in parameter_fields():
        check_value(f, getattr(p, f.name))
    if p.citizen_density + p.cop_density > 1.0 + 1e-12:
        raise ParameterError(
            "population.citizen_density",
            f"citizen_density + cop_density = {p.citizen_density + p.cop_density:g} exceeds 1",
        )
    for loc, v in (("citizens.vision", p.citizen_vision), ("cops.vision", p.cop_vision)):
        r = int(math.floor(v))
        if 2 * r + 1 > min(p.width, p.height):
            raise ParameterError(
                loc,
                f"vision {v:g} spans {2 * r + 1} sites, more than the "
                f"{p.width}×{p.height} lattice; the neighbourhood would wrap onto itself",
            )
    if p.hardship_low > p.hardship_high:
        raise ParameterError(
            "hardship.low", f"low {p.hardship_low:g} exceeds high {p.hardship_high:g}"
        )
    if p.hardship_group_low > p.hardship_group_high:
        raise ParameterError(
            "hardship.group_low",
            f"group_low {p.hardship_group_low:g} exceeds group_high {p.hardship_group_high:g}",
        )
    for origin in ORIGINS:
        lo = getattr(p, f"forces_{origin}_loyalty_low")
        hi = getattr(p, f"forces_{origin}_loyalty_high")
        if lo > hi:
            raise ParameterError(
                f"security_forces.{origin}_loyalty_low",
                f"{origin}_loyalty_low {lo:g} exceeds {origin}_loyalty_high {hi:g}",
            )
    if p.forces_defect_threshold < p.forces_stand_aside_threshold:
        raise ParameterError(
            "security_forces.defect_threshold",
            f"defect_threshold {p.forces_defect_threshold:g} is below stand_aside_threshold "
            f"{p.forces_stand_aside_threshold:g} (a cop that would defect would first stand "
            "aside)",
        )
    if (p.information_focal_x < 0) != (p.information_focal_y < 0):
        raise ParameterError(
            "information.focal_x", "give both focal_x and focal_y, or neither (-1)"
        )
    if p.information_focal_x >= p.width or p.information_focal_y >= p.height:
        raise ParameterError(
            "information.focal_x",
            f"focal site ({p.information_focal_x}, {p.information_focal_y}) is off the "
            f"{p.width}×{p.height} lattice",
        )
    if p.information_focal_x >= 0 and not p.information_enabled:
        raise ParameterError("information.focal_x", "a focal site needs information.enabled = true")
    if p.activation == "synchronous" and (p.provocateurs_count > 0 or p.organisation_groups > 0):
        raise ParameterError(
            "citizens.activation",
            "synchronous activation does not yet support provocateurs or organised groups "
            "(their decisions are taken in the turn)",
        )
    if p.variant == "II" and p.provocateurs_count > 0:
        raise ParameterError("provocateurs.count", "Model II does not yet support provocateurs")
    if p.provocateurs_count > p.n_sites:
        raise ParameterError(
            "provocateurs.count",
            f"{p.provocateurs_count} provocateurs cannot fit on {p.n_sites} sites",
        )
    if p.elite_rival_share > 0 and not p.forces_minds:
        raise ParameterError(
            "elite.rival_share",
            "factions act through their cops' decisions: set security_forces.minds = true",
        )
    if p.variant == "II" and p.forces_minds:
        # Defectors become citizens, which in Model II would need a group and an age.
        raise ParameterError("security_forces.minds", "Model II does not yet support cops' minds")
    if p.variant == "II" and (
        p.legitimacy_feedback == "per_agent"
        or p.hardship_group_share > 0
        or p.lethal_deterrence > 0
    ):
        # Model II clones would inherit a dead slot's per-agent mechanism state.
        raise ParameterError(
            "model.variant",
            "Model II does not yet support per-agent legitimacy, hardship groups or "
            "lethal-force deterrence",
        )
    if p.organisation_groups > 0:
        if p.variant == "II":
            # Model II clones would inherit a dead slot's membership.
            raise ParameterError(
                "organisation.groups", "Model II does not yet support organisation"
            )
        if p.organisation_quorum <= 0:
            raise ParameterError(
                "organisation.quorum",
                "must be > 0 (a group that needs no willing member always acts; for "
                "everyone out at once use the timeline action general_strike)",
            )
        if p.organisation_member_share <= 0:
            raise ParameterError(
                "organisation.member_share",
                f"must be > 0 when organisation.groups = {p.organisation_groups} "
                "(groups without members)",
            )
    if p.identity_enabled and p.variant == "II":
        # Model II's groups fight each other; solidarity between them is not its question.
        raise ParameterError(
            "identity.enabled",
            "identities are for Model I; Model II has its groups already (groups.blue_share)",
        )
    if p.identity_enabled and not 0.0 < p.blue_share < 1.0:
        raise ParameterError(
            "groups.blue_share",
            f"must lie strictly between 0 and 1 when identity.enabled (got {p.blue_share:g}: "
            "one group alone has no other group to be divided from)",
        )
    if not p.identity_enabled and p.identity_solidarity != 1.0:
        raise ParameterError(
            "identity.solidarity",
            f"is {p.identity_solidarity:g} but identity.enabled is false: without identities "
            "solidarity has no effect; set identity.enabled = true",
        )
    if p.variant == "II" and p.width * p.height > 4_000_000:
        raise ParameterError("world.width", "Model II supports at most 4,000,000 sites")
    return p
