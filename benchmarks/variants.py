"""Option variants of models, side by side on validation and test pairs of BEELINE networks and simulated data.

For each data set and seed, the per-TF split of :func:`grnlink.bm.split`
trains every (model, variant) with ``split.fit_kwargs()`` and one torch
thread; each fit is scored on the split's validation pairs (the decision
metric: a variant becomes a default only if it is ahead there on every cell
type) and on its test pairs (reported, never used to choose), beside the
degree control. Data sets: ``mDC``/``hHEP``/``mHSC-GM`` ``Specific`` or
``Non-Specific`` (TFs+500, ``groupby="condition"``), ``simulated``:
``gl.ds.simulate(n_genes=250, n_tfs=25, n_cells=1200, n_celltypes=6, seed=1)``
(issue 23's data, ``groupby="cell_type"``), and ``simulated shuffled``: the
same with each gene's values permuted across cells
(:func:`grnlink.bm.shuffle_expression`), where a variant that reads the
expression must lose what it gained on ``simulated``. A BEELINE name ending in
``sub<N>`` keeps ``N`` random edges of the network (a small prior, the size of
the simulated one at ``sub300``).

Run from the repository root, e.g.::

    python benchmarks/variants.py --name expression_scaling \\
        --models dual_encoder cross_encoder two_tower gnt scregnet sctransnet \\
        --variants '{"component": {}, "shared": {"expression_scaling": "shared"}}' \\
        --data-sets simulated "mDC Specific" "hHEP Non-Specific" "mHSC-GM Specific" --seeds 0 --jobs 2

It prints the table and writes ``benchmarks/results/<name>.{md,csv}``.
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import as_completed
from pathlib import Path

import numpy as np
import pandas as pd
from _report import DEFAULT_DATA, REPO, commit, load_average, start_run, worker_pool

import grnlink as gl
from grnlink._metrics import mean_tf_auroc

SIMULATED = {"n_genes": 250, "n_tfs": 25, "n_cells": 1200, "n_celltypes": 6, "seed": 1}


def tf_auroc(table: pd.DataFrame, scores: np.ndarray) -> float:
    return mean_tf_auroc(pd.factorize(table["source"])[0], table["label"].to_numpy(), scores)


def subsample_network(adata, n_edges: int):
    """``adata`` with a random ``n_edges`` of its true network kept (the same edges for every split seed).

    Emulates a user whose prior is small: the edges dropped become non-edges,
    as unknown edges are in any prior.
    """
    truth = adata.uns["true_network"]
    keep = np.sort(np.random.default_rng(n_edges).choice(len(truth), size=min(n_edges, len(truth)), replace=False))
    adata.uns["true_network"] = truth.iloc[keep].reset_index(drop=True)
    return adata


def load(data: Path, data_set: str):
    """The AnnData of a data set name and the ``groupby`` column its fits use.

    A BEELINE name may end in ``sub<N>`` (e.g. ``"mDC Specific sub300"``): the
    network keeps ``N`` random edges (:func:`subsample_network`).
    """
    name, _, last = data_set.rpartition(" ")
    if name and last.startswith("sub") and last[3:].isdigit():
        adata, groupby = load(data, name)
        return subsample_network(adata, int(last[3:])), groupby
    if data_set == "simulated":
        return gl.ds.simulate(**SIMULATED), "cell_type"
    if data_set == "simulated shuffled":
        return gl.bm.shuffle_expression(gl.ds.simulate(**SIMULATED), seed=0), "cell_type"
    dataset, network = data_set.split(" ", 1)
    return gl.ds.beeline(data / network / dataset / "TFs+500"), "condition"


def halves(pairs: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``pairs`` cut in two, each TF's positives and negatives alternating between the halves in random order."""
    order = pairs.sample(frac=1.0, random_state=seed)
    first = order.groupby(["source", "label"]).cumcount().to_numpy() % 2 == 0
    return order[first].sort_index(), order[~first].sort_index()


