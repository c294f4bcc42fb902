"""Maps of a country's run: places as circles on the country's outline, and an
animation of the days with a clock.

Each place is a circle at its latitude/longitude, its area proportional to its
population, its colour the share of its citizens active at the tick (white: none,
dark red: half or more); a black ring marks a place past its onset, a red ring one
whose road or rail links are blocked, and a label ``+N`` the forces on their way
to it. Links are grey lines (dotted for air). Where the run stored its links
(``links.parquet``: forces or activists travel), a link with forces on it at the
tick is drawn over in blue, one with travelling activists in orange beside it,
each as wide as its count is large against the run's most on one link. Where it
stored the forces by unit (``units.parquet``: named units), a place holding
members of a named unit (on duty or on guard) at the tick has a blue square
around it and a blue label with each unit's name and count there, e.g. ``csto
10``; a legend names what the map shows. The outlines are Natural Earth's
1:110m countries (public domain; ``views/data/countries-110m.json``, converted by
``scripts/outlines.py``), every country the places' box touches. Drawn with
matplotlib's Agg canvas, never pyplot. The model never imports this module.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from upheaval.model.ticks import PLACE
from upheaval.results.places import ONSET_SHARE
from upheaval.results.recorder import read_run

#: Where a run's map is drawn by default.
MAP = "map.png"


@cache
def outlines() -> dict[str, list[list[list[float]]]]:
    """Country name → its rings of [lon, lat] (Natural Earth 1:110m)."""
    text = resources.files("upheaval.views").joinpath("data/countries-110m.json").read_text()
    return json.loads(text)["countries"]


def _box(lons: np.ndarray, lats: np.ndarray) -> tuple[float, float, float, float]:
    pad_x = max(1.0, 0.08 * float(np.ptp(lons)))
    pad_y = max(1.0, 0.08 * float(np.ptp(lats)))
    return lons.min() - pad_x, lons.max() + pad_x, lats.min() - pad_y, lats.max() + pad_y


def _state_at(table: Any, places: list[str], tick: int) -> dict[str, dict[str, float]]:
    """Per place at ``tick``: active share, blocked links, forces in transit, and
    whether its onset (ONSET_SHARE) has passed."""
    names = table.column(PLACE).to_numpy(zero_copy_only=False)
    ticks = table.column("tick").to_numpy()
    active = table.column("active_blue").to_numpy() + table.column("active_green").to_numpy()
    citizens = sum(
        table.column(f"{s}_{g}").to_numpy()
        for s in ("quiet", "active", "jailed")
        for g in ("blue", "green")
    )
    share = np.divide(active, citizens, out=np.zeros(active.shape), where=citizens > 0)
    out = {}
    for name in places:
        mine = names == name
        now = mine & (ticks == tick)
        upto = mine & (ticks <= tick)
        out[name] = {
            "share": float(share[now][0]) if now.any() else 0.0,
            "onset": bool((share[upto] >= ONSET_SHARE).any()),
            "blocked": int(table.column("links_blocked").to_numpy()[now][0]) if now.any() else 0,
            "in_transit": int(table.column("forces_in_transit").to_numpy()[now][0])
            if now.any()
            else 0,
        }
    return out


def clock_label(parameters: dict[str, Any], tick: int) -> str:
    """ "tick N" and, with a clock, the UTC time at the end of that tick."""
    start, minutes = parameters.get("run.start", ""), parameters.get("run.tick_minutes", 0)
    if not start or not minutes:
        return f"tick {tick}"
    when = dt.datetime.fromisoformat(start) + dt.timedelta(minutes=minutes * tick)
    return f"tick {tick} · {when.strftime('%d %b %Y %H:%M')} UTC"


#: The colours of the forces and the travellers on the links, and of named units.
FORCES_COLOUR = "#1f4e9c"
TRAVELLERS_COLOUR = "#e07b00"


def _links_at(links: Any, tick: int) -> tuple[dict[int, int], dict[int, int], int, int]:
    """Per link index at ``tick``: the forces and the travellers on it (links with
    none left out), and the most of each on one link at any tick of the run."""
    if links is None or links.num_rows == 0:
        return {}, {}, 0, 0
    ticks = links.column("tick").to_numpy()
    index = links.column("link").to_numpy()
    forces = links.column("forces_on_link").to_numpy()
    travellers = links.column("travellers_on_link").to_numpy()
    now = ticks == tick
    on = {int(k): int(n) for k, n in zip(index[now], forces[now], strict=True) if n}
    going = {int(k): int(n) for k, n in zip(index[now], travellers[now], strict=True) if n}
    return on, going, int(forces.max(initial=0)), int(travellers.max(initial=0))


def _units_at(units: Any, tick: int) -> dict[str, list[tuple[str, int]]]:
    """Place → [(unit, its members there: on duty + on guard)] at ``tick``, named
    units with members only."""
    if units is None or units.num_rows == 0:
        return {}
    now = units.filter(np.asarray(units.column("tick")) == tick).to_pylist()
    out: dict[str, list[tuple[str, int]]] = {}
    for r in now:
        n = r["on_duty"] + r["on_guard"]
        if r["unit"] and n:
            out.setdefault(r["place"], []).append((r["unit"], n))
    return out


def _ever(table: Any, column: str) -> bool:
    return table is not None and table.num_rows > 0 and bool(table.column(column).to_numpy().any())


def draw_map(
    ax: Any,
    country: dict[str, Any],
    table: Any,
    tick: int,
    label: str = "",
    *,
    links: Any = None,
    units: Any = None,
) -> None:
    """Draw the country at ``tick`` on matplotlib axes ``ax`` (module docstring);
    ``links`` and ``units``: the run's links and units tables
    (``read_run(dir, "links")``, ``read_run(dir, "units")``), if it has them."""
    from matplotlib.collections import LineCollection, PatchCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Polygon

    places = country["places"]
    lons = np.array([p["lon"] for p in places], float)
    lats = np.array([p["lat"] for p in places], float)
    x0, x1, y0, y1 = _box(lons, lats)
    patches = []
    for rings in outlines().values():
        for ring in rings:
            r = np.asarray(ring)
            if r[:, 0].max() < x0 or r[:, 0].min() > x1 or r[:, 1].max() < y0 or r[:, 1].min() > y1:
                continue
            patches.append(Polygon(r, closed=True))
    ax.add_collection(
        PatchCollection(patches, facecolor="#f2efe6", edgecolor="#9a968a", linewidth=0.6)
    )
    where = {p["name"]: (p["lon"], p["lat"]) for p in places}
    for dotted in (False, True):
        segs = [
            [where[link["from"]], where[link["to"]]]
            for link in country["links"]
            if (link["mode"] == "air") == dotted
        ]
        if segs:
            ax.add_collection(
                LineCollection(
                    segs,
                    colors="#7d7d7d",
                    linewidths=0.8,
                    linestyles=":" if dotted else "-",
                    zorder=2,
                )
            )
    # forces (blue) and travellers (orange, beside them) on the links at the tick
    on, going, most_on, most_going = _links_at(links, tick)
    offset = 0.006 * max(x1 - x0, y1 - y0)  # the travellers' line, beside the forces'
    for counts, most, colour, shift in (
        (on, most_on, FORCES_COLOUR, 0.0),
        (going, most_going, TRAVELLERS_COLOUR, offset),
    ):
        if not counts:
            continue
        segs, widths = [], []
        for k, n in counts.items():
            link = country["links"][k]
            (ax_, ay), (bx, by) = where[link["from"]], where[link["to"]]
            length = math.hypot(bx - ax_, by - ay) or 1.0
            dx, dy = -shift * (by - ay) / length, shift * (bx - ax_) / length
            segs.append([(ax_ + dx, ay + dy), (bx + dx, by + dy)])
            widths.append(1.5 + 4.5 * n / max(most, 1))
        ax.add_collection(
            LineCollection(segs, colors=colour, linewidths=widths, alpha=0.85, zorder=2.5)
        )
    state = _state_at(table, [p["name"] for p in places], tick)
    pops = np.array([p["population"] for p in places], float)
    sizes = 30 + 900 * pops / pops.max()
    # places holding members of a named unit: a blue square around them
    held = _units_at(units, tick)
    mine = [i for i, p in enumerate(places) if p["name"] in held]
    if mine:
        ax.scatter(
            lons[mine],
            lats[mine],
            s=sizes[mine] * 1.4 + 80,
            marker="s",
            facecolors="none",
            edgecolors=FORCES_COLOUR,
            linewidths=1.6,
            zorder=3.5,
        )
    shares = np.array([state[p["name"]]["share"] for p in places])
    ax.scatter(
        lons,
        lats,
        s=sizes,
        c=np.minimum(shares / 0.5, 1.0),
        cmap="Reds",
        vmin=0,
        vmax=1,
        edgecolors=[
            "red"
            if state[p["name"]]["blocked"]
            else ("black" if state[p["name"]]["onset"] else "#555555")
            for p in places
        ],
        linewidths=[
            1.8 if state[p["name"]]["onset"] or state[p["name"]]["blocked"] else 0.6 for p in places
        ],
        zorder=3,
    )
    biggest = set(np.argsort(-pops)[:12].tolist())
    for i, p in enumerate(places):
        text = p["name"] if i in biggest else ""
        moving = state[p["name"]]["in_transit"]
        if moving:
            text = f"{text} +{moving}".strip()
        if text:
            ax.annotate(text, (lons[i], lats[i]), xytext=(4, 4), textcoords="offset points",
                        fontsize=7, zorder=4)  # fmt: skip
        if p["name"] in held:
            units_here = ", ".join(f"{u} {n}" for u, n in held[p["name"]])
            # beside the circle (its radius in points: √(area)/2), on a white ground
            ax.annotate(units_here, (lons[i], lats[i]),
                        xytext=(math.sqrt(sizes[i]) / 2 + 3, -11),
                        textcoords="offset points", fontsize=7, color=FORCES_COLOUR,
                        fontweight="bold", zorder=4,
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                              "alpha": 0.8})  # fmt: skip
    # a legend of what this run can show (whether or not at this tick)
    handles = []
    if _ever(links, "forces_on_link"):
        handles.append(Line2D([], [], color=FORCES_COLOUR, lw=3, label="forces on a link"))
    if _ever(links, "travellers_on_link"):
        handles.append(
            Line2D([], [], color=TRAVELLERS_COLOUR, lw=3, label="activists travelling on a link")
        )
    if units is not None and units.num_rows and any(u for u in units.column("unit").to_pylist()):
        square = dict(marker="s", color=FORCES_COLOUR, mfc="none", lw=0, ms=8)
        handles.append(Line2D([], [], label="a named unit here (members)", **square))
    if handles:
        ax.legend(handles=handles, loc="lower left", fontsize=7, framealpha=0.9)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(1.0 / max(0.2, math.cos(math.radians(float(lats.mean())))))
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    if label:
        ax.set_title(label, fontsize=9)


def _figure():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 5.5))
    FigureCanvasAgg(fig)
    return fig


def _country_of(run_dir: str | Path) -> tuple[dict, Any]:
    manifest, table = read_run(run_dir)
    country = manifest.get("country")
    if not country or PLACE not in table.column_names:
        from upheaval.results.recorder import RunDirectoryError

        raise RunDirectoryError(run_dir, "not a country's run: it has no places to map")
    return manifest, table


def _links_and_units(run_dir: str | Path) -> tuple[Any, Any]:
    """The run's links and units tables (no rows where it stored none)."""
    return read_run(run_dir, "links")[1], read_run(run_dir, "units")[1]


