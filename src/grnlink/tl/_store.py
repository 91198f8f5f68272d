"""A fitted model as plain ``adata.uns`` entries, and back.

:func:`store_fitted` is the only writer and :func:`load_fitted` the only reader
of a fitted model; the reader validates everything before the model is used.

Layout of ``adata.uns[key]`` (format version :data:`FORMAT_VERSION`):
``format_version`` (int) and ``grnlink_version`` (the package that wrote it),
``model`` (name), ``params`` and ``fit_params`` (JSON strings, so that every
value, ``None`` included, round-trips exactly), ``genes`` (the var_names it was
fitted on), ``tfs`` (the prior's TFs), ``prior`` (source/target positions of
the aligned prior, and ``weight``: each prior edge's weight, whose sign is the
mode of regulation that :func:`grnlink.tl.grn_network` hands on), ``features``
(the feature groups the model's scoring reads, genes x d; format 3 leaves out
the genes x cells ``expression``), ``rebuilt_features`` (format 3, a JSON
string: group -> digest of each group read again from ``adata`` when the model
is loaded, see :func:`load_fitted`), ``state`` (numpy arrays), ``calibration`` (the score -> probability map
fitted on the validation pairs, see :mod:`grnlink.tl._calibration`; absent when
the fit had no labelled pairs of both classes), ``schema`` (a JSON string: the
dtype and shape of every array under ``features``, ``state``,
``prior/weight`` and ``calibration``, taken at fit time), ``training`` (curves
and counts), ``coverage``; after :func:`grnlink.tl.grn_predict` also ``edges``.

Versions. Format 1 added ``format_version``, ``grnlink_version`` and
``schema``. Format 2 added ``prior/weight`` and ``calibration`` (and their
arrays to the schema). Format 3 stores only the feature groups the model
scores from (earlier formats kept every group, the genes x cells expression
included, which made a fit at 20,000 genes weigh hundreds of MB), and
``rebuilt_features``; earlier entries still load as they are, since they hold
everything. Format 4: ``gnt``'s state keeps its gene embeddings and SVMs only
(earlier formats also kept its transformers, a genes x d identity table per
member, and their inputs, which scoring never reads); earlier ``gnt`` entries
still load and score the same. Format 5 adds ``precision``, the estimator of
:mod:`grnlink.tl._precision` (held-out and background scores, the fitted
density ratio, the prior size and ``prior_coverage``); older entries load
without it, and :func:`grnlink.tl.grn_predict` reports their ``precision`` as
NaN with a warning to refit. Format 6: ``stack`` has the option
``meta_context`` (with it, its state holds the per-TF context under
``meta``); format-5 ``stack`` entries load with it off and score as before.
Format 7: ``stack`` has the option ``refit``; with ``refit=False`` a
supervised base's state holds its cross-fitting fold models under
``folds/<k>`` instead of one refitted model. Entries of format 6 and earlier
hold refitted bases and load and score as before. Entries of format 1, and entries without
``format_version`` (written by grnlink 0.1.0 before the format had a version,
read as format 0, "legacy"), are still valid: they lack the calibration, so
:func:`grnlink.tl.grn_predict` reports a NaN ``probability`` with a warning and
:func:`grnlink.tl.grn_network` asks for a refit; legacy entries also lack the
schema, so every check below runs except the comparison with it.
Entries from a newer format than this grnlink knows are refused with a message
naming both versions, because their layout may mean something else.

Checks on reading (each failure is an :class:`~grnlink.InputError` naming the
damaged entry): required entries present; a known model name; parseable and
valid options; a unique, non-empty gene list; TFs among the genes; prior
positions in range; every feature array with one row per gene; every array
finite; one prior weight per prior edge (format 2); a calibration of a
known method with its numbers (when present); the arrays' names, dtypes and
shapes as written at fit time; gene positions the model keeps in its state (e.g. a graph) in range.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
from anndata import AnnData

from .._settings import info
from .._validation import InputError, _preview
from ..models import LinkPredictor, get_model_class
from ._calibration import CALIBRATION_METHODS, calibrated
from ._features import REBUILT_GROUPS, rebuild_features
from ._precision import check_estimator, estimated_precision

FORMAT_VERSION = 7
LEGACY_VERSION = 0  # entries written before the format had a version
_REQUIRED = ("model", "params", "genes", "tfs", "prior", "features", "state")


def _to_json(value: dict[str, Any]) -> str:
    def default(obj: Any) -> Any:
        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
        raise TypeError(f"{type(obj).__name__} is not JSON serialisable")

    return json.dumps(value, default=default, sort_keys=True)


def _package_version() -> str:
    try:
        return version("grnlink")
    except PackageNotFoundError:  # running from a source tree
        return "0.0.0"


@dataclass
class FittedGRN:
    """A fitted predictor with the gene and prior context it was fitted in."""

    model: LinkPredictor
    genes: np.ndarray
    tfs: np.ndarray
    prior_source: np.ndarray
    prior_target: np.ndarray
    fit_params: dict[str, Any]
    prior_weight: np.ndarray | None = None
    calibration: dict[str, Any] | None = None
    precision_estimator: dict[str, Any] | None = None
    target_stats: dict[str, np.ndarray] | None = None  # each gene's score mean and sd as a target of the fit's TFs

    def probability(self, scores: np.ndarray) -> np.ndarray:
        """Calibrated probabilities of raw ``scores``; NaN when the fit stored no calibration."""
        if self.calibration is None:
            return np.full(len(scores), np.nan)
        return calibrated(self.calibration, scores)

    def precision(self, scores: np.ndarray, prior_coverage: float | None = None) -> np.ndarray:
        """Estimated precision of raw ``scores`` (:mod:`grnlink.tl._precision`); NaN when the fit stored none.

        ``prior_coverage`` overrides the one the model was fitted with.
        """
        if self.precision_estimator is None:
            return np.full(len(scores), np.nan)
        return estimated_precision(self.precision_estimator, scores, prior_coverage)


def _arrays(tree: Mapping, prefix: str) -> Iterator[tuple[str, Any]]:
    """``(path, value)`` of every leaf of a nested mapping, paths joined by ``/``."""
    for name, value in tree.items():
        path = f"{prefix}/{name}"
        if isinstance(value, Mapping):
            yield from _arrays(value, path)
        else:
            yield path, value


def array_schema(
    features: Mapping,
    state: Mapping,
    *,
    prior_weight: Any = None,
    calibration: Mapping | None = None,
    precision: Mapping | None = None,
) -> dict[str, list]:
    """``{path: [dtype, shape]}`` of every array under ``features`` and ``state``, the prior weights and the
    numbers of the calibration and the precision estimator (their names, such as ``method``, are checked on
    their own)."""
    leaves = [*_arrays(features, "features"), *_arrays(state, "state")]
    if prior_weight is not None:
        leaves.append(("prior/weight", prior_weight))
    if calibration is not None:
        leaves += [(path, v) for path, v in _arrays(calibration, "calibration") if not isinstance(v, str)]
    if precision is not None:
        leaves += [(path, v) for path, v in _arrays(precision, "precision") if not isinstance(v, str)]
    return {path: [np.asarray(v).dtype.str, list(np.shape(v))] for path, v in leaves}


def is_fitted_entry(entry: Any) -> bool:
    """True when ``entry`` (an ``adata.uns`` value) was written by :func:`store_fitted`, of any version."""
    return isinstance(entry, Mapping) and ("format_version" in entry or all(k in entry for k in _REQUIRED))


def check_key_free(adata: AnnData, key: str, *, overwrite: bool) -> None:
    """Raise unless ``adata.uns[key]`` and ``adata.varp[f"{key}_scores"]`` are free, grnlink's, or ``overwrite``."""
    if overwrite:
        return
    ours = is_fitted_entry(adata.uns.get(key))
    if key in adata.uns and not ours:
        raise InputError(
            f"adata.uns[{key!r}] already holds a {type(adata.uns[key]).__name__} that grn_fit did not write; "
            f"grn_fit will not replace it. Pass another key_added=..., or overwrite=True to replace it."
        )
    if f"{key}_scores" in adata.varp and not ours:
        raise InputError(
            f"adata.varp[{key + '_scores'!r}] already exists and does not belong to a grnlink model under "
            f"adata.uns[{key!r}]; grn_predict would replace it. Pass another key_added=..., or overwrite=True."
        )


