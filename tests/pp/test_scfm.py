"""gl.pp.scfm_embed on a tiny random BERT: rank-value encoding, pooling, storage, errors. No hub access."""

from __future__ import annotations

import json
import pickle

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
import transformers

import grnlink as gl
from grnlink._validation import InputError
from grnlink.pp import scfm_embed

N_LAYERS, D, N_POSITIONS = 2, 16, 64
DROPPED = slice(None, None, 7)  # every 7th gene is not in the dictionary


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """The model is tiny; several torch threads only stall (tens of seconds) when other processes share the cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def _simulated():
    return gl.ds.simulate(n_genes=60, n_tfs=8, n_cells=80, seed=0)


@pytest.fixture
def adata(_simulated):
    return _simulated.copy()


@pytest.fixture(scope="module")
def dictionary(_simulated) -> dict:
    genes = list(_simulated.var_names)
    kept = [g for g in genes if g not in set(genes[DROPPED])]
    return {"<pad>": 0, "<mask>": 1, **{g: i + 2 for i, g in enumerate(kept)}}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, dictionary):
    """Folder of a randomly initialised 2-layer BERT whose vocabulary covers the dictionary."""
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=len(dictionary) + 4,
        hidden_size=D,
        num_hidden_layers=N_LAYERS,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=N_POSITIONS,
    )
    folder = tmp_path_factory.mktemp("tiny_bert")
    transformers.BertModel(config).save_pretrained(folder)
    return folder


def _run(adata, checkpoint, dictionary, **kwargs):
    kwargs = {"layer": "counts", "max_length": N_POSITIONS, "device": "cpu", **kwargs}
    scfm_embed(adata, str(checkpoint), token_dictionary=dictionary, **kwargs)
    return adata.varm[kwargs.get("key_added", "X_scfm")]


def _counts(adata) -> np.ndarray:
    return adata.layers["counts"].toarray().astype(np.float64)


def _ranked(row: np.ndarray, var_names, dictionary, medians: dict | None = None, n: int | None = None) -> list[int]:
    """Var positions of one cell's tokens, computed the slow way."""
    value = row / row.sum() * 10_000
    genes = [j for j in range(len(row)) if row[j] > 0 and var_names[j] in dictionary]
    if medians is not None:
        genes = [j for j in genes if var_names[j] in medians]
        value = value / np.array([medians.get(g, 1.0) for g in var_names])
    return sorted(genes, key=lambda j: (-value[j], j))[:n]


