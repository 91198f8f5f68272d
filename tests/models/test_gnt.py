"""``gnt`` (paper 004): gene-token transformer, Hadamard edge embeddings, SVM."""

import anndata as ad
import numpy as np
import pytest
import torch
from sklearn.svm import SVC, LinearSVC

import grnlink as gl
from grnlink.models import gnt


@pytest.fixture(scope="module")
def held_out(simulated):
    adata = simulated(seed=0)  # 500 genes, 50 TFs, 2000 cells
    split = gl.bm.split(adata.uns["true_network"], adata.var_names, seed=0)
    return adata, split


def _predict(adata, pairs=None):
    return gl.tl.grn_predict(adata, pairs=pairs)["score"].to_numpy()


def test_gnt_is_registered():
    assert "gnt" in gl.models.available_models()


@pytest.mark.slow
def test_gnt_beats_chance_on_held_out_simulated_edges(held_out):
    adata, split = held_out
    adata = adata.copy()
    gl.tl.grn_fit(adata, split.prior, **split.fit_kwargs(), model="gnt", groupby="cell_type", seed=0, n_ensemble=1)
    auroc = gl.bm.evaluate(split.test, _predict(adata, split.test))["tf_auroc"]
    degree = gl.bm.evaluate(split.test, gl.bm.degree_scores(split.prior, split.test))["tf_auroc"]
    print(f"gnt: per-TF AUROC {auroc:.3f} on held-out simulated edges, degree control {degree:.3f}")
    # measured with one member: 0.683 at seed 0, degree control 0.362, pcc 0.866 (gnt does not beat it; see
    # test_signal.py). Before issue 23 (signal=0): 0.678, 0.658, 0.671 for seeds 0, 1, 2, pcc 0.611
    assert auroc > 0.63
    assert auroc > degree + 0.25


def test_gnt_same_seed_same_scores(adata, truth, fast):
    scores = []
    for _ in range(2):
        gl.tl.grn_fit(adata, truth, model="gnt", groupby="cell_type", seed=3, **{**fast, "max_epochs": 4})
        scores.append(_predict(adata))
    np.testing.assert_array_equal(scores[0], scores[1])


def test_gnt_scores_survive_h5ad(adata, truth, fast, tmp_path):
    gl.tl.grn_fit(adata, truth, model="gnt", groupby="cell_type", **fast)
    before = _predict(adata)
    adata.write_h5ad(tmp_path / "gnt.h5ad")
    after = _predict(ad.read_h5ad(tmp_path / "gnt.h5ad"))
    np.testing.assert_array_equal(before, after)


@pytest.mark.slow
def test_gnt_gradients_are_reproducible_on_several_threads():
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        x = torch.randn(300, 8, generator=torch.Generator().manual_seed(0))
        module = gl.models.get_model_class("gnt")(dropout=0.0).build(x, 300)
        pairs = torch.randint(0, 300, (2, 2048), generator=torch.Generator().manual_seed(1))

        def gradients():
            module.zero_grad()
            module(pairs[0], pairs[1]).pow(2).mean().backward()
            return [p.grad.clone() for p in module.parameters()]

        first = gradients()
        for _ in range(3):
            assert all(torch.equal(a, b) for a, b in zip(first, gradients()))
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize("kernel", gnt.SVM_KERNELS)
def test_numpy_decision_function_equals_sklearn(kernel):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 8))
    y = (x[:, 0] * x[:, 1] + 0.3 * rng.normal(size=300) > 0).astype(int)
    state = gnt.fit_svm(x, y, kernel=kernel, c=0.7, seed=0)
    if kernel == "rbf":
        gamma = float(state["gamma"][0])
        assert gamma == pytest.approx(1 / (x.shape[1] * x.var()))  # sklearn's gamma="scale"
        reference = SVC(kernel="rbf", C=0.7, gamma="scale", class_weight="balanced").fit(x, y)
    else:
        reference = LinearSVC(C=0.7, class_weight="balanced", random_state=0).fit(x, y)
    new = rng.normal(size=(50, 8))
    np.testing.assert_allclose(gnt.svm_decision(new, state), reference.decision_function(new), rtol=1e-9, atol=1e-9)


