"""Draw the package's layers from the import-layer contract: `python docs/images/layers.py` (needs `dot`, Python 3.11+).

Reads `[tool.importlinter]` in pyproject.toml, so the picture is the contract CI enforces, and writes
docs/images/layers.svg: one row per layer, top to bottom as the contract lists them; an arrow means
"may import".
"""
from pathlib import Path

import graphviz
import tomllib

ROOT = Path(__file__).resolve().parents[2]


def layer_rows() -> list[list[str]]:
    """The package contract's layers, top first, each a list of module names without the package prefix."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"][0]
    rows = []
    for layer in config["layers"]:
        names = [n.strip().removeprefix("tinygrad_lab.") for n in layer.replace(":", "|").split("|")]
        rows.append(names)
    return rows


def main() -> graphviz.Digraph:
    graph = graphviz.Digraph("layers", format="svg")
    graph.attr(rankdir="TB", nodesep="0.25", ranksep="0.3", fontname="Helvetica", bgcolor="white")
    graph.attr("node", shape="box", style="rounded,filled", fillcolor="#eef3fb", color="#5b7db1",
               fontname="Helvetica", fontsize="12")
    graph.attr("edge", color="#888888", arrowsize="0.6")
    rows = layer_rows()
    for i, names in enumerate(rows):
        with graph.subgraph(name=f"layer{i}") as row:
            row.attr(rank="same")
            for name in names:
                row.node(name, name + ("/" if (ROOT / "tinygrad_lab" / name).is_dir() else ".py"))
        if len(names) == 2 and name in ("autograd", "ops"):
            graph.edge(names[0], names[1], dir="both", constraint="false", color="#b15b5b",
                       tooltip="the one circle allowed")
    for upper, lower in zip(rows, rows[1:]):
        graph.edge(upper[0], lower[0])
    graph.render(ROOT / "docs" / "images" / "layers", cleanup=True)
    return graph


if __name__ == "__main__":
    main()
