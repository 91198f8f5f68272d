"""A quick fit on real BEELINE mDC data; skipped when ../shared/data is absent."""

import numpy as np
import pytest

import grnlink as gl

pytestmark = pytest.mark.slow  # real BEELINE data


def test_beeline_mdc_fit_predict_beats_chance(beeline_dir):
    adata = gl.ds.beeline(beeline_dir)
    split = gl.bm.split(adata.uns["true_network"], adata.var_names, seed=0)
    gl.tl.grn_fit(
        adata,
        split.prior,
        **split.fit_kwargs(),
        model="cross_encoder",
        groupby="time_point",
        n_ensemble=1,
        max_epochs=15,
        seed=0,
    )
    scores = gl.tl.grn_predict(adata, pairs=split.test)["score"].to_numpy()
    metrics = gl.bm.evaluate(split.test, scores)
    assert np.isfinite(scores).all()
    assert metrics["tf_auroc"] > 0.65


def test_genelink_split_reproduces_the_published_mdc_setting(beeline_specific_dir):
    """Paper 003, Table 1 (GENELink's protocol): mDC cell-type-specific network, 20 TFs, 443 targets, density 0.085."""
    adata = gl.ds.beeline(beeline_specific_dir)
    truth = adata.uns["true_network"]
    assert truth["source"].nunique() == 20 and truth["target"].nunique() == 443
    tfs = adata.var_names[adata.var["is_tf"]]
    split = gl.bm.split(truth, adata.var_names, protocol="genelink", tfs=tfs, seed=0)
    sizes = split.sizes()
    density = len(truth) / (20 * 443)
    assert round(density, 3) == 0.085
    assert sizes["train_pos"] + sizes["val_pos"] + sizes["test_pos"] == len(truth)
    degrees = truth.groupby("source").size()
    big = degrees[degrees >= 3]
    train_pos = split.train[split.train.label == 1]
    val_pos = split.val[split.val.label == 1]
    n_big_train = train_pos.source.isin(big.index).sum() + val_pos.source.isin(big.index).sum()
    assert n_big_train == sum(n * 2 // 3 for n in big)
    assert (degrees == 2).sum() == train_pos.source.isin(degrees[degrees == 2].index).sum()
    assert sizes["val_pos"] == sum((n * 2 // 3) // 5 for n in big)
    assert sizes["train_neg"] == sizes["train_pos"] and sizes["val_neg"] == sizes["val_pos"]
    assert sizes["test_pos"] / (sizes["test_pos"] + sizes["test_neg"]) == pytest.approx(density, rel=0.01)
    # the shortcut the protocol rewards: most test negatives belong to TFs without a single known target
    negative_tfs = split.test.loc[split.test.label == 0, "source"]
    assert (~negative_tfs.isin(truth["source"])).mean() > 0.8
