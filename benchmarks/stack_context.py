"""``stack`` with and without ``meta_context`` on the six shared ChIP-seq networks, chosen on validation pairs.

For each network (BEELINE mDC, hHEP, mHSC-GM; Specific and Non-Specific,
TFs+500) and seed, the per-TF split of :func:`grnlink.bm.split` trains both
variants with ``split.fit_kwargs()``; each is scored on the split's
validation pairs (the decision metric: the option is switched on by default
only if it is ahead there on every cell type) and on its test pairs
(reported, never used to choose), beside the degree control.

Run from the repository root::

    python benchmarks/stack_context.py --jobs 2 --seeds 0 1

It prints the table and writes ``benchmarks/results/stack_context.{md,csv}``.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import as_completed
from pathlib import Path

import numpy as np
import pandas as pd
from _report import DEFAULT_DATA, REPO, commit, load_average, start_run, worker_pool

import grnlink as gl
from grnlink._metrics import mean_tf_auroc

DATASETS = ("mDC", "hHEP", "mHSC-GM")
NETWORKS = ("Specific", "Non-Specific")
VARIANTS = {"stack": {}, "stack (meta_context)": {"meta_context": True}}


def tf_auroc(table: pd.DataFrame, scores: np.ndarray) -> float:
    return mean_tf_auroc(pd.factorize(table["source"])[0], table["label"].to_numpy(), scores)


def run_unit(data: Path, dataset: str, network: str, seed: int) -> list[dict]:
    adata = gl.ds.beeline(data / network / dataset / "TFs+500")
    split = gl.bm.split(adata.uns["true_network"], adata.var_names, seed=seed)
    rows = []
    for part in ("val", "test"):
        table = getattr(split, part)
        rows.append(
            {"model": "degree", "part": part, "tf_auroc": tf_auroc(table, gl.bm.degree_scores(split.prior, table))}
        )
    for name, options in VARIANTS.items():
        fitted = adata.copy()
        start = time.perf_counter()
        gl.tl.grn_fit(
            fitted, split.prior, model="stack", groupby="condition", seed=seed, **split.fit_kwargs(), **options
        )
        fit_s = time.perf_counter() - start
        for part in ("val", "test"):
            table = getattr(split, part)
            scored = gl.tl.grn_predict(fitted, pairs=table[["source", "target"]], inplace=False)
            rows.append(
                {"model": name, "part": part, "tf_auroc": tf_auroc(table, scored["score"].to_numpy()), "fit_s": fit_s}
            )
    return [{"dataset": dataset, "network": network, "seed": seed, **row} for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args()
    machine = start_run(args.jobs)
    units = [(d, n, s) for d in DATASETS for n in NETWORKS for s in args.seeds]
    rows: list[dict] = []
    with worker_pool(args.jobs) as pool:
        futures = [pool.submit(run_unit, args.data, *unit) for unit in units]
        for future in as_completed(futures):
            rows += future.result()
            print(f"{len(rows) // 6}/{len(units)} units", flush=True)
    results = pd.DataFrame(rows).assign(commit=commit())
    table = results.pivot_table(
        index=["dataset", "network"], columns=["part", "model"], values="tf_auroc", aggfunc="mean"
    )
    table = table.round(4)
    gain = (table["val"]["stack (meta_context)"] - table["val"]["stack"]).rename("val gain")
    test_gain = (table["test"]["stack (meta_context)"] - table["test"]["stack"]).rename("test gain")
    summary = pd.concat([table["val"], gain, table["test"].add_prefix("test "), test_gain], axis=1).round(4)
    fit_s = results.dropna(subset=["fit_s"]).groupby("model")["fit_s"].median().round(1)
    command = f"python benchmarks/stack_context.py --jobs {args.jobs} --seeds {' '.join(map(str, args.seeds))}"
    header = (
        "# stack: meta-learner with per-TF context (meta_context) against without\n\n"
        f"Made by `{command}` ({machine}; load average {load_average():.1f} at the end).\n\n"
        "Per-TF AUROC, mean over seeds, of the per-TF split's validation pairs (the decision metric: early "
        "stopping also reads them, so both variants are equally optimistic there) and test pairs (reported only). "
        "`val gain`/`test gain`: meta_context minus without. Per-seed rows in `stack_context.csv`.\n\n"
    )
    body = (
        summary.to_markdown()
        + "\n\nMedian fit seconds (one thread per worker): "
        + ", ".join(f"{m} {s}" for m, s in fit_s.items())
        + "\n"
    )
    print(summary.to_string())
    args.out.mkdir(parents=True, exist_ok=True)
    results.to_csv(args.out / "stack_context.csv", index=False)
    (args.out / "stack_context.md").write_text(header + body)


if __name__ == "__main__":
    main()
