"""``device=`` on grn_fit, grn_tune, grn_predict and the command line: checked first, never stored, CPU unchanged."""

from __future__ import annotations

import inspect
import typing

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import torch

import grnlink as gl
from grnlink._validation import DEVICES
from grnlink.models import _device, _neural

CUDA = torch.cuda.is_available()
# small fits whose networks train by gradient (two_tower; scregnet: graph, sampled neighbours; gnt: transformer + SVM)
NEURAL = {
    "two_tower": {"n_ensemble": 2, "max_epochs": 4},
    "scregnet": {"gnn": "gat", "max_epochs": 3, "fanout": 3},
    "gnt": {"n_ensemble": 1, "max_epochs": 2, "context": 40},
}


@pytest.fixture
def no_cuda(monkeypatch):
    """A machine without CUDA, also where the tests run on one."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.fixture
def fake_cuda(monkeypatch):
    """torch says CUDA is there (device 0), so that "auto" and "cuda" resolve to it; nothing may really use it."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)


class _Reached(Exception):
    """Raised by a stand-in once it has seen where the work would run."""


def _snapshot(adata):
    return set(adata.uns), adata.obs.copy(), adata.var.copy(), set(adata.varp), set(adata.varm), adata.X.copy()


def _assert_untouched(adata, snap):
    uns, obs, var, varp, varm, x = snap
    assert set(adata.uns) == uns and set(adata.varp) == varp and set(adata.varm) == varm
    pd.testing.assert_frame_equal(adata.obs, obs)
    pd.testing.assert_frame_equal(adata.var, var)
    assert (adata.X != x).nnz == 0 if hasattr(x, "nnz") else np.array_equal(adata.X, x)


def _fit_and_score(adata, truth, model, **device):
    gl.tl.grn_fit(adata, truth, model=model, groupby="cell_type", key_added=model, **NEURAL.get(model, {}), **device)
    return gl.tl.grn_predict(adata, key=model, inplace=False, **device)["score"].to_numpy()


def test_the_typed_choices_are_the_checked_ones():
    for function in (gl.tl.grn_fit, gl.tl.grn_tune, gl.tl.grn_predict):
        optuna = pytest.importorskip("optuna", reason="grn_tune needs Optuna: pip install 'grnlink[tune]'")
        hints = typing.get_type_hints(function, localns={"optuna": optuna})
        assert typing.get_args(hints["device"]) == DEVICES, function.__name__
        assert inspect.signature(function).parameters["device"].default == "cpu"


@pytest.mark.parametrize("model", [*NEURAL, "pcc"])
def test_cpu_and_auto_without_cuda_give_the_scores_of_no_device_argument(adata, truth, no_cuda, model):
    plain = _fit_and_score(adata, truth, model)
    state = adata.uns[model]["state"]
    for device in ("cpu", "auto"):
        other = adata.copy()
        scores = _fit_and_score(other, truth, model, device=device)
        np.testing.assert_array_equal(scores, plain)
        # the device is a run-time choice: nothing about it is stored
        for entry in ("params", "fit_params", "schema"):
            assert other.uns[model][entry] == adata.uns[model][entry]
        assert "device" not in other.uns[model]["fit_params"]
        _assert_same_arrays(other.uns[model]["state"], state)


def _assert_same_arrays(found, expected):
    assert set(found) == set(expected)
    for key, value in expected.items():
        if isinstance(value, dict):
            _assert_same_arrays(found[key], value)
        else:
            np.testing.assert_array_equal(found[key], value)


def test_a_model_fitted_on_the_cpu_scores_the_same_whatever_the_device_argument(adata, truth, no_cuda):
    gl.tl.grn_fit(adata, truth, model="cross_encoder", n_ensemble=1, max_epochs=3)
    plain = gl.tl.grn_predict(adata, inplace=False)
    for device in ("cpu", "auto"):
        pd.testing.assert_frame_equal(gl.tl.grn_predict(adata, inplace=False, device=device), plain)


@pytest.mark.parametrize("entry", ["grn_fit", "grn_tune"])
def test_cuda_without_cuda_is_refused_before_any_work(adata, truth, no_cuda, monkeypatch, entry):
    from grnlink.tl import _fit, _tune

    def work(*args, **kwargs):
        raise AssertionError("work started before the device was checked")

    monkeypatch.setattr(_fit, "prepare_fit", work)
    monkeypatch.setattr(_tune, "prepare_fit", work)
    snap = _snapshot(adata)
    call = getattr(gl.tl, entry)
    options = {"n_trials": 1} if entry == "grn_tune" else {}
    with pytest.raises(gl.InputError, match=r"device='cuda'.*no CUDA device.*device='cpu'.*device='auto'"):
        call(adata, truth, model="cross_encoder", device="cuda", **options)
    _assert_untouched(adata, snap)


