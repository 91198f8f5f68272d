"""What neighbour sampling costs in accuracy: sctransnet with every neighbour against 10 sampled per layer.

``fanout="auto"`` samples 10 neighbours per gene and GNN layer only above
16,384 training edges (genome-scale priors), where the full neighbourhoods do
not fit the time budget. Those priors have no labelled benchmark, so this
measures the same sampling where labels exist: on the BEELINE ChIP-seq networks
of the three cell types (Specific and Non-Specific, TFs+500, per-TF split
``tf_matched``), ``sctransnet`` with ``fanout=None`` beside ``fanout=10``, with
the degree control. TF hubs there have hundreds of targets, so 10 neighbours
is a harsher cut than the default applies to these networks (none).

Run from the repository root::

    python benchmarks/fanout.py                  # seeds 0 and 1
    python benchmarks/fanout.py --report         # rewrite fanout.md from fanout.csv

It prints the table and writes ``benchmarks/results/fanout.{md,csv}``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
import scanpy as sc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import DEFAULT_DATA, REPO, environment  # noqa: E402
from celltypes import GROUPBY, folder  # noqa: E402

import grnlink as gl  # noqa: E402

DATASETS = ("mDC", "hHEP", "mHSC-GM")
NETWORKS = ("Non-Specific", "Specific")
SETTINGS = {
    "sctransnet (every neighbour)": {"model": "sctransnet", "fanout": None},
    "sctransnet (fanout=10)": {"model": "sctransnet", "fanout": 10},
}


def run(data: Path, seeds: list[int]) -> pd.DataFrame:
    rows = []
    for dataset in DATASETS:
        for network in NETWORKS:
            adata = gl.ds.beeline(folder(data, network, dataset))
            result = gl.bm.run(adata, adata.uns["true_network"], SETTINGS, seeds=seeds, groupby=GROUPBY)
            result.insert(0, "dataset", dataset)
            result.insert(1, "task", network)
            print(result[["dataset", "task", "model", "seed", "tf_auroc", "fit_s"]].to_string(index=False), flush=True)
            rows.append(result)
    return pd.concat(rows, ignore_index=True)


def report(results: pd.DataFrame, header: str) -> str:
    table = results.pivot_table(index=["dataset", "task"], columns="model", values="tf_auroc", aggfunc="mean")
    overall = results.groupby("model")["tf_auroc"].agg(["mean", "std", "count"])
    n_seeds = results["seed"].nunique()
    return "\n".join(
        [
            header,
            "",
            f"## Per-TF AUROC on held-out pairs (mean of {n_seeds} seeds)",
            "",
            table.round(3).to_markdown(),
            "",
            "## All networks and seeds",
            "",
            overall.round(4).to_markdown(),
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument("--report", action="store_true", help="only rewrite fanout.md from fanout.csv")
    args = parser.parse_args()
    sc.settings.verbosity = 0
    stem = args.out / "fanout"
    if args.report:
        results = pd.read_csv(stem.with_suffix(".csv"))
    else:
        results = run(args.data, args.seeds)
        results["environment"] = environment()
        results["command"] = f"python benchmarks/fanout.py {' '.join(sys.argv[1:])}".strip()
        args.out.mkdir(parents=True, exist_ok=True)
        results.to_csv(stem.with_suffix(".csv"), index=False)
    header = (
        "# Neighbour sampling: sctransnet with every neighbour against fanout=10\n\n"
        f"Environment: {results['environment'].iloc[0]}.\n\nCommand: `{results['command'].iloc[0]}`"
    )
    text = report(results, header)
    stem.with_suffix(".md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
