"""``gl.tl.grn_fit``: train a link predictor on prior edges and sampled non-edges."""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from os import PathLike
from typing import Any, Literal

import numpy as np
import pandas as pd
from anndata import AnnData

from .._metrics import has_both_classes, ranking_metrics
from .._pairs import NEGATIVE_STRATEGIES, PairSet, pair_keys, sample_negatives
from .._settings import info, thread_limit, warning
from .._validation import (
    BOOLEAN,
    FRACTION,
    KEY,
    NAME,
    POSITIVE_NUMBER,
    SEED,
    GeneIndex,
    InputError,
    check_args,
    check_edge_table,
    check_unique_var_names,
    int_at_least,
    one_of,
    optional,
)
from ..models import LinkPredictor, get_model_class
from ..models._device import Device, on_device, resolve_device
from ..pp import AlignedPrior, align_prior, get_prior
from ._calibration import CALIBRATION_METHODS, fit_calibration
from ._features import MIN_CELLS, ExpressionView, build_features, cell_subsample, resolve_feature_groups
from ._precision import (
    BACKGROUND_PAIRS,
    DEFAULT_PRIOR_COVERAGE,
    PRIOR_COVERAGE,
    background_pairs,
    fit_precision,
    increases,
    n_candidates,
)
from ._predict import target_stats
from ._store import FittedGRN, check_key_free, store_fitted

_MIN_VAL_POSITIVES = 5
# the model with the best mean per-TF AUROC over the six shared BEELINE networks (benchmarks/results/celltypes.md)
DEFAULT_MODEL = "stack"

# the choices of the fitting entry points (grn_fit, grn_tune), as scanpy types them; tests/tl/test_fit.py checks
# that they match what the lower modules implement (NEGATIVE_STRATEGIES, CALIBRATION_METHODS, FEATURE_GROUPS)
NegativeStrategy = Literal["tf_matched", "uniform", "hard"]
CalibrationMethod = Literal["platt", "isotonic"]
FeatureGroup = Literal["expression", "celltype_means", "embedding", "gene_stats"]


