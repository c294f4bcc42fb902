"""Convert Natural Earth's country outlines, as the ``world-atlas`` npm package carries
them (TopoJSON), into the plain rings ``upheaval.views.maps`` draws — done once; the
result is committed as ``src/upheaval/views/data/countries-110m.json``.

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    python scripts/outlines.py package/countries-110m.json

Output: ``{"source": …, "countries": {name: [ring, …]}}``, each ring a list of
``[lon, lat]`` rounded to 0.01°.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "upheaval" / "views" / "data"


def decode(topology: dict) -> dict[str, list[list[list[float]]]]:
    sx, sy = topology["transform"]["scale"]
    tx, ty = topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append([round(x * sx + tx, 2), round(y * sy + ty, 2)])
        arcs.append(points)

    def ring(indices: list[int]) -> list[list[float]]:
        out: list[list[float]] = []
        for i in indices:
            points = arcs[i] if i >= 0 else list(reversed(arcs[~i]))
            out.extend(points if not out else points[1:])
        return out

    countries: dict[str, list[list[list[float]]]] = {}
    for g in topology["objects"]["countries"]["geometries"]:
        name = g.get("properties", {}).get("name", g.get("id", ""))
        polygons = [g["arcs"]] if g["type"] == "Polygon" else g.get("arcs", [])
        rings = [ring(r) for polygon in polygons for r in polygon]
        countries.setdefault(name, []).extend(rings)
    return countries


def main(path: str) -> None:
    topology = json.loads(Path(path).read_text("utf-8"))
    out = {
        "source": "Natural Earth 1:110m Admin 0 countries (public domain), v4.1.0, via "
        "the world-atlas npm package 2.0.2 (ISC licence, Mike Bostock); "
        "converted by scripts/outlines.py",
        "countries": decode(topology),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "countries-110m.json").write_text(json.dumps(out, separators=(",", ":")), "utf-8")


if __name__ == "__main__":
    main(sys.argv[1])
