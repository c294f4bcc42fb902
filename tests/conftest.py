"""Test-session setup.

numba's on-disk cache checks only the timestamp of the file that defines an entry
point, not of the modules whose rules are compiled into it: after an edit to a rule,
a stale kernel could be loaded. Tests therefore compile into a cache directory named
by a hash of the package's source, set before numba is imported (subprocesses that
tests start inherit it). Nothing here changes the library's behaviour.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

_SRC = Path(__file__).resolve().parents[1] / "src" / "upheaval"


def _source_hash() -> str:
    h = hashlib.sha256()
    for path in sorted(_SRC.rglob("*.py")):
        h.update(str(path.relative_to(_SRC)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


if "NUMBA_CACHE_DIR" not in os.environ:
    os.environ["NUMBA_CACHE_DIR"] = str(
        Path(tempfile.gettempdir()) / "upheaval-numba-cache" / _source_hash()
    )
