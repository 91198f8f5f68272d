"""Every bad input gets a clear error that names the fix, and leaves the AnnData untouched."""

import numpy as np
import pandas as pd
import pytest

import grnlink as gl


def _snapshot(adata):
    return (adata.X.copy(), adata.obs.copy(), adata.var.copy(), dict(adata.uns), set(adata.varm), set(adata.varp))


def _assert_untouched(adata, snap):
    x, obs, var, uns, varm, varp = snap
    assert (adata.X != x).nnz == 0 if hasattr(x, "nnz") else np.array_equal(adata.X, x)
    pd.testing.assert_frame_equal(adata.obs, obs)
    pd.testing.assert_frame_equal(adata.var, var)
    assert set(adata.uns) == set(uns) and set(adata.varm) == varm and set(adata.varp) == varp


def _expect(adata, match, call):
    snap = _snapshot(adata)
    with pytest.raises(gl.InputError, match=match):
        call()
    _assert_untouched(adata, snap)


def test_prior_sharing_no_gene_with_var_names(adata):
    prior = pd.DataFrame({"source": ["FOO1", "FOO2"], "target": ["BAR1", "BAR2"]})
    _expect(adata, "shares no gene", lambda: gl.tl.grn_fit(adata, prior))


def test_prior_without_source_target_columns(adata, truth):
    prior = truth.rename(columns={"source": "tf", "target": "gene"})
    _expect(adata, "source", lambda: gl.tl.grn_fit(adata, prior))


def test_groupby_missing(adata, truth):
    _expect(adata, "not a column of adata.obs", lambda: gl.tl.grn_fit(adata, truth, groupby="tissue"))


def test_groupby_with_one_group(adata, truth):
    adata.obs["one"] = "all"
    _expect(adata, "at least two", lambda: gl.tl.grn_fit(adata, truth, groupby="one"))


def test_embedding_key_absent(adata, truth):
    _expect(adata, "gene_embeddings", lambda: gl.tl.grn_fit(adata, truth, embedding_key="X_scgpt"))


def test_embedding_of_wrong_shape(adata, truth):
    adata.varm["X_bad"] = np.zeros((adata.n_vars, 0), dtype=np.float32)
    _expect(adata, "shape", lambda: gl.tl.grn_fit(adata, truth, embedding_key="X_bad"))


def test_nan_in_expression(adata, truth):
    adata.layers["dense"] = adata.X.toarray()
    adata.layers["dense"][3, 5] = np.nan
    _expect(adata, "NaN", lambda: gl.tl.grn_fit(adata, truth, layer="dense"))


def test_inf_in_expression_for_celltype_means(adata, truth):
    adata.layers["dense"] = adata.X.toarray()
    adata.layers["dense"][0, 0] = np.inf
    _expect(adata, "infinite", lambda: gl.tl.grn_fit(adata, truth, layer="dense", groupby="cell_type"))


def test_duplicated_var_names(adata, truth):
    names = adata.var_names.tolist()
    names[1] = names[0]
    adata.var_names = names
    _expect(adata, "var_names_make_unique", lambda: gl.tl.grn_fit(adata, truth))


def test_exclude_naming_unknown_genes(adata, truth):
    exclude = pd.DataFrame({"source": [truth["source"].iloc[0]], "target": ["NOT_A_GENE"]})
    _expect(adata, "NOT_A_GENE", lambda: gl.tl.grn_fit(adata, truth, exclude=exclude))


def test_pairs_naming_unknown_genes(adata, truth, fast):
    gl.tl.grn_fit(adata, truth, model="two_tower", **fast)
    pairs = pd.DataFrame({"source": ["NOT_A_TF"], "target": [truth["target"].iloc[0]]})
    _expect(adata, "NOT_A_TF", lambda: gl.tl.grn_predict(adata, pairs=pairs))


def test_predict_before_fit(adata):
    _expect(adata, "grn_fit", lambda: gl.tl.grn_predict(adata))
    _expect(adata, "grn_fit", lambda: gl.tl.grn_network(adata))
    _expect(adata, "grn_fit", lambda: gl.tl.grn_novel(adata))


def test_novel_with_bad_top_k(adata, truth, fast):
    gl.tl.grn_fit(adata, truth, model="two_tower", **fast)
    _expect(adata, "top_k must be a positive integer", lambda: gl.tl.grn_novel(adata, top_k=0))


