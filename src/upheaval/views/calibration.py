"""Figures of calibration and comparison results, drawn with Agg (no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from upheaval.experiments.calibration import CalibrationResult


def save_posterior_figure(
    result: CalibrationResult, path: str | Path, truth: dict[str, float] | None = None
) -> Path:
    """Posterior marginals (weighted histograms) of every generation after the first,
    the last one filled, with its 90 % credible interval (and ``truth`` if known)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = [f.name for f in result.factors]
    fig = Figure(figsize=(3.4 * len(names), 3.0), layout="constrained")
    FigureCanvasAgg(fig)
    for j, (f, name) in enumerate(zip(result.factors, names, strict=True)):
        ax = fig.add_subplot(1, len(names), j + 1)
        lo, hi = f.bounds()
        bins = np.linspace(lo, hi, 31)
        last = result.populations[-1]
        for pop in result.populations[1:-1]:
            v = result.values(pop)[name].astype(float)
            ax.hist(
                v,
                bins,
                weights=pop.weights,
                density=True,
                histtype="step",
                alpha=0.5,
                label=f"gen {pop.generation}",
            )
        v = result.values(last)[name].astype(float)
        ax.hist(
            v,
            bins,
            weights=last.weights,
            density=True,
            alpha=0.7,
            label=f"gen {last.generation} (posterior)",
        )
        a, b = result.credible_interval(name, 0.9)
        ax.axvspan(a, b, color="grey", alpha=0.15, label="90 % interval")
        if truth and name in truth:
            ax.axvline(truth[name], color="black", ls="--", label="true value")
        ax.set_xlim(lo, hi)
        ax.set_xlabel(name)
        ax.set_yticks([])
    fig.axes[0].legend(fontsize="x-small")
    fig.suptitle("ABC-SMC posterior marginals (uniform prior on the axis range)", fontsize="small")
    fig.savefig(path, dpi=110)
    return Path(path)


def save_compare_figure(table: pd.DataFrame, path: str | Path) -> Path:
    """Per outcome, each variant's difference from the baseline with its paired
    bootstrap interval (the baseline's mean in the panel's title)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    outcomes = list(dict.fromkeys(table["outcome"]))
    fig = Figure(figsize=(3.2 * len(outcomes), 3.0), layout="constrained")
    FigureCanvasAgg(fig)
    for k, outcome in enumerate(outcomes):
        ax = fig.add_subplot(1, len(outcomes), k + 1)
        t = table[table["outcome"] == outcome]
        base = t[t["diff"].isna()]
        rest = t[t["diff"].notna()]
        y = np.arange(len(rest))
        err = np.vstack([rest["diff"] - rest["diff_lo"], rest["diff_hi"] - rest["diff"]])
        ax.errorbar(rest["diff"], y, xerr=err, fmt="o", capsize=3)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_yticks(y, list(rest["variant"]) if k == 0 else [""] * len(y))
        ax.set_ylim(-0.5, len(rest) - 0.5)
        title = outcome if base.empty else f"{outcome}\n(baseline {base['mean'].iloc[0]:.3g})"
        ax.set_title(title, fontsize="small")
        ax.set_xlabel("difference from baseline")
    fig.savefig(path, dpi=110)
    return Path(path)
