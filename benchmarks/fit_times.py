"""Fit seconds of one model on the six shared BEELINE networks, one fit at a time on one core.

Issue 21's cost target: the default fit at BEELINE size takes at most 60 s on
one core on each shared network (median of the seeds). Timings taken while
other fits share the cores (``celltypes.py --jobs 2``) are longer than that
target means, so each fit here runs alone, in its own process
(:mod:`one_fit`: per-TF split, ``groupby="condition"``, one torch thread,
``OMP_NUM_THREADS=1`` and the other BLAS variables),
one after another. Beside the seconds, each fit's per-TF AUROC on validation
and test pairs, so that a cheaper setting can be read against accuracy.

Run from the repository root::

    python benchmarks/fit_times.py                          # stack, seeds 0 1 2: about 10 minutes
    python benchmarks/fit_times.py --model sctransnet --seeds 0

It prints the table and writes ``benchmarks/results/fit_times_<model>.{md,csv}``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
from _report import REPO, THREAD_VARIABLES, environment, load_average

NETWORKS = (
    ("hHEP", "Specific"),
    ("mHSC-GM", "Specific"),
    ("hHEP", "Non-Specific"),
    ("mDC", "Non-Specific"),
    ("mDC", "Specific"),
    ("mHSC-GM", "Non-Specific"),
)
TARGET_S = 60.0


def one_fit(dataset: str, network: str, seed: int, model: str, options: str) -> dict:
    """The JSON line of ``one_fit.py`` for one fit, run in a fresh process."""
    command = [sys.executable, str(REPO / "benchmarks" / "one_fit.py"), dataset, network, str(seed), model, options]
    one_core = os.environ | dict.fromkeys(THREAD_VARIABLES, "1")  # BLAS/OpenMP too (the boosted trees), not only torch
    out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=REPO, env=one_core)
    line = next(text for text in reversed(out.stdout.splitlines()) if text.startswith("{"))
    fit = json.loads(line)
    return {"network": f"{dataset} {network}", "seed": seed, **{k: fit[k] for k in ("fit_s", "val", "test")}}


def summary(results: pd.DataFrame) -> pd.DataFrame:
    """Per network: seconds per seed, their median, and the mean per-TF AUROC on validation and test pairs."""
    seconds = results.pivot(index="network", columns="seed", values="fit_s")
    seconds.columns = [f"fit_s seed {seed}" for seed in seconds.columns]
    table = seconds.assign(
        median_fit_s=seconds.median(axis=1),
        val_tf_auroc=results.groupby("network")["val"].mean().round(4),
        test_tf_auroc=results.groupby("network")["test"].mean().round(4),
    )
    order = [f"{d} {n}" for d, n in NETWORKS if f"{d} {n}" in table.index]
    return table.loc[order].rename_axis("network").reset_index()


def target_line(table: pd.DataFrame) -> str:
    over = table[table["median_fit_s"] > TARGET_S]
    worst = table.loc[table["median_fit_s"].idxmax()]
    if over.empty:
        return (
            f"Issue 21's target, median fit <= {TARGET_S:.0f} s on each network: met on all {len(table)} "
            f"(largest median: {worst['network']} {worst['median_fit_s']:.1f} s)."
        )
    return f"Issue 21's target, median fit <= {TARGET_S:.0f} s on each network: MISSED on " + ", ".join(
        f"{row.network} ({row.median_fit_s:.1f} s)" for row in over.itertuples()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="stack")
    parser.add_argument("--options", default="{}", help="JSON object of model options")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args()
    machine = environment()
    rows = []
    for dataset, network in NETWORKS:
        for seed in args.seeds:
            rows.append(one_fit(dataset, network, seed, args.model, args.options))
            print(f"{dataset} {network} seed {seed}: {rows[-1]['fit_s']} s", flush=True)
    results = pd.DataFrame(rows)
    table = summary(results)
    command = f"python benchmarks/fit_times.py --model {args.model} --options '{args.options}' --seeds " + " ".join(
        map(str, args.seeds)
    )
    text = (
        f"# Fit seconds of `{args.model}` on the six shared networks, one fit at a time\n\n"
        f"Made by `{command}` ({machine}; load average {load_average():.1f} at the end). Each fit runs alone in "
        "its own process with one torch thread and one BLAS/OpenMP thread (`benchmarks/one_fit.py`: per-TF split "
        'of the seed, `groupby="condition"`); `val_tf_auroc` and `test_tf_auroc` are the mean per-TF AUROC over '
        "the seeds on the split's validation and test pairs.\n\n"
        + table.to_markdown(index=False)
        + "\n\n"
        + target_line(table)
        + "\n"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    results.to_csv(args.out / f"fit_times_{args.model}.csv", index=False)
    (args.out / f"fit_times_{args.model}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