def test_unknown_model_lists_valid_names(adata, truth):
    _expect(adata, "two_tower", lambda: gl.tl.grn_fit(adata, truth, model="gcn9000"))


def test_unknown_negative_strategy(adata, truth):
    _expect(adata, "tf_matched", lambda: gl.tl.grn_fit(adata, truth, negatives="random"))


def test_resource_name_as_prior_points_to_get_prior(adata):
    _expect(adata, "get_prior", lambda: gl.tl.grn_fit(adata, "dorothea"))


def test_validation_without_labels(adata, truth):
    val = truth.iloc[:5][["source", "target"]]
    _expect(adata, "label", lambda: gl.tl.grn_fit(adata, truth, validation=val, model="pcc"))


def test_validation_with_labels_other_than_0_and_1(adata, truth):
    val = truth.iloc[:5][["source", "target"]].assign(label=2)
    _expect(adata, "0 and 1", lambda: gl.tl.grn_fit(adata, truth, validation=val, model="pcc"))


def test_negatives_table_holding_prior_edges(adata, truth):
    _expect(adata, "both", lambda: gl.tl.grn_fit(adata, truth, negatives=truth.iloc[:3], model="pcc"))


def test_bm_run_refuses_the_arguments_the_split_sets(adata, truth):
    _expect(adata, "split_options", lambda: gl.bm.run(adata, truth, ["pcc"], negative_ratio=5))


def test_pruning_a_model_without_hidden_layers(adata, truth):
    gl.tl.grn_fit(adata, truth, model="pcc")
    _expect(adata, "not a neural network", lambda: gl.bm.prune(adata, 0.5))


TF = "TF001"
BAD_ARGUMENTS = {
    "model=['pcc']": (lambda a, t: gl.tl.grn_fit(a, t, model=["pcc"]), "not a grnlink model"),
    "split seed=-1": (lambda a, t: gl.bm.split(t, a.var_names, seed=-1), "seed=-1"),
    "split val_fraction='a'": (lambda a, t: gl.bm.split(t, a.var_names, val_fraction="a"), "val_fraction='a'"),
    "split tfs=5": (lambda a, t: gl.bm.split(t, a.var_names, tfs=5), "tfs must be"),
    "label noise fraction=2": (lambda a, t: gl.bm.add_label_noise(gl.bm.split(t, a.var_names), 2), "fraction=2"),
    "celltype_means key_added='a/b'": (lambda a, t: gl.pp.celltype_means(a, "cell_type", key_added="a/b"), "'/'"),
    "gene_embeddings key_added=''": (
        lambda a, t: gl.pp.gene_embeddings(a, pd.DataFrame({"d": [1.0]}, index=[TF]), key_added=""),
        "key_added=''",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_ARGUMENTS))
def test_a_bad_argument_raises_input_error_before_any_work(adata, truth, case):
    call, match = BAD_ARGUMENTS[case]
    _expect(adata, match, lambda: call(adata, truth))


