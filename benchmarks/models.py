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
    )
    write_report(results, args.out / "models_mDC", header)


if __name__ == "__main__":
    main()
