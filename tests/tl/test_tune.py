import json
import multiprocessing as mp

import anndata as ad
import numpy as np
import optuna
import pandas as pd
import pytest
import scanpy as sc
import torch
from sklearn.metrics import roc_auc_score

import grnlink as gl
from grnlink._pairs import pair_keys
from grnlink.tl import _tune

TINY = {"model": "cross_encoder", "max_epochs": 3}


@pytest.fixture
def fit_spy(monkeypatch):
    """Records the training and validation pairs of every cross_encoder fit (trials and refit alike)."""
    calls = []
    original = gl.models.CrossEncoder.fit

    def spy(self, features, train, val, *, n_genes, seed):
        calls.append(
            {
                "train": pair_keys(train.tf, train.gene, n_genes),
                "val": pair_keys(val.tf, val.gene, n_genes),
                "val_label": val.label.copy(),
                "params": dict(self.params),
            }
        )
        return original(self, features, train, val, n_genes=n_genes, seed=seed)

    monkeypatch.setattr(gl.models.CrossEncoder, "fit", spy)
    return calls


def _keys(adata, table):
    index = {g: i for i, g in enumerate(adata.var_names)}
    src = table["source"].map(index).to_numpy()
    tgt = table["target"].map(index).to_numpy()
    return pair_keys(src, tgt, adata.n_vars)


def test_tune_writes_best_options_and_trial_table_and_refits(adata, truth, tmp_path):
    gl.tl.grn_tune(adata, truth, n_trials=3, **TINY)
    entry = adata.uns["grn"]
    tuning = entry["tuning"]
    trials = tuning["trials"]
    assert list(trials["number"]) == [0, 1, 2] and (trials["state"] == "COMPLETE").all()
    assert tuning["n_trials"] == 3 and tuning["storage"] == "memory"
    assert tuning["best_value"] == trials["value"].max()
    assert tuning["best_trial"] == int(trials.loc[trials["value"].idxmax(), "number"])
    assert {f"params_{k}" for k in gl.models.CrossEncoder.search_space} <= set(trials.columns)
    # trial 0 of a new study is the model's defaults
    defaults = gl.models.CrossEncoder.defaults
    assert trials.loc[0, "params_lr"] == defaults["lr"] and trials.loc[0, "params_d"] == defaults["d"]
    best = json.loads(tuning["best_params"])
    refit_params = json.loads(entry["params"])
    assert set(best) == set(gl.models.CrossEncoder.search_space)
    assert all(refit_params[k] == v for k, v in best.items())
    assert refit_params["max_epochs"] == 3  # fixed options stay fixed
    scores = gl.tl.grn_predict(adata)["score"].to_numpy()

    adata.write_h5ad(tmp_path / "tuned.h5ad")
    back = ad.read_h5ad(tmp_path / "tuned.h5ad")
    pd.testing.assert_frame_equal(back.uns["grn"]["tuning"]["trials"], trials, check_index_type=False)
    assert back.uns["grn"]["tuning"]["best_params"] == tuning["best_params"]
    np.testing.assert_array_equal(gl.tl.grn_predict(back)["score"].to_numpy(), scores)


def test_tune_trials_never_see_excluded_pairs_and_share_one_validation_set(adata, truth, fit_spy):
    rng = np.random.default_rng(1)
    excluded_edges = truth.iloc[rng.choice(len(truth), 60, replace=False)][["source", "target"]]
    non_edges = pd.DataFrame({"source": ["TF001"] * 5, "target": [f"G{i:03d}" for i in range(100, 105)]})
    non_edges = non_edges[non_edges["target"].isin(adata.var_names)]
    exclude = pd.concat([excluded_edges, non_edges], ignore_index=True)
    excluded = _keys(adata, exclude)

    gl.tl.grn_tune(adata, truth, n_trials=3, exclude=exclude, **TINY)
    assert len(fit_spy) == 3 + 1  # every trial, then the refit
    for call in fit_spy:
        assert not np.isin(call["train"], excluded).any()
        assert not np.isin(call["val"], excluded).any()
        assert not np.isin(call["val"], call["train"]).any()
        np.testing.assert_array_equal(call["val"], fit_spy[0]["val"])
    assert len({json.dumps(c["params"], sort_keys=True, default=str) for c in fit_spy[:3]}) == 3