@thread_limit()
def grn_fit(
    adata: AnnData,
    prior: pd.DataFrame | str | PathLike,
    *,
    model: str = DEFAULT_MODEL,
    groupby: str | None = None,
    embedding_key: str | None = None,
    layer: str | None = None,
    exclude: pd.DataFrame | None = None,
    negatives: NegativeStrategy | pd.DataFrame = "tf_matched",
    negative_ratio: float = 1.0,
    seed: int = 0,
    key_added: str = "grn",
    features: Sequence[FeatureGroup] | None = None,
    val_fraction: float = 0.1,
    validation: pd.DataFrame | None = None,
    max_cells: int | None = 2000,
    calibration: CalibrationMethod = "platt",
    prior_coverage: float = DEFAULT_PRIOR_COVERAGE,
    device: Device = "cpu",
    overwrite: bool = False,
    copy: bool = False,
    **model_kwargs: Any,
) -> AnnData | None:
    """Train a TF→target link predictor on a prior network.

    Prior edges whose TF and target are both in ``adata.var_names`` (matched
    case-insensitively) are the positives; non-edges drawn by ``negatives`` are
    the negatives. A random ``val_fraction`` of the positives (with their own
    negatives) is held out for early stopping. Nothing is written to ``adata``
    until training has finished.

    Parameters
    ----------
    adata
        Cells x genes. ``var_names`` must be unique gene symbols.
    prior
        TF→target table with columns ``source`` and ``target`` (e.g. from
        :func:`grnlink.pp.get_prior`), or a CSV/TSV path to one.
    model
        Name of a registered predictor; see :func:`grnlink.models.available_models`.
        The default, ``"stack"`` (``degree_adjusted`` and ``sctransnet`` cross-fitted
        with the degree controls), had the best mean per-TF AUROC over the six
        BEELINE networks of ``benchmarks/celltypes.py``; ``"degree_adjusted"`` is
        close behind and fits several times faster (per-TF AUROC and fit seconds
        of every model: ``benchmarks/results/celltypes.md``).
    groupby
        ``adata.obs`` column whose groups give the ``celltype_means`` features.
    embedding_key
        ``adata.varm`` key of scFM gene embeddings (the ``embedding`` features).
    layer
        Expression source; ``None`` uses ``adata.X``.
    exclude
        Pairs (``source``, ``target``) never used in training, neither as
        positives nor as negatives (e.g. a held-out test set).
    negatives
        ``"tf_matched"`` (same TF, random non-target), ``"uniform"`` (random
        TF x gene non-edge) or ``"hard"`` (same TF, the non-targets most
        co-expressed with it); or a table (``source``, ``target``) of the
        non-edges to train on, used as given (e.g. ``gl.bm.split(...).negatives``).
    negative_ratio
        Negatives per positive (ignored when ``negatives`` is a table).
    seed
        Seeds the validation split, negatives, cell subsample and the network;
        the same seed gives the same scores.
    key_added
        The fitted model goes to ``adata.uns[key_added]`` (a non-empty string
        without ``/``). A model fitted there before is replaced, and so are its
        predictions (``edges``, ``adata.varp[f"{key_added}_scores"]``), with a
        log line saying so; anything else already there is refused.
    features
        Feature groups among ``"expression"``, ``"celltype_means"``,
        ``"embedding"``, ``"gene_stats"``. Default: ``expression`` plus every group that
        ``groupby``/``embedding_key`` make available (and ``gene_stats`` for models that need it).
    val_fraction
        Fraction of positives (and of explicit negatives) held out for early
        stopping; ignored when ``validation`` is given.
    validation
        Labelled pairs (``source``, ``target``, ``label`` 1/0) for early
        stopping instead of a random hold-out (e.g. ``gl.bm.split(...).val``);
        they are kept out of training.
    max_cells
        Cells (a seeded subsample, at least 5) used for the ``expression``
        features; ``None`` uses all.
    calibration
        How raw scores become the ``probability`` that :func:`grnlink.tl.grn_predict`
        reports: ``"platt"`` (a logistic curve in the score; keeps the order of
        the scores and never reaches 0 or 1) or ``"isotonic"`` (a monotone step
        function), fitted on the validation pairs after training. Without
        validation pairs of both classes the training pairs are used, with a
        warning for supervised models (their probabilities are then optimistic).
    prior_coverage
        The fraction of the true network that the prior is assumed to hold, in
        (0, 1]. It sets how many true edges are missing from the prior, and so
        the ``precision`` that :func:`grnlink.tl.grn_predict` reports (the
        estimated chance that a pair outside the prior scoring at least as
        high is a true edge); it is stored and can be overridden when
        predicting. The default, 0.1: on the six shared BEELINE networks,
        DoRothEA (levels A-D) holds 1-12% of the ChIP-seq edges among the same
        TFs and genes (median 4%); ChIP-seq binding overstates functional
        regulation, so a curated prior holds a larger share of the functional
        edges. 0.1 sits at the top of the measured range, which keeps the
        number of missing edges, and so the precision, on the low side.
    device
        Where the models that train by gradient (``two_tower``, ``cross_encoder``,
        ``dual_encoder``, ``scregnet``, ``sctransnet``, ``gnt``'s transformer and
        the neural bases of ``stack``) train, and score during the fit:
        ``"cpu"`` (default), ``"cuda"`` (raises :class:`~grnlink.InputError`
        before any work when torch sees no CUDA device) or ``"auto"`` (CUDA
        when available, else the CPU). The other models (``pcc``, ``genie3``,
        ``degree_adjusted``, ``stack``'s meta-learner) take it and ignore it.
        It is not stored: weights are stored as CPU arrays, and
        :func:`grnlink.tl.grn_predict` scores on the device it is given. On a
        machine without CUDA, ``"cpu"`` and ``"auto"`` give the very same
        scores; a CUDA fit's differ from a CPU fit's by float rounding and its
        own dropout draws.
    overwrite
        Replace an ``adata.uns[key_added]`` (or ``adata.varp[f"{key_added}_scores"]``)
        entry that grn_fit did not write, e.g. ``key_added="true_network"``.
    copy
        Fit on a copy of ``adata`` and return it, leaving ``adata`` unchanged.
    **model_kwargs
        Options of the chosen model (e.g. ``n_ensemble=1``, ``max_epochs=50``).

    Returns
    -------
    ``None``, or the fitted copy when ``copy=True``. Every argument is checked
    before any work: a wrong one raises :class:`~grnlink.InputError` and leaves
    ``adata`` as it was. Writes ``adata.uns[key_added]``: ``model``, ``params``,
    the training summary ``training`` (``loss``, ``val_loss``, ``val_auroc``
    curves as members x epochs arrays, ``best_epoch``, counts of pairs,
    ``val_metrics`` with the fitted model's validation ``auroc`` and ``auprc``,
    ``fit_seconds``), the prior ``coverage`` and edge weights, the
    ``calibration`` (method, the calibration pairs' scores and labels, the
    fitted map), the ``precision`` estimator (the scores of the held-out prior
    edges and of up to 20,000 candidate pairs drawn uniformly outside the
    prior and the training pairs, see :mod:`grnlink.tl._precision`) and the
    model state.

    With ``groupby``, cell-type means that :func:`grnlink.pp.celltype_means`
    already wrote to ``adata.varm`` for the same ``groupby`` and ``layer`` are
    used instead of being computed again.

    Examples
    --------
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(n_genes=120, n_tfs=12, n_cells=300, n_celltypes=4, seed=0)
    >>> prior = adata.uns["true_network"]
    >>> gl.tl.grn_fit(adata, prior, model="two_tower", groupby="cell_type", n_ensemble=1, max_epochs=5)
    >>> adata.uns["grn"]["model"]
    'two_tower'
    >>> fitted = gl.tl.grn_fit(adata, adata.uns["true_network"], model="pcc", key_added="grn_pcc", copy=True)
    >>> "grn_pcc" in fitted.uns, "grn_pcc" in adata.uns
    (True, False)
    """
    start = time.perf_counter()
    fit_args = check_fit(locals(), adata)  # grn_fit's arguments, by name
    check_args(copy=(copy, BOOLEAN))
    predictor = get_model_class(model)(**model_kwargs)
    data = prepare_fit(adata, prior, predictor, fit_args)
    out = adata.copy() if copy else adata
    with on_device(fit_args["device"]), all_or_nothing(out, key_added):
        fit_and_store(out, predictor, data, key_added=key_added, start=start)
    return out if copy else None


