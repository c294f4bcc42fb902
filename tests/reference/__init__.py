"""A slow, obviously-correct pure-Python twin of upheaval's model, for tests only.

See :mod:`reference.model`. It shares nothing with the engine except the random-stream
contract (:class:`upheaval.core.rng.PyStream` and :func:`upheaval.core.rng.seed_streams`).
"""

from reference.model import ReferenceModel, neighbourhood_offsets

__all__ = ["ReferenceModel", "neighbourhood_offsets"]
