"""``gl.bm.run``: every model on every split, with the shortcut controls beside them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from anndata import AnnData

from .._metrics import has_both_classes
from .._settings import info
from .._validation import InputError
from ..tl import grn_fit, grn_predict
from ._analysis import add_label_noise
from ._controls import degree_scores
from ._metrics import evaluate
from ._split import Split, relabel, split

#: the controls :func:`run` adds beside every model: TF plus target training degree, and uniform random scores
CONTROLS = ("degree", "random")
HELD_OUT = "held-out"
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
    """Row label -> grn_fit options including ``model`` (the label itself unless the options name one)."""
    if not isinstance(models, Mapping):
        models = {name: {} for name in models}
    return {label: {"model": label, **dict(options or {})} for label, options in models.items()}


def run(
    adata: AnnData,
    truth: pd.DataFrame,
    models: Iterable[str] | Mapping[str, dict[str, Any]],
    protocols: Iterable[str] = ("tf_matched",),
    seeds: Iterable[int] = (0,),
    *,
    split_options: Mapping[str, Any] | None = None,
    label_noise: float = 0.0,
    also_score: Mapping[str, pd.DataFrame] | None = None,
    **fit_kwargs: Any,
) -> pd.DataFrame:
    """Fit and score every model on every split; add the ``degree`` and ``random`` controls.

    Each model is trained on the split's training pairs only (positives and
    the protocol's negatives), stops early on its validation pairs and is
    scored on its test pairs; :func:`evaluate` takes the classification
    threshold from the validation pairs.

    Parameters
    ----------
    adata
        Expression data; left as it was (the temporary fits are removed).
    truth
        Ground-truth edges (``source``, ``target``).
    models
        Model names, or a mapping row label -> options passed to
        :func:`grnlink.tl.grn_fit` (model options, ``features``, ...). The label
        is the model name unless the options name one, e.g.
        ``{"cross_encoder": {}, "no interaction": {"model": "cross_encoder", "interaction": False}}``.
    protocols
        Split protocols of :func:`grnlink.bm.split`.
    seeds
        One split and one fit per seed (the fit uses the same seed).
    split_options
        Passed to every :func:`grnlink.bm.split` call (e.g. ``negative_ratio``,
        ``tfs`` for ``genelink``, ``cold_start``).
    label_noise
        Share of training labels flipped before fitting (:func:`add_label_noise`).
    also_score
        Other ground truths (name -> ``source``, ``target`` table) to score the
        same fits against, e.g. ChIP-seq networks when ``truth`` is a prior
        being completed. For each, the test pairs are relabelled by
        :func:`relabel` (pairs of TFs with an edge in that network, 1 = an edge
        of it) and scored with the scores they already have; the controls
        too. Rows then carry a column ``truth``: ``"held-out"`` for the split's
        own test labels, the name for the others. Their ``f1``, ``accuracy``
        and ``threshold`` are NaN (the validation pairs carry the split's
        labels, not these); a truth whose relabelled pairs lack a class gives no row.
    **fit_kwargs
        Passed to every :func:`grnlink.tl.grn_fit` call (e.g. ``groupby``).

    Returns
    -------
    Tidy DataFrame, one row per model, protocol and seed (and ``truth``, see ``also_score``): the metrics of
    :func:`evaluate`, ``member_cv`` (an ensemble's coefficient of variation of
    its members' validation AUROC; NaN for single models), ``fit_s`` (seconds) and ``peak_mib`` (peak resident
    memory above the level before the fit). The controls: ``degree`` (TF plus
    target number of training edges) and ``random`` (uniform scores).

    Examples
    --------
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(n_genes=40, n_tfs=4, n_cells=60, seed=0)
    >>> results = gl.bm.run(adata, adata.uns["true_network"], ["pcc"], seeds=[0, 1])
    >>> sorted(results["model"].unique()), len(results)
    (['degree', 'pcc', 'random'], 6)
    >>> list(results.columns[:3]), "tf_auroc" in results, "grn" in adata.uns
    (['model', 'protocol', 'seed'], True, False)
    """
    _check_fit_kwargs(fit_kwargs)
    options = _model_options(models)
    rows = []
    try:
        for protocol in protocols:
            for seed in seeds:
                pairs = _split(adata, truth, protocol, seed, split_options, label_noise)
                tests = _test_sets(pairs, also_score, adata.var_names)
                for label, model_options in options.items():
                    rows += _model_rows(adata, pairs, label, model_options, fit_kwargs, protocol, seed, tests)
                rows += _control_rows(pairs, protocol, seed, tests)
    finally:
        _remove_fit(adata)
    return pd.DataFrame(rows)


def _check_fit_kwargs(fit_kwargs: Mapping[str, Any]) -> None:
    """Refuse grn_fit arguments that :func:`run` sets itself from each split."""
    clashing = sorted({"exclude", "negatives", "negative_ratio", "validation", "seed", "key_added"} & set(fit_kwargs))
    if clashing:
        raise InputError(
            f"gl.bm.run sets {clashing} itself from the split; pass negative ratios as "
            "split_options={'negative_ratio': ...} and seeds as seeds=[...]."
        )


def _split(
    adata: AnnData,
    truth: pd.DataFrame,
    protocol: str,
    seed: int,
    split_options: Mapping[str, Any] | None,
    label_noise: float,
) -> Split:
    """The split of ``truth`` for one protocol and seed, its training labels flipped at ``label_noise``."""
    pairs = split(truth, adata.var_names, protocol=protocol, seed=seed, **dict(split_options or {}))
    return add_label_noise(pairs, label_noise, seed=seed) if label_noise else pairs


def _model_rows(
    adata: AnnData,
    pairs: Split,
    label: str,
    model_options: dict[str, Any],
    fit_kwargs: dict[str, Any],
    protocol: str,
    seed: int,
    tests: list,
) -> list[dict[str, Any]]:
    """Fit one model on the split's training pairs (timed, memory sampled) and return its rows, one per test set."""
    with _PeakRSS() as memory:
        start = time.perf_counter()
        grn_fit(adata, pairs.prior, **pairs.fit_kwargs(), seed=seed, key_added=_KEY, **fit_kwargs, **model_options)
        seconds = time.perf_counter() - start
    scores, val_scores = (
        grn_predict(adata, pairs=table, key=_KEY)["score"].to_numpy() if len(table) else None
        for table in (pairs.test, pairs.val)
    )
    member_cv = float(adata.uns[_KEY]["training"].get("member_cv", np.nan))
    scored = _scored(pairs, scores, val_scores, tests)
    rows = []
    for truth_name, metrics in scored:
        metrics["member_cv"] = member_cv
        rows.append(_row(label, protocol, seed, metrics, seconds, memory.peak_mib, truth_name))
    info(f"{protocol} seed {seed} {label}: per-TF AUROC {scored[0][1]['tf_auroc']:.3f}, {seconds:.1f} s")
    return rows


