"""Ablations, ensembles and cross-seed variation, a pruning curve and effective ranks, on BEELINE mDC Non-Specific.

All on the `tf_matched` protocol, 5 seeds, beside the degree and random controls:

1. ensembles and cross-seed variation (paper 000): `two_tower` with 1 and with
   5 members; the coefficient of variation of per-TF AUROC over seeds, and the
   members' own CV of validation AUROC inside each ensemble;
2. ablations (papers 001-003): feature groups alone, cross-encoder without the
   element-wise term, scTransNet without attention, GAT or cells, scRegNet's
   classifier with the element-wise product;
3. structured neuron pruning without retraining, 0-90% of hidden units
   (paper 001), parameter-matched dual and cross encoders;
4. effective rank of the learned gene representations (paper 001).

Run from the repository root::

    python benchmarks/analysis.py                    # seeds 0-4
    python benchmarks/analysis.py --seeds 0

It prints the tables and writes ``benchmarks/results/analysis.md``, the
per-seed ``analysis_{ablation,pruning,rank}.csv`` and ``analysis_pruning.png``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import scanpy as sc
from _report import DEFAULT_DATA, REPO, line_figure, load_mdc, start_run

import grnlink as gl

N_PARAMS = 200_000
ONE = {"n_ensemble": 1}
ABLATIONS = {
    "two_tower (5 members)": {"model": "two_tower"},
    "two_tower (1 member)": {"model": "two_tower", **ONE},
    "two_tower (1), expression only": {"model": "two_tower", **ONE, "features": ["expression"]},
    "two_tower (1), time-point means only": {"model": "two_tower", **ONE, "features": ["celltype_means"]},
    "cross_encoder": {"model": "cross_encoder"},
    "cross_encoder, no tf*gene": {"model": "cross_encoder", "interaction": False},
    "scregnet": {"model": "scregnet"},
    "scregnet, concat_product": {"model": "scregnet", "pair": "concat_product"},
    "scregnet, expression only": {"model": "scregnet", "features": ["expression"]},
    "scregnet, time-point means only": {"model": "scregnet", "features": ["celltype_means"]},
    "sctransnet": {"model": "sctransnet"},
    "sctransnet, mean pooling": {"model": "sctransnet", "use_attention": False},
    "sctransnet, no GAT": {"model": "sctransnet", "use_gat": False},
    "sctransnet, no cells": {"model": "sctransnet", "use_cells": False},
}
PRUNED_MODELS = {name: {"n_params": N_PARAMS} for name in ("dual_encoder", "cross_encoder")}
RANKED_MODELS = {**PRUNED_MODELS, "two_tower": ONE, "scregnet": {}, "sctransnet": {}}
FRACTIONS = tuple(np.round(np.arange(0, 1.0, 0.1), 1))


def ablations(adata, truth, seeds) -> tuple[pd.DataFrame, str]:
    results = gl.bm.run(adata, truth, ABLATIONS, seeds=seeds, groupby="time_point")
    table = gl.bm.summarise(results, metrics=("tf_auroc", "tf_auprc", "auroc", "member_cv", "fit_s"))
    spread = results.groupby("model", sort=False)["tf_auroc"].agg(["mean", "std"])
    table["seed_cv"] = table["model"].map(lambda m: f"{spread.loc[m, 'std'] / spread.loc[m, 'mean']:.3f}")
    return results, table.to_markdown(index=False)


def fitted_per_seed(adata, truth, seeds, models):
    """Yield (model, seed, split) after fitting each model on each seed's split into adata.uns['grn']."""
    for seed in seeds:
        split = gl.bm.split(truth, adata.var_names, seed=seed)
        for model, options in models.items():
            gl.tl.grn_fit(
                adata, split.prior, **split.fit_kwargs(), model=model, seed=seed, groupby="time_point", **options
            )
            yield model, seed, split


