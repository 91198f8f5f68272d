import numpy as np
import pandas as pd
import pytest

import grnlink as gl


def _pairs(labels, tfs=None):
    n = len(labels)
    return pd.DataFrame({"source": tfs or ["A"] * n, "target": [f"g{i}" for i in range(n)], "label": labels})


def test_per_tf_metrics_skip_single_class_tfs():
    test = pd.DataFrame({"source": ["A"] * 4 + ["B"] * 2, "target": list("abcdef"), "label": [1, 0, 1, 0, 0, 0]})
    per_tf = gl.bm.per_tf_metrics(test, np.array([0.9, 0.1, 0.8, 0.2, 0.5, 0.4]))
    assert per_tf.index.tolist() == ["A"] and per_tf.loc["A", "auroc"] == pytest.approx(1.0)


def test_threshold_comes_from_validation_not_test():
    val = _pairs([1, 1, 0, 0])
    val_scores = np.array([0.9, 0.8, 0.3, 0.2])  # best F1 at threshold 0.8
    test = _pairs([1, 0, 1, 0])
    scores = np.array([0.85, 0.75, 0.5, 0.1])  # at 0.8 only the first is called
    metrics = gl.bm.evaluate(test, scores, val=val, val_scores=val_scores)
    assert metrics["threshold"] == pytest.approx(0.8)
    assert metrics["accuracy"] == pytest.approx(3 / 4)
    assert metrics["f1"] == pytest.approx(2 * 1 / (1 + 2))
    no_val = gl.bm.evaluate(test, scores)
    assert np.isnan(no_val["f1"]) and np.isnan(no_val["accuracy"])
    assert no_val["auroc"] == metrics["auroc"]


def test_ranking_metrics_on_a_known_ranking():
    labels = [1, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    scores = np.linspace(1, 0, 10)  # positives at ranks 1 and 3
    metrics = gl.bm.evaluate(_pairs(labels), scores, k=2)
    assert metrics["precision_at_k"] == pytest.approx(0.5)
    assert metrics["epr"] == pytest.approx(0.5 / 0.2)  # top n_pos = 2: one hit; base rate 0.2
    assert metrics["auprc"] == pytest.approx((1 + 2 / 3) / 2)
    assert metrics["auprc_ratio"] == pytest.approx(metrics["auprc"] / 0.2)
    assert metrics["n_test_pos"] == 2 and metrics["n_test_neg"] == 8


def test_perfect_and_reversed_scores():
    labels = [1, 1, 0, 0, 0]
    good = gl.bm.evaluate(_pairs(labels), np.array([5, 4, 3, 2, 1.0]))
    bad = gl.bm.evaluate(_pairs(labels), np.array([1, 2, 3, 4, 5.0]))
    assert good["auroc"] == 1 and good["tf_auroc"] == 1 and good["epr"] == pytest.approx(1 / 0.4)
    assert bad["auroc"] == 0 and bad["precision_at_k"] == pytest.approx(0.4)


def test_per_tf_auroc_is_one_number_for_bm_tune_and_the_models():
    from grnlink import _metrics

    rng = np.random.default_rng(0)
    tf = rng.integers(0, 6, 200)
    label = (rng.random(200) < 0.3).astype(int)
    label[tf == 5] = 0  # a TF with one class only is left out everywhere
    scores = rng.random(200) + label * 0.3
    test = pd.DataFrame({"source": tf, "target": np.arange(200), "label": label})
    assert gl.bm.per_tf_metrics is _metrics.per_tf_metrics
    per_tf = gl.bm.per_tf_metrics(test, scores)
    assert per_tf.index.tolist() == [0, 1, 2, 3, 4]
    expected = per_tf["auroc"].mean()
    assert _metrics.mean_tf_auroc(tf, label, scores) == expected == gl.bm.evaluate(test, scores)["tf_auroc"]
    pooled = _metrics.ranking_metrics(label, scores, tf=tf)
    assert pooled["tf_auroc"] == expected and pooled["auroc"] == gl.bm.evaluate(test, scores)["auroc"]
    assert np.isnan(_metrics.mean_tf_auroc(tf, np.zeros(200), scores))
    assert all(np.isnan(v) for v in _metrics.ranking_metrics(np.ones(200), scores, tf=tf).values())


@pytest.mark.parametrize("decimals", [None, 1])
def test_grouped_ranking_equals_scikit_learn_per_group(decimals):
    # one sort for every TF must give each TF's roc_auc_score and average_precision_score, ties (decimals=1) included
    from sklearn.metrics import average_precision_score, roc_auc_score

    from grnlink._metrics import grouped_ranking

    rng = np.random.default_rng(3)
    codes = rng.integers(0, 25, 2000)
    label = (rng.random(2000) < rng.random(25)[codes]).astype(int)
    scores = rng.random(2000) + label * 0.3
    scores = scores if decimals is None else np.round(scores, decimals)
    auroc, auprc, n_pos, n_neg = grouped_ranking(codes, label, scores)
    for group in range(25):
        y, s = label[codes == group], scores[codes == group]
        assert (n_pos[group], n_neg[group]) == (y.sum(), len(y) - y.sum())
        if 0 < y.sum() < len(y):
            assert auroc[group] == pytest.approx(roc_auc_score(y, s), abs=1e-12)
            assert auprc[group] == pytest.approx(average_precision_score(y, s), abs=1e-12)
        else:
            assert np.isnan(auroc[group]) and np.isnan(auprc[group])
    with pytest.raises(ValueError, match="finite"):
        grouped_ranking(codes, label, np.where(codes == 0, np.nan, scores))