def _remove_fit(adata: AnnData) -> None:
    """Drop the temporary fit and its scores from ``adata``."""
    adata.uns.pop(_KEY, None)
    if f"{_KEY}_scores" in adata.varp:
        del adata.varp[f"{_KEY}_scores"]


def _row(
    model: str, protocol: str, seed: int, metrics: dict, fit_s: float, peak_mib: float, truth: str | None = None
) -> dict[str, Any]:
    keys = {"model": model, "protocol": protocol} | ({"truth": truth} if truth is not None else {})
    return {**keys, "seed": seed, **metrics, "fit_s": fit_s, "peak_mib": peak_mib}


def _test_sets(
    pairs: Split, also_score: Mapping[str, pd.DataFrame] | None, genes: pd.Index
) -> list[tuple[str | None, pd.DataFrame, np.ndarray]]:
    """(truth name, labelled test pairs, their positions in ``pairs.test``): the split's own, then each relabelling.

    The name is None when ``also_score`` is not given (rows then carry no ``truth`` column).
    """
    if not also_score:
        return [(None, pairs.test, np.arange(len(pairs.test)))]
    tests = [(HELD_OUT, pairs.test, np.arange(len(pairs.test)))]
    for name, network in also_score.items():
        table = relabel(pairs.test, network, genes)
        labels = table["label"].to_numpy()
        if has_both_classes(labels):
            tests.append((name, table.reset_index(drop=True), pairs.test.index.get_indexer(table.index)))
        else:
            info(
                f"seed {pairs.seed}: the test pairs relabelled by {name!r} have {int(labels.sum())} of {len(labels)} "
                "positives; not scored against it"
            )
    return tests


