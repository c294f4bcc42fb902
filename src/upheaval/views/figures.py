"""Figures of a run's time series, drawn with matplotlib's Agg canvas.

Only :class:`matplotlib.figure.Figure` and the Agg canvas are used, never pyplot, so
drawing a figure changes no global matplotlib state (backend, current figure) and
works without a display. The model never imports this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from upheaval.model.mechanisms import counter_columns
from upheaval.model.ticks import PLACE, national
from upheaval.results.recorder import FIGURE, read_run

if TYPE_CHECKING:
    import pyarrow as pa

# Colours: Epstein's figures draw actives red, quiet blue, jailed black; groups in
# Model II are Blue and Green.
_QUIET, _ACTIVE, _JAILED, _COPS = "tab:blue", "tab:red", "black", "tab:gray"
_BLUE, _GREEN = "tab:blue", "tab:green"
_STRIKING, _LEGITIMACY, _FRAMING = "tab:purple", "tab:olive", "tab:brown"
#: Mechanism events drawn summed over the run; ``striking`` is a head count, drawn
#: with the agents above.
_CUMULATIVE = tuple(name for name in counter_columns() if name != "striking")


def _col(table: pa.Table, *names: str) -> np.ndarray:
    return np.sum([table.column(n).to_numpy() for n in names], axis=0)


def _present(table: pa.Table, name: str) -> bool:
    return name in table.column_names and bool(table.column(name).to_numpy().any())


def timeseries_figure(table: pa.Table, *, model2: bool, title: str = ""):
    """A :class:`matplotlib.figure.Figure` of the per-tick counts in ``table``.

    Model I: quiet, active and jailed citizens and cops (and strikers, if any). Model
    II: the same per group (Blue, Green) with cops, and, below, the killings per
    group summed over the run. Model I with mechanisms at work gets a panel below:
    each mechanism's events summed over the run (killed by cops, stood aside,
    defected, disarmed, provocations, cops killed — those that happened) and, on a
    second axis, legitimacy and the regime's framing when they move.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    tick = table.column("tick").to_numpy()
    events = [name for name in _CUMULATIVE if _present(table, name)]
    legitimacy = table.column("legitimacy").to_numpy()
    moving = legitimacy.min() != legitimacy.max() or _present(table, "framing")
    mechanisms = not model2 and (bool(events) or moving)
    if mechanisms or model2:
        fig = Figure(figsize=(9, 6.5), layout="constrained")
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(2, 1))
    else:
        fig = Figure(figsize=(9, 4.5), layout="constrained")
        top, bottom = fig.subplots(1, 1), None
    FigureCanvasAgg(fig)

    if model2:
        for group, colour in (("blue", _BLUE), ("green", _GREEN)):
            name = group.capitalize()
            for state, width, style in (
                ("quiet", 1.2, "-"),
                ("active", 1.2, "--"),
                ("jailed", 1.0, ":"),
            ):
                top.plot(
                    tick,
                    _col(table, f"{state}_{group}"),
                    color=colour,
                    lw=width,
                    ls=style,
                    label=f"{name} {state}",
                )
            bottom.plot(
                tick,
                np.cumsum(_col(table, f"killed_{group}")),
                color=colour,
                lw=1.5,
                label=f"{name} killed",
            )
        bottom.set_ylabel("killed (cumulative)")
        bottom.set_xlabel("tick")
        bottom.legend(loc="upper left", frameon=False)
    else:
        top.plot(
            tick, _col(table, "quiet_blue", "quiet_green"), color=_QUIET, lw=1.2, label="quiet"
        )
        top.plot(
            tick, _col(table, "active_blue", "active_green"), color=_ACTIVE, lw=1.2, label="active"
        )
        top.plot(
            tick, _col(table, "jailed_blue", "jailed_green"), color=_JAILED, lw=1.2, label="jailed"
        )
        if _present(table, "striking"):
            top.plot(tick, _col(table, "striking"), color=_STRIKING, lw=1.0, label="striking")
        if mechanisms:
            for name in events:
                label = name.replace("_", " ")
                bottom.plot(tick, np.cumsum(_col(table, name)), lw=1.2, label=label)
            # counts of very different sizes (thousands standing aside, a few killed)
            bottom.set_yscale("symlog", linthresh=10)
            bottom.set_ylabel("events (cumulative)")
            bottom.set_xlabel("tick")
            if events:
                bottom.legend(loc="upper left", frameon=False, ncols=3, fontsize="small")
            if moving:
                share = bottom.twinx()
                share.plot(tick, legitimacy, color=_LEGITIMACY, lw=1.2, label="legitimacy")
                if _present(table, "framing"):
                    framing = table.column("framing").to_numpy()
                    share.plot(tick, framing, color=_FRAMING, lw=1.0, ls="--", label="framing")
                share.set_ylim(0, 1)
                share.set_ylabel("legitimacy, framing")
                share.legend(loc="upper right", frameon=False, fontsize="small")
        else:
            top.set_xlabel("tick")
    cops = _col(table, "cops")
    if cops.any():  # runs 6 and 7 have no cops; a flat zero line only hides the others
        top.plot(tick, cops, color=_COPS, lw=1.0, label="cops")
    top.set_ylabel("agents")
    top.set_ylim(bottom=0)
    top.legend(loc="upper right", frameon=False, ncols=4, fontsize="small")
    if title:
        top.set_title(title)
    return fig


def save_run_figure(run_dir: str | Path, path: str | Path | None = None) -> Path:
    """Draw the time series of a run directory to ``path`` (default
    ``RUN_DIR/timeseries.png``); return the path written."""
    manifest, table = read_run(run_dir)
    if PLACE in table.column_names:  # a country: the nation's series
        table = national(table)
    path = Path(run_dir) / FIGURE if path is None else Path(path)
    name = manifest["scenario"]["name"]
    title = f"{name}, seed {manifest['seed']}"
    if manifest["status"] != "complete":
        title += f" ({manifest['status']} at tick {manifest['last_tick']})"
    fig = timeseries_figure(table, model2=manifest["variant"] == "II", title=title)
    fig.savefig(path, dpi=110)
    return path