def test_tune_objective_is_per_tf_auroc_on_the_given_validation_pairs(adata, truth, fit_spy):
    split = gl.bm.split(truth, adata.var_names, protocol="tf_matched", seed=0)
    gl.tl.grn_tune(adata, split.prior, n_trials=3, **split.fit_kwargs(), **TINY)
    tuning = adata.uns["grn"]["tuning"]
    assert tuning["objective"] == "tf_auroc"
    test_keys = _keys(adata, split.test)
    for call in fit_spy:
        np.testing.assert_array_equal(np.sort(call["val"]), np.sort(_keys(adata, split.val)))
        assert not np.isin(call["train"], test_keys).any()
    # the refit reproduces the best trial: its per-TF validation AUROC is the best value
    scores = gl.tl.grn_predict(adata, pairs=split.val)["score"].to_numpy()
    per_tf = gl.bm.per_tf_metrics(split.val, scores)
    assert tuning["n_objective_tfs"] == len(per_tf) >= _tune.MIN_OBJECTIVE_TFS
    assert per_tf["auroc"].mean() == pytest.approx(tuning["best_value"], abs=1e-12)


def test_tune_falls_back_to_pooled_auroc_with_few_validation_tfs(adata, truth):
    split = gl.bm.split(truth, adata.var_names, protocol="tf_matched", seed=0)
    tfs = split.val["source"].unique()[:2]
    val = split.val[split.val["source"].isin(tfs)]
    kwargs = {**split.fit_kwargs(), "validation": val}
    gl.tl.grn_tune(adata, split.prior, n_trials=2, **kwargs, **TINY)
    tuning = adata.uns["grn"]["tuning"]
    assert tuning["objective"] == "auroc" and tuning["n_objective_tfs"] == 2
    scores = gl.tl.grn_predict(adata, pairs=val)["score"].to_numpy()
    assert roc_auc_score(val["label"], scores) == pytest.approx(tuning["best_value"], abs=1e-12)


def test_tune_same_seed_gives_same_trials_and_best_params(adata, truth):
    other = adata.copy()
    gl.tl.grn_tune(adata, truth, n_trials=3, seed=3, **TINY)
    gl.tl.grn_tune(other, truth, n_trials=3, seed=3, **TINY)
    first, second = adata.uns["grn"]["tuning"], other.uns["grn"]["tuning"]
    assert first["best_params"] == second["best_params"]
    columns = [c for c in first["trials"].columns if c.startswith("params_")] + ["value"]
    pd.testing.assert_frame_equal(first["trials"][columns], second["trials"][columns])


def _tune_worker(adata, truth, url):
    torch.set_num_threads(1)  # a forked child starts no thread pool of its own
    sc.settings.verbosity = 0
    gl.tl.grn_tune(adata, truth, n_trials=2, storage=url, study_name="shared", **TINY)
    assert adata.uns["grn"]["tuning"]["n_trials"] == 2