def store_fitted(
    adata: AnnData,
    key: str,
    *,
    model: LinkPredictor,
    genes: np.ndarray,
    prior_source: np.ndarray,
    prior_target: np.ndarray,
    fit_params: dict[str, Any],
    training: dict[str, Any],
    coverage: dict[str, int],
    prior_weight: np.ndarray,
    calibration: dict[str, Any] | None,
    digests: Mapping[str, str],
    precision: dict[str, Any] | None = None,
    target_stats: dict[str, np.ndarray] | None = None,
) -> None:
    """Write the fitted model to ``adata.uns[key]``, replacing what was there.

    Of the feature groups the fit built, only those the model's scoring reads
    (:meth:`~grnlink.models.LinkPredictor.scoring_features`) are kept; of
    those, the per-cell ``expression`` (genes x cells: the data, not the
    model) is kept as the digest that :func:`load_fitted` checks when it reads
    it from ``adata`` again (``digests``, from the fit's feature building).

    A model stored before under ``key`` goes with its predictions: its
    ``edges`` and ``adata.varp[f"{key}_scores"]`` no longer match and are
    removed, which one log line says.
    """
    replaced = []
    if key in adata.uns:
        old = adata.uns[key]
        replaced.append(f"the {old['model']} model" if is_fitted_entry(old) else f"the {type(old).__name__}")
    if f"{key}_scores" in adata.varp:
        del adata.varp[f"{key}_scores"]
        replaced.append(f"adata.varp[{key + '_scores'!r}]")
    tfs = genes[np.unique(prior_source)]
    kept = model.scoring_features(tuple(fit_params.get("features", model.features)))
    features = {k: np.asarray(model.features[k], dtype=np.float32) for k in kept if k not in REBUILT_GROUPS}
    rebuilt = {k: digests[k] for k in kept if k in REBUILT_GROUPS}
    state = model.get_state()
    prior_weight = np.asarray(prior_weight, dtype=np.float64)
    adata.uns[key] = {
        "format_version": FORMAT_VERSION,
        "grnlink_version": _package_version(),
        "model": model.name,
        "params": _to_json(model.params),
        "fit_params": _to_json(fit_params),
        "genes": np.asarray(genes, dtype=str),
        "tfs": np.asarray(tfs, dtype=str),
        "prior": {
            "source": prior_source.astype(np.int64),
            "target": prior_target.astype(np.int64),
            "weight": prior_weight,
        },
        "features": features,
        "rebuilt_features": _to_json(rebuilt),
        "state": state,
        "schema": _to_json(
            array_schema(features, state, prior_weight=prior_weight, calibration=calibration, precision=precision)
        ),
        "training": training,
        "coverage": coverage,
    }
    if calibration is not None:
        adata.uns[key]["calibration"] = calibration
    if precision is not None:
        adata.uns[key]["precision"] = precision
    if target_stats is not None:
        adata.uns[key]["target_stats"] = {k: np.asarray(v, dtype=np.float64) for k, v in target_stats.items()}
    if replaced:
        info(f"replaced {' and '.join(replaced)} under key {key!r} with the new {model.name} model")


