"""Dual versus cross encoder, parameter-matched, at training negative ratios 1:1, 5:1, 10:1 and 50:1 (paper 001).

BEELINE mDC Non-Specific, `tf_matched` protocol: the test set is the same for
every ratio (each TF's held-out targets against all of its held-out
non-targets); only the number of training and validation negatives per
positive changes. Both models are sized to the same number of parameters
(``n_params``). Accuracy and F1 use the threshold chosen on the validation
pairs, which share the training ratio.

Run from the repository root::

    python benchmarks/imbalance.py                   # seeds 0-4
    python benchmarks/imbalance.py --ratios 1 5 --seeds 0

It prints the tables and writes ``benchmarks/results/imbalance.{md,csv,png}``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from _report import DEFAULT_DATA, REPO, line_figure, load_mdc, start_run, write_report

import grnlink as gl

N_PARAMS = 200_000
METRICS = ("tf_auroc", "auroc", "auprc", "f1", "accuracy", "fit_s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder holding Non-Specific/mDC")
    parser.add_argument("--ratios", type=int, nargs="+", default=[1, 5, 10, 50])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args()
    machine = start_run()
    adata, truth, _ = load_mdc(args.data, "Non-Specific")
    frames = []
    for ratio in args.ratios:
        # the batch grows with the ratio so that an epoch has the same number of steps at every ratio
        batch_size = int(256 * (1 + ratio) / 2)
        models = {name: {"n_params": N_PARAMS, "batch_size": batch_size} for name in ("dual_encoder", "cross_encoder")}
        results = gl.bm.run(
            adata, truth, models, seeds=args.seeds, split_options={"negative_ratio": ratio}, groupby="time_point"
        )
        results.insert(0, "ratio", f"{ratio}:1")
        frames.append(results)
    results = pd.concat(frames, ignore_index=True)
    command = f"python benchmarks/imbalance.py --ratios {' '.join(map(str, args.ratios))} --seeds " + " ".join(
        map(str, args.seeds)
    )
    header = (
        "# Training imbalance: dual versus cross encoder (paper 001)\n\n"
        f"Made by `{command}` ({machine}).\n\n"
        f"BEELINE mDC Non-Specific, `tf_matched` protocol, both models at {N_PARAMS:,} parameters "
        "(`n_params`). `ratio`: training (and validation) negatives per positive; the test pairs are the same for "
        "every ratio. The batch size is 256 x (1 + ratio) / 2, so that every epoch has as many steps as at 1:1. "
        "`f1` and `accuracy` at the threshold that maximises F1 on the validation pairs. Mean ± sd over "
        "seeds; per-seed rows in `imbalance.csv`; figure `imbalance.png` (pooled AUROC against the ratio).\n\n"
    )
    write_report(results, args.out / "imbalance", header, metrics=METRICS)
    models_only = results[~results["model"].isin(gl.bm.CONTROLS)].assign(
        negatives_per_positive=lambda f: f["ratio"].str.split(":").str[0].astype(int)
    )
    line_figure(
        models_only,
        args.out / "imbalance.png",
        x="negatives_per_positive",
        y="auroc",
        hue="model",
        xlabel="training negatives per positive",
        ylabel="test AUROC (pooled)",
    )


if __name__ == "__main__":
    main()