_ABSENT = object()


@contextmanager
def all_or_nothing(adata: AnnData, key: str) -> Iterator[None]:
    """Leave ``adata`` exactly as it was when the block does not finish (an error, or Ctrl-C: KeyboardInterrupt).

    A fit writes nothing before its last step, and then only ``adata.uns[key]`` (and removes the stale
    ``adata.varp[f"{key}_scores"]``; :func:`~grnlink.tl._store.store_fitted`, then :func:`grn_tune`'s
    ``"tuning"``). Both are put back as they were when anything inside raises, so that an interrupted
    store does not leave half an entry or a model without its scores.
    """
    scores = f"{key}_scores"
    entry = adata.uns[key] if key in adata.uns else _ABSENT
    matrix = adata.varp[scores] if scores in adata.varp else _ABSENT
    try:
        yield
    except BaseException:
        for mapping, name, old in ((adata.uns, key, entry), (adata.varp, scores, matrix)):
            if old is not _ABSENT:
                mapping[name] = old
            elif name in mapping:
                del mapping[name]
        raise


@dataclass(frozen=True)
class FitData:
    """What a fit reads, built once by :func:`prepare_fit`: genes, aligned prior, features and labelled pairs.

    Every predictor fitted on one ``FitData`` sees the same features, training
    pairs and validation pairs; ``fit_params`` holds the ``grn_fit`` arguments
    that produced them (without the model).
    """

    genes: np.ndarray
    aligned: AlignedPrior
    features: dict[str, np.ndarray]
    train: PairSet
    val: PairSet
    seed: int
    fit_params: dict[str, Any]
    digests: dict[str, str]
    excluded: np.ndarray  # pair keys of `exclude` and `validation`: never trained on, never background