# The same bad values for every entry point that fits (grn_fit, grn_tune, `grnlink fit`): one check for all.
# Each case: grn_fit's keyword arguments, what the error says, and the same value on the command line.
BAD_FIT_ARGUMENTS = {
    "seed=-1": ({"seed": -1}, "seed=-1 is not valid", ["--seed", "-1"]),
    "seed='abc'": ({"seed": "abc"}, "seed='abc' is not valid", ["--seed", "abc"]),
    "seed=1.5": ({"seed": 1.5}, "non-negative integer", ["--seed", "1.5"]),
    "negative_ratio=-1": ({"negative_ratio": -1}, "negative_ratio=-1", ["--negative-ratio", "-1"]),
    "negative_ratio='a'": ({"negative_ratio": "a"}, "negative_ratio='a'", ["--negative-ratio", "a"]),
    "negative_ratio=inf": ({"negative_ratio": np.inf}, "finite number > 0", ["--negative-ratio", "inf"]),
    "val_fraction=1.5": ({"val_fraction": 1.5}, r"\[0, 1\)", ["--val-fraction", "1.5"]),
    "val_fraction='x'": ({"val_fraction": "x"}, "val_fraction='x'", ["--val-fraction", "x"]),
    "max_cells=0": ({"max_cells": 0}, "max_cells=0", ["--max-cells", "0"]),
    "max_cells=2.5": ({"max_cells": 2.5}, "integer >= 5 or None", ["--max-cells", "2.5"]),
    "key_added=''": ({"key_added": ""}, "non-empty string", ["--key-added", ""]),
    "key_added='a/b'": ({"key_added": "a/b"}, "without '/'", ["--key-added", "a/b"]),
    "key_added=3": ({"key_added": 3}, "key_added=3", None),
    "overwrite='yes'": ({"overwrite": "yes"}, "overwrite='yes'", ["--option", "overwrite='yes'"]),
    "groupby=['x']": ({"groupby": ["cell_type"]}, "groupby", None),
    "layer=0": ({"layer": 0}, "layer=0", None),
    "negatives='random'": ({"negatives": "random"}, "tf_matched", ["--negatives", "random"]),
    "negatives=5": ({"negatives": 5}, "negatives=5", None),
    "calibration='x'": ({"calibration": "x"}, "calibration='x'", ["--calibration", "x"]),
    "prior_coverage=0": ({"prior_coverage": 0}, "prior_coverage=0", ["--prior-coverage", "0"]),
    "prior_coverage=1.5": ({"prior_coverage": 1.5}, "prior_coverage=1.5", ["--prior-coverage", "1.5"]),
    "features=['nope']": ({"features": ["nope"]}, "unknown group", ["--features", "nope"]),
    "features=['celltype_means']": ({"features": ["celltype_means"]}, "groupby is None", None),
    "exclude='pairs.csv'": ({"exclude": "pairs.csv"}, "exclude must be a pandas DataFrame", None),
    "validation without target": ({"validation": pd.DataFrame({"source": [TF]})}, "lacks the column", None),
}
FIT_ENTRY_POINTS = ("grn_fit", "grn_tune", "grnlink fit")
# the command line cannot pass every value (an option that takes text, a table read from a file)
BAD_FIT_CALLS = [
    (case, entry)
    for case, (_, _, options) in sorted(BAD_FIT_ARGUMENTS.items())
    for entry in FIT_ENTRY_POINTS
    if entry != "grnlink fit" or options is not None
]


@pytest.fixture
def no_fitting_work(monkeypatch):
    """Make every step past the argument checks fail the test: data preparation, studies, reading the input."""
    from grnlink import _cli
    from grnlink.tl import _fit, _tune

    def work(*args, **kwargs):
        raise AssertionError("work started before the arguments were checked")

    for module, name in ((_fit, "prepare_fit"), (_tune, "prepare_fit"), (_tune, "_open_study"), (_cli, "_read_h5ad")):
        monkeypatch.setattr(module, name, work)


def _fit_through(entry, adata, truth, kwargs):
    if entry == "grn_fit":
        return gl.tl.grn_fit(adata, truth, model="pcc", **kwargs)
    return gl.tl.grn_tune(adata, truth, model="cross_encoder", n_trials=1, max_epochs=1, **kwargs)


def _cli_fit(adata, truth, tmp_path, capsys, options):
    """Run `grnlink fit` on adata written to a file: (exit status, its one stderr line); the input stays as it was."""
    from grnlink._cli import main

    data, prior, out = tmp_path / "in.h5ad", tmp_path / "prior.csv", tmp_path / "out.h5ad"
    adata.write_h5ad(data)
    truth.to_csv(prior, index=False)
    before = data.read_bytes()
    try:
        code = main(["-q", "fit", str(data), "--prior", str(prior), "--model", "pcc", *options, "-o", str(out)])
    except SystemExit as exit_info:  # argparse's own errors (a value of the wrong type, an unknown choice)
        code = exit_info.code
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("grnlink fit: error:") and "Traceback" not in err
    assert data.read_bytes() == before and not out.exists()
    return code, err


@pytest.mark.parametrize(("case", "entry"), BAD_FIT_CALLS)
def test_every_fitting_entry_point_refuses_a_bad_argument_before_any_work(
    adata, truth, tmp_path, capsys, no_fitting_work, case, entry
):
    kwargs, match, options = BAD_FIT_ARGUMENTS[case]
    if entry != "grnlink fit":
        _expect(adata, match, lambda: _fit_through(entry, adata, truth, kwargs))
        return
    code, err = _cli_fit(adata, truth, tmp_path, capsys, options)
    name = next(iter(kwargs))
    assert code == 2 and (name in err or name.replace("_", "-") in err)