def run_unit(
    data: Path, data_set: str, seed: int, models: list[str], variants: dict[str, dict], val_halves: bool = False
) -> list[dict]:
    adata, groupby = load(data, data_set)
    split = gl.bm.split(adata.uns["true_network"], adata.var_names, seed=seed)
    fit_kwargs = split.fit_kwargs()
    scored_parts = {"val": split.val, "test": split.test}
    if val_halves:  # early stopping (and a meta-learner on validation pairs) reads one half, the decision the other
        fit_kwargs["validation"], scored_parts["val"] = halves(split.val, seed)
    rows = [
        {"model": "degree", "variant": "", "part": part, "tf_auroc": tf_auroc(t, gl.bm.degree_scores(split.prior, t))}
        for part, t in scored_parts.items()
    ]
    for model in models:
        for variant, options in variants.items():
            fitted = adata.copy()
            start = time.perf_counter()
            gl.tl.grn_fit(fitted, split.prior, model=model, groupby=groupby, seed=seed, **{**fit_kwargs, **options})
            fit_s = time.perf_counter() - start
            for part, table in scored_parts.items():
                scored = gl.tl.grn_predict(fitted, pairs=table[["source", "target"]], inplace=False)
                score = tf_auroc(table, scored["score"].to_numpy())
                rows.append({"model": model, "variant": variant, "part": part, "tf_auroc": score, "fit_s": fit_s})
    return [{"data_set": data_set, "seed": seed, **row} for row in rows]


def summary_table(results: pd.DataFrame, variants: list[str]) -> pd.DataFrame:
    """Mean per-TF AUROC over seeds per data set and model: each variant on val and test, gains over the first."""
    fits = results[results["model"] != "degree"]
    table = fits.pivot_table(index=["model", "data_set"], columns=["part", "variant"], values="tf_auroc")
    out = pd.DataFrame(index=table.index)
    first = variants[0]
    for part in ("val", "test"):
        for variant in variants:
            out[f"{part} {variant}"] = table[(part, variant)]
        for variant in variants[1:]:
            out[f"{part} gain {variant}"] = table[(part, variant)] - table[(part, first)]
    degree = results[results["model"] == "degree"].pivot_table(index="data_set", columns="part", values="tf_auroc")
    out["test degree"] = out.index.get_level_values("data_set").map(degree["test"])
    return out.round(4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", required=True, help="stem of the results files")
    parser.add_argument("--models", nargs="+", required=True)
    parser.add_argument("--variants", required=True, help="JSON object: variant name -> options")
    parser.add_argument("--data-sets", nargs="+", required=True, help='"simulated" or e.g. "mDC Specific"')
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--val-halves",
        action="store_true",
        help="fit with half of each TF's validation pairs, decide on the other half (for variants that fit on them)",
    )
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args()
    variants = json.loads(args.variants)
    machine = start_run(args.jobs)
    units = [(d, s) for d in args.data_sets for s in args.seeds]
    rows: list[dict] = []
    with worker_pool(args.jobs) as pool:
        futures = [pool.submit(run_unit, args.data, d, s, args.models, variants, args.val_halves) for d, s in units]
        for done, future in enumerate(as_completed(futures), 1):
            rows += future.result()
            print(f"{done}/{len(units)} units", flush=True)
    results = pd.DataFrame(rows).assign(commit=commit())
    summary = summary_table(results, list(variants))
    fit_s = results.dropna(subset=["fit_s"]).groupby(["model", "variant"])["fit_s"].median().round(1)
    quoted = " ".join(f'"{d}"' if " " in d else d for d in args.data_sets)
    command = (
        f"python benchmarks/variants.py --name {args.name} --models {' '.join(args.models)} "
        f"--variants '{args.variants}' --data-sets {quoted} --seeds {' '.join(map(str, args.seeds))} "
        f"--jobs {args.jobs}" + (" --val-halves" if args.val_halves else "")
    )
    header = (
        f"# {args.name}: option variants on validation and test pairs\n\n"
        f"Made by `{command}` ({machine}; load average {load_average():.1f} at the end).\n\n"
        "Per-TF AUROC, mean over seeds, on the per-TF split's validation pairs (the decision metric; early "
        + (
            "stopping and a meta-learner fitted on validation pairs read the other half of each TF's validation "
            "pairs, never these) "
            if args.val_halves
            else "stopping also reads them) "
        )
        + "and test pairs (reported only); `gain`: the variant minus the first one "
        f"({list(variants)[0]}); `test degree`: the degree control on the test pairs. Variants: "
        + "; ".join(f"`{name}` = `{json.dumps(options)}`" for name, options in variants.items())
        + f". Per-seed rows in `{args.name}.csv`.\n\n"
    )
    body = (
        summary.reset_index().to_markdown(index=False)
        + "\n\nMedian fit seconds (one torch thread per worker): "
        + ", ".join(f"{m} {v} {s}" for (m, v), s in fit_s.items())
        + "\n"
    )
    print(summary.to_string())
    args.out.mkdir(parents=True, exist_ok=True)
    results.to_csv(args.out / f"{args.name}.csv", index=False)
    (args.out / f"{args.name}.md").write_text(header + body)


if __name__ == "__main__":
    main()