def prepare_fit(
    adata: AnnData, prior: pd.DataFrame | str | PathLike, predictor: LinkPredictor, args: Mapping[str, Any]
) -> FitData:
    """Build the gene features and draw the training and validation pairs of a fit.

    Only reads ``adata``. ``args`` holds the :data:`FIT_ARGUMENTS` as
    :func:`check_fit` returns them (checked); they mean what they mean in
    :func:`grn_fit`. ``predictor`` is checked against the feature groups built.
    """
    groupby, embedding_key, layer, seed = args["groupby"], args["embedding_key"], args["layer"], args["seed"]
    negatives, validation, max_cells = args["negatives"], args["validation"], args["max_cells"]
    explicit_negatives = isinstance(negatives, pd.DataFrame)
    groups = resolve_feature_groups(
        args["features"], groupby=groupby, embedding_key=embedding_key, required=predictor.requires
    )

    if isinstance(prior, str) and prior.lower() in ("dorothea", "collectri"):
        raise InputError(
            f"prior={prior!r} is a resource name; fetch it first with "
            f"prior = gl.pp.get_prior({prior!r}, organism='human' or 'mouse'), then pass the table."
        )
    table = get_prior(prior) if not isinstance(prior, pd.DataFrame) else prior
    check_edge_table(table, "prior")
    genes = np.asarray(adata.var_names, dtype=str)
    aligned = align_prior(table, genes)
    excluded = _exclude_keys(args["exclude"], genes)
    given_val = _labelled_pairs(validation, genes, "validation") if validation is not None else None
    given_neg = _negative_pairs(negatives, genes, aligned) if explicit_negatives else None

    view = ExpressionView.of(adata, layer, cell_subsample(adata.n_obs, max_cells, seed))
    gene_features, digests = build_features(adata, groups, view, groupby=groupby, embedding_key=embedding_key)
    predictor.check_features(gene_features)
    rng = np.random.default_rng(seed)
    hard = not explicit_negatives and negatives == "hard"
    coexpression = _coexpression_rows(view) if hard else None
    sampler = given_neg if explicit_negatives else _NegativeSampler(negatives, args["negative_ratio"], coexpression)
    train, val = _training_pairs(
        aligned.source_idx, aligned.target_idx, len(genes), excluded, sampler, args["val_fraction"], given_val, rng
    )
    fit_params = {
        "groupby": groupby,
        "embedding_key": embedding_key,
        "layer": layer,
        "negatives": f"table of {len(given_neg)} pairs" if explicit_negatives else negatives,
        "negative_ratio": args["negative_ratio"],
        "validation": "table" if validation is not None else "hold-out",
        "seed": seed,
        "features": list(groups),
        "val_fraction": args["val_fraction"],
        "max_cells": max_cells,
        "n_excluded": int(len(excluded)),
        "calibration": args["calibration"],
        "prior_coverage": args["prior_coverage"],
    }
    held_out = np.union1d(excluded, pair_keys(val.tf, val.gene, len(genes))) if validation is not None else excluded
    return FitData(genes, aligned, gene_features, train, val, seed, fit_params, digests, held_out)


#: Keyword arguments of :func:`grn_fit` (besides ``model``, ``key_added``, ``overwrite``, ``copy``) that shape the
#: data, not the model, or say where it runs (``device``): :func:`grnlink.tl.grn_tune` takes them too, under the
#: same names, defaults and types.
FIT_ARGUMENTS = tuple(
    name
    for name, parameter in inspect.signature(grn_fit).parameters.items()
    if parameter.kind is parameter.KEYWORD_ONLY and name not in ("model", "key_added", "overwrite", "copy")
)
#: What every fitting entry point checks with :func:`check_fit`, and grn_fit's defaults for them.
_CHECKED_DEFAULTS = {
    name: parameter.default
    for name, parameter in inspect.signature(grn_fit).parameters.items()
    if name in (*FIT_ARGUMENTS, "key_added", "overwrite")
}