def save_map(run_dir: str | Path, tick: int | None = None, path: str | Path | None = None) -> Path:
    """Draw a country's run at ``tick`` (default: the tick of the national peak of
    actives) to ``path`` (default ``RUN_DIR/map.png``); return the path."""
    manifest, table = _country_of(run_dir)
    links, units = _links_and_units(run_dir)
    fig = map_figure(manifest, table, tick, links=links, units=units)
    path = Path(run_dir) / MAP if path is None else Path(path)
    fig.savefig(path, dpi=110)
    return path


def map_figure(
    manifest: dict[str, Any],
    table: Any,
    tick: int | None = None,
    *,
    links: Any = None,
    units: Any = None,
) -> Any:
    """The map (a matplotlib Figure) of a country's run at ``tick`` (default: the
    national peak of actives), from its manifest and tick table (and its links and
    units tables, if given: :func:`draw_map`)."""
    ticks = table.column("tick").to_numpy()
    if tick is None:
        from upheaval.model.ticks import national

        nat = national(table)
        act = nat.column("active_blue").to_numpy() + nat.column("active_green").to_numpy()
        tick = int(nat.column("tick").to_numpy()[int(np.argmax(act))])
    if tick not in set(ticks.tolist()):
        raise ValueError(f"tick {tick} is not in the run (ticks {ticks.min()}…{ticks.max()})")
    fig = _figure()
    ax = fig.add_subplot(1, 1, 1)
    name = manifest["scenario"]["name"]
    label = f"{name}, seed {manifest['seed']} — {clock_label(manifest['parameters'], tick)}"
    draw_map(ax, manifest["country"], table, tick, label, links=links, units=units)
    return fig


def save_animation(run_dir: str | Path, path: str | Path, every: int = 1, fps: int = 8) -> Path:
    """An animated GIF of a country's run, one frame every ``every`` ticks, with a
    clock; return the path."""
    from matplotlib.animation import FuncAnimation, PillowWriter

    if every < 1:
        raise ValueError(f"every must be ≥ 1, got {every}")
    manifest, table = _country_of(run_dir)
    links, units = _links_and_units(run_dir)
    ticks = sorted(set(table.column("tick").to_numpy().tolist()))[::every]
    fig = _figure()
    ax = fig.add_subplot(1, 1, 1)
    name = manifest["scenario"]["name"]

    def frame(i: int) -> list:
        ax.clear()
        draw_map(ax, manifest["country"], table, ticks[i],
                 f"{name} — {clock_label(manifest['parameters'], ticks[i])}",
                 links=links, units=units)  # fmt: skip
        return []

    anim = FuncAnimation(fig, frame, frames=len(ticks), blit=False)
    path = Path(path)
    anim.save(str(path), writer=PillowWriter(fps=fps), dpi=80)
    return path


__all__ = [
    "MAP",
    "clock_label",
    "draw_map",
    "map_figure",
    "outlines",
    "save_animation",
    "save_map",
]
