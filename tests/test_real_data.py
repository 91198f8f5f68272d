"""A quick fit on real BEELINE mDC data; skipped when ../shared/data is absent."""

import numpy as np

import grnlink as gl


def test_beeline_mdc_fit_predict_beats_chance(beeline_dir):
    adata = gl.ds.beeline(beeline_dir)
    split = gl.bm.split(adata.uns["true_network"], adata.var_names, seed=0)
    gl.tl.grn_fit(
        adata,
        split.prior,
        exclude=split.exclude,
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
