"""Label noise: 0-5% of the training labels flipped (paper 003's robustness test), neural models, 5 seeds.

BEELINE mDC Non-Specific, `tf_matched` protocol. At each noise level the same
split is used and a share of its training pairs change label (true edges
become negatives, non-edges become prior edges); validation and test pairs
stay clean. The degree control is computed from the noisy training edges.

Run from the repository root::

    python benchmarks/robustness.py                  # noise 0-5 %, seeds 0-4
    python benchmarks/robustness.py --noise 0 5 --seeds 0 --models scregnet

It prints the tables and writes ``benchmarks/results/robustness.{md,csv,png}``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from _report import DEFAULT_DATA, REPO, line_figure, load_mdc, start_run, write_report

import grnlink as gl

MODELS = ["scregnet", "sctransnet", "cross_encoder", "dual_encoder", "two_tower", "gnt"]
METRICS = ("tf_auroc", "tf_auprc", "auroc", "auprc", "f1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder holding Non-Specific/mDC")
    parser.add_argument("--noise", type=float, nargs="+", default=[0, 1, 2, 3, 4, 5], help="percent flipped")
    parser.add_argument("--models", nargs="+", default=MODELS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args()
    machine = start_run()
    adata, truth, _ = load_mdc(args.data, "Non-Specific")
    frames = []
    for percent in args.noise:
        results = gl.bm.run(
            adata, truth, args.models, seeds=args.seeds, label_noise=percent / 100, groupby="time_point"
        )
        results.insert(0, "label_noise", f"{percent:g}%")
        frames.append(results)
    results = pd.concat(frames, ignore_index=True)
    command = (
        f"python benchmarks/robustness.py --noise {' '.join(f'{p:g}' for p in args.noise)} "
        f"--models {' '.join(args.models)} --seeds {' '.join(map(str, args.seeds))}"
    )
    header = (
        "# Robustness to label noise (paper 003)\n\n"
        f"Made by `{command}` ({machine}).\n\n"
        "BEELINE mDC Non-Specific, `tf_matched` protocol. `label_noise`: share of training pairs whose label is "
        "flipped before fitting (validation and test pairs stay clean). Mean ± sd over seeds; per-seed rows in "
        "`robustness.csv`; figure `robustness.png` (per-TF AUROC against the noise level).\n\n"
    )
    write_report(results, args.out / "robustness", header, metrics=METRICS)
    line_figure(
        results.assign(percent=lambda f: f["label_noise"].str.rstrip("%").astype(float)),
        args.out / "robustness.png",
        x="percent",
        y="tf_auroc",
        hue="model",
        xlabel="training labels flipped (%)",
        ylabel="per-TF AUROC",
    )


if __name__ == "__main__":
    main()