def _scored(pairs: Split, scores: np.ndarray, val_scores: np.ndarray | None, tests: list) -> list[tuple]:
    """(truth name, metrics) for each test set; only the split's own uses the validation threshold."""
    out = []
    for name, table, positions in tests:
        own = name in (None, HELD_OUT)
        out.append((name, evaluate(table, scores[positions], val=pairs.val if own else None, val_scores=val_scores)))
    return out


def _control_rows(pairs: Split, protocol: str, seed: int, tests: list) -> list[dict[str, Any]]:
    """The degree-only and random controls on the split's test pairs (threshold from validation)."""
    rng = np.random.default_rng(seed)
    rows = []
    for control in CONTROLS:
        if control == "degree":
            scores, val_scores = degree_scores(pairs.prior, pairs.test), degree_scores(pairs.prior, pairs.val)
        else:
            scores, val_scores = rng.random(len(pairs.test)), rng.random(len(pairs.val))
        for name, metrics in _scored(pairs, scores, val_scores, tests):
            rows.append(_row(control, protocol, seed, {**metrics, "member_cv": np.nan}, 0.0, 0.0, name))
    return rows


def summarise(
    results: pd.DataFrame,
    metrics: Iterable[str] = ("tf_auroc", "tf_auprc", "auroc", "auprc", "epr", "f1", "fit_s", "peak_mib"),
) -> pd.DataFrame:
    """Mean ± sd over seeds of each metric, one row per (other grouping columns, model).

    Groups by every column of ``results`` that is neither a metric nor ``seed``
    (e.g. ``network``, ``protocol``, ``model``), keeping their first-seen order.

    Parameters
    ----------
    results
        Per-seed rows, e.g. from :func:`run`: a ``seed`` column, the grouping
        columns (text) and numeric metric columns.
    metrics
        Metric columns to summarise; those missing from ``results`` are skipped.

    Returns
    -------
    DataFrame with the grouping columns, one text column ``"mean ± sd"`` per
    metric (3 decimals, 1 for ``fit_s`` and ``peak_mib``) and ``seeds`` (the
    number of rows in the group).

    Examples
    --------
    >>> import pandas as pd
    >>> import grnlink as gl
    >>> results = pd.DataFrame(
    ...     {
    ...         "model": ["pcc", "degree"] * 3,
    ...         "seed": [0, 0, 1, 1, 2, 2],
    ...         "tf_auroc": [0.70, 0.60, 0.66, 0.70, 0.75, 0.65],
    ...         "fit_s": [1.0, 0.0, 1.2, 0.0, 1.1, 0.0],
    ...     }
    ... )
    >>> gl.bm.summarise(results)
        model       tf_auroc      fit_s  seeds
    0     pcc  0.703 ± 0.045  1.1 ± 0.1      3
    1  degree  0.650 ± 0.050  0.0 ± 0.0      3
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


def control_differences(
    results: pd.DataFrame, control: str = "degree", metrics: Iterable[str] = ("tf_auroc", "tf_auprc")
) -> pd.DataFrame:
    """Seed-paired difference of every model to ``control``, one row per (grouping columns, model, seed).

    A model's row is paired with the control's row of the same grouping
    columns (every non-numeric column but ``model``, e.g. ``network``,
    ``protocol``) and seed. The controls themselves get no rows.

    Parameters
    ----------
    results
        Per-seed rows, e.g. from :func:`run`, holding rows of ``control`` for
        every grouping and seed that a model has.
    control
        The ``model`` value to subtract, ``"degree"`` or ``"random"`` (or any model).
    metrics
        Metric columns to compare.

    Returns
    -------
    DataFrame with the grouping columns, ``model``, ``seed`` and, per metric,
    the model's value minus the control's.

    Examples
    --------
    >>> import pandas as pd
    >>> import grnlink as gl
    >>> results = pd.DataFrame(
    ...     {
    ...         "model": ["pcc", "degree"] * 3,
    ...         "seed": [0, 0, 1, 1, 2, 2],
    ...         "tf_auroc": [0.70, 0.60, 0.66, 0.70, 0.75, 0.65],
    ...         "fit_s": [1.0, 0.0, 1.2, 0.0, 1.1, 0.0],
    ...     }
    ... )
    >>> gl.bm.control_differences(results, metrics=["tf_auroc"]).round(3)
      model  seed  tf_auroc
    0   pcc     0      0.10
    1   pcc     1     -0.04
    2   pcc     2      0.10
    """
    metrics = list(metrics)
    numeric = set(results.select_dtypes("number").columns) - {"seed"}
    keys = [c for c in results.columns if c not in numeric and c not in ("seed", "model")]
    index = [*keys, "seed"]
    reference = results[results["model"] == control].set_index(index)
    models = results[~results["model"].isin([control, *CONTROLS])]
    frame = models.set_index(index)
    diff = frame[metrics].to_numpy(float) - reference.loc[frame.index, metrics].to_numpy(float)
    out = models[[*keys, "model", "seed"]].reset_index(drop=True)
    out[metrics] = diff
    return out


def versus_control(results: pd.DataFrame, control: str = "degree", metrics: Iterable[str] = ("tf_auroc", "tf_auprc")):
    """Seed-paired difference of every model to ``control``: mean, sd and in how many seeds the model is ahead.

    Parameters
    ----------
    results
        Per-seed rows, e.g. from :func:`run` (see :func:`control_differences`).
    control
        The ``model`` value to compare with, ``"degree"`` or ``"random"``.
    metrics
        Metric columns to compare.

    Returns
    -------
    DataFrame with one row per (grouping columns, model) and, per metric,
    ``{metric}_diff`` (text, mean ± sd with 3 decimals) and ``{metric}_wins``
    ("k/n": seeds in which the model is ahead, of those paired); the
    per-seed differences are :func:`control_differences`.

    Examples
    --------
    >>> import pandas as pd
    >>> import grnlink as gl
    >>> results = pd.DataFrame(
    ...     {
    ...         "model": ["pcc", "degree"] * 3,
    ...         "seed": [0, 0, 1, 1, 2, 2],
    ...         "tf_auroc": [0.70, 0.60, 0.66, 0.70, 0.75, 0.65],
    ...         "fit_s": [1.0, 0.0, 1.2, 0.0, 1.1, 0.0],
    ...     }
    ... )
    >>> gl.bm.versus_control(results, metrics=["tf_auroc"])
      model   tf_auroc_diff tf_auroc_wins
    0   pcc  +0.053 ± 0.081           2/3
    """
    metrics = list(metrics)
    diffs = control_differences(results, control, metrics)
    keys = [c for c in diffs.columns if c not in ("seed", *metrics)]
    rows = []
    for group, frame in diffs.groupby(keys, sort=False):
        row = dict(zip(keys, group))
        for metric in metrics:
            diff = frame[metric]
            row[f"{metric}_diff"] = f"{diff.mean():+.3f} ± {diff.std():.3f}"
            row[f"{metric}_wins"] = f"{int((diff > 0).sum())}/{len(diff)}"
        rows.append(row)
    return pd.DataFrame(rows)