def check_fit(call: Mapping[str, Any], adata: AnnData | None = None) -> dict[str, Any]:
    """The argument checks of every entry point that fits: :func:`grn_fit`, :func:`~grnlink.tl.grn_tune`, the CLI.

    ``call`` maps :func:`grn_fit`'s argument names to values: the caller's
    ``locals()``, or the command line's options (a name it lacks takes
    grn_fit's default; other names are left alone). Checks the
    :data:`FIT_ARGUMENTS`, ``key_added`` and ``overwrite`` and, given
    ``adata``, that its ``var_names`` are unique, that it has enough cells and
    that ``adata.uns[key_added]`` is free, grnlink's or ``overwrite``; a
    ``device`` that is not known, or ``"cuda"`` where torch sees no CUDA
    device, is refused here (:func:`~grnlink.models._device.resolve_device`).
    Raises :class:`~grnlink.InputError` naming the first bad one; reads
    nothing but its arguments. Returns the :data:`FIT_ARGUMENTS` for
    :func:`prepare_fit` (``device`` is for :func:`~grnlink.models._device.on_device`).
    """
    args = {name: call.get(name, default) for name, default in _CHECKED_DEFAULTS.items()}
    check_args(
        seed=(args["seed"], SEED),
        negative_ratio=(args["negative_ratio"], POSITIVE_NUMBER),
        val_fraction=(args["val_fraction"], FRACTION),
        max_cells=(args["max_cells"], optional(int_at_least(MIN_CELLS))),
        key_added=(args["key_added"], KEY),
        overwrite=(args["overwrite"], BOOLEAN),
        groupby=(args["groupby"], optional(NAME)),
        embedding_key=(args["embedding_key"], optional(NAME)),
        layer=(args["layer"], optional(NAME)),
        calibration=(args["calibration"], one_of(*CALIBRATION_METHODS)),
        prior_coverage=(args["prior_coverage"], PRIOR_COVERAGE),
    )
    resolve_device(args["device"])
    negatives = args["negatives"]
    if isinstance(negatives, pd.DataFrame):
        check_edge_table(negatives, "negatives")
    elif not (isinstance(negatives, str) and negatives in NEGATIVE_STRATEGIES):
        raise InputError(
            f"negatives={negatives!r} is not known; use one of {NEGATIVE_STRATEGIES} or a table of non-edges."
        )
    for table in ("exclude", "validation"):
        if args[table] is not None:
            check_edge_table(args[table], table)
    resolve_feature_groups(args["features"], groupby=args["groupby"], embedding_key=args["embedding_key"])
    if adata is not None:
        check_unique_var_names(adata)
        if adata.n_obs < MIN_CELLS:
            raise InputError(
                f"adata has {adata.n_obs} cells; a fit needs at least {MIN_CELLS} to describe genes by their "
                "expression (with fewer, every correlation and cell-type mean is noise). Use more cells."
            )
        check_key_free(adata, args["key_added"], overwrite=args["overwrite"])
    return {name: _plain_number(args[name]) for name in FIT_ARGUMENTS}


def _plain_number(value: Any) -> Any:
    """A numpy number (``np.int64(3)``, what a user's loop or table gives) as the Python one (torch's seeding
    and the stored JSON take only those); anything else as it is."""
    return value.item() if isinstance(value, np.integer | np.floating) else value


def fit_and_store(adata: AnnData, predictor: LinkPredictor, data: FitData, *, key_added: str, start: float) -> None:
    """Fit ``predictor`` on ``data`` and write it to ``adata.uns[key_added]``; ``start`` is when the fit began."""
    train, val, groups = data.train, data.val, data.fit_params["features"]
    model = predictor.name
    if predictor.supervised:
        info(
            f"training {model} on {train.n_pos} positive and {len(train) - train.n_pos} negative pairs "
            f"({val.n_pos} positives held out for validation), features: {', '.join(groups) or 'none'}"
        )
    else:
        info(f"{model} is unsupervised: the prior only serves its validation metrics")
    history = predictor.fit(data.features, train, val, n_genes=len(data.genes), seed=data.seed)

    val_scores = predictor.score(val.tf, val.gene) if len(val) else np.empty(0)
    training = _training_summary(history, train, val, val_scores, time.perf_counter() - start)
    calibrated = _calibration(predictor, train, val, val_scores, data.fit_params["calibration"])
    precision = _precision_estimator(predictor, data, val_scores)
    source, target = data.aligned.source_idx, data.aligned.target_idx
    stats = target_stats(FittedGRN(predictor, data.genes, data.genes[np.unique(source)], source, target, {}))
    store_fitted(
        adata,
        key_added,
        model=predictor,
        genes=data.genes,
        prior_source=data.aligned.source_idx,
        prior_target=data.aligned.target_idx,
        fit_params={"model": model, **data.fit_params},
        training=training,
        coverage=data.aligned.coverage,
        prior_weight=data.aligned.weight,
        calibration=calibrated,
        precision=precision,
        target_stats=stats,
        digests=data.digests,
    )
    val_auroc = training["val_metrics"]["auroc"]
    val_note = f", validation AUROC {val_auroc:.3f}" if np.isfinite(val_auroc) else ""
    info(f"fitted {model} in {training['fit_seconds']:.1f} s{val_note}; stored in adata.uns[{key_added!r}]")


