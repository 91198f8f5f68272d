import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import grnlink as gl
from grnlink.pl._network import SIGN_COLORS


@pytest.fixture
def net():
    """Two TFs sharing APOA1; signed, with precision, probability, score and in_prior."""
    return pd.DataFrame(
        {
            "source": ["HNF4A", "HNF4A", "HNF4A", "HNF4A", "FOXA2", "FOXA2", "FOXA2"],
            "target": ["APOA1", "CYP3A4", "TTR", "G6PC1", "APOA1", "ALB", "SERPINA1"],
            "weight": [0.9, -0.6, 0.7, 0.2, 0.8, -0.5, 0.4],
            "score": [5.0, 3.0, 4.0, 1.0, 4.5, 3.5, 2.0],
            "probability": [0.9, 0.6, 0.7, 0.2, 0.8, 0.5, 0.4],
            "precision": [0.8, 0.3, 0.5, 0.05, 0.6, 0.45, 0.2],
            "specificity": [2.0, 1.0, 1.5, 0.1, 1.8, 1.2, 0.3],
            "in_prior": [True, False, True, False, True, False, True],
        }
    )


def _drawn(ax):
    """{(source, target): line} of the drawn edges."""
    return {tuple(line.get_gid().split("->")): line for line in ax.lines}


def test_regulon_colours_signs_dashes_novel_edges_and_draws_shared_targets_once(net):
    before = net.copy(deep=True)
    ax = gl.pl.regulon(tfs=["HNF4A", "FOXA2"], net=net, show=False)
    pd.testing.assert_frame_equal(net, before)
    lines = _drawn(ax)
    assert set(lines) == set(zip(net["source"], net["target"]))
    for row in net.itertuples(index=False):
        line = lines[row.source, row.target]
        assert mcolors.to_hex(line.get_color()) == SIGN_COLORS[1 if row.weight > 0 else -1]
        assert line.get_linestyle() == ("-" if row.in_prior else "--")
    assert mcolors.to_hex(lines["HNF4A", "APOA1"].get_color()) != mcolors.to_hex(lines["HNF4A", "CYP3A4"].get_color())
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("APOA1") == 1 and len(texts) == 2 + net["target"].nunique()  # TFs and targets, each once
    assert len(ax.collections[0].get_offsets()) == net["target"].nunique()
    # the shared target ends both of its edges at one point
    assert lines["HNF4A", "APOA1"].get_xydata()[1].tolist() == lines["FOXA2", "APOA1"].get_xydata()[1].tolist()


def test_regulon_widths_grow_with_precision_and_the_legend_says_so(net):
    ax = gl.pl.regulon(tfs=["HNF4A", "FOXA2"], net=net, show=False)
    lines = _drawn(ax)
    widths = np.array([lines[s, t].get_linewidth() for s, t in zip(net["source"], net["target"])])
    order = np.argsort(net["precision"].to_numpy())
    assert np.all(np.diff(widths[order]) > 0)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["activation", "repression", "in prior", "novel", "precision 0.1", "precision 0.5", "precision 1"]
    keys = ax.get_legend().legend_handles
    assert keys[2].get_linestyle() != keys[3].get_linestyle()
    assert keys[4].get_linewidth() < keys[5].get_linewidth() < keys[6].get_linewidth()


@pytest.mark.parametrize(
    "drop, nan, column",
    [([], [], "precision"), (["precision"], [], "probability"), ([], ["precision"], "probability")]
    + [(["precision", "probability"], [], "|weight|")],
)
def test_regulon_widths_fall_back_to_probability_then_weight(net, drop, nan, column):
    table = net.drop(columns=drop).assign(**{c: np.nan for c in nan})
    ax = gl.pl.regulon(tfs="HNF4A", net=table, show=False)
    assert [t.get_text() for t in ax.get_legend().get_texts()][-1] == f"{column} 1"
    lines = _drawn(ax)
    values = table[table["source"] == "HNF4A"].set_index("target")
    values = values["weight"].abs() if column == "|weight|" else values[column]
    widths = pd.Series({t: lines["HNF4A", t].get_linewidth() for t in values.index})
    assert (widths.sort_values().index == values.sort_values().index).all()