def test_predict_refuses_cuda_without_cuda_before_scoring(adata, truth, no_cuda, monkeypatch):
    gl.tl.grn_fit(adata, truth, model="pcc")
    snap, entry = _snapshot(adata), set(adata.uns["grn"])
    from grnlink.tl import _predict

    monkeypatch.setattr(_predict, "load_fitted", lambda *a, **k: pytest.fail("the model was read"))
    with pytest.raises(gl.InputError, match="device='cuda' was requested"):
        gl.tl.grn_predict(adata, device="cuda")
    _assert_untouched(adata, snap)
    assert set(adata.uns["grn"]) == entry  # no edges written


@pytest.mark.parametrize("device", ["gpu", "CUDA", "cuda:0", 3, None, True])
def test_a_bad_device_is_refused_listing_the_valid_values(adata, truth, device):
    match = r"device=.* is not valid: device must be one of \['cpu', 'cuda', 'auto'\]"
    for call in (
        lambda: gl.tl.grn_fit(adata, truth, model="pcc", device=device),
        lambda: gl.tl.grn_tune(adata, truth, model="cross_encoder", n_trials=1, device=device),
    ):
        snap = _snapshot(adata)
        with pytest.raises(gl.InputError, match=match):
            call()
        _assert_untouched(adata, snap)
    gl.tl.grn_fit(adata, truth, model="pcc")
    with pytest.raises(gl.InputError, match=match):
        gl.tl.grn_predict(adata, device=device)
    assert "edges" not in adata.uns["grn"]


def test_auto_takes_cuda_where_torch_has_it_and_the_trainer_gets_it(adata, truth, fake_cuda, monkeypatch):
    seen = {}

    def train_module(module, train, val, *, device, **kwargs):
        seen["device"] = device
        raise _Reached

    monkeypatch.setattr(_neural, "train_module", train_module)
    snap = _snapshot(adata)
    with pytest.raises(_Reached):
        gl.tl.grn_fit(adata, truth, model="two_tower", device="auto")
    assert seen["device"] == torch.device("cuda", 0)
    _assert_untouched(adata, snap)
    assert _device.current_device() == torch.device("cpu")  # the choice ends with the call


def test_stack_trains_its_neural_bases_on_the_device(adata, truth, fake_cuda, monkeypatch):
    seen = []

    def train_module(module, train, val, *, device, **kwargs):
        seen.append(device)
        raise _Reached

    monkeypatch.setattr(_neural, "train_module", train_module)
    with pytest.raises(_Reached):
        gl.tl.grn_fit(adata, truth, model="stack", base_models=("pcc", "sctransnet"), device="cuda")
    assert seen == [torch.device("cuda", 0)]


def test_predict_scores_on_the_device_it_is_given(adata, truth, monkeypatch):
    gl.tl.grn_fit(adata, truth, model="cross_encoder", n_ensemble=1, max_epochs=3)
    snap = _snapshot(adata)
    seen = []

    def predict_logits(module, tf, gene, batch_size=16384, *, device=None):
        seen.append(_device.current_device() if device is None else device)
        raise _Reached

    monkeypatch.setattr(_neural, "predict_logits", predict_logits)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    with pytest.raises(_Reached):
        gl.tl.grn_predict(adata, pairs=truth.head(5), device="cuda")
    assert seen == [torch.device("cuda", 0)]
    _assert_untouched(adata, snap)


def test_on_device_sets_the_device_for_the_call_only(no_cuda):
    assert _device.current_device() == torch.device("cpu")
    with _device.on_device("auto") as device:
        assert device == _device.current_device() == torch.device("cpu")
    with pytest.raises(gl.InputError, match="no CUDA device"), _device.on_device("cuda"):
        pass
    assert _device.current_device() == torch.device("cpu")


# --- the command line -----------------------------------------------------------------------------------------


def _files(adata, truth, tmp_path):
    data, prior = tmp_path / "in.h5ad", tmp_path / "prior.csv"
    adata.write_h5ad(data)
    truth.to_csv(prior, index=False)
    return data, prior


