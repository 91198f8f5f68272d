"""Every model on BEELINE mDC Specific and Non-Specific under the `genelink` and `tf_matched` protocols, 5 seeds.

`genelink` is the published BEELINE protocol (GENELink, followed by scRegNet
and scTransNet); its test negatives are spread over every TF of ``TF.csv``,
most of which have no known target, which rewards knowing a TF's number of
training edges. `tf_matched` ranks each TF's held-out targets against its own
held-out non-targets. The degree-only and random controls sit beside every
model.

Run from the repository root::

    python benchmarks/beeline.py                     # all models, seeds 0-4
    python benchmarks/beeline.py --models pcc --seeds 0

It prints the tables and writes ``benchmarks/results/beeline_mDC.{md,csv,png}``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from _report import DEFAULT_DATA, REPO, bar_figure, load_mdc, start_run, write_report

import grnlink as gl

NETWORKS = ("Specific", "Non-Specific")
PROTOCOLS = ("genelink", "tf_matched")
METRICS = ("tf_auroc", "auroc", "auprc", "auprc_ratio", "epr", "f1", "fit_s")


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
        adata, truth, tfs = load_mdc(args.data, network)
        results = gl.bm.run(
            adata, truth, args.models, PROTOCOLS, args.seeds, split_options={"tfs": tfs}, groupby="time_point"
        )
        results.insert(0, "network", network)
        frames.append(results)
    results = pd.concat(frames, ignore_index=True)
    command = f"python benchmarks/beeline.py --models {' '.join(args.models)} --seeds {' '.join(map(str, args.seeds))}"
    header = (
        "# BEELINE mDC: the published protocol beside the TF-matched one\n\n"
        f"Made by `{command}` ({machine}).\n\n"
        "`genelink`: per TF 2/3 of its targets train (1/5 of them validate), one same-TF negative per training "
        "and validation positive, test negatives uniform over all TF.csv TFs x genes at the network density. "
        "`tf_matched`: per TF 1/3 of its targets and of its non-targets test, 10% of the rest validate. "
        "Test pairs never reach training. `tf_auroc`: mean over TFs of each TF's test targets ranked against its "
        "own test non-targets; `auroc`/`auprc`: pooled over all test pairs (the published metrics); "
        "`auprc_ratio`: AUPRC over the share of positives; `epr`: early precision ratio; `f1`: at the threshold "
        "that maximises F1 on the validation pairs. `degree`: TF plus target number of training edges; `random`: "
        "uniform scores. Mean ± sd over seeds; per-seed rows in `beeline_mDC.csv`; figure `beeline_mDC.png` "
        "(pooled AUROC, the published metric).\n\n"
    )
    write_report(results, args.out / "beeline_mDC", header, metrics=METRICS, compare=("auroc", "tf_auroc"))
    bar_figure(results, args.out / "beeline_mDC.png", panels="network", bars="protocol", metric="auroc")


if __name__ == "__main__":
    main()
