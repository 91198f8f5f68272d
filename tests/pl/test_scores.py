import pytest

import grnlink as gl


def test_scores_histograms_prior_and_novel_with_counts(fitted):
    edges = fitted.uns["grn"]["edges"]
    ax = gl.pl.scores(fitted, bins=20, show=False)
    n_prior = int(edges["in_prior"].sum())
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == [f"in prior (n={n_prior:,})", f"novel (n={len(edges) - n_prior:,})"]
    assert len(ax.patches) == 2  # one filled step histogram per group


def test_scores_without_stored_edges_ask_for_grn_predict(fitted):
    fresh = fitted.copy()
    del fresh.uns["grn"]["edges"]
    with pytest.raises(gl.InputError, match=r"gl\.tl\.grn_predict\(adata, key='grn'\)"):
        gl.pl.scores(fresh, show=False)
    with pytest.raises(gl.InputError, match="bins"):
        gl.pl.scores(fitted, bins=0, show=False)
