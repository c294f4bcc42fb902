"""Figures of sensitivity indices (Sobol' S1/ST, Morris mu*/sigma), drawn with Agg."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd


def save_sensitivity_figure(table: pd.DataFrame, path: str | Path) -> Path:
    """Bar charts with confidence intervals, one panel per output, from the long table
    of :func:`upheaval.experiments.sensitivity.analyse_sweep`."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    outputs = list(dict.fromkeys(table["output"]))
    fig = Figure(figsize=(6.5, 2.8 * len(outputs)), layout="constrained")
    FigureCanvasAgg(fig)
    for k, name in enumerate(outputs):
        ax = fig.add_subplot(len(outputs), 1, k + 1)
        t = table[table["output"] == name]
        method = t["method"].iloc[0]
        shown = ("S1", "ST") if method == "sobol" else ("mu_star", "sigma")
        params = list(dict.fromkeys(t[t["index"] == shown[0]]["parameter"]))
        x = np.arange(len(params))
        width = 0.38
        for j, idx in enumerate(shown):
            rows = t[t["index"] == idx].set_index("parameter").loc[params]
            conf = rows["conf"].to_numpy()
            ax.bar(
                x + (j - 0.5) * width,
                rows["value"].to_numpy(),
                width,
                yerr=None if np.all(np.isnan(conf)) else conf,
                capsize=3,
                label={"S1": "first order S1", "ST": "total ST", "mu_star": "μ*", "sigma": "σ"}[
                    idx
                ],
            )
        ax.set_xticks(x, params, rotation=20, ha="right")
        ax.set_title(f"{name} — {'Sobol’' if method == 'sobol' else 'Morris'} indices")
        ax.axhline(0, color="black", linewidth=0.6)
        ax.legend(frameon=False, fontsize="small")
    path = Path(path)
    fig.savefig(path, dpi=120)
    return path
