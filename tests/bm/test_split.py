import numpy as np
import pandas as pd
import pytest

import grnlink as gl
from grnlink.tl import _fit

PROTOCOL_CASES = [
    ("genelink", {}),
    ("tf_matched", {}),
    ("random", {}),
    ("cold_start", {"cold_start": "tf"}),
    ("cold_start", {"cold_start": "target"}),
]


def _keys(frame):
    return set(zip(frame["source"], frame["target"]))


def _genes_of(frame):
    return set(frame["source"]) | set(frame["target"])


@pytest.mark.parametrize(("protocol", "options"), PROTOCOL_CASES)
def test_every_protocol_keeps_parts_disjoint(truth, adata, protocol, options):
    split = gl.bm.split(truth, adata.var_names, protocol=protocol, seed=1, **options)
    parts = {name: _keys(getattr(split, name)) for name in ("train", "val", "test", "withheld")}
    for a in parts:
        for b in parts:
            if a < b:
                assert not parts[a] & parts[b], (a, b)
    truth_keys = _keys(truth)
    for name in ("train", "val", "test"):
        frame = getattr(split, name)
        assert len(frame) == len(_keys(frame)), "duplicate pairs"
        labelled_edges = _keys(frame[frame.label == 1])
        assert labelled_edges <= truth_keys
        assert not _keys(frame[frame.label == 0]) & truth_keys
    assert split.sizes()["test_pos"] > 0 and split.sizes()["train_neg"] > 0


@pytest.mark.parametrize(("protocol", "options"), PROTOCOL_CASES)
def test_no_test_pair_reaches_training_through_grn_fit(truth, adata, fast, monkeypatch, protocol, options):
    seen = {}
    original = _fit._training_pairs

    def spy(*args, **kwargs):
        seen["train"], seen["val"] = original(*args, **kwargs)
        return seen["train"], seen["val"]

    monkeypatch.setattr(_fit, "_training_pairs", spy)
    split = gl.bm.split(truth, adata.var_names, protocol=protocol, seed=2, **options)
    gl.tl.grn_fit(adata, split.prior, **split.fit_kwargs(), model="cross_encoder", **fast)
    genes = np.asarray(adata.var_names)
    used_train = set(zip(genes[seen["train"].tf], genes[seen["train"].gene]))
    used_val = set(zip(genes[seen["val"].tf], genes[seen["val"].gene]))
    held = _keys(split.test) | _keys(split.withheld)
    assert not used_train & held, "a test pair reached training"
    assert not used_val & held, "a test pair reached validation"
    assert not used_train & used_val
    assert used_train == _keys(split.train), "training pairs are the split's, positives and negatives"


def test_cold_start_tfs_and_targets_never_appear_in_training(truth, adata):
    by_tf = gl.bm.split(truth, adata.var_names, protocol="cold_start", cold_start="tf", seed=0)
    test_tfs = set(by_tf.test["source"])
    assert test_tfs and not test_tfs & (_genes_of(by_tf.train) | _genes_of(by_tf.val))
    assert set(by_tf.test["target"]) == set(adata.var_names), "a held-out TF is scored against every gene"
    by_target = gl.bm.split(truth, adata.var_names, protocol="cold_start", cold_start="target", seed=0)
    test_targets = set(by_target.test["target"])
    assert test_targets and not test_targets & (_genes_of(by_target.train) | _genes_of(by_target.val))
    assert not test_targets & set(truth["source"])


def test_tf_matched_split_is_per_tf(truth, adata):
    split = gl.bm.split(truth, adata.var_names, seed=0)
    for tf, edges in truth.groupby("source"):
        n_targets = len(edges)
        test = split.test[split.test.source == tf]
        assert (test.label == 1).sum() == round(n_targets / 3)
        assert (test.label == 0).sum() == round((adata.n_vars - 1 - n_targets) / 3)
        n_train_pos = ((split.train.source == tf) & (split.train.label == 1)).sum()
        n_train_neg = ((split.train.source == tf) & (split.train.label == 0)).sum()
        assert n_train_neg == n_train_pos, "one same-TF negative per training positive"
    assert _keys(split.prior) == _keys(split.train[split.train.label == 1])