@pytest.mark.skipif("fork" not in mp.get_all_start_methods(), reason="needs the fork start method (not on Windows)")
@pytest.mark.slow
def test_tune_two_worker_processes_share_one_sqlite_study(adata, truth, tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    context = mp.get_context("fork")  # the workers inherit the imported package: no second start-up
    workers = [context.Process(target=_tune_worker, args=(adata, truth, url)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=600)
        assert worker.exitcode == 0, "a tuning worker failed; its traceback is in the captured stderr"
    study = optuna.load_study(study_name="shared", storage=url)
    trials = study.get_trials()
    assert len(trials) == 4 and all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    per_worker = pd.Series([t.user_attrs["worker"] for t in trials]).value_counts()
    assert sorted(per_worker) == [2, 2]
    assert {w.pid for w in workers} == {int(name.rsplit(":", 1)[1]) for name in per_worker.index}


def test_tune_refuses_to_join_a_study_made_with_other_options(adata, truth, tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    gl.tl.grn_tune(adata, truth, n_trials=1, storage=url, study_name="s", **TINY)
    fresh = adata.copy()
    del fresh.uns["grn"]
    with pytest.raises(gl.InputError, match="other settings"):
        gl.tl.grn_tune(fresh, truth, n_trials=1, storage=url, study_name="s", model="cross_encoder", max_epochs=4)
    assert "grn" not in fresh.uns


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_trials": 0}, "n_trials"),
        ({"n_trials": 2.5}, "n_trials"),
        ({"timeout": -1}, "timeout"),
        ({"model": "no_such_model"}, "not a grnlink model"),
        ({"model": "pcc"}, "nothing to tune"),
        ({"no_such_option": 1}, "no option"),
        ({"storage": "not a url", "study_name": "s"}, "database URL"),
        ({"storage": "sqlite:////no/such/folder/study.db", "study_name": "s"}, "database URL"),
        ({"storage": "sqlite:///study.db"}, "study_name"),
        ({"val_fraction": 0.0}, "validation"),
    ],
)
def test_tune_bad_arguments_raise_before_any_work(adata, truth, monkeypatch, kwargs, message):
    def no_work(*args, **kw):
        raise AssertionError("grn_tune started work before rejecting its arguments")

    monkeypatch.setattr(_tune, "prepare_fit", no_work)
    before = dict(adata.uns)
    with pytest.raises(gl.InputError, match=message):
        gl.tl.grn_tune(adata, truth, **{**TINY, **kwargs})
    assert adata.uns.keys() == before.keys()


def test_tune_replaces_an_entry_it_did_not_write_only_with_overwrite(adata, truth):
    adata.uns["mine"] = {"note": "my own results"}
    with pytest.raises(gl.InputError, match="overwrite=True"):
        gl.tl.grn_tune(adata, truth, n_trials=1, key_added="mine", **TINY)
    assert adata.uns["mine"] == {"note": "my own results"}
    gl.tl.grn_tune(adata, truth, n_trials=1, key_added="mine", overwrite=True, **TINY)
    assert adata.uns["mine"]["model"] == "cross_encoder" and "note" not in adata.uns["mine"]
    assert adata.uns["mine"]["tuning"]["n_trials"] == 1


def test_tune_with_every_option_fixed_has_nothing_to_tune(adata, truth):
    fixed = {k: gl.models.CrossEncoder.defaults[k] for k in gl.models.CrossEncoder.search_space}
    with pytest.raises(gl.InputError, match="nothing to tune"):
        gl.tl.grn_tune(adata, truth, n_trials=1, **fixed, **TINY)


def test_tune_optuna_logging_follows_scanpy_verbosity(adata, truth, monkeypatch):
    seen = []
    original = gl.models.CrossEncoder.fit

    def spy(self, *args, **kwargs):
        seen.append(optuna.logging.get_verbosity())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(gl.models.CrossEncoder, "fit", spy)
    previous = optuna.logging.get_verbosity()
    gl.tl.grn_tune(adata, truth, n_trials=1, **TINY)  # the tests run at verbosity 1 (warnings)
    sc.settings.verbosity = 3
    gl.tl.grn_tune(adata, truth, n_trials=1, **TINY)
    assert seen[0] == optuna.logging.WARNING and seen[2] == optuna.logging.INFO  # seen[1], [3]: the refits
    assert optuna.logging.get_verbosity() == previous


def test_tune_without_optuna_names_the_extra_to_install(adata, truth, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "optuna", None)  # as if the 'tune' extra were not installed
    with pytest.raises(gl.InputError, match=r"pip install 'grnlink\[tune\]'"):
        gl.tl.grn_tune(adata, truth, n_trials=1)
    assert "grn" not in adata.uns