def test_rbf_decision_function_is_blocked_without_changing_values(monkeypatch):
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(120, 4)), np.tile([0, 1], 60)
    state = gnt.fit_svm(x, y, kernel="rbf", c=1.0, seed=0)
    whole = gnt.svm_decision(x, state)
    monkeypatch.setattr(gnt, "_KERNEL_CHUNK_ELEMENTS", 7 * len(state["support_vectors"]))
    np.testing.assert_allclose(gnt.svm_decision(x, state), whole, rtol=1e-12)


def test_gnt_transformer_and_svm_see_training_pairs_only(adata, truth, fast, monkeypatch):
    from grnlink.models import _neural
    from grnlink.tl import _fit

    seen = {"trainer": [], "svm": []}
    original_pairs, original_train, original_svm = _fit._training_pairs, _neural.train_module, gnt.fit_svm

    def spy_pairs(*args, **kwargs):
        seen["train"], seen["val"] = original_pairs(*args, **kwargs)
        return seen["train"], seen["val"]

    def spy_train(module, train, val, **kwargs):
        seen["trainer"].append((train, val))
        return original_train(module, train, val, **kwargs)

    def spy_svm(x, y, **kwargs):
        seen["svm"].append((np.array(x), np.array(y)))
        return original_svm(x, y, **kwargs)

    monkeypatch.setattr(_fit, "_training_pairs", spy_pairs)
    monkeypatch.setattr(_neural, "train_module", spy_train)
    monkeypatch.setattr(gnt, "fit_svm", spy_svm)
    split = gl.bm.split(truth, adata.var_names, seed=2)
    gl.tl.grn_fit(adata, split.prior, **split.fit_kwargs(), model="gnt", groupby="cell_type", **fast)

    genes = np.asarray(adata.var_names)
    excluded = set(zip(split.exclude["source"], split.exclude["target"]))
    tested = set(zip(split.test["source"], split.test["target"]))
    train, val = seen["train"], seen["val"]
    assert not set(zip(genes[train.tf], genes[train.gene])) & excluded
    assert not set(zip(genes[val.tf], genes[val.gene])) & tested
    [(trainer_train, trainer_val)] = seen["trainer"]
    assert trainer_train is train and trainer_val is val
    [(svm_x, svm_y)] = seen["svm"]
    h = adata.uns["grn"]["state"]["embeddings"][0]
    np.testing.assert_array_equal(svm_x, gnt.edge_embeddings(h, train.tf, train.gene))
    np.testing.assert_array_equal(svm_y, train.label)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"svm_kernel": "poly"}, "svm_kernel"),
        ({"d": 30, "n_heads": 4}, "divisible"),
        ({"n_layers": 0}, "n_layers"),
        ({"dropout": 1.0}, "dropout"),
        ({"alpha": -1.0}, "alpha"),
        ({"svm_c": 0}, "svm_c"),
        ({"context": 1}, "context"),
        ({"context": "all"}, "context"),
    ],
)
def test_gnt_rejects_bad_options(options, match):
    with pytest.raises(gl.InputError, match=match):
        gl.models.get_model_class("gnt")(**options)


def test_gnt_tokens_are_identity_plus_alpha_weighted_expression():
    x = torch.randn(10, 5, generator=torch.Generator().manual_seed(0))
    module = gl.models.get_model_class("gnt")(alpha=0.0).build(x, 10)
    assert torch.equal(module.tokens(), module.identity.weight)
    module.alpha = 2.0
    torch.testing.assert_close(module.tokens(), module.identity.weight + 2.0 * module.expression(x))
    without_features = gl.models.get_model_class("gnt")().build(torch.zeros((10, 0)), 10)
    assert without_features.expression is None and torch.equal(
        without_features.tokens(), without_features.identity.weight
    )


def test_auto_rules_keep_full_attention_and_the_rbf_kernel_below_genome_scale():
    assert gnt.resolve_context("auto", gnt.FULL_CONTEXT_GENES) is None
    assert gnt.resolve_context("auto", gnt.FULL_CONTEXT_GENES + 1) == gnt.AUTO_CONTEXT
    assert gnt.resolve_context(None, 10**5) is None
    assert gnt.resolve_context(400, 400) is None and gnt.resolve_context(300, 400) == 300
    assert gnt.resolve_svm_kernel("auto", gnt.RBF_TRAINING_PAIRS) == "rbf"
    assert gnt.resolve_svm_kernel("auto", gnt.RBF_TRAINING_PAIRS + 1) == "linear"
    assert gnt.resolve_svm_kernel("rbf", 10**6) == "rbf" and gnt.resolve_svm_kernel("linear", 10) == "linear"


