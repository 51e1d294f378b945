"""Build static/geo/countries.json, the map's background, from Natural Earth's countries.

    python scripts/basemap.py path/to/world-atlas/countries-110m.json

The input is the npm package world-atlas (Natural Earth 1:110m as TopoJSON). The output
keeps only what the map draws: each country's shape, named by its ISO 3166-1 alpha-2
code (the codes the catalogue uses), on a coarser grid (QUANTISE steps a side), which
still looks exact at the zooms where the map shows countries.
"""

import json
import sys
from pathlib import Path

ISO = Path("/usr/share/iso-codes/json/iso_3166-1.json")  # Debian's iso-codes
OUTPUT = Path(__file__).resolve().parent.parent / "static" / "geo" / "countries.json"
QUANTISE = 10_000
# Shapes Natural Earth draws apart from the country the catalogue files them under.
UNNUMBERED = {"N. Cyprus": "CY", "Somaliland": "SO", "Kosovo": None}


def codes():
    return {row["numeric"]: row["alpha_2"] for row in json.loads(ISO.read_text())["3166-1"]}


def requantise(topology):
    """The arcs on a QUANTISE × QUANTISE grid over the same box, delta-encoded again."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    west, south, east, north = topology["bbox"]
    kx, ky = (east - west) / (QUANTISE - 1), (north - south) / (QUANTISE - 1)
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            point = (round((x * sx + tx - west) / kx), round((y * sy + ty - south) / ky))
            if not points or point != points[-1]:
                points.append(point)
        if len(points) == 1:
            points.append(points[0])
        deltas, last = [], (0, 0)
        for point in points:
            deltas.append([point[0] - last[0], point[1] - last[1]])
            last = point
        arcs.append(deltas)
    return arcs, {"scale": [kx, ky], "translate": [west, south]}


def build(source):
    topology = json.loads(Path(source).read_text())
    numeric = codes()
    geometries = []
    for shape in topology["objects"]["countries"]["geometries"]:
        code = numeric.get(shape.get("id")) or UNNUMBERED.get(shape["properties"]["name"])
        geometries.append(
            {"type": shape["type"], "arcs": shape["arcs"], **({"id": code} if code else {})}
        )
    arcs, transform = requantise(topology)
    return {
        "type": "Topology",
        "bbox": topology["bbox"],
        "transform": transform,
        "objects": {"countries": {"type": "GeometryCollection", "geometries": geometries}},
        "arcs": arcs,
    }


if __name__ == "__main__":
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(json.dumps(build(sys.argv[1]), separators=(",", ":")))
    print(f"{OUTPUT}: {OUTPUT.stat().st_size:,} bytes")
