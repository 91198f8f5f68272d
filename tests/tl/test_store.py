"""A stored model either predicts exactly as fitted or says clearly why it cannot."""

import json
import tempfile
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import grnlink as gl
from grnlink.tl import _store
from grnlink.tl._features import ExpressionView, build_features, cell_subsample
from grnlink.tl._store import FORMAT_VERSION, _compare_schema, array_schema


@pytest.fixture(scope="module")
def _fitted_once(_simulated):
    adata = _simulated.copy()
    gl.tl.grn_fit(adata, adata.uns["true_network"], model="dual_encoder", n_ensemble=1, max_epochs=3)
    return adata


@pytest.fixture
def fitted(_fitted_once):
    return _fitted_once.copy()


def _member(adata):
    return adata.uns["grn"]["state"]["members"]["member0"]


def _first_weight(adata):
    return next(k for k in _member(adata) if k.endswith("weight"))


def test_fit_writes_the_format_version_and_the_array_schema(fitted):
    entry = fitted.uns["grn"]
    assert entry["format_version"] == FORMAT_VERSION
    assert entry["grnlink_version"] == gl.__version__ or entry["grnlink_version"]
    schema = json.loads(entry["schema"])
    weight = _first_weight(fitted)
    assert schema[f"state/members/member0/{weight}"] == ["<f4", list(_member(fitted)[weight].shape)]
    assert schema["state/inputs"][1] == list(entry["state"]["inputs"].shape)
    # format 3: a neural model keeps its network inputs in the state and no feature group besides
    assert len(entry["features"]) == 0 and json.loads(entry["rebuilt_features"]) == {}


def test_a_stored_model_round_trips_through_h5ad_with_its_schema(fitted, tmp_path):
    before = gl.tl.grn_predict(fitted)["score"].to_numpy()
    fitted.write_h5ad(tmp_path / "a.h5ad")
    reread = ad.read_h5ad(tmp_path / "a.h5ad")
    np.testing.assert_array_equal(gl.tl.grn_predict(reread)["score"].to_numpy(), before)


def test_a_legacy_entry_without_format_version_is_read_and_predicts_the_same(fitted, tmp_path, as_format_1):
    before = gl.tl.grn_predict(fitted)["score"].to_numpy()
    as_format_1(fitted.uns["grn"])
    for name in ("format_version", "grnlink_version", "schema"):
        del fitted.uns["grn"][name]
    fitted.write_h5ad(tmp_path / "legacy.h5ad")
    legacy = ad.read_h5ad(tmp_path / "legacy.h5ad")
    np.testing.assert_array_equal(gl.tl.grn_predict(legacy)["score"].to_numpy(), before)


def test_a_format_1_entry_predicts_the_same_scores_with_nan_probability_and_a_warning(
    fitted, tmp_path, as_format_1, log_lines
):
    before = gl.tl.grn_predict(fitted)["score"].to_numpy()
    as_format_1(fitted.uns["grn"])
    fitted.write_h5ad(tmp_path / "format1.h5ad")
    old = ad.read_h5ad(tmp_path / "format1.h5ad")
    assert old.uns["grn"]["format_version"] == 1 and FORMAT_VERSION > 1
    edges = gl.tl.grn_predict(old)
    np.testing.assert_array_equal(edges["score"].to_numpy(), before)
    assert edges["probability"].isna().all()
    assert any("has no calibration" in line for line in log_lines)
    with pytest.raises(gl.InputError, match="without a probability calibration"):
        gl.tl.grn_network(old)


def test_fit_stores_prior_weights_and_calibration_in_the_schema(fitted):
    entry = fitted.uns["grn"]
    schema = json.loads(entry["schema"])
    assert schema["prior/weight"] == ["<f8", [len(entry["prior"]["source"])]]
    assert schema["calibration/scores"][1] == [entry["training"]["n_val_pos"] + entry["training"]["n_val_neg"]]
    assert {"calibration/coef", "calibration/intercept", "calibration/labels"} <= set(schema)


def test_a_model_from_a_newer_format_is_refused_naming_both_versions(fitted):
    fitted.uns["grn"]["format_version"] = FORMAT_VERSION + 1
    fitted.uns["grn"]["grnlink_version"] = "9.9.9"
    with pytest.raises(gl.InputError, match=rf"grnlink 9\.9\.9 in stored-model format {FORMAT_VERSION + 1}"):
        gl.tl.grn_predict(fitted)


def _nan_weight(entry):
    member = entry["state"]["members"]["member0"]
    name = next(k for k in member if k.endswith("weight"))
    member[name] = np.full_like(member[name], np.nan)


def _cut_weight(entry):
    member = entry["state"]["members"]["member0"]
    name = next(k for k in member if k.endswith("weight"))
    member[name] = member[name][:-1]


def _legacy_short_features(entry):
    del entry["schema"], entry["format_version"]
    entry["features"]["expression"] = np.zeros((len(entry["genes"]) - 3, 4), dtype=np.float32)