def test_context_genes_holds_the_batch_then_distinct_drawn_genes():
    tf, gene = torch.tensor([0, 0, 1]), torch.tensor([5, 7, 5])
    torch.manual_seed(0)
    sequence, slot = gnt.context_genes(tf, gene, 50, 10)
    assert sequence[:4].tolist() == [0, 1, 5, 7]
    assert len(set(sequence.tolist())) == len(sequence) == 10
    assert torch.equal(slot[sequence], torch.arange(10)) and int((slot >= 0).sum()) == 10
    crowded, _ = gnt.context_genes(torch.arange(8), torch.arange(8, 16), 50, 10)
    assert crowded.tolist() == list(range(16))  # the batch's genes are never dropped


def test_a_training_step_attends_over_its_context_and_eval_over_every_gene():
    x = torch.randn(60, 5, generator=torch.Generator().manual_seed(0))
    module = gl.models.get_model_class("gnt")(dropout=0.0, context=12).build(x, 60)
    tf, gene = torch.tensor([0, 1, 2]), torch.tensor([10, 20, 30])

    def head(h, tf_rows, gene_rows):
        return (h[tf_rows] * h[gene_rows] * module.head_weight).sum(-1) * module.scale + module.head_bias

    module.train()
    torch.manual_seed(1)
    trained = module(tf, gene)
    torch.manual_seed(1)
    sequence, slot = gnt.context_genes(tf, gene, 60, 12)
    torch.testing.assert_close(trained, head(module.embed(sequence), slot[tf], slot[gene]))
    module.eval()
    evaluated = module(tf, gene)
    torch.testing.assert_close(evaluated, head(module.embed(), tf, gene))
    assert not torch.allclose(trained, evaluated)  # 12 of 60 genes in the training sequence


def test_genome_scale_rules_fit_reproducibly_and_store_only_embeddings_and_svms(adata, truth, fast, monkeypatch):
    monkeypatch.setattr(gnt, "FULL_CONTEXT_GENES", 100)  # the fixture has 160 genes
    monkeypatch.setattr(gnt, "AUTO_CONTEXT", 48)
    monkeypatch.setattr(gnt, "RBF_TRAINING_PAIRS", 10)
    lengths, original = [], gnt.context_genes

    def spy(*args):
        sequence, slot = original(*args)
        lengths.append(len(sequence))
        return sequence, slot

    monkeypatch.setattr(gnt, "context_genes", spy)
    scores = []
    for _ in range(2):
        gl.tl.grn_fit(adata, truth, model="gnt", groupby="cell_type", seed=1, **{**fast, "max_epochs": 3})
        scores.append(_predict(adata))
    np.testing.assert_array_equal(scores[0], scores[1])
    entry = adata.uns["grn"]
    assert entry["training"]["context"] == 48 and entry["training"]["svm_kernel"] == "linear"
    assert lengths and min(lengths) >= 48
    assert set(entry["state"]) == {"embeddings", "svm"} and "coef" in entry["state"]["svm"]["member0"]


def test_a_format_3_gnt_entry_with_its_transformers_still_predicts_the_same(adata, truth, fast, tmp_path):
    from grnlink.tl import _store

    gl.tl.grn_fit(adata, truth, model="gnt", groupby="cell_type", **{**fast, "max_epochs": 2})
    before = _predict(adata)
    entry = adata.uns["grn"]
    d = entry["state"]["embeddings"].shape[2]
    entry["state"]["inputs"] = np.ones((adata.n_vars, 7), dtype=np.float32)  # what format 3 also kept
    entry["state"]["members"] = {"member0": {"identity.weight": np.ones((adata.n_vars, d), dtype=np.float32)}}
    entry["state"]["tf_genes"] = np.arange(5)
    entry["format_version"] = 3
    entry["schema"] = _store._to_json(
        _store.array_schema(
            entry["features"],
            entry["state"],
            prior_weight=entry["prior"]["weight"],
            calibration=entry.get("calibration"),
        )
    )
    adata.write_h5ad(tmp_path / "format3.h5ad")
    np.testing.assert_array_equal(_predict(ad.read_h5ad(tmp_path / "format3.h5ad")), before)