def _capture_inputs(model) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Every (input_ids, attention_mask) the model is called with."""
    calls = []

    def hook(_module, _args, kwargs):
        calls.append((kwargs["input_ids"].clone(), kwargs["attention_mask"].clone()))

    model.register_forward_pre_hook(hook, with_kwargs=True)
    return calls


def _cell_tokens(calls) -> list[list[int]]:
    return [ids[mask.bool()].tolist() for batch_ids, batch_mask in calls for ids, mask in zip(batch_ids, batch_mask)]


def test_simulated_counts_layer_holds_raw_counts(adata):
    counts = adata.layers["counts"]
    assert sp.issparse(counts) and counts.data.min() >= 0
    np.testing.assert_array_equal(counts.data, np.round(counts.data))
    assert not np.array_equal(adata.X.data, np.round(adata.X.data))  # X is log-normalised, hence layer="counts"


def test_scfm_embed_shapes_and_mask_absent_genes_zero_and_false(adata, checkpoint, dictionary):
    emb = _run(adata, checkpoint, dictionary)
    assert emb.dtype == np.float32 and emb.shape == (adata.n_vars, D)
    mask = adata.var["X_scfm_mask"].to_numpy()
    assert mask.dtype == bool
    in_dictionary = adata.var_names.isin(list(dictionary))
    expressed = _counts(adata).sum(axis=0) > 0
    np.testing.assert_array_equal(mask, in_dictionary & expressed)
    assert not emb[~mask].any()
    assert (np.abs(emb[mask]).sum(axis=1) > 0).all()
    settings = adata.uns["X_scfm"]
    assert settings["model"] == str(checkpoint) and settings["d"] == D and settings["n_cells"] == adata.n_obs
    assert settings["hidden_layer"] == -2 and settings["max_length"] == N_POSITIONS
    assert settings["n_genes_in_dictionary"] == int(in_dictionary.sum())


def test_scfm_embed_equals_hand_computation_for_two_cells(adata, checkpoint, dictionary):
    two = adata[:2].copy()
    emb = _run(two, checkpoint, dictionary, batch_size=2)

    model = transformers.AutoModel.from_pretrained(checkpoint).eval()
    sums, counts = np.zeros((two.n_vars, D)), np.zeros(two.n_vars)
    for row in _counts(two):
        genes = _ranked(row, two.var_names, dictionary)
        input_ids = torch.tensor([[dictionary[two.var_names[j]] for j in genes]])
        with torch.no_grad():
            hidden = model(input_ids=input_ids, output_hidden_states=True).hidden_states[-2][0].numpy()
        sums[genes] += hidden
        counts[genes] += 1
    expected = np.divide(sums, counts[:, None], out=np.zeros_like(sums), where=counts[:, None] > 0)
    np.testing.assert_allclose(emb, expected, atol=1e-5)
    np.testing.assert_array_equal(two.var["X_scfm_mask"].to_numpy(), counts > 0)
    assert (counts == 1).any() and (counts == 2).any()  # both the single-cell and the averaged case are checked


def test_scfm_embed_repeat_gives_identical_output(adata, checkpoint, dictionary):
    first = _run(adata.copy(), checkpoint, dictionary, batch_size=7)
    second = _run(adata.copy(), checkpoint, dictionary, batch_size=7)
    np.testing.assert_array_equal(first, second)


def test_scfm_embed_hidden_layer_indexes_hidden_states(adata, checkpoint, dictionary):
    last = _run(adata.copy(), checkpoint, dictionary, hidden_layer=-1)
    second_last = _run(adata.copy(), checkpoint, dictionary, hidden_layer=-2)
    assert not np.allclose(last, second_last)
    # hidden_states holds the token embeddings then one entry per layer: -1 is layer N_LAYERS, -2 is N_LAYERS - 1
    np.testing.assert_array_equal(last, _run(adata.copy(), checkpoint, dictionary, hidden_layer=N_LAYERS))
    np.testing.assert_array_equal(second_last, _run(adata.copy(), checkpoint, dictionary, hidden_layer=N_LAYERS - 1))


def test_scfm_embed_max_length_keeps_top_ranked_genes(adata, checkpoint, dictionary):
    model = transformers.AutoModel.from_pretrained(checkpoint)
    calls = _capture_inputs(model)
    scfm_embed(adata, model, token_dictionary=dictionary, layer="counts", max_length=5, batch_size=16)
    counts = _counts(adata)
    expected = [_ranked(row, adata.var_names, dictionary, n=5) for row in counts]
    assert _cell_tokens(calls) == [[dictionary[adata.var_names[j]] for j in genes] for genes in expected]
    ever_top = np.zeros(adata.n_vars, dtype=bool)
    ever_top[np.concatenate(expected)] = True
    np.testing.assert_array_equal(adata.var["X_scfm_mask"].to_numpy(), ever_top)
    assert ever_top.sum() < (adata.var_names.isin(list(dictionary)) & (counts.sum(axis=0) > 0)).sum()


def test_scfm_embed_gene_medians_change_the_ranking(adata, checkpoint, dictionary, log_lines):
    genes = [g for g in dictionary if not g.startswith("<")]
    rng = np.random.default_rng(1)
    medians = {g: float(m) for g, m in zip(genes[2:], rng.uniform(0.5, 20, size=len(genes) - 2))}
    model = transformers.AutoModel.from_pretrained(checkpoint)
    calls = _capture_inputs(model)
    scfm_embed(adata, model, token_dictionary=dictionary, gene_medians=medians, layer="counts", max_length=10)
    counts = _counts(adata)
    expected = [_ranked(row, adata.var_names, dictionary, medians, n=10) for row in counts]
    plain = [_ranked(row, adata.var_names, dictionary, n=10) for row in counts]
    assert expected != plain
    assert _cell_tokens(calls) == [[dictionary[adata.var_names[j]] for j in g] for g in expected]
    assert not adata.var.loc[genes[:2], "X_scfm_mask"].any()  # no median: not ranked, not embedded
    assert any("2 of the" in line and "have no median" in line for line in log_lines)
    assert adata.uns["X_scfm"]["gene_medians"] is True
    as_series = adata.copy()
    _run(as_series, checkpoint, dictionary, gene_medians=pd.Series(medians), max_length=10)
    np.testing.assert_array_equal(as_series.varm["X_scfm"], adata.varm["X_scfm"])


def test_scfm_embed_gene_column_with_ensembl_ids(adata, checkpoint, dictionary):
    by_symbol = _run(adata.copy(), checkpoint, dictionary)
    ensembl = {g: f"ENSG{i:011d}" for i, g in enumerate(adata.var_names)}
    adata.var["gene_ids"] = [ensembl[g] for g in adata.var_names]
    by_id = {ensembl.get(k, k): v for k, v in dictionary.items()}
    np.testing.assert_array_equal(_run(adata, checkpoint, by_id, gene_column="gene_ids"), by_symbol)
    with pytest.raises(InputError, match="gene_column="):
        _run(adata.copy(), checkpoint, by_id)  # Ensembl keys without gene_column: the error says what to pass


def test_scfm_embed_var_names_match_ignoring_case(adata, checkpoint, dictionary):
    lower = {k.lower() if not k.startswith("<") else k: v for k, v in dictionary.items()}
    np.testing.assert_array_equal(_run(adata.copy(), checkpoint, lower), _run(adata, checkpoint, dictionary))


def test_scfm_embed_dictionary_from_dict_json_and_pkl_agree(adata, checkpoint, dictionary, tmp_path):
    (tmp_path / "tokens.json").write_text(json.dumps(dictionary))
    with (tmp_path / "tokens.pkl").open("wb") as handle:
        pickle.dump({k: np.int64(v) for k, v in dictionary.items()}, handle)
    from_dict = _run(adata.copy(), checkpoint, dictionary)
    np.testing.assert_array_equal(_run(adata.copy(), checkpoint, tmp_path / "tokens.json"), from_dict)
    np.testing.assert_array_equal(_run(adata.copy(), checkpoint, str(tmp_path / "tokens.pkl")), from_dict)


def test_scfm_embed_groupby_blocks_average_to_the_overall_mean(adata, checkpoint, dictionary):
    emb = _run(adata, checkpoint, dictionary, groupby="cell_type")
    groups = list(adata.uns["X_scfm"]["groups"])
    assert groups == list(adata.obs["cell_type"].cat.categories)
    per_group = adata.varm["X_scfm_cell_type"]
    assert per_group.dtype == np.float32 and per_group.shape == (adata.n_vars, len(groups) * D)

    # with max_length above every cell's gene count, a gene is a token of every cell that expresses it
    expressed = _counts(adata) > 0
    cells = np.stack([expressed[(adata.obs["cell_type"] == g).to_numpy()].sum(axis=0) for g in groups])
    blocks = per_group.reshape(adata.n_vars, len(groups), D).transpose(1, 0, 2)
    mask = adata.var["X_scfm_mask"].to_numpy()
    weighted = (cells[:, mask, None] * blocks[:, mask]).sum(axis=0) / cells[:, mask].sum(axis=0)[:, None]
    np.testing.assert_allclose(emb[mask], weighted, atol=1e-5)
    assert not blocks[cells == 0].any()  # a gene no cell of a group expresses is zero in that block


def test_scfm_embed_accepts_a_loaded_model_and_restores_its_mode(adata, checkpoint, dictionary):
    model = transformers.AutoModel.from_pretrained(checkpoint).train()
    scfm_embed(adata, model, token_dictionary=dictionary, layer="counts", max_length=N_POSITIONS, device="cpu")
    assert model.training
    np.testing.assert_array_equal(adata.varm["X_scfm"], _run(adata.copy(), checkpoint, dictionary))


def test_scfm_embed_interrupted_forward_restores_the_model_and_leaves_adata_untouched(
    adata, checkpoint, dictionary, untouched
):
    model = transformers.AutoModel.from_pretrained(checkpoint).train()
    calls = _capture_inputs(model)

    def interrupt_second_batch(_module, _args):
        if len(calls) == 2:
            raise KeyboardInterrupt

    model.register_forward_pre_hook(interrupt_second_batch)
    with untouched(adata), pytest.raises(KeyboardInterrupt):
        scfm_embed(adata, model, token_dictionary=dictionary, layer="counts", max_length=N_POSITIONS, batch_size=16)
    assert len(calls) == 2  # one batch was pooled before the interrupt
    assert model.training


def test_scfm_embed_sparse_dense_and_backed_agree(adata, checkpoint, dictionary, tmp_path):
    adata.layers["dense"] = _counts(adata)
    sparse = _run(adata.copy(), checkpoint, dictionary, batch_size=8)
    np.testing.assert_array_equal(_run(adata.copy(), checkpoint, dictionary, layer="dense", batch_size=8), sparse)
    on_disk = ad.AnnData(adata.layers["counts"], obs=adata.obs, var=adata.var)
    on_disk.write_h5ad(tmp_path / "counts.h5ad")
    backed = ad.read_h5ad(tmp_path / "counts.h5ad", backed="r")
    np.testing.assert_array_equal(_run(backed, checkpoint, dictionary, layer=None, batch_size=8), sparse)
    backed.file.close()


def test_scfm_embed_adds_cls_and_eos_when_the_dictionary_has_them(adata, checkpoint, dictionary):
    with_special = {**dictionary, "<cls>": len(dictionary), "<eos>": len(dictionary) + 1}
    model = transformers.AutoModel.from_pretrained(checkpoint)
    calls = _capture_inputs(model)
    scfm_embed(adata, model, token_dictionary=with_special, layer="counts", max_length=7)
    expected = [_ranked(row, adata.var_names, dictionary, n=5) for row in _counts(adata)]
    cls, eos = with_special["<cls>"], with_special["<eos>"]
    assert _cell_tokens(calls) == [[cls, *[dictionary[adata.var_names[j]] for j in g], eos] for g in expected]


def test_scfm_embed_errors_on_the_hub_and_missing_folders(adata, dictionary, monkeypatch, untouched):
    def offline(*_args, **_kwargs):
        raise OSError("We couldn't connect to 'https://huggingface.co'")

    monkeypatch.setattr(transformers.AutoModel, "from_pretrained", offline)
    with untouched(adata), pytest.raises(InputError, match="hub is unreachable.*local folder"):
        scfm_embed(adata, "someone/geneformer", token_dictionary=dictionary, layer="counts")
    with untouched(adata), pytest.raises(InputError, match="is not a folder"):
        scfm_embed(adata, "./no/such/folder", token_dictionary=dictionary, layer="counts")


def _negative_counts(adata):
    adata.layers["counts"] = adata.layers["counts"].copy()
    adata.layers["counts"].data[3] = -1.0


@pytest.mark.parametrize(
    ("kwargs", "prepare", "match"),
    [
        ({"token_dictionary": {"NOPE1": 2, "NOPE2": 3}}, None, "No gene of adata.var_names is in token_dictionary"),
        ({"gene_column": "gene_ids"}, None, "gene_column='gene_ids' is not a column of adata.var"),
        ({"token_dictionary": {"TF001": 2.5, "TF002": 3}}, None, "non-negative integer token id"),
        ({"token_dictionary": "missing.pkl"}, None, "does not exist"),
        ({"token_dictionary": "tokens.csv"}, None, r"must end in \.json or \.pkl"),
        ({}, _negative_counts, "negative values"),
        ({"batch_size": 0}, None, r"batch_size=0 is not valid: batch_size must be a positive integer"),
        ({"max_length": 0}, None, r"max_length=0 is not valid: max_length must be a positive integer"),
        ({"hidden_layer": 1.5}, None, r"hidden_layer=1.5 is not valid: hidden_layer must be an integer index"),
        ({"max_length": N_POSITIONS + 1}, None, "max_position_embeddings=64"),
        ({"hidden_layer": N_LAYERS + 1}, None, "the model has 2 layers"),
        ({"hidden_layer": -(N_LAYERS + 2)}, None, "the model has 2 layers"),
        ({"groupby": "nope"}, None, "groupby='nope' is not a column of adata.obs"),
        ({"layer": "nope"}, None, "layer='nope' is not in adata.layers"),
        ({"gene_medians": {"TF002": 0.0}}, None, "medians must be > 0"),
        ({"gene_medians": {"NOPE": 1.0}}, None, "No gene of the token dictionary found in adata has a median"),
    ],
)
def test_scfm_embed_bad_input_raises_and_leaves_adata_untouched(
    adata, checkpoint, dictionary, untouched, kwargs, prepare, match
):
    if prepare is not None:
        prepare(adata)
    kwargs = {"token_dictionary": dictionary, "layer": "counts", "max_length": N_POSITIONS, **kwargs}
    with untouched(adata), pytest.raises(InputError, match=match):
        scfm_embed(adata, checkpoint, **kwargs)


def test_scfm_embed_copy_returns_a_modified_copy(adata, checkpoint, dictionary, untouched):
    with untouched(adata):
        out = scfm_embed(adata, checkpoint, token_dictionary=dictionary, layer="counts", max_length=64, copy=True)
    assert out.varm["X_scfm"].shape == (adata.n_vars, D) and "X_scfm" in out.uns


def test_scfm_embed_survives_write_h5ad(adata, checkpoint, dictionary, tmp_path):
    _run(adata, checkpoint, dictionary, groupby="cell_type")
    adata.write_h5ad(tmp_path / "embedded.h5ad")
    back = ad.read_h5ad(tmp_path / "embedded.h5ad")
    for key in ("X_scfm", "X_scfm_cell_type"):
        np.testing.assert_array_equal(back.varm[key], adata.varm[key])
    np.testing.assert_array_equal(back.var["X_scfm_mask"], adata.var["X_scfm_mask"])
    settings = adata.uns["X_scfm"]
    assert back.uns["X_scfm"].keys() == settings.keys()
    assert list(back.uns["X_scfm"]["groups"]) == list(settings["groups"])
    assert {k: back.uns["X_scfm"][k] for k in settings if k != "groups"} == {
        k: v for k, v in settings.items() if k != "groups"
    }


def test_scfm_embed_logs_coverage_and_warns_on_log_normalised_x(adata, checkpoint, dictionary, log_lines):
    _run(adata, checkpoint, dictionary, layer=None)
    n_in = int(adata.var_names.isin(list(dictionary)).sum())
    assert any(
        line.startswith(f"scfm_embed: {n_in} of {adata.n_vars} genes in the token dictionary") for line in log_lines
    )
    assert any("non-integer values" in line and "layer='counts'" in line for line in log_lines)


def test_scfm_embed_result_feeds_scregnet(adata, checkpoint, dictionary):
    _run(adata, checkpoint, dictionary)
    gl.tl.grn_fit(
        adata,
        adata.uns["true_network"],
        model="scregnet",
        embedding_key="X_scfm",
        features=("embedding",),
        max_epochs=2,
    )
    assert json.loads(adata.uns["grn"]["fit_params"])["features"] == ["embedding"]
