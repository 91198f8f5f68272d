"""Issue 21, part 3: do two kinds of target-side expression evidence help ``degree_adjusted`` inside a TF's list?

Candidate pair features, added to ``degree_adjusted``'s TF-specific part (its
gradient-boosted trees) for this experiment only:

- ``within``: TF-target co-variation *within* each condition. Every gene's
  standardised log expression minus its mean in the cell's condition, reduced
  to its 50 leading principal components (unit rows, so dot products are
  correlations); features: the pair's within-condition correlation, its
  absolute value, and the target's within-condition correlation with the
  centroid of the TF's known (training) targets. The existing ``coexpression``
  mixes between-condition shifts (which hub targets share) with co-variation
  among cells of one condition.
- ``lag``: expression dynamics along the ordered conditions (LPS time points
  for mDC, differentiation stages for hHEP and mHSC-GM): correlation of the
  TF's condition means at steps 1..C-1 with the target's at steps 2..C
  (the TF leads), and the reverse (the target leads).

The features need each cell's condition, which the package's feature groups
do not carry, so this script computes them from the AnnData and appends them
to the pair features of :class:`grnlink.models._degree_features.KnownGraph`
in each worker process (a patch local to this benchmark). They use
expression only, plus training edges for the centroid: no validation or
test pair reaches them.

For each network and seed, the per-TF split of :func:`grnlink.bm.split`
trains ``degree_adjusted`` with each variant; validation pairs decide, test
pairs are reported. Run from the repository root::

    python benchmarks/target_side.py --seeds 0 1 --jobs 1

It writes ``benchmarks/results/target_side.{md,csv}``.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import as_completed
from pathlib import Path

import numpy as np
import pandas as pd
from _report import DEFAULT_DATA, REPO, commit, load_average, start_run, worker_pool
from variants import tf_auroc

import grnlink as gl
from grnlink.models import _degree_features as features_module

NETWORKS = [f"{d} {n}" for d in ("mDC", "hHEP", "mHSC-GM") for n in ("Specific", "Non-Specific")]
EXTRA = {
    "within": ("within_coexpression", "abs_within_coexpression", "within_known_target"),
    "lag": ("lag_tf_leads", "lag_target_leads"),
}
VARIANTS = {"base": (), "within": ("within",), "lag": ("lag",), "both": ("within", "lag")}
COMPONENTS = 50


def unit_components(values: np.ndarray, k: int) -> np.ndarray:
    """Unit rows of the leading ``k`` principal components of the rows (genes x cells, centred per gene)."""
    centred = values - values.mean(axis=1, keepdims=True)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    return features_module.unit_rows(u[:, :k] * s[:k], centre=False)


def gene_matrices(adata) -> dict[str, np.ndarray]:
    """Within-condition components and lead/lag condition profiles of every gene."""
    x = np.asarray(adata.X.toarray() if hasattr(adata.X, "toarray") else adata.X, dtype=np.float64).T
    sd = x.std(axis=1, keepdims=True)
    x = (x - x.mean(axis=1, keepdims=True)) / np.where(sd > 0, sd, 1.0)
    condition = pd.Categorical(adata.obs["condition"])
    codes = condition.codes
    means = np.column_stack([x[:, codes == c].mean(axis=1) for c in range(len(condition.categories))])
    within = unit_components(x - means[:, codes], COMPONENTS)
    return {
        "within": within,
        "early": features_module.unit_rows(means[:, :-1], centre=True),
        "late": features_module.unit_rows(means[:, 1:], centre=True),
    }


def patch(matrices: dict[str, np.ndarray], groups: tuple[str, ...]) -> None:
    """Append the chosen groups' pair features to KnownGraph.pair_features (in this process)."""
    base = getattr(features_module.KnownGraph, "_base_pair_features", features_module.KnownGraph.pair_features)
    features_module.KnownGraph._base_pair_features = base
    features_module.TF_SPECIFIC_FEATURES = features_module._BASE_SPECIFIC + tuple(
        name for g in groups for name in EXTRA[g]
    )

    def pair_features(self, tf, gene):
        popularity, specific = base(self, tf, gene)
        tf, gene = np.asarray(tf, dtype=np.int64), np.asarray(gene, dtype=np.int64)
        extra = []
        if "within" in groups:
            w = matrices["within"]
            within = np.einsum("ij,ij->i", w[tf], w[gene])
            centroid = features_module._row_means(self.adjacency, w)
            extra += [within, np.abs(within), np.einsum("ij,ij->i", centroid[tf], w[gene])]
        if "lag" in groups:
            early, late = matrices["early"], matrices["late"]
            extra += [np.einsum("ij,ij->i", early[tf], late[gene]), np.einsum("ij,ij->i", late[tf], early[gene])]
        return popularity, np.column_stack([specific, *extra]) if extra else specific

    features_module.KnownGraph.pair_features = pair_features


