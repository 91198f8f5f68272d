"""``gl.bm.run``: every model on every split, with the shortcut controls beside them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from anndata import AnnData

from .._settings import info
from ..tl import grn_fit, grn_predict
from ._controls import degree_scores
from ._metrics import evaluate
from ._split import split

CONTROLS = ("degree", "random")
_KEY = "_grnlink_bm"


class _PeakRSS:
    """Peak resident memory (MiB) above the starting level while the block runs, sampled every 20 ms."""

    def __init__(self):
        try:
            import psutil

            self._process = psutil.Process()
        except ImportError:  # memory is then reported as NaN
            self._process = None
        self.peak_mib = float("nan")

    def __enter__(self):
        if self._process is not None:
            self._start = self._peak = self._process.memory_info().rss
            self._running = True
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self):
        while self._running:
            self._peak = max(self._peak, self._process.memory_info().rss)
            time.sleep(0.02)

    def __exit__(self, *exc):
        if self._process is not None:
            self._running = False
            self._thread.join()
            self._peak = max(self._peak, self._process.memory_info().rss)
            self.peak_mib = (self._peak - self._start) / 2**20


def _model_options(models: Iterable[str] | Mapping[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    if isinstance(models, Mapping):
        return {name: dict(options or {}) for name, options in models.items()}
    return {name: {} for name in models}


def run(
    adata: AnnData,
    truth: pd.DataFrame,
    models: Iterable[str] | Mapping[str, dict[str, Any]],
    protocols: Iterable[str] = ("tf_matched",),
    seeds: Iterable[int] = (0,),
    **fit_kwargs: Any,
) -> pd.DataFrame:
    """Fit and score every model on every split; add the ``degree`` and ``random`` controls.

    Parameters
    ----------
    adata
        Expression data; left as it was (the temporary fits are removed).
    truth
        Ground-truth edges (``source``, ``target``).
    models
        Model names, or a mapping name -> options passed to :func:`grnlink.tl.grn_fit`.
    protocols
        Split protocols of :func:`grnlink.bm.split`.
    seeds
        One split and one fit per seed (the fit uses the same seed).
    **fit_kwargs
        Passed to every :func:`grnlink.tl.grn_fit` call (e.g. ``groupby``).

    Returns
    -------
    Tidy DataFrame, one row per model, protocol and seed: ``auroc``, ``auprc``,
    ``tf_auroc``, ``tf_auprc``, ``n_test_tfs``, ``fit_s`` (seconds) and
    ``peak_mib`` (peak resident memory above the level before the fit). The
    controls: ``degree`` (TF plus target number of training edges) and
    ``random`` (uniform scores).

    Examples
    --------
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(seed=0)
    >>> results = gl.bm.run(adata, adata.uns["true_network"], ["pcc"], seeds=[0, 1], groupby="cell_type")
    >>> sorted(results["model"].unique())
    ['degree', 'pcc', 'random']
    """
    options = _model_options(models)
    rows = []
    try:
        for protocol in protocols:
            for seed in seeds:
                pairs = split(truth, adata.var_names, protocol=protocol, seed=seed)
                for model, model_options in options.items():
                    with _PeakRSS() as memory:
                        start = time.perf_counter()
                        grn_fit(
                            adata,
                            pairs.prior,
                            exclude=pairs.exclude,
                            model=model,
                            seed=seed,
                            key_added=_KEY,
                            **fit_kwargs,
                            **model_options,
                        )
                        seconds = time.perf_counter() - start
                    scores = grn_predict(adata, pairs=pairs.test, key=_KEY)["score"].to_numpy()
                    rows.append(
                        {
                            "model": model,
                            "protocol": protocol,
                            "seed": seed,
                            **evaluate(pairs.test, scores),
                            "fit_s": seconds,
                            "peak_mib": memory.peak_mib,
                        }
                    )
                    info(f"{protocol} seed {seed} {model}: per-TF AUROC {rows[-1]['tf_auroc']:.3f}, {seconds:.1f} s")
                random_scores = np.random.default_rng(seed).random(len(pairs.test))
                for control, scores in (("degree", degree_scores(pairs.prior, pairs.test)), ("random", random_scores)):
                    rows.append(
                        {
                            "model": control,
                            "protocol": protocol,
                            "seed": seed,
                            **evaluate(pairs.test, scores),
                            "fit_s": 0.0,
                            "peak_mib": 0.0,
                        }
                    )
    finally:
        adata.uns.pop(_KEY, None)
        if f"{_KEY}_scores" in adata.varp:
            del adata.varp[f"{_KEY}_scores"]
    return pd.DataFrame(rows)


def summarise(
    results: pd.DataFrame, metrics: Iterable[str] = ("tf_auroc", "tf_auprc", "auroc", "auprc", "fit_s", "peak_mib")
) -> pd.DataFrame:
    """Mean ± sd over seeds of each metric, one row per (other grouping columns, model).

    Groups by every column of ``results`` that is neither a metric nor ``seed``
    (e.g. ``network``, ``protocol``, ``model``), keeping their first-seen order.
    """
    metrics = [m for m in metrics if m in results.columns]
    numeric = set(results.select_dtypes("number").columns) - {"seed"}
    keys = [c for c in results.columns if c not in numeric and c != "seed"]
    grouped = results.groupby(keys, sort=False)
    table = grouped.size().rename("seeds").to_frame()
    for metric in metrics:
        digits = 1 if metric in ("fit_s", "peak_mib") else 3
        mean, sd = grouped[metric].mean(), grouped[metric].std()
        table[metric] = [f"{m:.{digits}f} ± {s:.{digits}f}" for m, s in zip(mean, sd)]
    return table[[*metrics, "seeds"]].reset_index()


def versus_control(results: pd.DataFrame, control: str = "degree", metrics: Iterable[str] = ("tf_auroc", "tf_auprc")):
    """Seed-paired difference of every model to ``control``: mean, sd and in how many seeds the model is ahead.

    Returns a DataFrame with one row per (grouping columns, model) and, per
    metric, ``{metric}_diff`` (mean ± sd) and ``{metric}_wins`` ("k/n").
    """
    numeric = set(results.select_dtypes("number").columns) - {"seed"}
    keys = [c for c in results.columns if c not in numeric and c not in ("seed", "model")]
    index = [*keys, "seed"]
    reference = results[results["model"] == control].set_index(index)
    rows = []
    for group, frame in results[~results["model"].isin([control, *CONTROLS])].groupby([*keys, "model"], sort=False):
        frame = frame.set_index(index)
        row = dict(zip([*keys, "model"], group if isinstance(group, tuple) else (group,)))
        for metric in metrics:
            diff = frame[metric] - reference.loc[frame.index, metric]
            row[f"{metric}_diff"] = f"{diff.mean():+.3f} ± {diff.std():.3f}"
            row[f"{metric}_wins"] = f"{int((diff > 0).sum())}/{len(diff)}"
        rows.append(row)
    return pd.DataFrame(rows)