def load_fitted(adata: AnnData, key: str) -> FittedGRN:
    """Rebuild the predictor stored in ``adata.uns[key]`` by :func:`store_fitted`, after validating it.

    Feature groups stored as a digest (format 3: the per-cell expression of
    the models that score from it, ``pcc`` and ``sctransnet``) are read again
    from ``adata`` and must match their digest. The stages, in order: find the
    entry (:func:`_stored_entry`), its format and model class
    (:func:`_model_class`), the genes, TFs and prior (:func:`_gene_context`),
    every stored array against the fit-time schema (:func:`_checked_arrays`),
    then the model rebuilt from its options and state (:func:`_restored_model`).
    """
    entry = _stored_entry(adata, key)
    where = f"the model stored in adata.uns[{key!r}]"
    fmt = _format_version(entry, where)
    cls = _model_class(entry, where)
    params = _json(entry, "params", where)
    fit_params = _json(entry, "fit_params", where) if "fit_params" in entry else {}
    genes, tfs, source, target = _gene_context(entry, where)
    arrays = _checked_arrays(entry, fmt, len(genes), len(source), where)
    model = _restored_model(adata, entry, cls, params, arrays, genes, fit_params, fmt, where)
    return FittedGRN(
        model=model,
        genes=genes,
        tfs=tfs,
        prior_source=source,
        prior_target=target,
        fit_params=fit_params,
        prior_weight=arrays.prior_weight,
        calibration=arrays.calibration,
        precision_estimator=arrays.precision,
        target_stats=arrays.target_stats,
    )