DAMAGE = {
    "NaN weights": (_nan_weight, "NaN or infinite"),
    "a weight of another shape": (_cut_weight, "was written as float32 with shape"),
    "a missing ensemble member": (lambda e: e["state"]["members"].pop("member0"), "lacks"),
    "prior positions out of range": (lambda e: e["prior"].__setitem__("source", e["prior"]["source"] + 999), "outside"),
    "a shorter gene list": (lambda e: e.__setitem__("genes", e["genes"][:-5]), "outside"),
    "options that are not JSON": (lambda e: e.__setitem__("params", "{max_epochs: 3"), "not valid JSON"),
    "an option out of range": (lambda e: e.__setitem__("params", json.dumps({"max_epochs": 0})), "options are not"),
    "an unknown model name": (lambda e: e.__setitem__("model", "gcn9000"), "not a grnlink model"),
    "a lost state entry": (lambda e: e.pop("state"), r"lacks \['state'\]"),
    "features without a row per gene (legacy)": (_legacy_short_features, "features/expression has shape"),
    "a format version that is not a number": (lambda e: e.__setitem__("format_version", "one"), "format_version"),
    "no prior weights in format 2": (lambda e: e["prior"].pop("weight"), "lacks 'weight'"),
    "prior weights of another length": (
        lambda e: e["prior"].__setitem__("weight", e["prior"]["weight"][:-1]),
        "one per prior edge",
    ),
    "a calibration of an unknown method": (lambda e: e["calibration"].__setitem__("method", "beta"), "method 'beta'"),
    "a calibration with NaN": (
        lambda e: e["calibration"].__setitem__("intercept", float("nan")),
        "not finite numbers",
    ),
    "a calibration lost from a format-2 entry": (lambda e: e.pop("calibration"), "lacks"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_stored_model_raises_input_error_naming_the_damage(fitted, damage):
    mutate, match = DAMAGE[damage]
    mutate(fitted.uns["grn"])
    for call in (gl.tl.grn_predict, gl.tl.grn_network, gl.tl.grn_novel):
        with pytest.raises(gl.InputError, match=match):
            call(fitted)
    assert "grn_scores" not in fitted.varp


@pytest.mark.parametrize(
    ("model", "options", "path"),
    [
        ("scregnet", {"max_epochs": 1}, "graph"),
        ("genie3", {"n_estimators": 2}, "regulators"),
        ("degree_adjusted", {"n_trees": 5, "n_folds": 2}, "known/target"),
    ],
)
def test_gene_positions_in_a_state_out_of_range_are_named(adata, truth, model, options, path):
    gl.tl.grn_fit(adata, truth, model=model, **options)
    assert path in gl.models.get_model_class(model).gene_positions
    *parents, name = path.split("/")
    table = adata.uns["grn"]["state"]
    for parent in parents:
        table = table[parent]
    table[name] = table[name] + adata.n_vars
    with pytest.raises(gl.InputError, match=f"state {path} holds gene positions outside"):
        gl.tl.grn_predict(adata)


def test_no_nan_score_ever_leaves_grn_predict(fitted):
    # finite weights that overflow float32 in the forward pass: the state looks fine, the scores are NaN
    member = _member(fitted)
    name = _first_weight(fitted)
    member[name] = np.full_like(member[name], 3e38)
    with pytest.raises(gl.InputError, match="NaN or infinite scores"):
        gl.tl.grn_predict(fitted)
    with pytest.raises(gl.InputError, match="NaN or infinite scores"):
        gl.tl.grn_novel(fitted)
    assert "edges" not in fitted.uns["grn"] and "grn_scores" not in fitted.varp


def test_predict_maps_scores_to_var_names_by_name(fitted):
    reference = gl.tl.grn_predict(fitted.copy())
    order = np.random.default_rng(0).permutation(fitted.n_vars)
    shuffled = fitted[:, order].copy()
    edges = gl.tl.grn_predict(shuffled)
    pd.testing.assert_frame_equal(edges, reference)
    row = shuffled.var_names.get_loc(str(edges["source"].iloc[3]))
    col = shuffled.var_names.get_loc(str(edges["target"].iloc[3]))
    assert shuffled.varp["grn_scores"][row, col] == edges["score"].iloc[3]


def test_predict_on_an_anndata_lacking_fitted_genes_names_them(fitted):
    subset = fitted[:, 5:].copy()
    missing = fitted.var_names[:5].tolist()
    with pytest.raises(gl.InputError, match=f"lacks 5 of the {fitted.n_vars} genes.*{missing[0]}"):
        gl.tl.grn_predict(subset)
    assert "grn_scores" not in subset.varp and "edges" not in subset.uns["grn"]


# --- property tests: the schema comparison and the h5ad round trip ----------------------------------------------

ARRAYS = hnp.arrays(
    dtype=st.sampled_from([np.float32, np.float64, np.int64]),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4),
    elements={"allow_nan": False, "allow_infinity": False, "min_value": -1e6, "max_value": 1e6},
)
NAMES = st.text(alphabet="abcdefgh._0123456789", min_size=1, max_size=8).filter(lambda s: s not in (".", ".."))
STATES = st.recursive(
    st.dictionaries(NAMES, ARRAYS, max_size=3), lambda inner: st.dictionaries(NAMES, inner, max_size=3)
)


def _uns_round_trip(tree):
    holder = ad.AnnData(np.zeros((1, 1), dtype=np.float32))
    holder.uns["tree"] = tree
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.h5ad"
        holder.write_h5ad(path)
        return ad.read_h5ad(path).uns["tree"]


@settings(max_examples=25, deadline=None)
@given(STATES)
def test_a_state_matches_its_fit_time_schema_after_h5ad(state):
    written = json.loads(_store._to_json(array_schema({}, state)))
    _compare_schema(array_schema({}, _uns_round_trip(state) if state else {}), written, "the model")


@settings(max_examples=100, deadline=None)
@given(STATES.filter(lambda state: bool(array_schema({}, state))), st.data())
def test_changing_any_array_shape_is_named(state, data):
    written = json.loads(_store._to_json(array_schema({}, state)))
    path = data.draw(st.sampled_from(sorted(written)))
    node = state
    *parents, leaf = path.split("/")[1:]
    for name in parents:
        node = node[name]
    node[leaf] = np.concatenate([np.atleast_1d(node[leaf])] * 2)
    with pytest.raises(gl.InputError, match=path):
        _compare_schema(array_schema({}, state), written, "the model")


@pytest.mark.parametrize("model", gl.models.available_models())
def test_no_model_stores_the_genes_x_cells_expression_and_each_round_trips(
    adata, truth, model, model_options, tmp_path
):
    gl.tl.grn_fit(adata, truth, model=model, groupby="cell_type", **model_options[model])
    entry = adata.uns["grn"]
    for path, value in _store._arrays({"features": entry["features"], "state": entry["state"]}, ""):
        assert not {adata.n_vars, adata.n_obs} <= set(np.shape(value)), f"{model} stores {path} {np.shape(value)}"
    before = gl.tl.grn_predict(adata)["score"].to_numpy()
    adata.write_h5ad(tmp_path / "m.h5ad")
    np.testing.assert_array_equal(gl.tl.grn_predict(ad.read_h5ad(tmp_path / "m.h5ad"))["score"].to_numpy(), before)


@pytest.fixture
def pcc_fitted(adata, truth):
    gl.tl.grn_fit(adata, truth, model="pcc", max_cells=300)
    return adata


def test_expression_read_again_at_scoring_must_be_what_the_model_was_fitted_on(pcc_fitted):
    entry = pcc_fitted.uns["grn"]
    assert "expression" not in entry["features"] and set(json.loads(entry["rebuilt_features"])) == {"expression"}
    before = gl.tl.grn_predict(pcc_fitted)["score"].to_numpy()
    reordered = pcc_fitted[:, pcc_fitted.var_names[::-1]].copy()  # by name: gene order does not matter
    after = gl.tl.grn_predict(reordered).set_index(["source", "target"])["score"]
    expected = pd.Series(before, index=gl.tl.grn_predict(pcc_fitted).set_index(["source", "target"]).index)
    np.testing.assert_allclose(after.loc[expected.index].to_numpy(), expected.to_numpy(), rtol=1e-12)
    changed = pcc_fitted.copy()
    changed.X = changed.X * 2.0
    x_before = changed.X.copy()
    with pytest.raises(gl.InputError, match="has changed since the fit"):
        gl.tl.grn_predict(changed)
    assert (changed.X != x_before).nnz == 0
    with pytest.raises(gl.InputError, match="lacks 1 of its fitted genes"):
        gl.tl.grn_predict(pcc_fitted[:, 1:].copy())


def test_a_format_2_entry_that_stores_the_expression_still_predicts_the_same(pcc_fitted, tmp_path):
    before = gl.tl.grn_predict(pcc_fitted)["score"].to_numpy()
    entry = pcc_fitted.uns["grn"]
    view = ExpressionView.of(pcc_fitted, None, cell_subsample(pcc_fitted.n_obs, 300, 0))
    entry["features"]["expression"] = build_features(
        pcc_fitted, ["expression"], view, groupby=None, embedding_key=None
    )[0]["expression"]
    del entry["rebuilt_features"]
    entry["format_version"] = 2
    entry["schema"] = _store._to_json(
        array_schema(
            entry["features"],
            entry["state"],
            prior_weight=entry["prior"]["weight"],
            calibration=entry.get("calibration"),
        )
    )
    pcc_fitted.X = pcc_fitted.X * 0.0  # a format-2 model scores from what it stored, not from adata
    pcc_fitted.write_h5ad(tmp_path / "format2.h5ad")
    np.testing.assert_array_equal(
        gl.tl.grn_predict(ad.read_h5ad(tmp_path / "format2.h5ad"))["score"].to_numpy(), before
    )