def pruning(adata, truth, seeds) -> pd.DataFrame:
    frames = []
    for model, seed, split in fitted_per_seed(adata, truth, seeds, PRUNED_MODELS):
        curve = gl.bm.pruning_curve(adata, split.test, FRACTIONS)
        frames.append(curve.assign(model=model, seed=seed))
    return pd.concat(frames, ignore_index=True)


def ranks(adata, truth, seeds) -> pd.DataFrame:
    rows = []
    for model, seed, _ in fitted_per_seed(adata, truth, seeds, RANKED_MODELS):
        representations = gl.bm.gene_representations(adata)
        rows.append(
            {
                "model": model,
                "seed": seed,
                "effective_rank": gl.bm.representation_rank(adata),
                "width": representations[0].shape[1],
            }
        )
    return pd.DataFrame(rows)


def mean_sd(frame: pd.DataFrame, keys: list[str], columns: list[str]) -> pd.DataFrame:
    grouped = frame.groupby(keys, sort=False)
    out = grouped.size().rename("seeds").to_frame()
    for column in columns:
        mean, sd = grouped[column].mean(), grouped[column].std()
        out[column] = [f"{m:.3f} ± {s:.3f}" for m, s in zip(mean, sd)]
    return out[[*columns, "seeds"]].reset_index()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder holding Non-Specific/mDC")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args()
    machine = start_run()
    adata, truth, _ = load_mdc(args.data, "Non-Specific")
    args.out.mkdir(parents=True, exist_ok=True)

    ablation_rows, ablation_table = ablations(adata, truth, args.seeds)
    ablation_rows.to_csv(args.out / "analysis_ablation.csv", index=False)
    sc.settings.verbosity = 1  # the direct fits below would log every fit
    pruning_rows = pruning(adata, truth, args.seeds)
    pruning_rows.to_csv(args.out / "analysis_pruning.csv", index=False)
    rank_rows = ranks(adata, truth, args.seeds)
    rank_rows.to_csv(args.out / "analysis_rank.csv", index=False)

    pruning_table = mean_sd(pruning_rows, ["model", "fraction"], ["auroc", "tf_auroc"])
    pruning_wide = pruning_table.pivot(index="fraction", columns="model", values="auroc").reset_index()
    rank_table = mean_sd(rank_rows, ["model"], ["effective_rank"])
    rank_table.insert(2, "width", rank_table["model"].map(rank_rows.groupby("model")["width"].first()))
    line_figure(
        pruning_rows,
        args.out / "analysis_pruning.png",
        x="fraction",
        y="auroc",
        hue="model",
        xlabel="share of hidden units pruned (no retraining)",
        ylabel="test AUROC (pooled)",
    )
    seeds = " ".join(map(str, args.seeds))
    report = (
        "# Analyses on BEELINE mDC Non-Specific\n\n"
        f"Made by `python benchmarks/analysis.py --seeds {seeds}` ({machine}).\n\n"
        "`tf_matched` protocol; features: per-cell expression and the four LPS time-point means unless stated. "
        "Mean ± sd over seeds; per-seed rows in the `analysis_*.csv` files.\n\n"
        "## Ensembles, cross-seed variation and ablations\n\n"
        "`seed_cv`: sd / mean of per-TF AUROC over seeds (split and initialisation change together). "
        "`member_cv`: inside one fit, sd / mean of the ensemble members' best validation AUROC (paper 000). "
        "`degree` and `random` are the controls.\n\n" + ablation_table + "\n\n"
        f"## Structured neuron pruning (no retraining), parameter-matched at {N_PARAMS:,}\n\n"
        "In every hidden fully connected layer of each member, the units with the smallest incoming weight norm are "
        "silenced (`gl.bm.prune`). Pooled test AUROC; figure `analysis_pruning.png`.\n\n"
        + pruning_wide.to_markdown(index=False)
        + "\n\n## Effective rank of the learned gene representations\n\n"
        "exp(entropy of the normalised singular values) of every gene's representation in the target role "
        "(`gl.bm.representation_rank`); `width`: its number of dimensions.\n\n"
        + rank_table.to_markdown(index=False)
        + "\n"
    )
    (args.out / "analysis.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
