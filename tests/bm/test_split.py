import numpy as np
import pandas as pd
import pytest

import grnlink as gl


def _keys(frame):
    return set(zip(frame["source"], frame["target"]))


def test_tf_matched_split_is_leak_free_and_per_tf(truth, adata):
    split = gl.bm.split(truth, adata.var_names, seed=0)
    assert not _keys(split.train) & _keys(split.test)
    for tf, edges in truth.groupby("source"):
        n_targets = len(edges)
        test_pos = split.test[(split.test.source == tf) & (split.test.label == 1)]
        assert len(test_pos) == round(n_targets / 3)
        test_neg = split.test[(split.test.source == tf) & (split.test.label == 0)]
        n_non_targets = adata.n_vars - 1 - n_targets
        assert len(test_neg) == round(n_non_targets / 3)
    assert _keys(split.prior) == _keys(split.train[split.train.label == 1])


def test_split_with_exclude_keeps_test_pairs_out_of_training(truth, adata, fast, monkeypatch):
    from grnlink.tl import _fit

    seen = {}
    original = _fit._training_pairs

    def spy(*args, **kwargs):
        train, val = original(*args, **kwargs)
        seen["train"], seen["val"] = train, val
        return train, val

    monkeypatch.setattr(_fit, "_training_pairs", spy)
    split = gl.bm.split(truth, adata.var_names, seed=2)
    gl.tl.grn_fit(adata, split.prior, exclude=split.exclude, **fast)
    genes = np.asarray(adata.var_names)
    test_keys = _keys(split.test)
    for pairs in (seen["train"], seen["val"]):
        used = set(zip(genes[pairs.tf], genes[pairs.gene]))
        assert not used & test_keys


def test_same_seed_same_split(truth, adata):
    a = gl.bm.split(truth, adata.var_names, seed=4)
    b = gl.bm.split(truth, adata.var_names, seed=4)
    pd.testing.assert_frame_equal(a.test, b.test)


def test_degree_control_counts_training_edges():
    train = pd.DataFrame({"source": ["A", "A", "B"], "target": ["x", "y", "x"]})
    pairs = pd.DataFrame({"source": ["A", "B", "C"], "target": ["x", "z", "y"]})
    np.testing.assert_array_equal(gl.bm.degree_scores(train, pairs), [2 + 2, 1 + 0, 0 + 1])


def test_per_tf_metrics_skip_single_class_tfs():
    test = pd.DataFrame({"source": ["A"] * 4 + ["B"] * 2, "target": list("abcdef"), "label": [1, 0, 1, 0, 0, 0]})
    per_tf = gl.bm.per_tf_metrics(test, np.array([0.9, 0.1, 0.8, 0.2, 0.5, 0.4]))
    assert per_tf.index.tolist() == ["A"] and per_tf.loc["A", "auroc"] == pytest.approx(1.0)


def test_unknown_protocol_is_rejected(truth, adata):
    with pytest.raises(gl.InputError, match="tf_matched"):
        gl.bm.split(truth, adata.var_names, protocol="leaky")
