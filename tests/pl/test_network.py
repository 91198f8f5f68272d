import matplotlib.colors as mcolors
import numpy as np
import pytest

import grnlink as gl
from grnlink.pl._network import scaled_widths, star_positions
from grnlink.pl._utils import NOVEL_COLOR, PRIOR_COLOR


def test_network_draws_top_k_edges_coloured_prior_and_novel(fitted, truth):
    tf = truth["source"].value_counts().index[0]
    top_k = int(truth["source"].value_counts().iloc[0]) + 5  # more than its prior targets: some are novel
    ax = gl.pl.network(fitted, tf, top_k=top_k, show=False)
    assert len(ax.lines) == top_k
    colours = {mcolors.to_hex(line.get_color()) for line in ax.lines}
    assert colours == {PRIOR_COLOR, NOVEL_COLOR}
    widths = [line.get_linewidth() for line in ax.lines]
    assert widths == sorted(widths, reverse=True)  # clockwise by decreasing score
    assert max(widths) == pytest.approx(4.0) and min(widths) == pytest.approx(0.5)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["in prior", "novel"]
    labels = {t.get_text() for t in ax.texts}
    assert tf in labels and len(labels) == top_k + 1


def test_network_draws_into_given_axes_and_matches_case_insensitively(fitted):
    import matplotlib.pyplot as plt

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
    np.testing.assert_allclose(scaled_widths(np.array([1.0, 3.0, 2.0])), [0.5, 4.0, 2.25])
    np.testing.assert_allclose(scaled_widths(np.array([0.7, 0.7])), [2.25, 2.25])
