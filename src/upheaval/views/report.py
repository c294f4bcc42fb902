"""``upheaval report DIR``: one self-contained HTML file of a result directory.

Whatever command wrote the directory — ``run``, ``sweep``, ``calibrate`` or
``compare`` (told apart by its marker, :mod:`upheaval.results.directories`) — the
report is one HTML file with everything inline: the style, and every figure as a
PNG in a ``data:`` URI (drawn with Matplotlib's Agg canvas, as the command's own
figures are). No script, no link to fetch: it opens offline, mails as one file and
prints (a print style keeps each figure and table on one page).

* **run** — what ran (scenario, seed, status, the parameters changed from their
  defaults, the timeline), the time series, the lattice snapshots kept, the
  outbursts (statistics and each one).
* **sweep** — the design, each outcome against each varied parameter (one point a
  run), and the sensitivity indices when ``upheaval sensitivity`` has written them.
* **calibration** — the settings, each generation's tolerance and acceptance, the
  posterior (table and weighted histograms of the last generation) and the
  predictive check: the statistics simulated for the accepted particles against the
  observed ones.
* **comparison** — each variant's outcomes and its differences from the baseline,
  with their bootstrap intervals (table and figure).
"""

from __future__ import annotations

import base64
import datetime
import html
import io
import json
import math
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from upheaval._version import __version__
from upheaval.model.ticks import PLACE, national
from upheaval.results import directories

#: The report's default file: beside the directory, ``DIR.html`` (not inside it: a
#: result directory holds only what its command writes, see results/directories.py).
REPORT_SUFFIX = ".html"


class ReportError(ValueError):
    """The directory cannot be reported on (names it and why)."""

    def __init__(self, path: str | Path, reason: str):
        self.path, self.reason = Path(path), reason
        super().__init__(f"{path}: {reason}")


# -- HTML pieces --------------------------------------------------------------------
_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; color: #222; max-width: 1100px;
       margin: 1.5em auto; padding: 0 1em; }