@pytest.mark.parametrize("entry", FIT_ENTRY_POINTS)
def test_no_fitting_entry_point_replaces_a_foreign_uns_entry_without_overwrite(
    adata, truth, tmp_path, capsys, monkeypatch, entry
):
    from grnlink.tl import _fit, _tune

    def work(*args, **kwargs):
        raise AssertionError("work started before the key was checked")

    monkeypatch.setattr(_fit, "prepare_fit", work)
    monkeypatch.setattr(_tune, "prepare_fit", work)
    adata.uns["grn"] = {"note": "my own results"}
    if entry == "grnlink fit":
        code, err = _cli_fit(adata, truth, tmp_path, capsys, [])
        assert code == 2 and "overwrite=True" in err
    else:
        _expect(adata, "overwrite=True", lambda: _fit_through(entry, adata, truth, {}))
        assert adata.uns["grn"] == {"note": "my own results"}


def test_cli_fit_refuses_an_option_that_repeats_one_of_its_flags(adata, truth, tmp_path, capsys, no_fitting_work):
    code, err = _cli_fit(adata, truth, tmp_path, capsys, ["--seed", "1", "--option", "seed=2"])
    assert code == 2 and "repeats --seed" in err


@pytest.fixture
def fitted(adata, truth):
    gl.tl.grn_fit(adata, truth, model="pcc")
    return adata


BAD_PREDICT_ARGUMENTS = {
    "top_k='a'": (lambda a: gl.tl.grn_predict(a, top_k="a"), "top_k='a'"),
    "chunk_size='a'": (lambda a: gl.tl.grn_predict(a, chunk_size="a"), "chunk_size='a'"),
    "chunk_size=2.5": (lambda a: gl.tl.grn_predict(a, chunk_size=2.5), "chunk_size=2.5"),
    "tfs=5": (lambda a: gl.tl.grn_predict(a, tfs=5), "tfs must be"),
    "tfs=[]": (lambda a: gl.tl.grn_predict(a, tfs=[]), "tfs is empty"),
    "network top_k='a'": (lambda a: gl.tl.grn_network(a, top_k="a"), "top_k='a'"),
    "novel top_k='a'": (lambda a: gl.tl.grn_novel(a, top_k="a"), "top_k='a'"),
    "novel tfs=5": (lambda a: gl.tl.grn_novel(a, tfs=5), "tfs must be"),
    "scores plot bins='a'": (lambda a: gl.pl.scores(a, bins="a", show=False), "bins='a'"),
}


@pytest.mark.parametrize("case", sorted(BAD_PREDICT_ARGUMENTS))
def test_a_bad_scoring_argument_raises_input_error(fitted, case):
    call, match = BAD_PREDICT_ARGUMENTS[case]
    _expect(fitted, match, lambda: call(fitted))


@pytest.mark.parametrize("function", [gl.tl.grn_predict, gl.tl.grn_network, gl.tl.grn_novel])
def test_a_tf_given_as_a_string_is_that_one_tf_as_in_a_list(fitted, function):
    as_string = function(fitted, tfs=TF, top_k=3)
    as_list = function(fitted, tfs=[TF], top_k=3)
    pd.testing.assert_frame_equal(as_string, as_list)
    assert set(as_string["source"].astype(str)) == {TF} and len(as_string) == 3


@pytest.mark.parametrize(("tfs", "match"), [(5, "tfs must be"), ([], "tfs is empty"), ([TF, 3], "strings")])
@pytest.mark.parametrize(
    ("function", "kwargs"),
    [
        (gl.tl.grn_predict, {}),
        (gl.tl.grn_predict, {"groupby": "cell_type"}),
        (gl.tl.grn_network, {}),
        (gl.tl.grn_network, {"groupby": "cell_type"}),
        (gl.tl.grn_novel, {}),
    ],
)
def test_a_bad_tfs_is_refused_before_any_scoring(fitted, monkeypatch, function, kwargs, tfs, match):
    from grnlink.tl import _network, _novel, _predict

    def work(*args, **kw):
        raise AssertionError("scoring started before tfs was checked")

    for module, name in ((_network, "score_edges"), (_novel, "score_edges"), (_predict, "group_models")):
        monkeypatch.setattr(module, name, work)
    monkeypatch.setattr(_predict, "score_edges", work)
    _expect(fitted, match, lambda: function(fitted, tfs=tfs, **kwargs))


def test_split_takes_a_single_tf_as_a_string(fitted):
    split = gl.bm.split(fitted.uns["true_network"], fitted.var_names, protocol="genelink", tfs=TF)
    assert TF in set(split.test["source"]) | set(split.train["source"])
