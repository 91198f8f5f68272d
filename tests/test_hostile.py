"""Hostile input, round 3: every case ends in a clear ``gl.InputError`` naming the problem and the fix, or is
accepted with the result the user means; either way the AnnData and the user's tables are left as they were.

Decisions these tests hold (documented where the behaviour lives):

- ``tfs="GATA1"`` is the one TF ``["GATA1"]`` in grn_predict, grn_network and grn_novel alike.
- Symbols match ``var_names`` exactly, then ignoring case and surrounding spaces (``" GATA1 "`` is GATA1):
  priors, ``tfs``, ``pairs``, ``exclude`` (``grnlink._validation.GeneIndex``, the one matcher).
- source/target given as a pandas Categorical are read as their labels.
- A prior listing one edge with opposite signs keeps one row whose sign is the majority of its rows, 0
  (unknown) on a tie, with a warning: read_prior's and ``merge_priors(signs="vote")``'s rule.
- NaN or infinite prior weights, NaN or infinite expression, and missing ``groupby`` labels are refused;
  numeric ``groupby`` labels are groups like any other; float16 expression is read as float64 (the user's X
  stays float16).
- A view (``adata[:, genes]``) is fitted as the AnnData it shows; its parent is never written.
- An interrupted fit (KeyboardInterrupt at any moment) leaves the AnnData exactly as it was.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch

import grnlink as gl
from grnlink.models._device import current_device
from grnlink.tl import _fit, _store, _tune

TF = "TF001"
TINY = {
    "pcc": {},
    "two_tower": {"n_ensemble": 1, "max_epochs": 3},
    "cross_encoder": {"n_ensemble": 1, "max_epochs": 2},
    "degree_adjusted": {"n_trees": 10, "n_folds": 3},
    "stack": {
        "base_options": {
            "degree_adjusted": {"n_trees": 10, "n_folds": 3},
            "sctransnet": {"n_ensemble": 1, "max_epochs": 3},
        }
    },
}


@pytest.fixture(scope="module")
def _simulated():
    return gl.ds.simulate(n_genes=60, n_tfs=6, n_cells=120, seed=0)


@pytest.fixture
def small(_simulated):
    """60 genes (6 TFs) x 120 cells, a fresh copy per test."""
    return _simulated.copy()


@pytest.fixture
def prior(small):
    return small.uns["true_network"][["source", "target", "weight"]].copy()


@pytest.fixture(scope="module")
def _fitted(_simulated):
    adata = _simulated.copy()
    gl.tl.grn_fit(adata, adata.uns["true_network"], model="pcc", prior_coverage=0.5)
    gl.tl.grn_predict(adata, top_k=3)  # a fitted entry with its predictions (edges, varp scores)
    return adata


@pytest.fixture
def fitted(_fitted):
    return _fitted.copy()


# --- deep comparison of an AnnData before and after -------------------------------------------------------------


def _assert_same_value(now, then, where):
    if isinstance(then, dict) or hasattr(then, "keys") and not isinstance(then, pd.DataFrame | pd.Series):
        assert set(now.keys()) == set(then.keys()), where
        for key in then.keys():
            _assert_same_value(now[key], then[key], f"{where}[{key!r}]")
    elif isinstance(then, pd.DataFrame):
        pd.testing.assert_frame_equal(now, then, obj=where)
    elif isinstance(then, pd.Series):
        pd.testing.assert_series_equal(now, then, obj=where)
    elif sp.issparse(then):
        assert sp.issparse(now) and now.dtype == then.dtype and now.shape == then.shape, where
        np.testing.assert_array_equal(now.toarray(), then.toarray(), err_msg=where)  # NaN == NaN here
    elif isinstance(then, np.ndarray):
        assert isinstance(now, np.ndarray) and now.dtype == then.dtype, where
        np.testing.assert_array_equal(now, then, err_msg=where)
    else:
        assert type(now) is type(then) and (now == then or (now != now and then != then)), where


def assert_unchanged(adata, before):
    """``adata`` holds what ``before`` (a deep copy taken earlier) holds: X, obs, var, uns, layers, varm, varp, obsm."""
    assert adata.shape == before.shape
    _assert_same_value(adata.X, before.X, "X")
    pd.testing.assert_frame_equal(adata.obs, before.obs)
    pd.testing.assert_frame_equal(adata.var, before.var)
    _assert_same_value(dict(adata.uns), dict(before.uns), "uns")
    for slot in ("layers", "varm", "varp", "obsm"):
        _assert_same_value(dict(getattr(adata, slot)), dict(getattr(before, slot)), slot)


def refused(adata, match, call, *tables):
    """``call()`` raises an InputError matching ``match``; ``adata`` and ``tables`` are as they were."""
    before, copies = adata.copy(), [t.copy() for t in tables]
    with pytest.raises(gl.InputError, match=match):
        call()
    assert_unchanged(adata, before)
    for table, copy in zip(tables, copies):
        pd.testing.assert_frame_equal(table, copy)


# --- grn_tune: every argument -------------------------------------------------------------------------------------


@pytest.fixture
def needs_optuna():
    pytest.importorskip("optuna", reason="grn_tune needs Optuna: pip install 'grnlink[tune]' (the `tune` extra)")
    pytest.importorskip("sqlalchemy", reason="grn_tune's storage needs SQLAlchemy: pip install 'grnlink[tune]'")


TUNE_CASES = {
    "n_trials=0": ({"n_trials": 0}, r"n_trials=0 is not valid: n_trials must be a positive integer"),
    "n_trials=-2": ({"n_trials": -2}, "n_trials=-2 is not valid"),
    "n_trials=2.5": ({"n_trials": 2.5}, "n_trials=2.5 is not valid"),
    "n_trials='3'": ({"n_trials": "3"}, "n_trials='3' is not valid"),
    "n_trials=None": ({"n_trials": None}, "n_trials=None is not valid"),
    "n_trials=True": ({"n_trials": True}, "n_trials=True is not valid"),
    "timeout=0": ({"timeout": 0}, r"timeout=0 is not valid: timeout must be a number of seconds > 0"),
    "timeout=-1": ({"timeout": -1}, "timeout=-1 is not valid"),
    "timeout=nan": ({"timeout": float("nan")}, "timeout=nan is not valid"),
    "timeout='60'": ({"timeout": "60"}, "timeout='60' is not valid"),
    "storage=5": ({"storage": 5, "study_name": "s"}, "storage=5 is not valid: storage must be None, a database URL"),
    "storage not a URL": ({"storage": "study.db", "study_name": "s"}, "not a usable Optuna database URL"),
    "storage in a missing folder": (
        {"storage": "sqlite:////no/such/folder/study.db", "study_name": "s"},
        r"the folder must exist",
    ),
    "storage without study_name": ({"storage": "sqlite:///{tmp}/s.db"}, "needs a study_name"),
    "study_name=5": ({"study_name": 5}, "study_name=5 is not valid: study_name must be a non-empty string"),
    "study_name=''": ({"study_name": ""}, "study_name='' is not valid"),
    "study_name=' ' with storage": ({"study_name": " ", "storage": "sqlite:///{tmp}/s.db"}, "study_name=' '"),
    "seed=-1": ({"seed": -1}, "seed=-1 is not valid"),
    "seed='abc'": ({"seed": "abc"}, "seed='abc' is not valid"),
    "seed=1.5": ({"seed": 1.5}, "seed=1.5 is not valid"),
    "key_added=''": ({"key_added": ""}, "key_added='' is not valid"),
    "key_added=3": ({"key_added": 3}, "key_added=3 is not valid"),
    "key_added='a/b'": ({"key_added": "a/b"}, "without '/'"),
    "key_added='true_network'": ({"key_added": "true_network"}, "overwrite=True"),
}


@pytest.mark.parametrize("case", sorted(TUNE_CASES))
def test_grn_tune_refuses_a_bad_argument_before_any_work(small, prior, tmp_path, monkeypatch, needs_optuna, case):
    kwargs, match = TUNE_CASES[case]
    kwargs = {k: v.format(tmp=tmp_path) if isinstance(v, str) else v for k, v in kwargs.items()}

    def work(*args, **kw):
        raise AssertionError("grn_tune started work before its arguments were checked")

    monkeypatch.setattr(_tune, "prepare_fit", work)
    options = {"model": "cross_encoder", "n_trials": 1, **TINY["cross_encoder"], **kwargs}
    refused(small, match, lambda: gl.tl.grn_tune(small, prior, **options), prior)
    assert list(tmp_path.iterdir()) == []  # no study database was made


def test_grn_tune_takes_what_a_user_means_by_no_time_limit_and_a_study_name(small, prior, needs_optuna):
    before = prior.copy()
    gl.tl.grn_tune(
        small, prior, model="cross_encoder", n_trials=np.int64(1), timeout=float("inf"), study_name="mine",
        seed=np.int64(0), **TINY["cross_encoder"],
    )  # fmt: skip
    tuning = small.uns["grn"]["tuning"]
    assert tuning["study_name"] == "mine" and tuning["n_trials"] == 1
    pd.testing.assert_frame_equal(prior, before)


def test_numpy_numbers_are_the_numbers_they_hold(small, prior):
    import json

    plain = small.copy()
    options = {"model": "two_tower", **TINY["two_tower"]}
    gl.tl.grn_fit(plain, prior, seed=1, negative_ratio=2.0, max_cells=100, val_fraction=0.2, **options)
    numpy = {"seed": np.int64(1), "negative_ratio": np.float32(2.0), "max_cells": np.int32(100)}
    gl.tl.grn_fit(small, prior, val_fraction=np.float64(0.2), **numpy, **options)
    assert json.loads(small.uns["grn"]["fit_params"]) == json.loads(plain.uns["grn"]["fit_params"])
    pd.testing.assert_frame_equal(_scores(small), _scores(plain))


# --- grn_network and grn_novel arguments --------------------------------------------------------------------------

SCORING_CASES = {
    "top_k=0": ({"top_k": 0}, r"top_k=0 is not valid: top_k must be a positive integer"),
    "top_k=-3": ({"top_k": -3}, "top_k=-3 is not valid"),
    "top_k=2.5": ({"top_k": 2.5}, "top_k=2.5 is not valid"),
    "top_k='5'": ({"top_k": "5"}, "top_k='5' is not valid"),
    "top_k=True": ({"top_k": True}, "top_k=True is not valid"),
    "top_k=None": ({"top_k": None}, "top_k=None is not valid"),
    "rank_by='pvalue'": ({"rank_by": "pvalue"}, "rank_by='pvalue' is not valid"),
    "prior_coverage=0": ({"prior_coverage": 0}, "prior_coverage=0 is not valid"),
    "chunk_size=0": ({"chunk_size": 0}, "chunk_size=0 is not valid"),
    "tfs=5": ({"tfs": 5}, "tfs must be a TF symbol or a list"),
    "tfs=[]": ({"tfs": []}, "tfs is empty"),
    "tfs=[TF, 3]": ({"tfs": [TF, 3]}, "non-empty strings"),
    "tfs=''": ({"tfs": ""}, "non-empty strings"),
    "tfs='NOPE'": ({"tfs": "NOPE"}, r"not in adata.var_names: 'NOPE'.*surrounding spaces"),
    "key='nothing'": ({"key": "nothing"}, "grn_fit"),
}
NETWORK_ONLY = {
    "sign='mode'": ({"sign": "mode"}, r"sign='mode' is not valid: sign must be one of \['prior', 'correlation'\]"),
    "sign=None": ({"sign": None}, "sign=None is not valid"),
    "sign=1": ({"sign": 1}, "sign=1 is not valid"),
    "min_precision=2": ({"min_precision": 2}, "min_precision=2 is not valid"),
}
NOVEL_ONLY = {"n_top=0": ({"n_top": 0}, "n_top=0 is not valid"), "n_top=1.5": ({"n_top": 1.5}, "n_top=1.5")}
SCORING_CALLS = [("grn_network", c) for c in sorted({**SCORING_CASES, **NETWORK_ONLY})] + [
    ("grn_novel", c) for c in sorted({**SCORING_CASES, **NOVEL_ONLY})
]


@pytest.mark.parametrize(("function", "case"), SCORING_CALLS)
def test_network_and_novel_refuse_a_bad_argument(fitted, function, case):
    kwargs, match = {**SCORING_CASES, **NETWORK_ONLY, **NOVEL_ONLY}[case]
    refused(fitted, match, lambda: getattr(gl.tl, function)(fitted, **kwargs))


@pytest.mark.parametrize("function", ["grn_predict", "grn_network", "grn_novel"])
@pytest.mark.parametrize("tfs", [TF, f"  {TF} ", TF.lower(), np.str_(TF), (TF,), pd.Series([TF])])
def test_one_tf_as_a_string_padded_or_in_any_case_is_that_tf_everywhere(fitted, function, tfs):
    call = getattr(gl.tl, function)
    options = {"inplace": False} if function == "grn_predict" else {}
    expected = call(fitted, tfs=[TF], top_k=3, **options)
    before = fitted.copy()
    pd.testing.assert_frame_equal(call(fitted, tfs=tfs, top_k=np.int64(3), **options), expected)
    assert set(expected["source"].astype(str)) == {TF} and len(expected) == 3
    assert_unchanged(fitted, before)


# --- priors: infinite and missing weights, padded symbols, categorical columns, one edge with both signs ---------


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_a_prior_weight_that_is_not_a_finite_number_is_refused(small, prior, bad):
    prior.loc[3, "weight"] = bad
    match = r"prior\['weight'\] has 1 missing or infinite values.*fillna"
    refused(small, match, lambda: gl.tl.grn_fit(small, prior), prior)
    refused(small, "missing or infinite", lambda: gl.pp.get_prior(prior, adata=small), prior)


def _scores(adata, key="grn"):
    return gl.tl.grn_predict(adata, key=key, inplace=False).sort_values(["source", "target"], ignore_index=True)


def test_padded_symbols_are_the_genes_they_name(small, prior):
    padded = prior.assign(source=" " + prior["source"] + " ", target=prior["target"] + "\t")
    padded_copy = padded.copy()
    exclude = pd.DataFrame({"source": [f" {prior['source'][0]}"], "target": [f"{prior['target'][0]}  "]})
    clean = small.copy()
    gl.tl.grn_fit(clean, prior, model="pcc", exclude=exclude.apply(lambda c: c.str.strip()))
    gl.tl.grn_fit(small, padded, model="pcc", exclude=exclude)
    assert small.uns["grn"]["coverage"]["n_edges_mapped"] == len(prior)
    np.testing.assert_array_equal(small.uns["grn"]["prior"]["weight"], clean.uns["grn"]["prior"]["weight"])
    pd.testing.assert_frame_equal(_scores(small), _scores(clean))
    pd.testing.assert_frame_equal(padded, padded_copy)  # the user's table keeps its spaces
    assert gl.pp.get_prior(padded)["source"].tolist() == prior["source"].tolist()


def test_categorical_source_and_target_are_read_as_their_labels(small, prior):
    categorical = prior.astype({"source": "category", "target": "category"})
    categorical["source"] = categorical["source"].cat.add_categories(["UNUSED"])
    before = categorical.copy()
    clean = small.copy()
    gl.tl.grn_fit(clean, prior, model="pcc")
    gl.tl.grn_fit(small, categorical, model="pcc", exclude=categorical.iloc[:2])
    gl.tl.grn_fit(clean, prior, model="pcc", exclude=prior.iloc[:2], key_added="same")
    pd.testing.assert_frame_equal(_scores(small), _scores(clean, "same"))
    pd.testing.assert_frame_equal(categorical, before)
    assert isinstance(categorical["source"].dtype, pd.CategoricalDtype)


def test_one_edge_listed_with_opposite_signs_takes_the_majority_sign(small, prior, log_lines):
    prior["weight"] = 1.0
    conflicting = pd.concat(
        [prior, prior.iloc[[0]].assign(weight=-1.0), prior.iloc[[1, 1]].assign(weight=-2.0)], ignore_index=True
    )
    before = conflicting.copy()
    aligned = gl.pp.align_prior(conflicting, small.var_names)
    assert len(aligned.weight) == len(prior)
    assert aligned.weight[:3].tolist() == [0.0, -1.0, 1.0]  # a tie: unknown; two - against one +: -1; no conflict
    assert any("2 edges with both a positive and a negative weight" in line for line in log_lines)
    gl.tl.grn_fit(small, conflicting, model="pcc")
    assert small.uns["grn"]["prior"]["weight"][:2].tolist() == [0.0, -1.0]
    pd.testing.assert_frame_equal(conflicting, before)
    # the same rule when two spellings of one symbol meet in var_names
    spelled = pd.concat([prior.iloc[[0]], prior.iloc[[0]].assign(source=prior["source"][0].lower(), weight=-1.0)])
    assert gl.pp.align_prior(spelled, small.var_names).weight.tolist() == [0.0]


def test_an_edge_of_unknown_sign_is_signed_by_correlation_in_the_network(small, prior):
    tied = pd.concat([prior.iloc[[0]].assign(weight=1.0), prior.iloc[[0]].assign(weight=-1.0)])
    table = pd.concat([tied, prior.iloc[1:]], ignore_index=True)
    gl.tl.grn_fit(small, table, model="pcc", prior_coverage=0.5)
    source, target = prior["source"][0], prior["target"][0]
    net = gl.tl.grn_network(small, tfs=source, top_k=small.n_vars - 1)
    by_sign = gl.tl.grn_network(small, tfs=source, top_k=small.n_vars - 1, sign="correlation")
    edge = (net["source"] == source) & (net["target"] == target)
    assert edge.sum() == 1
    assert np.sign(net.loc[edge, "weight"]).item() == np.sign(by_sign.loc[edge, "weight"]).item()


# --- expression: NaN, infinite, float16 -------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", ["dense X", "sparse X", "layer", "dense X with groupby"])
def test_non_finite_expression_is_refused_with_the_fix(small, prior, bad, where):
    dense = small.X.toarray()
    dense[5, 7] = bad
    options = {"model": "pcc"}
    if where == "sparse X":
        small.X = sp.csr_matrix(dense)
    elif where == "layer":
        small.layers["imputed"] = dense
        options["layer"] = "imputed"
    else:
        small.X = dense
        options["groupby"] = "cell_type" if where.endswith("groupby") else None
    match = r"1 NaN or infinite values\. Remove or impute them"
    refused(small, match, lambda: gl.tl.grn_fit(small, prior, **options), prior)


@pytest.mark.parametrize(("model", "groupby"), [("pcc", None), ("degree_adjusted", "cell_type")])
def test_float16_expression_is_read_as_float64_and_left_float16(small, prior, model, groupby):
    half = small.X.toarray().astype(np.float16)
    small.X = half.copy()
    widened = small.copy()
    widened.X = half.astype(np.float32)
    gl.tl.grn_fit(small, prior, model=model, groupby=groupby, **TINY[model])
    gl.tl.grn_fit(widened, prior, model=model, groupby=groupby, **TINY[model])
    assert small.X.dtype == np.float16
    np.testing.assert_array_equal(small.X, half)
    pd.testing.assert_frame_equal(_scores(small), _scores(widened))


# --- groupby: missing labels, numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["object", "category", "float"])
def test_a_groupby_column_with_missing_labels_is_refused(small, prior, kind):
    codes = small.obs["cell_type"].cat.codes.astype(float)
    labels = {"object": small.obs["cell_type"].astype(object), "category": small.obs["cell_type"], "float": codes}[kind]
    labels = labels.copy()
    labels.iloc[[3, 40]] = np.nan
    small.obs["group"] = labels
    match = r"adata.obs\['group'\] has 2 missing labels.*Give every cell a group"
    refused(small, match, lambda: gl.tl.grn_fit(small, prior, model="pcc", groupby="group"), prior)


def test_a_group_network_over_missing_labels_is_refused(fitted):
    fitted.obs["group"] = fitted.obs["cell_type"].astype(object)
    fitted.obs.iloc[0, fitted.obs.columns.get_loc("group")] = None
    refused(fitted, "missing labels", lambda: gl.tl.grn_network(fitted, top_k=2, groupby="group"))


@pytest.mark.parametrize("dtype", [np.int64, np.float64])
def test_numeric_groupby_labels_are_groups_like_any_other(small, prior, dtype):
    codes = small.obs["cell_type"].cat.codes
    small.obs["cluster"] = codes.astype(dtype).to_numpy()
    named = small.copy()
    named.obs["cluster"] = codes.astype(dtype).astype(str).to_numpy()
    for adata in (small, named):
        gl.tl.grn_fit(adata, prior, model="cross_encoder", groupby="cluster", **TINY["cross_encoder"])
    pd.testing.assert_frame_equal(_scores(small), _scores(named))
    assert small.obs["cluster"].dtype == dtype


# --- views ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("subset", ["genes", "cells"])
def test_a_view_is_fitted_as_the_anndata_it_shows_and_its_parent_is_never_written(small, prior, subset):
    genes = small.var_names[:50]
    view = small[:, genes] if subset == "genes" else small[:100]
    assert view.is_view
    parent = small.copy()
    expected = view.copy()
    gl.tl.grn_fit(expected, prior, model="pcc")
    with pytest.warns(UserWarning, match="view"):  # anndata: the view becomes an AnnData of its own
        gl.tl.grn_fit(view, prior, model="pcc")
    assert_unchanged(small, parent)
    assert "grn" in view.uns and not view.is_view
    pd.testing.assert_frame_equal(_scores(view), _scores(expected))


def test_a_view_fitted_with_copy_stays_a_view(small, prior):
    view = small[:, small.var_names[:50]]
    parent = small.copy()
    fitted = gl.tl.grn_fit(view, prior, model="pcc", copy=True)
    assert view.is_view and "grn" not in view.uns and "grn" in fitted.uns
    assert_unchanged(small, parent)


def test_a_refused_fit_leaves_a_view_a_view(small, prior):
    view = small[:, small.var_names[:50]]
    parent = small.copy()
    with pytest.raises(gl.InputError, match="seed=-1"):
        gl.tl.grn_fit(view, prior, model="pcc", seed=-1)
    assert view.is_view
    assert_unchanged(small, parent)


# --- an interrupted fit leaves the AnnData exactly as it was ------------------------------------------------------


def interrupt_on_call(monkeypatch, owner, name, n):
    """Make ``owner.name`` raise KeyboardInterrupt (Ctrl-C) on its ``n``-th call; returns the list of calls."""
    original = getattr(owner, name)
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(name)
        if len(calls) == n:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, interrupted)
    return calls


def _moments(model):
    """(what, owner, function name, call) where a fit of ``model`` is interrupted."""
    cls = gl.models.get_model_class(model)
    from sklearn.linear_model import LogisticRegression

    common = [
        ("building features", _fit, "build_features", 1),
        ("training starts", cls, "fit", 1),
        ("scoring the validation pairs", cls, "score", 1),
        ("calibrating", _fit, "fit_calibration", 1),
        ("storing", _fit, "store_fitted", 1),
        ("half-way through the store", _store, "_to_json", 2),  # after the old scores matrix is removed
    ]
    specific = {
        "two_tower": [("an optimiser step", torch.optim.Adam, "step", 3)],
        "degree_adjusted": [("a logistic regression", LogisticRegression, "fit", 2)],
        "stack": [
            ("a base model's second fold", gl.models.get_model_class("degree_adjusted"), "fit", 2),
            ("an optimiser step of a neural base", torch.optim.Adam, "step", 4),
        ],
    }
    return [(model, *moment) for moment in common + specific.get(model, [])]


INTERRUPTS = [moment for model in ("pcc", "two_tower", "degree_adjusted", "stack") for moment in _moments(model)]


@pytest.mark.parametrize(
    ("model", "what", "owner", "name", "n"), INTERRUPTS, ids=[f"{m[0]}: {m[1]}" for m in INTERRUPTS]
)
def test_an_interrupted_fit_leaves_the_anndata_exactly_as_it_was(fitted, monkeypatch, model, what, owner, name, n):
    prior = fitted.uns["true_network"].copy()
    prior_before, before, threads = prior.copy(), fitted.copy(), torch.get_num_threads()
    assert "grn_scores" in fitted.varp  # a model fitted before, with its predictions: the refit replaces both
    calls = interrupt_on_call(monkeypatch, owner, name, n)
    with pytest.raises(KeyboardInterrupt):
        gl.tl.grn_fit(fitted, prior, model=model, groupby="cell_type", **TINY[model])
    assert len(calls) == n, f"the fit never reached {what}"
    assert_unchanged(fitted, before)
    pd.testing.assert_frame_equal(prior, prior_before)
    assert torch.get_num_threads() == threads and current_device() == torch.device("cpu")
    monkeypatch.undo()
    gl.tl.grn_predict(fitted, top_k=2)  # the model stored before still predicts


@pytest.mark.parametrize(
    ("what", "owner", "name", "n"),
    [("a trial", _tune, "validation_score", 2), ("storing the refit", _store, "_to_json", 2)],
)
def test_an_interrupted_search_leaves_the_anndata_exactly_as_it_was(
    fitted, monkeypatch, needs_optuna, what, owner, name, n
):
    prior, before = fitted.uns["true_network"], fitted.copy()
    calls = interrupt_on_call(monkeypatch, owner, name, n)
    with pytest.raises(KeyboardInterrupt):
        gl.tl.grn_tune(fitted, prior, model="cross_encoder", n_trials=2, **TINY["cross_encoder"])
    assert len(calls) == n, f"the search never reached {what}"
    assert_unchanged(fitted, before)
