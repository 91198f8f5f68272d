"""What the genome-scale automatic rules cost in accuracy, measured where labels exist.

Some defaults change what a model does once the data are large (see
``docs/large_data.md``); genome-scale priors have no labelled benchmark, so
each study forces the large-prior behaviour on the BEELINE ChIP-seq networks
of the three cell types (Specific and Non-Specific, TFs+500, per-TF split
``tf_matched``) and sets it beside the small-prior one, with the degree control:

- ``fanout``: ``sctransnet`` with every neighbour (``fanout=None``) against 10
  sampled neighbours per gene and layer (``fanout=10``; ``"auto"`` samples
  above 8,192 training edges). TF hubs there have hundreds of targets, so 10
  neighbours is a harsher cut than the default applies to these networks (none);
- ``stack``: the default ``stack`` with its meta-learner fitted on
  out-of-fold scores of the training pairs (``combine_on="out_of_fold"``,
  3 folds) against fitted on the validation pairs' scores by the final base
  models (``combine_on="validation"``; ``"auto"`` does so above 16,384
  training pairs). BEELINE validation sets hold 10% of the prior's edges,
  about a tenth of what a genome-scale prior gives, so the validation-pair
  meta-learner is noisier here than where the default uses it;
- ``gnt``: its SVM with the RBF kernel against the linear one
  (``svm_kernel="auto"`` is linear above 16,384 training pairs), and its
  transformer trained on sequences of every gene against sequences of the
  batch's genes plus sampled ones up to ``context`` tokens (``"auto"``: 2,048
  tokens above 4,096 genes, about a tenth of a genome). A default batch of
  1,024 pairs covers most of a BEELINE data set's genes, so the context
  pair runs at ``batch_size=256`` with one member, and ``context=128``: each
  training sequence then holds only the batch's genes (a quarter to a third of the
  genes) and no drawn ones.

Run from the repository root::

    python benchmarks/auto_rules.py --study fanout             # seeds 0 and 1
    python benchmarks/auto_rules.py --study stack
    python benchmarks/auto_rules.py --study gnt
    python benchmarks/auto_rules.py --study stack --report     # rewrite the md from the csv

It prints the table and writes ``benchmarks/results/auto_rules_<study>.{md,csv}``.
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
STUDIES = {
    "fanout": {
        "title": "Neighbour sampling: sctransnet with every neighbour against fanout=10",
        "settings": {
            "sctransnet (every neighbour)": {"model": "sctransnet", "fanout": None},
            "sctransnet (fanout=10)": {"model": "sctransnet", "fanout": 10},
        },
    },
    "stack": {
        "title": "stack: meta-learner on out-of-fold training pairs against on the validation pairs",
        "settings": {
            "stack (out_of_fold)": {"model": "stack", "combine_on": "out_of_fold"},
            "stack (validation)": {"model": "stack", "combine_on": "validation"},
        },
    },
    "gnt": {
        "title": "gnt: RBF against linear SVM, and training sequences of every gene against a sampled context",
        "settings": {
            "gnt (rbf)": {"model": "gnt", "svm_kernel": "rbf"},
            "gnt (linear)": {"model": "gnt", "svm_kernel": "linear"},
            "gnt (batch 256, every gene)": {"model": "gnt", "batch_size": 256, "n_ensemble": 1, "context": None},
            "gnt (batch 256, context=128)": {"model": "gnt", "batch_size": 256, "n_ensemble": 1, "context": 128},
        },
    },
}


def run(data: Path, settings: dict[str, dict], seeds: list[int]) -> pd.DataFrame:
    rows = []
    for dataset in DATASETS:
        for network in NETWORKS:
            adata = gl.ds.beeline(folder(data, network, dataset))
            result = gl.bm.run(adata, adata.uns["true_network"], settings, seeds=seeds, groupby=GROUPBY)
            result.insert(0, "dataset", dataset)
            result.insert(1, "task", network)
            print(result[["dataset", "task", "model", "seed", "tf_auroc", "fit_s"]].to_string(index=False), flush=True)
            rows.append(result)
    return pd.concat(rows, ignore_index=True)


def report(results: pd.DataFrame, header: str) -> str:
    table = results.pivot_table(index=["dataset", "task"], columns="model", values="tf_auroc", aggfunc="mean")
    overall = results.groupby("model")[["tf_auroc", "fit_s"]].agg(["mean", "std", "count"])
    overall.columns = [f"{value} {statistic}" for value, statistic in overall.columns]
    n_seeds = results["seed"].nunique()
    return "\n".join(
        [
            header,
            "",
            f"## Per-TF AUROC on held-out pairs (mean of {n_seeds} seeds)",
            "",
            table.round(3).to_markdown(),
            "",
            "## All networks and seeds (per-TF AUROC, fit seconds)",
            "",
            overall.round(4).to_markdown(),
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", choices=sorted(STUDIES), required=True)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument("--report", action="store_true", help="only rewrite the study's md from its csv")
    args = parser.parse_args()
    sc.settings.verbosity = 0
    study = STUDIES[args.study]
    stem = args.out / f"auto_rules_{args.study}"
    if args.report:
        results = pd.read_csv(stem.with_suffix(".csv"))
    else:
        results = run(args.data, study["settings"], args.seeds)
        results["environment"] = environment()
        results["command"] = f"python benchmarks/auto_rules.py {' '.join(sys.argv[1:])}".strip()
        args.out.mkdir(parents=True, exist_ok=True)
        results.to_csv(stem.with_suffix(".csv"), index=False)
    header = (
        f"# {study['title']}\n\n"
        f"Environment: {results['environment'].iloc[0]}.\n\nCommand: `{results['command'].iloc[0]}`"
    )
    text = report(results, header)
    stem.with_suffix(".md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