def _stored_entry(adata: AnnData, key: str) -> Mapping:
    """``adata.uns[key]`` when it holds a fitted model (of any format) with every required entry."""
    entry = adata.uns.get(key) if isinstance(key, str) else None
    if not isinstance(entry, Mapping) or not ("model" in entry or "format_version" in entry):
        raise InputError(
            f"adata.uns has no fitted grnlink model under key {key!r}. "
            f"Run gl.tl.grn_fit(adata, prior, key_added={key!r}) first, or pass the key you fitted with."
        )
    return entry


def _model_class(entry: Mapping, where: str) -> type[LinkPredictor]:
    """The registered class of the stored model, once the entry holds every required part."""
    missing = [k for k in _REQUIRED if k not in entry]
    if missing:
        raise InputError(f"{where} is damaged: it lacks {missing}. Refit it with gl.tl.grn_fit.")
    try:
        return get_model_class(str(entry["model"]))
    except InputError as err:
        writer = entry.get("grnlink_version", "an unknown version")
        raise InputError(f"{where} (written by grnlink {writer}) is damaged or needs another grnlink: {err}") from err


def _gene_context(entry: Mapping, where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The fitted genes, the prior's TFs (among them) and the prior's source and target positions."""
    genes = _genes(entry, where)
    n_genes = len(genes)
    tfs = np.asarray(entry["tfs"]).astype(str).ravel()
    if not np.isin(tfs, genes).all():
        unknown = tfs[~np.isin(tfs, genes)].tolist()
        raise InputError(f"{where} is damaged: its TFs {_preview(unknown)} are not among its genes.")
    source, target = (_positions(entry["prior"], end, n_genes, f"{where}: prior {end}") for end in ("source", "target"))
    if len(source) != len(target):
        raise InputError(f"{where} is damaged: its prior has {len(source)} sources but {len(target)} targets.")
    return genes, tfs, source, target


@dataclass
class _StoredArrays:
    """The checked arrays of an entry: what :func:`_checked_arrays` hands to the model and to :class:`FittedGRN`."""

    features: Mapping
    state: Mapping
    prior_weight: np.ndarray | None
    calibration: dict[str, Any] | None
    precision: dict[str, Any] | None
    target_stats: dict[str, np.ndarray] | None


def _checked_arrays(entry: Mapping, fmt: int, n_genes: int, n_edges: int, where: str) -> _StoredArrays:
    """Features, state, prior weights, calibration and precision estimator, each checked, and all of them
    compared with the fit-time schema (format 1 on: features and state; format 2 on: everything)."""
    features, state = entry["features"], entry["state"]
    if not isinstance(features, Mapping) or not isinstance(state, Mapping):
        raise InputError(f"{where} is damaged: 'features' and 'state' must be dicts of arrays.")
    _check_arrays(features, state, n_genes, where)
    prior_weight = _prior_weight(entry["prior"], n_edges, where, required=fmt >= 2)
    calibration = _calibration(entry.get("calibration"), where)
    precision = check_estimator(entry.get("precision"), where) if fmt >= 5 else None
    stats = _target_stats(entry.get("target_stats"), n_genes, where) if fmt >= 5 else None
    if fmt >= 2:
        stored_precision = entry.get("precision") if fmt >= 5 else None
        found = array_schema(
            features, state, prior_weight=prior_weight, calibration=calibration, precision=stored_precision
        )
        _compare_schema(found, _json(entry, "schema", where), where)
    elif fmt >= 1:
        _compare_schema(array_schema(features, state), _json(entry, "schema", where), where)
    return _StoredArrays(features, state, prior_weight, calibration, precision, stats)


def _restored_model(
    adata: AnnData,
    entry: Mapping,
    cls: type[LinkPredictor],
    params: dict[str, Any],
    arrays: _StoredArrays,
    genes: np.ndarray,
    fit_params: dict[str, Any],
    fmt: int,
    where: str,
) -> LinkPredictor:
    """The model built from its stored options, its gene positions checked, its state set on its features
    (those stored as a digest read again from ``adata``)."""
    n_genes = len(genes)
    try:
        model = cls(**params)
    except InputError as err:
        raise InputError(f"{where} is damaged: its options are not valid ({err})") from err
    state = arrays.state
    for path in model.state_gene_positions(state):
        *parents, name = path.split("/")
        table = state
        for parent in parents:
            table = table.get(parent, {}) if isinstance(table, Mapping) else {}
        _positions(table, name, n_genes, f"{where}: state {path}")
    features = {k: np.asarray(v, dtype=np.float32) for k, v in arrays.features.items()}
    rebuilt = _json(entry, "rebuilt_features", where) if fmt >= 3 else {}
    if rebuilt:
        features.update(rebuild_features(adata, genes, list(rebuilt), fit_params, rebuilt, where))
    try:
        model.set_state(features, dict(state), n_genes=n_genes)
    except (KeyError, ValueError, RuntimeError, IndexError, TypeError) as err:
        raise InputError(f"{where} is damaged: its state does not fit a {cls.name} model ({err}).") from err
    return model


def _target_stats(stats: Any, n_genes: int, where: str) -> dict[str, np.ndarray] | None:
    """The stored per-target score mean and sd: finite, one per gene; ``None`` when absent (computed when needed)."""
    if stats is None:
        return None
    if not isinstance(stats, Mapping) or any(name not in stats for name in ("mean", "sd")):
        raise InputError(f"{where} is damaged: its target_stats lack 'mean' or 'sd'. Refit the model.")
    out = {name: np.asarray(stats[name], dtype=np.float64).ravel() for name in ("mean", "sd")}
    if any(len(v) != n_genes or not np.isfinite(v).all() for v in out.values()):
        raise InputError(f"{where} is damaged: its target_stats are not {n_genes} finite numbers. Refit the model.")
    return out


def _format_version(entry: Mapping, where: str) -> int:
    fmt = entry.get("format_version", LEGACY_VERSION)
    if isinstance(fmt, np.ndarray) and fmt.size == 1:
        fmt = fmt.item()
    if not isinstance(fmt, int | np.integer) or fmt < 0:
        raise InputError(f"{where} is damaged: format_version is {fmt!r}, not a version number.")
    if fmt > FORMAT_VERSION:
        writer = entry.get("grnlink_version", "a newer version")
        raise InputError(
            f"{where} was written by grnlink {writer} in stored-model format {int(fmt)}; this grnlink "
            f"({_package_version()}) reads formats up to {FORMAT_VERSION}. Upgrade grnlink, or refit with this one."
        )
    return int(fmt)


def _prior_weight(prior: Mapping, n_edges: int, where: str, *, required: bool) -> np.ndarray | None:
    """The prior edges' weights: finite numbers, one per edge; ``None`` for older formats that lack them."""
    if "weight" not in prior:
        if required:
            raise InputError(f"{where} is damaged: its prior lacks 'weight' (format 2 keeps one per edge). Refit it.")
        return None
    weight = np.asarray(prior["weight"])
    if weight.dtype.kind not in "biuf" or weight.shape != (n_edges,) or not np.isfinite(weight).all():
        raise InputError(
            f"{where} is damaged: its prior weights ({weight.dtype}, shape {weight.shape}) are not {n_edges} "
            "finite numbers, one per prior edge. Refit the model."
        )
    return weight.astype(np.float64)


#: The numbers each calibration method keeps besides the calibration pairs' ``scores`` and ``labels``.
_CALIBRATION_NUMBERS = {"platt": ("coef", "intercept"), "isotonic": ("x", "y")}


def _calibration(calibration: Any, where: str) -> dict[str, Any] | None:
    """The stored score -> probability map, checked: a known method and finite numbers of matching lengths."""
    if calibration is None:
        return None
    what = f"{where} is damaged: its calibration"
    if not isinstance(calibration, Mapping) or str(calibration.get("method")) not in CALIBRATION_METHODS:
        method = calibration.get("method") if isinstance(calibration, Mapping) else calibration
        raise InputError(f"{what} has method {method!r}, not one of {CALIBRATION_METHODS}. Refit the model.")
    names = ("scores", "labels", *_CALIBRATION_NUMBERS[str(calibration["method"])])
    missing = [name for name in names if name not in calibration]
    if missing:
        raise InputError(f"{what} lacks {missing}. Refit the model.")
    for name in names:
        values = np.asarray(calibration[name])
        if values.dtype.kind not in "biuf" or not np.isfinite(values).all():
            raise InputError(f"{what} holds {name} that are not finite numbers. Refit the model.")
    pairs = (("scores", "labels"), ("x", "y")) if calibration["method"] == "isotonic" else (("scores", "labels"),)
    for a, b in pairs:
        if np.shape(calibration[a]) != np.shape(calibration[b]):
            raise InputError(f"{what} has {a} and {b} of different lengths. Refit the model.")
    return dict(calibration)


def _json(entry: Mapping, name: str, where: str) -> dict[str, Any]:
    try:
        value = json.loads(str(entry[name]))
    except (KeyError, json.JSONDecodeError) as err:
        raise InputError(f"{where} is damaged: its {name!r} entry is missing or not valid JSON ({err}).") from err
    if not isinstance(value, dict):
        raise InputError(f"{where} is damaged: its {name!r} entry is not a JSON object.")
    return value


def _genes(entry: Mapping, where: str) -> np.ndarray:
    genes = np.asarray(entry["genes"])
    if genes.ndim != 1 or len(genes) < 2 or genes.dtype.kind not in "OUS":
        raise InputError(f"{where} is damaged: its gene list has shape {genes.shape} and dtype {genes.dtype}.")
    genes = genes.astype(str)
    if len(np.unique(genes)) != len(genes):
        raise InputError(f"{where} is damaged: its gene list has duplicated names.")
    return genes


def _positions(table: Mapping, name: str, n_genes: int, what: str) -> np.ndarray:
    """Integer gene positions ``table[name]``, raising when they are not integers in ``[0, n_genes)``."""
    if name not in table:
        raise InputError(f"{what} is missing.")
    values = np.asarray(table[name])
    if values.dtype.kind not in "iu":
        raise InputError(f"{what} has dtype {values.dtype}; gene positions are integers. The stored model is damaged.")
    if values.size and (values.min() < 0 or values.max() >= n_genes):
        raise InputError(
            f"{what} holds gene positions outside [0, {n_genes}) (range {values.min()}..{values.max()}): "
            "the stored model is damaged or does not belong to its gene list. Refit it."
        )
    return values.astype(np.int64).ravel()


def _check_arrays(features: Mapping, state: Mapping, n_genes: int, where: str) -> None:
    """Numeric, finite arrays; every feature group with one row per gene."""
    for path, value in [*_arrays(features, "features"), *_arrays(state, "state")]:
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise InputError(f"{where} is damaged: {path} has dtype {array.dtype}, not a number type.")
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            n_bad = int((~np.isfinite(array)).sum())
            raise InputError(f"{where} is damaged: {path} holds {n_bad} NaN or infinite values. Refit the model.")
        if path.startswith("features/") and (array.ndim != 2 or array.shape[0] != n_genes):
            raise InputError(
                f"{where} is damaged: {path} has shape {array.shape}, expected ({n_genes} genes, d) "
                "to match its gene list."
            )


def _compare_schema(found: dict[str, list], written: dict[str, Any], where: str) -> None:
    """Raise naming the first array whose name, dtype or shape differs from the fit-time schema."""
    missing, extra = sorted(set(written) - set(found)), sorted(set(found) - set(written))
    if missing or extra:
        parts = [f"lacks {_preview(missing)}"] if missing else []
        parts += [f"has unexpected {_preview(extra)}"] if extra else []
        raise InputError(f"{where} is damaged: it {' and '.join(parts)} (compared with its fit-time schema).")
    for path, (dtype, shape) in written.items():
        now_dtype, now_shape = np.dtype(found[path][0]), found[path][1]
        # a 0-d float32 comes back from h5ad as a Python float: for scalars, only the kind must match
        same_dtype = now_dtype == np.dtype(dtype) or (not shape and now_dtype.kind == np.dtype(dtype).kind)
        if list(now_shape) != list(shape) or not same_dtype:
            raise InputError(
                f"{where} is damaged: {path} is {now_dtype} with shape {tuple(now_shape)}, but was written as "
                f"{np.dtype(dtype)} with shape {tuple(shape)}. Refit the model."
            )
