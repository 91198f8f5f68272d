"""precision (at the real base rate) and specificity (against the target's other TFs) in every edge table."""

from __future__ import annotations

import json

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

import grnlink as gl
from grnlink.tl._precision import background_pairs, estimated_precision, fit_precision


@pytest.fixture
def fitted(small_fit, fast):
    return small_fit(model="two_tower", groupby="cell_type", prior_coverage=0.6, **fast)


def test_estimated_precision_matches_the_true_tail_precision_of_known_distributions():
    """Edges ~ N(2, 1), non-edges ~ N(0, 1), 1,000 missing edges among 100,000 candidates.

    The power law is fitted to the upper half of the held-out edges (scores above about 2): the top of the
    ranking, where a user reads the precision, is checked."""
    rng = np.random.default_rng(0)
    n_missing, n_candidates = 1_000, 100_000
    held_out = rng.normal(2.0, 1.0, 400)
    edges, others = rng.normal(2.0, 1.0, n_missing), rng.normal(0.0, 1.0, n_candidates - n_missing)
    background = rng.choice(np.concatenate([edges, others]), size=20_000, replace=False)
    coverage = 0.5  # n_prior = n_missing: the prior holds as many edges as are missing
    est = fit_precision(held_out, background, n_prior=n_missing, n_candidates=n_candidates, prior_coverage=coverage)
    for s in (2.0, 3.0, 4.0):
        true_tail = n_missing * norm.sf(s, 2) / (n_missing * norm.sf(s, 2) + (n_candidates - n_missing) * norm.sf(s))
        estimate = float(estimated_precision(est, np.array([s]))[0])
        print(f"s={s}: estimated {estimate:.3f}, true {true_tail:.3f}")
        assert true_tail / 1.5 < estimate < true_tail * 1.5


def test_precision_rises_with_coverage_assumed_lower():
    rng = np.random.default_rng(1)
    est = fit_precision(
        rng.normal(1, 1, 100), rng.normal(0, 1, 3000), n_prior=300, n_candidates=30_000, prior_coverage=0.5
    )
    scores = np.array([0.0, 1.0, 2.0])
    assert (estimated_precision(est, scores, 0.2) > estimated_precision(est, scores, 0.8)).all()


def test_background_pairs_avoid_blocked_and_self_pairs():
    rng = np.random.default_rng(0)
    blocked = np.arange(0, 400, 3)
    tf, gene = background_pairs(np.array([0, 1, 2, 3]), 100, blocked, 150, rng)
    keys = tf * 100 + gene
    assert len(keys) == 150 and len(np.unique(keys)) == 150
    assert not np.isin(keys, blocked).any() and not (tf == gene).any()


def test_precision_is_monotone_in_the_score_and_distinct_for_the_best_edges(fitted):
    edges = gl.tl.grn_predict(fitted, inplace=False).sort_values("score", ascending=False)
    precision = edges["precision"].to_numpy()
    assert np.all(np.diff(precision) <= 1e-12)
    best = edges.head(100)
    assert best["precision"].nunique() == best["score"].nunique()
    assert best["precision"].between(0, 1).all()


def test_prior_coverage_is_stored_and_can_be_overridden(fitted):
    stored = fitted.uns["grn"]["precision"]
    assert stored["prior_coverage"] == pytest.approx(0.6)
    default = gl.tl.grn_predict(fitted, top_k=5, inplace=False)
    lower = gl.tl.grn_predict(fitted, top_k=5, inplace=False, prior_coverage=0.3)
    assert (lower["precision"] > default["precision"]).all()
    again = gl.tl.grn_predict(fitted, top_k=5, inplace=False, prior_coverage=0.6)
    pd.testing.assert_frame_equal(default, again)
    novel = gl.tl.grn_novel(fitted, top_k=2, prior_coverage=0.3)
    assert novel["precision"].gt(0).all()


def test_precision_and_specificity_survive_h5ad(fitted, tmp_path):
    before = gl.tl.grn_predict(fitted, top_k=8)
    fitted.write_h5ad(tmp_path / "f.h5ad")
    after = gl.tl.grn_predict(ad.read_h5ad(tmp_path / "f.h5ad"), top_k=8)
    pd.testing.assert_frame_equal(before, after)


def test_a_format_4_entry_has_nan_precision_with_a_warning(fitted, log_lines, tmp_path):
    before = gl.tl.grn_predict(fitted, top_k=3)
    entry = fitted.uns["grn"]
    entry["format_version"] = 4
    del entry["precision"], entry["target_stats"]
    schema = {k: v for k, v in json.loads(entry["schema"]).items() if not k.startswith("precision/")}
    entry["schema"] = json.dumps(schema)
    fitted.write_h5ad(tmp_path / "format4.h5ad")
    old = ad.read_h5ad(tmp_path / "format4.h5ad")
    edges = gl.tl.grn_predict(old, top_k=3)
    assert edges["precision"].isna().all()
    np.testing.assert_allclose(edges["specificity"], before["specificity"])  # computed again when not stored
    assert any("no precision estimate" in line for line in log_lines)
    with pytest.raises(gl.InputError, match="min_precision needs a precision estimate"):
        gl.tl.grn_network(old, min_precision=0.5)


def test_specificity_is_the_score_in_standard_deviations_of_the_targets_scores(fitted):
    edges = gl.tl.grn_predict(fitted, inplace=False).astype({"source": str, "target": str})
    by_target = edges.groupby("target")["score"]
    expected = (edges["score"] - by_target.transform("mean")) / by_target.transform(lambda s: s.std(ddof=0))
    np.testing.assert_allclose(edges["specificity"], expected, rtol=1e-6, atol=1e-9)


def test_rank_by_specificity_keeps_each_tfs_most_specific_targets(fitted):
    full = gl.tl.grn_predict(fitted, inplace=False).astype({"source": str, "target": str})
    top = gl.tl.grn_predict(fitted, top_k=5, rank_by="specificity", inplace=False).astype({"source": str})
    for tf, group in full.groupby("source"):
        best = set(group.nlargest(5, "specificity")["target"])
        assert set(top.loc[top["source"] == tf, "target"].astype(str)) == best
    by_score = gl.tl.grn_network(fitted, top_k=5)
    by_specificity = gl.tl.grn_network(fitted, top_k=5, rank_by="specificity")
    assert by_specificity["specificity"].mean() > by_score["specificity"].mean()
    novel = gl.tl.grn_novel(fitted, top_k=3, rank_by="specificity")
    assert novel["specificity"].is_monotonic_decreasing


def test_specificity_ranking_spreads_novel_targets_over_more_genes(fitted):
    def most_common_share(novel):
        return novel["target"].value_counts().iloc[0] / novel["source"].nunique()

    by_score = gl.tl.grn_novel(fitted, top_k=5)
    by_specificity = gl.tl.grn_novel(fitted, top_k=5, rank_by="specificity")
    print(
        f"most frequent novel target: {most_common_share(by_score):.2f} of TFs by score, "
        f"{most_common_share(by_specificity):.2f} by specificity"
    )
    assert most_common_share(by_specificity) <= most_common_share(by_score)
    assert by_specificity["target"].nunique() >= by_score["target"].nunique()


def test_fit_rejects_a_bad_prior_coverage_and_leaves_adata_untouched(adata, truth, fast):
    before = set(adata.uns)
    for bad in (0, 1.5, "half", None):
        with pytest.raises(gl.InputError, match="prior_coverage"):
            gl.tl.grn_fit(adata, truth, model="two_tower", prior_coverage=bad, **fast)
    assert set(adata.uns) == before