h1 { font-size: 22px; margin-bottom: 0.2em; } h2 { font-size: 18px; margin-top: 1.6em;
     border-bottom: 1px solid #ccc; } h3 { font-size: 15px; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 12px; }
th, td { border: 1px solid #ddd; padding: 2px 8px; text-align: right; }
th { background: #f3f3f0; } td.l, th.l { text-align: left; }
figure { margin: 0.8em 0; } figure img { max-width: 100%; }
figcaption { font-size: 12px; color: #555; }
.grid { display: flex; flex-wrap: wrap; gap: 12px; }
.grid figure { width: 200px; } .grid img { width: 200px; image-rendering: pixelated;
     border: 1px solid #ccc; }
.muted { color: #777; } .key i { display: inline-block; width: 11px; height: 11px;
     margin: 0 3px 0 10px; border: 1px solid #999; vertical-align: -1px; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; }
  figure, table { break-inside: avoid; } a { color: inherit; text-decoration: none; } }
"""


def _esc(x: Any) -> str:
    return html.escape(str(x))


def _num(x: Any) -> str:
    if x is None:
        return "–"
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, int | np.integer):
        return f"{int(x):,}"
    if isinstance(x, float | np.floating):
        x = float(x)
        if math.isnan(x):
            return "–"
        if math.isinf(x):
            return "∞" if x > 0 else "−∞"
        return f"{x:,.4g}" if abs(x) < 1e6 else f"{x:,.0f}"
    return _esc(x)


def table(header: Sequence[str], rows: Iterable[Sequence[Any]], left: int = 1) -> str:
    """An HTML table; the first ``left`` columns are text (left-aligned)."""
    head = "".join(
        f'<th class="{"l" if i < left else ""}">{_esc(h)}</th>' for i, h in enumerate(header)
    )
    thead = f"<thead><tr>{head}</tr></thead>" if any(header) else ""
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="l">{_esc(v)}</td>' if i < left else f"<td>{_num(v)}</td>"
            for i, v in enumerate(r)
        )
        + "</tr>"
        for r in rows
    )
    return f"<table>{thead}<tbody>{body}</tbody></table>"


def _png(fig: Any, dpi: int = 100) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return base64.b64encode(buf.getvalue()).decode()


def image(data_b64: str, caption: str = "", alt: str = "") -> str:
    cap = f"<figcaption>{_esc(caption)}</figcaption>" if caption else ""
    return (
        f'<figure><img alt="{_esc(alt or caption)}" '
        f'src="data:image/png;base64,{data_b64}">{cap}</figure>'
    )


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _saved(save: Any, *args: Any) -> str:
    """Base64 PNG of a figure drawn by one of the views' ``save_*`` functions."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "figure.png"
        save(*args, path)
        return base64.b64encode(path.read_bytes()).decode()


def _page(title: str, kind: str, directory: Path, body: list[str]) -> str:
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_esc(title)}</h1><p class='muted'>upheaval {kind} report of "
        f"<code>{_esc(directory)}</code>, written {stamp} by upheaval {__version__}.</p>"
        + "\n".join(body)
        + "</body></html>\n"
    )


# -- a run --------------------------------------------------------------------------
def _changed_parameters(params: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    from upheaval.model.params import parameter

    out = []
    for loc, v in params.items():
        try:
            spec = parameter(loc)
        except KeyError:
            continue
        default = spec.default
        if v != default and not (
            isinstance(v, float) and isinstance(default, float) and math.isclose(v, default)
        ):
            out.append((loc, v, default))
    return out


def _timeline_table(entries: list[dict[str, Any]]) -> str:
    if not entries:
        return "<p class='muted'>No timeline.</p>"
    rows = []
    for e in entries:
        when = f"{e['start']}–{e['end']}" if e.get("kind") == "ramp" else str(e.get("tick"))
        rest = {k: v for k, v in e.items() if k not in ("kind", "tick", "start", "end")}
        what = ", ".join(f"{k} = {v}" for k, v in rest.items())
        rows.append((when, e.get("kind", ""), what))
    return table(["tick", "kind", "what"], rows, left=3)


def _snapshot_png(indices: np.ndarray) -> str:
    from matplotlib.image import imsave

    from upheaval.views.dashboard.frames import PALETTE

    lut = np.array([c.rgb for c in PALETTE], np.uint8)
    buf = io.BytesIO()
    imsave(buf, lut[indices], format="png")
    return base64.b64encode(buf.getvalue()).decode()


def _legend_html(model2: bool) -> str:
    from upheaval.views.dashboard.frames import (
        ACTIVE,
        ACTIVE_GREEN,
        COP_UNIT,
        EMPTY,
        JAILED,
        PALETTE,
        QUIET,
        QUIET_GREEN,
    )

    shown = [EMPTY, QUIET, ACTIVE, JAILED]
    if model2:
        shown += [QUIET_GREEN, ACTIVE_GREEN]
    shown.append(COP_UNIT)  # cops (snapshots keep no unit or faction)
    return (
        "<p class='key'>"
        + "".join(
            f"<i style='background:{PALETTE[i].hex}'></i>{_esc(PALETTE[i].label)}" for i in shown
        )
        + "</p>"
    )


def run_report(directory: Path) -> str:
    """The report of a run directory (module docstring)."""
    from upheaval.results.outbursts import run_outbursts
    from upheaval.results.recorder import RunDirectoryError, read_run, read_snapshots
    from upheaval.views.dashboard.frames import snapshot_indices
    from upheaval.views.figures import timeseries_figure

    try:
        m, ticks = read_run(directory)
        snaps = read_snapshots(directory)
    except RunDirectoryError as e:
        raise ReportError(directory, str(e)) from None
    if ticks.num_rows == 0:
        raise ReportError(directory, "the run has no ticks on disk")
    sc = m["scenario"]
    model2 = m["variant"] == "II"
    by_place = ticks if m.get("country") and PLACE in ticks.column_names else None
    if by_place is not None:  # a country: the nation's series, then each place
        ticks = national(by_place)
    body = [
        f"<p>{_esc(sc.get('description', ''))}</p>",
        table(
            ["", ""],
            [
                ("scenario", f"{sc['name']} ({sc.get('source', '')})"),
                ("model", m["variant"]),
                ("seed", m["seed"]),
                ("status", m["status"] + (f" ({m['reason']})" if m.get("reason") else "")),
                ("ticks", f"{m['ticks']['first']} … {m['ticks']['last']} ({ticks.num_rows} rows)"),
                (
                    (
                        "places",
                        f"{len(m['country']['places'])} places, "
                        f"{len(m['country']['links'])} links (1 agent per "
                        f"{m['parameters']['world.scale']:g} people)",
                    )
                    if by_place is not None
                    else (
                        "lattice",
                        f"{m['parameters']['world.width']} × {m['parameters']['world.height']}",
                    )
                ),
                ("agents", f"{m.get('agents', '–'):,}" if m.get("agents") else "–"),
            ],
            left=2,
        ),
        "<h2>Time series</h2>",
        image(_png(timeseries_figure(ticks, model2=model2)), "Per-tick counts (timeseries.png)"),
    ]
    if by_place is not None:
        try:
            links, units = read_run(directory, "links")[1], read_run(directory, "units")[1]
        except RunDirectoryError as e:
            raise ReportError(directory, str(e)) from None
        body += _places_section(m, by_place, links, units)
    stats = run_outbursts(ticks)
    s = stats.summary()
    body += [
        f"<h2>Outbursts</h2><p>An outburst: actives above {stats.threshold} "
        "(model-spec §3), from the first tick above to the first tick below.</p>",
        table(
            ["statistic", "value"],
            [(k.replace("_", " "), v) for k, v in s.items()],
        ),
    ]
    if stats.outbursts:
        body.append(
            table(
                ["#", "start", "end", "peak", "total activation", "complete"],
                [
                    (str(i), o.start, o.end, o.peak, o.total_activation, o.complete)
                    for i, o in enumerate(stats.outbursts[:200], start=1)
                ],
            )
        )
        if len(stats.outbursts) > 200:
            body.append(f"<p class='muted'>… and {len(stats.outbursts) - 200} more.</p>")
    body.append("<h2>Lattice snapshots</h2>")
    if snaps:
        shown = sorted(snaps)
        if len(shown) > 24:  # evenly spread, first and last kept
            keep = np.unique(np.linspace(0, len(shown) - 1, 24).round().astype(int))
            shown = [shown[i] for i in keep]
        cells = [
            image(
                _snapshot_png(snapshot_indices(snaps[t]["occupant"], snaps[t]["group"])),
                f"tick {t}",
                f"lattice at tick {t}",
            )
            for t in shown
        ]
        body.append(_legend_html(model2) + "<div class='grid'>" + "".join(cells) + "</div>")
        if len(shown) < len(snaps):
            body.append(f"<p class='muted'>{len(shown)} of {len(snaps)} snapshots shown.</p>")
    else:
        body.append(
            "<p class='muted'>This run kept no snapshots (upheaval run --snapshot-every K).</p>"
        )
    changed = _changed_parameters(m["parameters"])
    body += [
        "<h2>Parameters changed from their defaults</h2>",
        table(["parameter", "value", "default"], changed, left=3) if changed else "<p>None.</p>",
        "<h2>Timeline</h2>",
        _timeline_table(m.get("timeline") or []),
    ]
    return _page(f"Run: {sc['name']}, seed {m['seed']}", "run", directory, body)


def _places_section(m: dict[str, Any], by_place: Any, links: Any, units: Any) -> list[str]:
    """A country's map at the national peak (with the forces and travellers on the
    links and the named units, where the run stored them) and one row a place."""
    from upheaval.results.places import ONSET_SHARE, place_summaries
    from upheaval.views.maps import map_figure

    rows = [
        (
            s.place,
            s.citizens,
            "–" if s.onset_tick is None else s.onset_tick,
            s.peak_active,
            s.peak_tick,
            f"{s.peak_share:.1%}",
            s.arrests,
            s.killed_by_cops,
            s.final_jailed,
            s.final_cops,
        )
        for s in place_summaries(by_place)
    ]
    return [
        "<h2>Places</h2>",
        image(
            _png(map_figure(m, by_place, links=links, units=units)),
            "The country at the national peak of actives (upheaval map RUN_DIR).",
        ),
        f"<p>Onset: the first tick with at least {ONSET_SHARE:.0%} of a place's citizens "
        "active (docs/odd.md §12).</p>",
        table(
            [
                "place",
                "citizens",
                "onset",
                "peak",
                "at",
                "share",
                "arrests",
                "killed",
                "jailed",
                "cops",
            ],
            rows,
        ),
    ]


# -- a sweep ------------------------------------------------------------------------
#: Outcomes a sweep's report plots against the parameters.
SWEEP_OUTCOMES = ("peak_active", "mean_active", "outbursts", "arrests", "final_jailed")


def sweep_report(directory: Path) -> str:
    """The report of a sweep directory (module docstring)."""
    import pandas as pd

    from upheaval.experiments.store import StoreError, read_manifest, read_runs

    try:
        m = read_manifest(directory)
        runs = read_runs(directory).to_pandas()
    except (StoreError, ValueError) as e:
        raise ReportError(directory, str(e)) from None
    factors = [f["name"] for f in m["design"]["factors"]]
    outcomes = [c for c in SWEEP_OUTCOMES if c in runs.columns]
    body = [
        table(
            ["", ""],
            [
                ("scenario", m["scenario"]["name"]),
                ("design", m["design"].get("kind", m["design"].get("name", "–"))),
                ("runs finished", f"{len(runs):,} of {m.get('n_runs', '–')}"),
                ("steps a run", m["steps"]),
                ("root seed", m.get("seed_entropy")),
            ],
            left=2,
        ),
        "<h2>Varied parameters</h2>",
        table(
            ["parameter", "low", "high", "values"],
            [
                (f["name"], f.get("low"), f.get("high"), ", ".join(map(str, f.get("values", []))))
                for f in m["design"]["factors"]
            ],
            left=1,
        ),
    ]
    if len(runs) and factors and outcomes:
        fig = _figure(3.0 * len(factors), 2.3 * len(outcomes))
        axes = fig.subplots(len(outcomes), len(factors), squeeze=False)
        for i, out in enumerate(outcomes):
            for j, f in enumerate(factors):
                ax = axes[i][j]
                x = pd.to_numeric(runs[f], errors="coerce")
                if x.isna().all():  # a choice factor: categories on the axis
                    cats = sorted(runs[f].astype(str).unique())
                    x = runs[f].astype(str).map({c: k for k, c in enumerate(cats)})
                    ax.set_xticks(range(len(cats)), cats, rotation=20)
                ax.scatter(x, runs[out], s=8, alpha=0.6)
                if i == len(outcomes) - 1:
                    ax.set_xlabel(f)
                if j == 0:
                    ax.set_ylabel(out)
        body += [
            "<h2>Outcomes over the parameters</h2>",
            image(_png(fig), "One point a run (every replicate of every design point)."),
        ]
        means = runs.groupby("point")[outcomes].mean().describe().T
        body += [
            "<h3>Outcomes over the design points (means over replicates)</h3>",
            table(
                ["outcome", "mean", "s.d.", "min", "median", "max"],
                [
                    (o, r["mean"], r["std"], r["min"], r["50%"], r["max"])
                    for o, r in means.iterrows()
                ],
            ),
        ]
    sens = directory / "sensitivity.csv"
    body.append("<h2>Sensitivity indices</h2>")
    if sens.is_file():
        from upheaval.views.sensitivity import save_sensitivity_figure

        t = pd.read_csv(sens)
        body += [
            image(_saved(save_sensitivity_figure, t), "From sensitivity.csv (with intervals)."),
            table(
                ["output", "method", "parameter", "index", "value", "conf"],
                t[["output", "method", "parameter", "index", "value", "conf"]].itertuples(
                    index=False
                ),
                left=4,
            ),
        ]
    else:
        body.append(
            "<p class='muted'>None computed (upheaval sensitivity DIR, after a sobol or "
            "morris sweep).</p>"
        )
    return _page(f"Sweep: {m['scenario']['name']}", "sweep", directory, body)


# -- a calibration ------------------------------------------------------------------
def calibration_report(directory: Path) -> str:
    """The report of a calibration directory (module docstring)."""
    import pandas as pd

    try:
        settings = json.loads((directory / "calibration.json").read_text("utf-8"))["settings"]
        particles = pd.read_csv(directory / "particles.csv")
    except (OSError, ValueError, KeyError) as e:
        raise ReportError(directory, f"not a finished calibration ({e})") from None
    names = [f["name"] for f in settings["factors"]]
    observed = settings["observed"]["values"]
    last = particles[particles["generation"] == particles["generation"].max()]
    w = last["weight"].to_numpy(float)
    body = [
        table(
            ["", ""],
            [
                ("observed", f"{settings['observed']['kind']} {settings['observed']['source']}"),
                ("statistics", ", ".join(settings["statistics"])),
                ("particles", settings["particles"]),
                ("generations", settings["generations"]),
                ("quantile", settings["quantile"]),
                ("steps a run", settings["steps"]),
                ("seed", settings["seed"]),
            ],
            left=2,
        )
    ]
    gens = directory / "generations.csv"
    if gens.is_file():
        g = pd.read_csv(gens)
        body += [
            "<h2>Generations</h2>",
            table(list(g.columns), g.itertuples(index=False), left=0),
        ]
    post = directory / "posterior.csv"
    body.append("<h2>Posterior</h2>")
    if post.is_file():
        p = pd.read_csv(post)
        body.append(table(list(p.columns), p.itertuples(index=False)))
    fig = _figure(max(4.5, 3.2 * len(names)), 2.6)
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, f in zip(axes, settings["factors"], strict=True):
        lo, hi = f.get("low"), f.get("high")
        bins = np.linspace(lo, hi, 25) if lo is not None and hi is not None else 25
        ax.hist(last[f["name"]].to_numpy(float), bins, weights=w, density=True, alpha=0.75)
        ax.set_xlabel(f["name"])
        ax.set_yticks([])
        if lo is not None:
            ax.set_xlim(lo, hi)
    body.append(
        image(
            _png(fig),
            f"Posterior marginals: the weighted particles of generation "
            f"{int(last['generation'].iloc[0])} (the prior is uniform on each axis).",
        )
    )
    stats = [s for s in settings["statistics"] if f"stat_{s}" in last.columns]
    if stats:
        fig = _figure(min(12, 2.6 * len(stats)), 2.4)
        axes = fig.subplots(1, len(stats), squeeze=False)[0]
        rows = []
        for ax, s in zip(axes, stats, strict=True):
            v = last[f"stat_{s}"].to_numpy(float)
            ax.hist(v, 15, weights=w, alpha=0.75)
            ax.axvline(observed[s], color="black", ls="--")
            ax.set_xlabel(s)
            ax.set_yticks([])
            order = np.argsort(v)
            cw = np.cumsum(w[order]) / w.sum()
            q5, q95 = (v[order][np.searchsorted(cw, q)] for q in (0.05, 0.95))
            rows.append((s, observed[s], float(np.average(v, weights=w)), q5, q95))
        body += [
            "<h2>Predictive check</h2><p>The statistics simulated for the accepted "
            "particles of the last generation (weighted) against the observed value "
            "(dashed).</p>",
            image(_png(fig), "Simulated statistics of the accepted particles."),
            table(["statistic", "observed", "simulated mean", "5 %", "95 %"], rows),
        ]
    return _page("Calibration (ABC-SMC)", "calibration", directory, body)


# -- a comparison -------------------------------------------------------------------
def comparison_report(directory: Path) -> str:
    """The report of a comparison directory (module docstring)."""
    import pandas as pd

    from upheaval.views.calibration import save_compare_figure

    path = directory / "compare.csv"
    if not path.is_file():
        raise ReportError(directory, "no compare.csv: the comparison has not finished")
    t = pd.read_csv(path)
    settings: dict[str, Any] = {}
    meta = directory / "comparison.json"
    if meta.is_file():
        settings = json.loads(meta.read_text("utf-8")).get("settings", {})
    body = []
    if settings:
        body.append(
            table(
                ["", ""],
                [
                    ("scenario", settings.get("scenario")),
                    ("variants", ", ".join(settings.get("what_if", []))),
                    ("replicates", settings.get("replicates")),
                    ("steps a run", settings.get("steps")),
                    ("seed", settings.get("seed")),
                ],
                left=2,
            )
        )
    body += [
        "<h2>Effects against the baseline</h2><p>Each variant's difference from the "
        "baseline, paired by replicate (common random numbers), with its 95 % paired "
        "bootstrap interval.</p>",
        image(_saved(save_compare_figure, t), "Differences with intervals."),
        table(
            ["variant", "outcome", "mean", "lo", "hi", "difference", "diff lo", "diff hi"],
            t[["variant", "outcome", "mean", "lo", "hi", "diff", "diff_lo", "diff_hi"]].itertuples(
                index=False
            ),
            left=2,
        ),
    ]
    return _page(f"Comparison: {settings.get('scenario', '')}", "comparison", directory, body)


_REPORTS = {
    "run": run_report,
    "sweep": sweep_report,
    "calibration": calibration_report,
    "comparison": comparison_report,
}


def report_html(directory: str | Path) -> str:
    """The HTML of the report on ``directory`` (its kind from its marker)."""
    d = Path(directory)
    if not d.is_dir():
        raise ReportError(d, "no such directory")
    kind = directories.kind_of(d)
    if kind is None:
        raise ReportError(
            d, "not a run, sweep, calibration or comparison directory (no upheaval marker file)"
        )
    return _REPORTS[kind.name](d)


def write_report(directory: str | Path, out: str | Path | None = None) -> Path:
    """Write the report of ``directory`` to ``out`` (default ``DIR.html``, beside it)."""
    text = report_html(directory)
    d = Path(directory).resolve()
    path = Path(out) if out is not None else d.with_name(d.name + REPORT_SUFFIX)
    if path.is_dir():
        raise ReportError(path, "is a directory; give a file name")
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(text, "utf-8")
        tmp.replace(path)
    except OSError as e:
        raise ReportError(path, f"cannot write: {e}") from None
    return path


__all__ = ["REPORT_SUFFIX", "ReportError", "report_html", "write_report"]
