import dataclasses

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pytest

import grnlink as gl
from grnlink.pl._network import SIGN_COLORS, prior_signs, rank_widths, star_positions, value_widths
from grnlink.tl._store import load_fitted

ACTIVATION, REPRESSION, UNKNOWN = (SIGN_COLORS[s] for s in (1, -1, 0))


def _edges(ax):
    """(target, colour, line style, width) of each drawn edge, in drawing order."""
    return [
        (line.get_gid().split("->")[1], mcolors.to_hex(line.get_color()), line.get_linestyle(), line.get_linewidth())
        for line in ax.lines
    ]


@pytest.mark.slow
def test_network_colours_prior_edges_by_their_sign_and_dashes_novel_ones(fitted, truth):
    seen = set()
    for tf, prior in truth.groupby("source"):
        prior = prior.set_index("target")["weight"]
        top_k = len(prior) + 5  # more than its prior targets: some are novel
        ax = gl.pl.network(fitted, tf, top_k=top_k, show=False)
        drawn = _edges(ax)
        assert len(drawn) == top_k
        for target, colour, style, _ in drawn:
            if target in prior.index:
                assert style == "-" and colour == (ACTIVATION if prior[target] > 0 else REPRESSION)
            else:
                assert style == "--" and colour == UNKNOWN
        colours = {c for _, c, _, _ in drawn}
        if colours == {ACTIVATION, REPRESSION, UNKNOWN}:
            seen.add(tf)
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        signs = ["activation", "repression"] + (["sign unknown"] if UNKNOWN in colours else [])
        assert labels == [*signs, "in prior", "novel", "score rank 1", f"score rank {top_k}"]
        assert {t.get_text() for t in ax.texts} == {tf, *[target for target, *_ in drawn]}
        plt.close(ax.figure)
    assert seen  # some TF shows activating, repressing and novel edges together


def test_network_widths_fall_with_the_rank_and_stay_distinct(fitted):
    ax = gl.pl.network(fitted, "TF001", top_k=10, show=False)
    widths = [w for *_, w in _edges(ax)]
    assert widths == sorted(widths, reverse=True)  # clockwise by decreasing score
    assert max(widths) == pytest.approx(4.0) and min(widths) == pytest.approx(0.5)
    assert np.diff(widths).max() < -0.3  # each next target visibly thinner, however close the scores


def test_network_without_prior_weights_draws_every_edge_unsigned(fitted):
    model = load_fitted(fitted, "grn")
    tf_pos, gene_pos = model.prior_source[:6], model.prior_target[:6]
    weights = model.prior_weight[:6]
    np.testing.assert_array_equal(prior_signs(model, tf_pos, gene_pos), np.sign(weights))
    np.testing.assert_array_equal(prior_signs(model, gene_pos, tf_pos), 0)  # reversed pairs are not prior edges
    weightless = dataclasses.replace(model, prior_weight=None)
    np.testing.assert_array_equal(prior_signs(weightless, tf_pos, gene_pos), 0)


def test_network_draws_into_given_axes_and_matches_case_insensitively(fitted):
    _, ax = plt.subplots()
    assert gl.pl.network(fitted, "tf001", top_k=4, ax=ax, show=False) is ax
    assert len(ax.lines) == 4 and "TF001" in {t.get_text() for t in ax.texts}


def test_network_unknown_tf_raises_listing_the_model_tfs(fitted):
    with pytest.raises(gl.InputError, match=r"'NOT_A_GENE' is not a gene.*TF001"):
        gl.pl.network(fitted, "NOT_A_GENE", show=False)
    with pytest.raises(gl.InputError, match="top_k"):
        gl.pl.network(fitted, "TF001", top_k=0, show=False)


def test_star_helpers_place_clockwise_and_scale_widths():
    xy = star_positions(4)
    np.testing.assert_allclose(xy, [[0, 1], [1, 0], [0, -1], [-1, 0]], atol=1e-12)
    np.testing.assert_allclose(rank_widths(np.array([1.0, 3.0, 2.0])), [0.5, 4.0, 2.25])
    # a narrow range of high scores: the canonical (highest) target is widest, each width distinct
    np.testing.assert_allclose(
        rank_widths(np.array([0.9999, 0.99, 0.995, 0.9901])), [4.0, 0.5, 0.5 + 3.5 * 2 / 3, 0.5 + 3.5 / 3]
    )
    np.testing.assert_allclose(rank_widths(np.array([0.7, 0.7])), [2.25, 2.25])
    np.testing.assert_allclose(rank_widths(np.array([3.0, 1.0, 3.0])), [3.125, 0.5, 3.125])  # ties share
    np.testing.assert_allclose(value_widths(np.array([0.0, 0.25, 1.0, 2.0, np.nan])), [0.5, 1.375, 4.0, 4.0, 0.5])