def test_genelink_follows_the_published_rules(truth, adata):
    tfs = list(truth["source"].unique()) + ["G0001", "G0002"]  # regulators without any known target
    split = gl.bm.split(truth, adata.var_names, protocol="genelink", tfs=tfs, seed=0)
    for tf, edges in truth.groupby("source"):
        n = len(edges)
        count = {
            part: ((getattr(split, part).source == tf) & (getattr(split, part).label == 1)).sum()
            for part in ("train", "val", "test")
        }
        if n >= 3:
            assert count["train"] + count["val"] == n * 2 // 3
            assert count["val"] == (n * 2 // 3) // 5
        assert sum(count.values()) == n
    sizes = split.sizes()
    assert sizes["train_neg"] == sizes["train_pos"] and sizes["val_neg"] == sizes["val_pos"]
    density = len(truth) / (truth["source"].nunique() * truth["target"].nunique())
    assert sizes["test_neg"] == int(sizes["test_pos"] // density - sizes["test_pos"])
    # test negatives are spread over every candidate regulator, also those without targets
    assert {"G0001", "G0002"} & set(split.test.loc[split.test.label == 0, "source"])


@pytest.mark.parametrize("protocol", ["genelink", "tf_matched", "random", "cold_start"])
def test_negative_ratio_scales_training_negatives_and_keeps_the_test_set(truth, adata, protocol):
    one = gl.bm.split(truth, adata.var_names, protocol=protocol, seed=3)
    five = gl.bm.split(truth, adata.var_names, protocol=protocol, seed=3, negative_ratio=5)
    pd.testing.assert_frame_equal(one.test, five.test)
    assert one.sizes()["train_pos"] == five.sizes()["train_pos"]
    assert five.sizes()["train_neg"] == pytest.approx(5 * one.sizes()["train_neg"], rel=0.02)


def test_random_split_is_70_15_15(truth, adata):
    sizes = gl.bm.split(truth, adata.var_names, protocol="random", seed=0).sizes()
    n_edges = sizes["train_pos"] + sizes["val_pos"] + sizes["test_pos"]
    assert sizes["test_pos"] == round(0.15 * n_edges)
    assert sizes["val_pos"] == pytest.approx(0.15 * n_edges, abs=1)
    assert sizes["test_neg"] == sizes["test_pos"]


@pytest.mark.parametrize(("protocol", "options"), PROTOCOL_CASES)
def test_same_seed_same_split(truth, adata, protocol, options):
    a = gl.bm.split(truth, adata.var_names, protocol=protocol, seed=4, **options)
    b = gl.bm.split(truth, adata.var_names, protocol=protocol, seed=4, **options)
    for part in ("train", "val", "test", "withheld"):
        pd.testing.assert_frame_equal(getattr(a, part), getattr(b, part))
    c = gl.bm.split(truth, adata.var_names, protocol=protocol, seed=5, **options)
    assert not a.test.equals(c.test)


def test_label_noise_flips_only_training_labels(truth, adata):
    split = gl.bm.split(truth, adata.var_names, seed=0)
    noisy = gl.bm.add_label_noise(split, 0.05, seed=0)
    flipped = (split.train["label"] != noisy.train["label"]).sum()
    assert flipped == round(0.05 * len(split.train))
    pd.testing.assert_frame_equal(split.test, noisy.test)
    pd.testing.assert_frame_equal(split.val, noisy.val)
    assert _keys(noisy.train) == _keys(split.train)


def test_degree_control_counts_training_edges():
    train = pd.DataFrame({"source": ["A", "A", "B"], "target": ["x", "y", "x"]})
    pairs = pd.DataFrame({"source": ["A", "B", "C"], "target": ["x", "z", "y"]})
    np.testing.assert_array_equal(gl.bm.degree_scores(train, pairs), [2 + 2, 1 + 0, 0 + 1])


def test_bad_split_arguments_are_rejected(truth, adata):
    with pytest.raises(gl.InputError, match="tf_matched"):
        gl.bm.split(truth, adata.var_names, protocol="leaky")
    with pytest.raises(gl.InputError, match="cold_start"):
        gl.bm.split(truth, adata.var_names, protocol="cold_start", cold_start="both")
    with pytest.raises(gl.InputError, match="negative_ratio"):
        gl.bm.split(truth, adata.var_names, negative_ratio=0)
    with pytest.raises(gl.InputError, match="tfs"):
        gl.bm.split(truth, adata.var_names, protocol="genelink", tfs=["NOT_A_GENE"])


def test_relabel_keeps_pairs_of_the_networks_tfs_and_labels_them_by_it():
    pairs = pd.DataFrame(
        {"source": ["A", "A", "A", "B", "C"], "target": ["C", "D", "E", "C", "A"], "label": [1, 0, 1, 1, 0]},
        index=[10, 11, 12, 13, 14],
    )
    network = pd.DataFrame({"source": ["a", "C", "C", "Z"], "target": ["D", "A", "E", "A"]})  # case-insensitive
    out = gl.bm.relabel(pairs, network, ["A", "B", "C", "D", "E"])
    assert out.index.tolist() == [10, 11, 12, 14]  # B has no edge in the network; Z is not a gene
    assert out["label"].tolist() == [0, 1, 0, 1]
    assert out["label"].dtype == np.int64


def test_relabel_without_source_column_raises():
    with pytest.raises(gl.InputError, match="source"):
        gl.bm.relabel(pd.DataFrame({"tf": ["A"], "target": ["B"]}), pd.DataFrame({"source": [], "target": []}), ["A"])