def _precision_estimator(predictor: LinkPredictor, data: FitData, val_scores: np.ndarray) -> dict | None:
    """The precision estimator of :mod:`grnlink.tl._precision` from pairs the model did not train on, else None.

    Held out: the validation positives. Background: up to ``BACKGROUND_PAIRS``
    pairs of the prior's TFs x genes drawn uniformly (seeded), outside the
    prior, the training pairs and ``exclude``/``validation``.
    """
    val, train, n_genes = data.val, data.train, len(data.genes)
    held_out = val_scores[val.label == 1]
    if not len(held_out):
        warning("no held-out prior edges (validation positives) to estimate the precision from: it will be NaN")
        return None
    prior_keys = np.unique(pair_keys(data.aligned.source_idx, data.aligned.target_idx, n_genes))
    blocked = np.concatenate([prior_keys, pair_keys(train.tf, train.gene, n_genes), data.excluded])
    tf_rows = np.unique(data.aligned.source_idx)
    rng = np.random.default_rng([data.seed, 7])  # its own stream: the pairs drawn before stay as they were
    tf, gene = background_pairs(tf_rows, n_genes, blocked, BACKGROUND_PAIRS, rng)
    if not len(tf):
        warning("no candidate pairs outside the prior to estimate the precision from: it will be NaN")
        return None
    background = predictor.score(tf, gene)
    coverage = float(data.fit_params["prior_coverage"])
    n_missing = len(prior_keys) * (1 - coverage) / coverage
    n_pairs = n_candidates(len(tf_rows), n_genes, len(prior_keys))
    if n_missing >= n_pairs:
        warning(
            f"prior_coverage={coverage} means {n_missing:,.0f} true edges missing from the prior, but only "
            f"{n_pairs:,} TF-gene pairs lie outside it: every pair would be an edge, so precision is 1 everywhere. "
            "Pass a larger prior_coverage (the prior holds more of the network than assumed)."
        )
    estimator = fit_precision(
        held_out, background, n_prior=len(prior_keys), n_candidates=n_pairs, prior_coverage=coverage
    )
    if not increases(estimator):
        warning(
            "the held-out prior edges do not score above pairs drawn outside the prior: every pair's precision "
            "is the base rate. The model has learned nothing that ranks unseen edges higher."
        )
    return estimator


def _exclude_keys(exclude: pd.DataFrame | None, genes: np.ndarray) -> np.ndarray:
    """Sorted pair keys of ``exclude``; unknown genes raise."""
    if exclude is None:
        return np.empty(0, dtype=np.int64)
    check_edge_table(exclude, "exclude")
    index = GeneIndex(genes)
    src = index.positions_or_raise(exclude["source"].to_numpy(), "exclude['source']")
    tgt = index.positions_or_raise(exclude["target"].to_numpy(), "exclude['target']")
    return np.unique(pair_keys(src, tgt, len(genes)))


def _coexpression_rows(view: ExpressionView) -> Callable[[int], np.ndarray]:
    """A function giving a TF's correlation with every gene, for hard negatives."""
    z = view.standardized()
    return lambda tf: z @ z[tf] / z.shape[1]


@dataclass(frozen=True)
class _NegativeSampler:
    """Draws negatives for given positives by a named strategy."""

    strategy: str
    ratio: float
    coexpression: Callable[[int], np.ndarray] | None

    def draw(self, pos: PairSet, n_genes: int, blocked: np.ndarray, rng: np.random.Generator) -> PairSet:
        neg_tf, neg_gene = sample_negatives(
            pos.tf,
            pos.gene,
            n_genes,
            strategy=self.strategy,
            ratio=self.ratio,
            forbidden=blocked,
            coexpression=self.coexpression,
            rng=rng,
        )
        return PairSet(neg_tf, neg_gene, np.zeros(len(neg_tf)))


def _labelled_pairs(table: pd.DataFrame, genes: np.ndarray, what: str) -> PairSet:
    """Positions and labels of a ``source``, ``target``, ``label`` table; bad input raises."""
    check_edge_table(table, what)
    if "label" not in table.columns:
        raise InputError(f"{what} needs a 'label' column (1 = edge, 0 = non-edge), e.g. gl.bm.split(...).val.")
    labels = pd.to_numeric(table["label"], errors="coerce").to_numpy()
    if not np.isin(labels, (0, 1)).all():
        raise InputError(f"{what}['label'] must hold only 0 and 1.")
    index = GeneIndex(genes)
    src = index.positions_or_raise(table["source"].to_numpy(), f"{what}['source']")
    tgt = index.positions_or_raise(table["target"].to_numpy(), f"{what}['target']")
    return PairSet(src, tgt, labels)


