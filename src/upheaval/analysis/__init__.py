"""Analysis of runs beyond outburst counting: what agents perceive, the tension
index, and Granovetter's threshold model of collective behaviour.

* :mod:`~upheaval.analysis.perception` — cops and actives within each site's
  vision, and each citizen's estimated arrest probability, from a run's state;
* :mod:`~upheaval.analysis.tension` — the tension index (latent rebels);
* :mod:`~upheaval.analysis.granovetter` — Granovetter's (1978) threshold model;
* :mod:`~upheaval.analysis.dispersion` — clusters of active sites (how dispersed
  protest is).
"""

from upheaval.analysis.dispersion import Dispersion, dispersion
from upheaval.analysis.granovetter import cascade, equilibrium
from upheaval.analysis.perception import VisionCounts, arrest_probabilities, counts_in_vision
from upheaval.analysis.tension import TensionIndex, tension

__all__ = [
    "Dispersion",
    "TensionIndex",
    "VisionCounts",
    "arrest_probabilities",
    "cascade",
    "counts_in_vision",
    "dispersion",
    "equilibrium",
    "tension",
]
