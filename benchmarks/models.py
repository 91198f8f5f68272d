"""Every registered model on BEELINE mDC Specific and Non-Specific, per-TF split, 5 seeds.

For each network and seed: per-TF (TF-matched) split, every model fitted on the
training edges with the test pairs excluded, scored on the test pairs, beside
the degree-only and random controls. Reports per-TF macro AUROC/AUPRC, pooled
AUROC/AUPRC, fit seconds and peak memory, mean ± sd over seeds.

Run from the repository root::

    python benchmarks/models.py                       # all models, seeds 0-4
    python benchmarks/models.py --models gnt --seeds 0

It prints the tables and writes ``benchmarks/results/models_mDC.{md,csv}``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from _report import DEFAULT_DATA, REPO, start_run, write_report

import grnlink as gl

NETWORKS = ("Specific", "Non-Specific")
FIT_TARGET_S = {"two_tower": 120.0}  # the 5-member ensemble; every other model: 60 s


def fit_time_check(results: pd.DataFrame) -> str:
    """Lines saying whether each model's slowest Non-Specific fit met its time target."""
    rows = results[(results["network"] == "Non-Specific") & ~results["model"].isin(gl.bm.CONTROLS)]
    lines = []
    for model, frame in rows.groupby("model", sort=False):
        target = FIT_TARGET_S.get(model, 60.0)
        slowest = frame["fit_s"].max()
        verdict = "met" if slowest <= target else "MISSED"
        lines.append(f"- `{model}`: slowest fit {slowest:.1f} s (target {target:.0f} s): {verdict}")
    return "\n".join(lines)


AUROC_TARGET = 0.87
UNSUPERVISED = ("genie3", "pcc")


def accuracy_check(results: pd.DataFrame) -> str:
    """Lines on the accuracy targets: the best Non-Specific per-TF AUROC, and which models beat the degree control."""
    models = results[~results["model"].isin(gl.bm.CONTROLS)]
    non_specific = models[models["network"] == "Non-Specific"].groupby("model")["tf_auroc"].mean()
    best = non_specific.idxmax()
    verdict = "met" if non_specific[best] >= AUROC_TARGET else "MISSED"
    lines = [
        f"- best per-TF AUROC on Non-Specific: `{best}` {non_specific[best]:.3f} (target {AUROC_TARGET}): {verdict}"
    ]
    for network, frame in results.groupby("network", sort=False):
        seeds = frame.pivot_table(index="seed", columns="model", values="tf_auroc")
        ahead, behind = [], []
        for model in seeds.columns.drop(list(gl.bm.CONTROLS)).drop(list(UNSUPERVISED), errors="ignore"):
            diff = seeds[model] - seeds["degree"]
            entry = f"`{model}` {diff.mean():+.3f} ({int((diff > 0).sum())}/{len(diff)} seeds)"
            (ahead if diff.mean() > 0 else behind).append(entry)
        lines.append(
            f"- {network}, neural models vs the degree control (mean per-TF AUROC difference): "
            f"ahead: {', '.join(ahead) or 'none'}; not ahead: {', '.join(behind) or 'none'}"
        )
    return "\n".join(lines)


WHY = """
## Why the accuracy targets are not all met, and what was tried

On mDC, which genes a TF regulates is largely predicted by how many training
edges the target has: the degree control alone reaches a per-TF AUROC of about
0.82 on the Non-Specific network, with nothing learned from expression. A
model beats it only by adding what expression says about the TF-target match
on top of target popularity. The graph models (`sctransnet`, `scregnet`) see
the training graph and so the degrees directly; the others must learn target
popularity from gene features. The cell-type-specific (Specific) network has
20 TFs and 756 edges, about 500 of them for training: per-TF AUROCs of every
model, the control included, vary by ±0.04-0.06 over seeds, so no difference
there is resolved with 5 seeds.

What was tried, each measured on held-out pairs (numbers in the model
docstrings and `analysis.md`): per-cell expression as principal components
instead of raw profiles (+0.1 on simulated data); gene identity embeddings on
both sides (no gain on mDC, a loss on simulated data: memorisation of training
targets); hiding each batch's own edges from the message-passing graph (without
it, graph models score held-out edges below chance); scRegNet's paper
classifier against an element-wise product head (the product form is ahead on
mDC); scTransNet without attention, GAT or cells; GNT with one against three
ensemble members and small identity initialisation; wider GAT layers; more
training negatives (`imbalance.md`: per-TF AUROC rises with the ratio for both
encoders). No hyperparameter was tuned on the test pairs; the defaults are the
papers' or chosen on simulated data and validation pairs.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder holding {Specific,Non-Specific}/mDC")
    parser.add_argument("--models", nargs="+", default=gl.models.available_models())
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args()
    machine = start_run()
    frames = []
    for network in NETWORKS:
        adata = gl.ds.beeline(args.data / network / "mDC" / "TFs+500")
        results = gl.bm.run(adata, adata.uns["true_network"], args.models, seeds=args.seeds, groupby="time_point")
        results.insert(0, "network", network)
        frames.append(results)
    results = pd.concat(frames, ignore_index=True)
    command = f"python benchmarks/models.py --models {' '.join(args.models)} --seeds {' '.join(map(str, args.seeds))}"
    header = (
        "# Every model on BEELINE mDC\n\n"
        f"Made by `{command}` ({machine}).\n\n"
        "Per-TF split (2/3 of each TF's targets and non-targets train, the rest test; test pairs never reach "
        "training). Features: per-cell expression and the four LPS time-point means. `degree`: TF plus target "
        "number of training edges; `random`: uniform scores. `fit_s`: seconds per fit on this machine; `peak_mib`: "
        "peak resident memory above the level before the fit. Mean ± sd over seeds; per-seed rows in "
        "`models_mDC.csv`.\n\nFit-time targets on mDC Non-Specific (2 cores):\n\n" + fit_time_check(results) + "\n\n"
        "Accuracy targets:\n\n" + accuracy_check(results) + "\n\n"
    )
    write_report(results, args.out / "models_mDC", header, footer=WHY)


if __name__ == "__main__":
    main()
