"""The one command-line pattern of the studies whose doc is generated from a JSON.

``python scripts/STUDY.py`` runs the study, writes its JSON and generates the doc
from it; ``--doc`` rewrites the doc from the committed JSON; ``--check`` exits 1 if
the doc is not what the JSON renders (the tests call it, nothing is run). Shared by
scripts/kz2022_calibration.py, scripts/kz2022_sbc.py and scripts/kz2022_whatif.py.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


def study_main(
    argv: list[str] | None,
    description: str,
    json_path: Path,
    doc_path: Path,
    render: Callable[[dict[str, Any]], str],
    run: Callable[[Path, int], dict[str, Any]],
    script: str,
    default_out: str,
    dumps: Callable[[dict[str, Any]], str] | None = None,
) -> int:
    """Parse ``--doc``/``--check``/``--out``/``--workers`` and do what they say;
    ``dumps`` writes the JSON's text (default: indented by one)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--doc", action="store_true", help="rewrite the doc from the JSON")
    ap.add_argument("--check", action="store_true", help="exit 1 if the doc is out of step")
    ap.add_argument("--out", default=default_out, help="the study's runs (resumable)")
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args(argv)
    if a.check:
        doc = json.loads(json_path.read_text("utf-8"))
        if doc_path.read_text("utf-8") != render(doc):
            print(f"{doc_path} is out of step; run: python {script} --doc")
            return 1
        return 0
    if not a.doc:
        doc = run(Path(a.out), a.workers)
        text = dumps(doc) if dumps is not None else json.dumps(doc, indent=1) + "\n"
        json_path.write_text(text, "utf-8")
        print(f"wrote {json_path}")
    doc = json.loads(json_path.read_text("utf-8"))
    doc_path.write_text(render(doc), "utf-8")
    print(f"wrote {doc_path}")
    return 0