def _negative_pairs(table: pd.DataFrame, genes: np.ndarray, aligned) -> PairSet:
    """Explicit training negatives; a pair that is also a prior edge raises."""
    pairs = _labelled_pairs(table.assign(label=0), genes, "negatives")
    prior_keys = pair_keys(aligned.source_idx, aligned.target_idx, len(genes))
    clash = np.isin(pair_keys(pairs.tf, pairs.gene, len(genes)), prior_keys)
    if clash.any():
        raise InputError(
            f"{int(clash.sum())} pairs of `negatives` are prior edges; a pair cannot be both. "
            "Remove them from the negatives table."
        )
    return pairs


def _without(pairs: PairSet, blocked: np.ndarray, n_genes: int) -> PairSet:
    return pairs.subset(~np.isin(pair_keys(pairs.tf, pairs.gene, n_genes), blocked))


def _training_pairs(source, target, n_genes, excluded, negatives, val_fraction, validation, rng):
    """Training and validation pairs: positives minus ``exclude``, each part with its own negatives.

    ``negatives`` is a :class:`_NegativeSampler` or a :class:`PairSet` of explicit
    negatives. ``validation`` (labelled pairs), when given, replaces the random
    hold-out and is kept out of training.
    """
    keys = pair_keys(source, target, n_genes)
    if validation is not None:
        excluded = np.union1d(excluded, pair_keys(validation.tf, validation.gene, n_genes))
    usable = ~np.isin(keys, excluded)
    if not usable.any():
        raise InputError("every prior edge is in `exclude`: nothing is left to train on. Exclude fewer pairs.")
    if (~usable).any():
        info(f"{int((~usable).sum())} prior edges are in `exclude` or `validation` and are not used for training")
    positives = PairSet(source[usable], target[usable], np.ones(int(usable.sum())))
    n_val = 0 if validation is not None else int(round(val_fraction * len(positives)))
    n_val = n_val if n_val >= _MIN_VAL_POSITIVES else 0
    order = rng.permutation(len(positives))
    val_pos, train_pos = positives.subset(np.sort(order[:n_val])), positives.subset(np.sort(order[n_val:]))
    forbidden = np.union1d(excluded, keys)

    if isinstance(negatives, PairSet):
        pool = _without(negatives, excluded, n_genes)
        n_val_neg = int(round(len(pool) * n_val / len(positives)))
        neg_order = rng.permutation(len(pool))
        train = PairSet.concat(train_pos, pool.subset(np.sort(neg_order[n_val_neg:])))
        held_out = PairSet.concat(val_pos, pool.subset(np.sort(neg_order[:n_val_neg])))
    else:
        train = PairSet.concat(train_pos, negatives.draw(train_pos, n_genes, forbidden, rng))
        blocked_for_val = np.union1d(forbidden, pair_keys(train.tf, train.gene, n_genes))
        held_out = PairSet.concat(val_pos, negatives.draw(val_pos, n_genes, blocked_for_val, rng)) if n_val else None
    if validation is not None:
        return train, validation
    return train, held_out if n_val and held_out is not None else PairSet([], [], [])


def _training_summary(history, train: PairSet, val: PairSet, val_scores: np.ndarray, seconds: float) -> dict[str, Any]:
    summary: dict[str, Any] = dict(history)
    summary.update(
        n_train_pos=train.n_pos,
        n_train_neg=len(train) - train.n_pos,
        n_val_pos=val.n_pos,
        n_val_neg=len(val) - val.n_pos,
        fit_seconds=float(seconds),
    )
    summary["val_metrics"] = ranking_metrics(val.label, val_scores)
    return summary


def _calibration(predictor, train: PairSet, val: PairSet, val_scores: np.ndarray, method: str) -> dict | None:
    """The score -> probability map on the validation pairs, else on the training pairs, else ``None``."""
    if has_both_classes(val.label):
        return fit_calibration(val_scores, val.label, method, on="validation")
    if not has_both_classes(train.label):
        warning("no labelled pairs of both classes to calibrate on: grn_predict's probabilities will be NaN")
        return None
    if predictor.supervised:
        warning(
            "no validation pairs of both classes: probabilities are calibrated on the training pairs, which the "
            "model has seen, so they are optimistic. Keep val_fraction > 0 or pass validation= to avoid this."
        )
    return fit_calibration(predictor.score(train.tf, train.gene), train.label, method, on="training")
