"""What the default model's edge tables say, checked on the six shared BEELINE ChIP-seq networks.

Per network (mDC, hHEP, mHSC-GM; Specific and Non-Specific) and seed: each
TF's targets are split at random, two thirds into the prior and one third held
out; the default model is fitted on the prior (features: per-cell expression
and the mean per condition parsed from the cell names), with ``prior_coverage``
set to the fraction of the network the prior holds. Every prior TF is then
scored against every gene, and the pairs outside the prior are the candidates;
the held-out edges among them are the true ones.

Two checks:

1. **precision** (issue 20, part 1): for the top N candidates by score (N =
   100, 500, 2,000), the estimated precision (the ``precision`` column at the
   N-th candidate, i.e. the estimated share of true edges among candidates
   scoring at least that high) beside the realised precision (the share of
   held-out edges among them), and their ratio. Beside it, the realised
   precision of the top N by the degree control (prior in-degree of the
   target plus out-degree of the TF) and of random order.
2. **specificity** (issue 20, part 2): each TF's top-20 candidates (novel
   targets) by ``rank_by="score"`` and by ``rank_by="specificity"``; the share
   of TFs whose list holds the most frequent novel target, and the per-TF
   AUROC of each ranking over the candidates (held-out edges against the same
   TF's other candidates: the TF-matched protocol), beside the degree control
   and random lists (how often a target recurs by chance: on a dense network
   with few TFs, 20 of a few hundred candidates overlap often).

Run from the repository root::

    python benchmarks/edges.py --jobs 2                   # six networks, seeds 0 and 1
    python benchmarks/edges.py --datasets mDC --seeds 0   # one cell type
    python benchmarks/edges.py --report                   # rewrite the report from the CSVs, run nothing
    python benchmarks/edges.py --add-random               # add the random-list control to the CSV (no fits)

It prints the tables and writes ``benchmarks/results/edges_{precision,specificity}.csv`` and ``edges.md``.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import as_completed
from pathlib import Path

import numpy as np
import pandas as pd
from _report import DEFAULT_DATA, REPO, commit, load_average, split_prior, start_run, worker_pool

import grnlink as gl

DATASETS = ("mDC", "hHEP", "mHSC-GM")
NETWORKS = ("Specific", "Non-Specific")
TOP_N = (100, 500, 2000)
LIST_LENGTH = 20
RANKINGS = ("score", "specificity", "degree", "random")
RESULTS = REPO / "benchmarks" / "results"
GROUPBY = "condition"


def degree_control(prior: pd.DataFrame, candidates: pd.DataFrame) -> np.ndarray:
    """log1p of the target's prior in-degree plus a hundredth of the TF's out-degree (the degree-only control)."""
    target_in = candidates["target"].map(prior["target"].value_counts()).fillna(0).to_numpy(float)
    tf_out = candidates["source"].map(prior["source"].value_counts()).fillna(0).to_numpy(float)
    return np.log1p(target_in) + 0.01 * np.log1p(tf_out)


def run_network(dataset: str, network: str, seed: int, data: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    start = time.perf_counter()
    adata = gl.ds.beeline(data / network / dataset / "TFs+500")
    truth = adata.uns["true_network"][["source", "target"]]
    prior, held_out = split_prior(truth, seed)
    coverage = len(prior) / len(truth)
    gl.tl.grn_fit(adata, prior, groupby=GROUPBY, seed=seed, prior_coverage=coverage)
    fit_s = time.perf_counter() - start
    edges = gl.tl.grn_predict(adata, inplace=False).astype({"source": str, "target": str})
    candidates = edges.loc[~edges["in_prior"]].reset_index(drop=True)
    held = set(zip(held_out["source"], held_out["target"], strict=True))
    candidates["label"] = [p in held for p in zip(candidates["source"], candidates["target"], strict=True)]
    candidates["degree"] = degree_control(prior, candidates)
    candidates["random"] = np.random.default_rng(seed).random(len(candidates))
    where = {"dataset": dataset, "network": network, "seed": seed}
    return _precision_rows(candidates, where, coverage, fit_s), _specificity_rows(candidates, where)


def random_rows(dataset: str, network: str, seed: int, data: Path) -> pd.DataFrame:
    """The ``random`` ranking's rows of :func:`_specificity_rows` without fitting: the candidates are the prior
    TFs x genes outside the prior (self-pairs left out), as ``run_network`` scores them."""
    adata = gl.ds.beeline(data / network / dataset / "TFs+500")
    truth = adata.uns["true_network"][["source", "target"]]
    prior, held_out = split_prior(truth, seed)
    tfs, genes = sorted(prior["source"].unique()), adata.var_names.astype(str)
    pairs = pd.DataFrame([(tf, gene) for tf in tfs for gene in genes if gene != tf], columns=["source", "target"])
    in_prior = set(zip(prior["source"], prior["target"], strict=True))
    candidates = pairs.loc[[p not in in_prior for p in zip(pairs["source"], pairs["target"], strict=True)]]
    held = set(zip(held_out["source"], held_out["target"], strict=True))
    candidates = candidates.assign(
        label=[p in held for p in zip(candidates["source"], candidates["target"], strict=True)],
        random=np.random.default_rng(seed).random(len(candidates)),
    )
    where = {"dataset": dataset, "network": network, "seed": seed}
    return _specificity_rows(candidates.reset_index(drop=True), where, rankings=("random",))


def _precision_rows(candidates: pd.DataFrame, where: dict, coverage: float, fit_s: float) -> pd.DataFrame:
    by_score = candidates.sort_values("score", ascending=False, kind="stable")
    by_degree = candidates.sort_values("degree", ascending=False, kind="stable")
    rows = []
    for n in TOP_N:
        top = by_score.head(n)
        estimated, realised = float(top["precision"].iloc[-1]), float(top["label"].mean())
        rows.append(
            {
                **where,
                "top_n": n,
                "estimated": estimated,
                "realised": realised,
                "ratio": estimated / realised if realised > 0 else np.inf,
                "mean_local_estimate": float(top["precision"].mean()),
                "degree_realised": float(by_degree.head(n)["label"].mean()),
                "random_realised": float(candidates["label"].mean()),
                "prior_coverage": coverage,
                "n_candidates": len(candidates),
                "n_held_out": int(candidates["label"].sum()),
                "fit_s": fit_s,
            }
        )
    return pd.DataFrame(rows)


def _specificity_rows(candidates: pd.DataFrame, where: dict, rankings=RANKINGS) -> pd.DataFrame:
    rows = []
    test = candidates.assign(label=candidates["label"].astype(int))
    for ranking in rankings:
        lists = test.sort_values(ranking, ascending=False, kind="stable").groupby("source").head(LIST_LENGTH)
        n_tfs = lists["source"].nunique()
        counts = lists["target"].value_counts()
        per_tf = gl.bm.per_tf_metrics(test, test[ranking].to_numpy(float))
        rows.append(
            {
                **where,
                "ranking": ranking,
                "top_target": counts.index[0],
                "top_target_share": counts.iloc[0] / n_tfs,
                "top5_mean_share": float(counts.head(5).mean() / n_tfs),
                "distinct_targets": int(counts.size),
                "n_tfs": n_tfs,
                "tf_auroc": float(per_tf["auroc"].mean()),
                "tf_auprc": float(per_tf["auprc"].mean()),
            }
        )
    return pd.DataFrame(rows)


def report(header: str) -> str:
    precision = pd.read_csv(RESULTS / "edges_precision.csv")
    specificity = pd.read_csv(RESULTS / "edges_specificity.csv")
    keys = ["dataset", "network", "top_n"]
    p = precision.groupby(keys)[["estimated", "realised", "ratio", "degree_realised", "random_realised"]].mean()
    p["within_2x"] = precision.groupby(keys)["ratio"].apply(lambda r: bool(((r >= 0.5) & (r <= 2)).all()))
    s = specificity.groupby(["dataset", "network", "ranking"])[
        ["top_target_share", "top5_mean_share", "distinct_targets", "tf_auroc"]
    ].mean()
    text = (
        header
        + "## Estimated against realised precision of the top N candidates\n\n"
        + "`estimated`: the `precision` of the N-th best candidate (estimated share of true edges among candidates "
        + "scoring at least that high); `realised`: share of held-out edges among the top N; `ratio` = estimated / "
        + "realised (mean over seeds; `within_2x`: every seed's ratio in [0.5, 2]). `degree_realised`, "
        + "`random_realised`: the realised precision of the top N by the degree control and at random.\n\n"
        + p.round(3).reset_index().to_markdown(index=False)
        + "\n\n## Top-20 novel lists per TF by score, by specificity, and by the degree control\n\n"
        + "`top_target_share`: share of TFs whose list holds the most frequent novel target; `top5_mean_share`: "
        + "the same averaged over the five most frequent; `tf_auroc`: mean per-TF AUROC of the ranking over the "
        + "TF's candidates (held-out edges against its other non-prior genes).\n\n"
        + s.round(3).reset_index().to_markdown(index=False)
        + "\n"
    )
    (RESULTS / "edges.md").write_text(text)
    print(text)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--networks", nargs="+", default=list(NETWORKS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--report", action="store_true", help="rewrite edges.md from the CSVs, run nothing")
    parser.add_argument(
        "--add-random", action="store_true", help="add the random-list rows to edges_specificity.csv (no fits)"
    )
    args = parser.parse_args()
    command = "python benchmarks/edges.py " + " ".join(
        f"--{k} {' '.join(map(str, v)) if isinstance(v, list) else v}"
        for k, v in vars(args).items()
        if k in ("datasets", "networks", "seeds", "jobs")
    )
    if args.add_random or args.report:
        command = "python benchmarks/edges.py " + ("--add-random" if args.add_random else "--report")
    if args.add_random:
        table = pd.read_csv(RESULTS / "edges_specificity.csv")
        units = table[["dataset", "network", "seed"]].drop_duplicates().itertuples(index=False)
        extra = pd.concat([random_rows(*unit, args.data) for unit in units])
        table = pd.concat([table.loc[table["ranking"] != "random"], extra])
        table.sort_values(["dataset", "network", "seed", "ranking"]).to_csv(
            RESULTS / "edges_specificity.csv", index=False
        )
        args.report = True
    if args.report:
        previous = (RESULTS / "edges.md").read_text().split("## ")[0] if (RESULTS / "edges.md").exists() else ""
        note = "random-list rows added" if args.add_random else "report rewritten"
        report(f"{previous.rstrip()}\n\n`{command}`: {note} at {commit()} (no fits).\n\n")
        return
    env = start_run(workers=args.jobs)
    units = [(d, n, s) for d in args.datasets for n in args.networks for s in args.seeds]
    parts = []
    with worker_pool(args.jobs) as pool:
        futures = {pool.submit(run_network, *unit, args.data): unit for unit in units}
        for future in as_completed(futures):
            parts.append(future.result())
            print(f"done {futures[future]} (load {load_average():.1f})", flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    pd.concat([p for p, _ in parts]).sort_values(["dataset", "network", "seed", "top_n"]).to_csv(
        RESULTS / "edges_precision.csv", index=False
    )
    pd.concat([s for _, s in parts]).sort_values(["dataset", "network", "seed", "ranking"]).to_csv(
        RESULTS / "edges_specificity.csv", index=False
    )
    report(f"# Edge tables on BEELINE: precision and specificity\n\nCommand: `{command}`\n\n{env}\n\n")


if __name__ == "__main__":
    main()