def test_cli_fit_and_predict_pass_the_device_through(adata, truth, tmp_path, monkeypatch, no_cuda):
    from grnlink._cli import main

    data, prior = _files(adata, truth, tmp_path)
    seen = []

    def recording(function):
        def call(*args, **kwargs):
            seen.append((function.__name__, kwargs["device"]))
            return function(*args, **kwargs)

        return call

    monkeypatch.setattr(gl.tl, "grn_fit", recording(gl.tl.grn_fit))
    monkeypatch.setattr(gl.tl, "grn_predict", recording(gl.tl.grn_predict))
    fit = ["-q", "fit", str(data), "--prior", str(prior), "--model", "pcc"]
    assert main([*fit, "--device", "auto", "-o", str(tmp_path / "a.h5ad")]) == 0
    assert main([*fit, "-o", str(tmp_path / "b.h5ad")]) == 0
    assert main(["-q", "predict", str(tmp_path / "a.h5ad"), "--device", "auto", "-o", str(tmp_path / "c.h5ad")]) == 0
    assert main(["-q", "predict", str(tmp_path / "a.h5ad"), "-o", str(tmp_path / "d.h5ad")]) == 0
    assert seen == [("grn_fit", "auto"), ("grn_fit", "cpu"), ("grn_predict", "auto"), ("grn_predict", "cpu")]


@pytest.mark.parametrize("command", ["fit", "predict"])
def test_cli_refuses_cuda_without_cuda_and_a_bad_device_before_reading(
    adata, truth, tmp_path, capsys, no_cuda, command
):
    from grnlink import _cli

    data, prior = _files(adata, truth, tmp_path)
    before, out = data.read_bytes(), tmp_path / "out.h5ad"
    args = ["fit", str(data), "--prior", str(prior), "--model", "pcc"] if command == "fit" else ["predict", str(data)]
    assert _cli.main(["-q", *args, "--device", "cuda", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"grnlink {command}: error: device='cuda'") and "device='auto'" in err
    with pytest.raises(SystemExit) as exit_info:
        _cli.main(["-q", *args, "--device", "gpu", "-o", str(out)])
    assert exit_info.value.code == 2 and "invalid choice: 'gpu'" in capsys.readouterr().err
    assert data.read_bytes() == before and not out.exists()


# --- a real GPU -------------------------------------------------------------------------------------------------


@pytest.mark.skipif(not CUDA, reason="needs a CUDA device (torch.cuda.is_available() is False)")
@pytest.mark.parametrize("model", [*NEURAL, "sctransnet", "stack"])
def test_a_cuda_fit_is_stored_on_the_cpu_and_scores_alike_on_both_devices(adata, truth, tmp_path, model):
    gl.tl.grn_fit(adata, truth, model=model, groupby="cell_type", device="cuda", **NEURAL.get(model, {}))
    _assert_numpy(adata.uns["grn"]["state"])
    on_cuda = gl.tl.grn_predict(adata, inplace=False, device="cuda")
    on_cpu = gl.tl.grn_predict(adata, inplace=False, device="cpu")
    assert on_cpu["score"].dtype == np.float64 and on_cuda["score"].dtype == np.float64
    np.testing.assert_allclose(on_cuda["score"], on_cpu["score"], rtol=1e-4, atol=1e-5)
    adata.write_h5ad(tmp_path / "fitted.h5ad")
    again = gl.tl.grn_predict(ad.read_h5ad(tmp_path / "fitted.h5ad"), inplace=False)
    np.testing.assert_array_equal(again["score"], on_cpu["score"])


@pytest.mark.skipif(not CUDA, reason="needs a CUDA device (torch.cuda.is_available() is False)")
def test_a_cpu_fit_scores_on_cuda_as_on_the_cpu(adata, truth):
    gl.tl.grn_fit(adata, truth, model="sctransnet", max_epochs=3)
    on_cpu = gl.tl.grn_predict(adata, inplace=False)
    on_cuda = gl.tl.grn_predict(adata, inplace=False, device="auto")
    np.testing.assert_allclose(on_cuda["score"], on_cpu["score"], rtol=1e-4, atol=1e-5)


def _assert_numpy(tree):
    for value in tree.values():
        if isinstance(value, dict):
            _assert_numpy(value)
        else:
            assert isinstance(value, np.ndarray | np.generic), type(value)