def test_regulon_keeps_each_tfs_top_k_by_score_and_places_targets_by_tf(net):
    ax = gl.pl.regulon(tfs=["FOXA2", "hnf4a"], net=net, top_k=2, show=False)
    assert set(_drawn(ax)) == {("FOXA2", "APOA1"), ("FOXA2", "ALB"), ("HNF4A", "APOA1"), ("HNF4A", "TTR")}
    heights = {t.get_text(): t.get_position()[1] for t in ax.texts}
    assert heights["FOXA2"] > heights["HNF4A"]  # TFs in the order asked
    assert heights["ALB"] > heights["APOA1"] > heights["TTR"]  # FOXA2's own, shared, HNF4A's own


def test_regulon_without_in_prior_draws_solid_lines_and_no_style_key(net):
    table = net.drop(columns="in_prior").assign(weight=[0.9, 0, 0, 0, 0.8, 0.0, -0.4])
    ax = gl.pl.regulon(tfs="FOXA2", net=table, show=False)
    assert {line.get_linestyle() for line in ax.lines} == {"-"}
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "novel" not in labels and "sign unknown" in labels
    assert mcolors.to_hex(_drawn(ax)["FOXA2", "ALB"].get_color()) == SIGN_COLORS[0]


def test_regulon_bad_input_raises_input_error(net):
    with pytest.raises(gl.InputError, match=r"\['MYC'\] are not regulators.*'HNF4A', 'FOXA2'"):
        gl.pl.regulon(tfs=["HNF4A", "MYC"], net=net, show=False)
    with pytest.raises(gl.InputError, match="pass tfs"):
        gl.pl.regulon(net=net, show=False)
    with pytest.raises(gl.InputError, match="pass adata"):
        gl.pl.regulon(tfs="HNF4A", show=False)
    with pytest.raises(gl.InputError, match=r"lacks the column\(s\) \['weight'\]"):
        gl.pl.regulon(tfs="HNF4A", net=net.drop(columns="weight"), show=False)
    with pytest.raises(gl.InputError, match="top_k"):
        gl.pl.regulon(tfs="HNF4A", net=net, top_k=0, show=False)
    long = pd.concat([net.assign(group="a"), net.assign(group="b")], ignore_index=True)
    with pytest.raises(gl.InputError, match=r"Select one group first, e.g. net\[net\['group'\] == 'a'\]"):
        gl.pl.regulon(tfs="HNF4A", net=long, show=False)
    assert len(gl.pl.regulon(tfs="HNF4A", net=long[long["group"] == "b"], show=False).lines) == 4


def test_regulon_of_a_fitted_model_draws_its_network_and_leaves_adata_alone(fitted):
    _, given = plt.subplots()
    ax = gl.pl.regulon(fitted, tfs=["TF003", "TF007"], top_k=3, ax=given, show=False)
    assert ax is given
    expected = gl.tl.grn_network(fitted, key="grn", top_k=3)
    expected = expected[expected["source"].isin(["TF003", "TF007"])]
    assert set(_drawn(ax)) == set(zip(expected["source"], expected["target"]))
    signs = {(s, t): int(np.sign(w)) for s, t, w in expected[["source", "target", "weight"]].itertuples(index=False)}
    assert all(mcolors.to_hex(line.get_color()) == SIGN_COLORS[signs[e]] for e, line in _drawn(ax).items())
    with pytest.raises(gl.InputError, match=r"\['NOPE'\] are not regulators.*key 'grn'"):
        gl.pl.regulon(fitted, tfs="NOPE", show=False)


def test_regulon_saves_as_scanpy_does(net, figdir, no_autoshow):
    assert gl.pl.regulon(tfs="HNF4A", net=net, save="_hnf4a.png") is not None
    assert (figdir / "regulon_hnf4a.png").stat().st_size > 0