def run_unit(data: Path, network: str, seed: int) -> list[dict]:
    if not hasattr(features_module, "_BASE_SPECIFIC"):
        features_module._BASE_SPECIFIC = features_module.TF_SPECIFIC_FEATURES
    dataset, kind = network.split(" ", 1)
    adata = gl.ds.beeline(data / kind / dataset / "TFs+500")
    matrices = gene_matrices(adata)
    split = gl.bm.split(adata.uns["true_network"], adata.var_names, seed=seed)
    rows = [
        {"model": "degree", "variant": "", "part": part, "tf_auroc": tf_auroc(t, gl.bm.degree_scores(split.prior, t))}
        for part, t in (("val", split.val), ("test", split.test))
    ]
    for variant, groups in VARIANTS.items():
        patch(matrices, groups)
        fitted = adata.copy()
        start = time.perf_counter()
        gl.tl.grn_fit(
            fitted, split.prior, model="degree_adjusted", groupby="condition", seed=seed, **split.fit_kwargs()
        )
        fit_s = time.perf_counter() - start
        for part in ("val", "test"):
            table = getattr(split, part)
            scored = gl.tl.grn_predict(fitted, pairs=table[["source", "target"]], inplace=False)
            rows.append(
                {
                    "model": "degree_adjusted",
                    "variant": variant,
                    "part": part,
                    "tf_auroc": tf_auroc(table, scored["score"].to_numpy()),
                    "fit_s": fit_s,
                }
            )
    return [{"data_set": network, "seed": seed, **row} for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args()
    machine = start_run(args.jobs)
    units = [(n, s) for n in NETWORKS for s in args.seeds]
    rows: list[dict] = []
    with worker_pool(args.jobs) as pool:
        futures = [pool.submit(run_unit, args.data, n, s) for n, s in units]
        for done, future in enumerate(as_completed(futures), 1):
            rows += future.result()
            print(f"{done}/{len(units)} units", flush=True)
    results = pd.DataFrame(rows).assign(commit=commit())
    fits = results[results["model"] != "degree"]
    table = fits.pivot_table(index="data_set", columns=["part", "variant"], values="tf_auroc")
    summary = pd.DataFrame(index=table.index)
    for part in ("val", "test"):
        summary[f"{part} base"] = table[(part, "base")]
        for variant in list(VARIANTS)[1:]:
            summary[f"{part} gain {variant}"] = table[(part, variant)] - table[(part, "base")]
    summary.loc["mean"] = summary.mean()
    summary = summary.round(4)
    fit_s = fits.groupby("variant")["fit_s"].median().round(1)
    command = f"python benchmarks/target_side.py --seeds {' '.join(map(str, args.seeds))} --jobs {args.jobs}"
    text = (
        "# Target-side expression evidence for degree_adjusted (issue 21, part 3)\n\n"
        f"Made by `{command}` ({machine}; load average {load_average():.1f} at the end).\n\n"
        "Per-TF AUROC of `degree_adjusted`, mean over seeds, on the per-TF split's validation pairs (decision) "
        "and test pairs (reported only): `base` as shipped, `gain <variant>` the variant minus base. Variants "
        "(see the script's docstring): `within` = within-condition co-variation (3 features), `lag` = "
        "condition-lagged correlation (2 features), `both`. Per-seed rows in `target_side.csv`.\n\n"
        + summary.reset_index().to_markdown(index=False)
        + "\n\nMedian fit seconds: "
        + ", ".join(f"{v} {s}" for v, s in fit_s.items())
        + "\n"
    )
    print(summary.to_string())
    args.out.mkdir(parents=True, exist_ok=True)
    results.to_csv(args.out / "target_side.csv", index=False)
    (args.out / "target_side.md").write_text(text)


if __name__ == "__main__":
    main()
