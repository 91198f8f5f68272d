"""``stack``: registered models and the degree controls combined by a cross-fitted meta-learner.

Stacking (stacked generalisation, Wolpert 1992) learns how much to trust
each of several models, and the degree shortcut, from how they score pairs
they were not trained on. The inputs of the meta-learner, per pair ``(tf, gene)``:

- each base model's score: scores in [0, 1] (the neural models'
  probabilities, ``pcc``'s ``|r|``, ``genie3``'s importances) enter as logits
  (clipped at ``1e-7`` from either end), other scores (``gnt``'s SVM decision
  function) as they are;
- with ``use_controls``, the two shortcut controls of
  :func:`grnlink.bm.degree_scores`, separately and as ``log1p``: the TF's
  out-degree and the target's in-degree over the training positives.

The meta-learner is a logistic regression (scikit-learn, L2, ``C=1``) on
these inputs standardised to zero mean and unit variance; its coefficients
say which input carries weight (they are in the training history). A pair's
score is the meta-learner's probability.

Why cross-fitting: a model scores its own training pairs better than new
ones, and the degree of a training positive counts that very edge. A
meta-learner fitted on such in-sample scores learns to trust whatever
memorises best, which does not carry over to held-out pairs. So the training
pairs are split into ``n_folds`` folds, stratified per TF and label (each TF's
positives and negatives are spread over all folds, as far as its counts
allow); for each fold, every supervised base model is fitted on the other
folds (early-stopping on the fit's validation pairs) and scores the held-out
fold, and the fold's degree features are counted over the other folds'
positives only, rescaled to the full-data scale by about
``n_folds / (n_folds - 1)`` (exactly: all training pairs over the other
folds' pairs). Every training pair thus gets out-of-fold (OOF) inputs that
no model trained on it produced, and the meta-learner is fitted on these
OOF rows.
New pairs are then scored, by default (``refit=False``), by the mean of each
base's fold models: the very models whose out-of-fold scores the
meta-learner learned to weigh (cross-validation bagging), with degrees over
all training positives. With ``refit=True`` every base model is instead
refitted on all training pairs (same validation pairs, the stack's seed) and
scores new pairs alone: one more fit per base, the costliest one, for no gain
in accuracy on the shared BEELINE networks
(``benchmarks/results/stack_refit.md``). Unsupervised base models (``pcc``,
``genie3``) never see a label, so they are fitted once and used as they are.

On a large prior the fold fits cost most of the fit, and the validation
pairs are themselves thousands of pairs that no model was trained on:
``combine_on="validation"`` skips the folds and fits the meta-learner on the
final bases' scores of the validation pairs, with degrees over all training
positives (a validation edge is never one of them). The bases early-stop on
the same pairs, a choice among some tens of epochs, so their validation
scores are slightly optimistic; the stack's validation metrics are then
in-sample for its few meta-learner weights. ``"auto"`` does this only above
:data:`~grnlink.models._folds.AUTO_COMBINE_PAIRS` training pairs (no BEELINE network comes near; a
genome-scale prior's validation pairs number about 6,000) and only when the
validation pairs hold :data:`~grnlink.models._folds.AUTO_VALIDATION_PAIRS` of each class;
``benchmarks/auto_rules.py --study stack`` measures both ways where labels exist.

The options and their defaults are listed once, in :class:`Stack`.

Cost: ``n_folds`` fits per supervised base model (``n_folds + 1`` with
``refit=True``; one when combining on validation pairs), one per
unsupervised base model; scoring costs what the base models' scoring costs,
``n_folds`` times for a base scored by its fold models.

Examples
--------
>>> import grnlink as gl
>>> adata = gl.ds.simulate(n_genes=160, n_tfs=16, n_cells=400, seed=0)
>>> gl.tl.grn_fit(
...     adata, adata.uns["true_network"], model="stack", groupby="cell_type",
...     base_options={"degree_adjusted": {"n_trees": 30}, "sctransnet": {"max_epochs": 5}},
... )
>>> weights = adata.uns["grn"]["training"]["meta"]["coef"]
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.metrics import roc_auc_score
from tqdm.auto import tqdm

from .._metrics import has_both_classes, ranking_metrics, tf_aurocs
from .._pairs import PairSet, edge_degrees
from .._settings import info, progress_disabled
from .._validation import BOOLEAN, InputError, Rule, any_of, int_at_least, one_of
from ._base import LinkPredictor
from ._folds import tf_label_folds, validation_suffices
from ._logistic import fit_logistic, standardisation
from ._registry import MODELS, get_model_class, register

DEFAULT_BASE_MODELS: tuple[str, ...] = ("degree_adjusted", "sctransnet")
CONTROL_FEATURES = ("log1p_tf_out_degree", "log1p_target_in_degree")
_FOLD_SEED_STRIDE = 7_919  # fold k's base models get seed + (k + 1) * stride; the final refit gets seed
_LOGIT_CLIP = 1e-7
FOLDS_KEY = "folds"  # a base stored as its fold models (refit=False): state["bases"][name]["folds"][str(k)]
AUTO_TWO_FOLDS_PAIRS = 8_192  # "auto" n_folds: 3 up to this many training pairs, 2 above
COMBINE_ON = ("auto", "out_of_fold", "validation")
_PAIR_CHUNK = 1 << 16  # pairs a base model without score_matrix scores at once inside Stack.score_matrix
# a TF's per-TF AUROC of a base is shrunk towards the base's mean over TFs as if that mean came from this many pairs
RELIABILITY_PRIOR_PAIRS = 20
TF_CONTEXT = ("reliability", "log1p_tf_out_degree", "tf_mean", "tf_sd")


def check_stack_options(params: Mapping[str, Any]) -> tuple[str, ...]:
    """Check how the stack's options fit together and return the base model names.

    Each option's own type and range are checked by :attr:`Stack.schema`; bad combinations raise :class:`InputError`.
    """
    names = tuple(params["base_models"])
    if len(set(names)) < len(names):
        raise InputError(f"base_models lists a model twice ({names!r}); name each model once.")
    if Stack.name in names:
        raise InputError("base_models cannot include 'stack' itself; list the models to combine, e.g. 'dual_encoder'.")
    unregistered = [n for n in names if n not in MODELS]
    if unregistered:
        raise InputError(
            f"base_models names {unregistered}, which are not grnlink models. Valid names: {sorted(MODELS)}."
        )
    classes = [get_model_class(n) for n in names]
    if not any(cls.supervised for cls in classes):
        raise InputError(
            f"base_models {names!r} are all unsupervised: there is nothing to cross-fit. "
            f"Add a supervised model, e.g. base_models={(*names, DEFAULT_BASE_MODELS[0])!r}."
        )
    options = params["base_options"]
    if not isinstance(options, Mapping):
        raise InputError(f"base_options must be a dict of model name -> options dict, got {options!r}.")
    unknown = sorted(set(options) - set(names))
    if unknown:
        raise InputError(f"base_options names {unknown}, not in base_models {names!r}; add them there or drop them.")
    for name, opts in options.items():
        if not isinstance(opts, Mapping):
            raise InputError(f"base_options[{name!r}] must be a dict of options, got {opts!r}.")
    if params["combine_on"] == "validation" and params["n_folds"] != "auto":
        raise InputError(
            f"n_folds={params['n_folds']!r} sets cross-fitting folds, but combine_on='validation' does not "
            "cross-fit; drop n_folds or use combine_on='out_of_fold'."
        )
    return names


def resolve_n_folds(n_folds: int | str, n_train: int) -> int:
    """Cross-fitting folds for the option ``n_folds``.

    ``"auto"``: 3 up to :data:`AUTO_TWO_FOLDS_PAIRS` training pairs, 2 above.
    """
    if n_folds == "auto":
        return 3 if n_train <= AUTO_TWO_FOLDS_PAIRS else 2
    return int(n_folds)


def resolve_combine_on(combine_on: str, n_train: int, val: PairSet, n_folds: int | str = "auto") -> str:
    """Pairs the meta-learner is fitted on, for the options ``combine_on`` and ``n_folds``.

    ``"auto"``: ``"out_of_fold"`` up to :data:`~grnlink.models._folds.AUTO_COMBINE_PAIRS` training pairs
    or when ``n_folds`` is set; above, ``"validation"`` when the validation
    pairs hold at least :data:`~grnlink.models._folds.AUTO_VALIDATION_PAIRS` positives and as many
    negatives (else ``"out_of_fold"``).
    """
    n_neg = len(val) - val.n_pos
    if combine_on == "auto":  # folds the user asked for are kept
        return "validation" if n_folds == "auto" and validation_suffices(n_train, val) else "out_of_fold"
    if combine_on == "validation" and not has_both_classes(val.label):
        raise InputError(
            f"combine_on='validation' fits the meta-learner on the validation pairs, but they hold {val.n_pos} "
            f"positives and {n_neg} negatives; give validation pairs of both classes (val_fraction > 0 or a "
            "validation table) or use combine_on='out_of_fold'."
        )
    return combine_on


def positive_degrees(pairs: PairSet, n_genes: int) -> tuple[np.ndarray, np.ndarray]:
    """Per gene: out-degree as a TF and in-degree as a target over the positives of ``pairs`` (float64)."""
    positive = pairs.label == 1
    return edge_degrees(pairs.tf[positive], pairs.gene[positive], n_genes)


def out_of_fold_degrees(pairs: PairSet, fold: np.ndarray, n_genes: int) -> np.ndarray:
    """TF out-degree and target in-degree (pairs x 2) of each pair, counted over the other folds' positives.

    Counts are multiplied by ``len(pairs) / len(other folds' pairs)``, the
    full-data scale that pairs scored after the fit see (folds are stratified
    by label, so this is also the ratio of positives). A pair's own edge, and
    every other label of its fold, never enters its row.
    """
    out = np.empty((len(pairs), 2), dtype=np.float64)
    for k in np.unique(fold):
        held = fold == k
        rest = pairs.subset(~held)
        tf_out, target_in = positive_degrees(rest, n_genes)
        rescale = len(pairs) / len(rest)
        out[held] = np.column_stack([tf_out[pairs.tf[held]], target_in[pairs.gene[held]]]) * rescale
    return out


def tf_reliability(pairs: PairSet, scores: np.ndarray, n_genes: int) -> np.ndarray:
    """Each TF's AUROC of ``scores`` over its ``pairs``, shrunk towards the mean over TFs (length ``n_genes``).

    A TF with ``n`` labelled pairs gets ``(n * own + m * mean) / (n + m)`` with
    ``m`` = :data:`RELIABILITY_PRIOR_PAIRS`; a TF without both classes gets the mean.
    """
    own = tf_aurocs(pairs.tf, pairs.label, scores, n_genes)
    overall = float(np.nanmean(own)) if np.isfinite(own).any() else 0.5
    n = np.bincount(pairs.tf, minlength=n_genes).astype(np.float64)
    n[~np.isfinite(own)] = 0.0
    return (n * np.nan_to_num(own, nan=0.0) + RELIABILITY_PRIOR_PAIRS * overall) / (n + RELIABILITY_PRIOR_PAIRS)


def cross_fitted_reliability(pairs: PairSet, scores: np.ndarray, fold: np.ndarray, n_genes: int) -> np.ndarray:
    """Per pair and base (pairs x bases): its TF's :func:`tf_reliability` over the other folds' pairs only.

    A pair's own label never enters the reliability the meta-learner sees beside it.
    """
    out = np.empty_like(scores)
    for k in np.unique(fold):
        held, rest = fold == k, fold != k
        for j in range(scores.shape[1]):
            out[held, j] = tf_reliability(pairs.subset(rest), scores[rest, j], n_genes)[pairs.tf[held]]
    return out


def meta_folds(pairs: PairSet, fold: np.ndarray | None, seed: int) -> np.ndarray | None:
    """Folds of the meta-learner's pairs for cross-fitted reliabilities: the cross-fitting folds, else 2 new ones.

    ``None`` when the pairs cannot be split in two with both classes in each half.
    """
    if fold is not None:
        return fold
    try:
        return tf_label_folds(pairs, 2, seed)
    except InputError:
        return None


def as_logits(scores: np.ndarray) -> np.ndarray:
    """``log(p / (1 - p))`` of scores in [0, 1], clipped ``1e-7`` away from 0 and 1 (float64)."""
    p = np.clip(np.asarray(scores, dtype=np.float64), _LOGIT_CLIP, 1.0 - _LOGIT_CLIP)
    return np.log(p) - np.log1p(-p)


@register
class Stack(LinkPredictor):
    """Stacking: base models' out-of-fold scores and the degree controls, combined by a logistic regression.

    See the module docstring for the cross-fitting scheme. No base score the
    meta-learner is fitted on comes from a model trained on that pair, and no
    degree feature counts the pair's own edge (out of fold or on validation pairs).

    Options (``gl.tl.grn_fit(..., model="stack", **options)``):

    ``base_models`` (("degree_adjusted", "sctransnet"), :data:`DEFAULT_BASE_MODELS`)
        Registered model names to combine; at least one must be supervised, and
        ``"stack"`` itself is refused.
    ``base_options`` ({})
        Options per base model, e.g. ``{"dual_encoder": {"n_ensemble": 1}}``.
    ``combine_on`` ("auto")
        Pairs the meta-learner is fitted on: ``"out_of_fold"`` (cross-fitted
        training pairs), ``"validation"`` (the validation pairs, no fold fits), or
        ``"auto"``: out-of-fold up to 16,384 training pairs or when ``n_folds``
        is given, validation above when they hold 500 of each class
        (:func:`resolve_combine_on`).
    ``n_folds`` ("auto")
        Cross-fitting folds (at least 2) when combining out of fold. ``"auto"``: 3
        up to 8,192 training pairs, 2 above, where half the training pairs still
        hold thousands of each class and each fold fit saved is a third of the
        fold fits' time. Of the six BEELINE TFs+500 networks only hHEP Specific
        (about 10,000 training pairs) gets 2 folds: level there on validation
        pairs with 3 (+0.0015 per-TF AUROC, mean of 3 seeds) at 40% of the fit
        time; on mHSC-GM Specific (about 5,700 pairs) 2 folds were behind
        (-0.009) (``benchmarks/results/stack_cheaper.md``; :func:`resolve_n_folds`).
    ``use_controls`` (True)
        Add the TF out-degree and target in-degree to the meta-learner's inputs.
    ``meta_context`` (False)
        Let the meta-learner weigh each base per TF: add, for every base, its
        standardised score times each of the TF's context values, so that a
        base can count more for some TFs than for others. The context of a TF
        is the base's reliability for it (its per-TF AUROC over the TF's meta
        pairs, shrunk towards the mean over TFs with a prior of
        :data:`RELIABILITY_PRIOR_PAIRS` pairs; for the meta pairs' own rows
        cross-fitted over the folds, so that no pair's label enters its own
        row), the TF's number of training edges (``log1p``) and its mean and
        standard deviation of expression (``gene_stats``). Off by default: it
        was behind on the validation pairs of most shared BEELINE networks and
        on the test pairs of all of them (``benchmarks/results/stack_context.md``).

    ``refit`` (False)
        Refit each supervised base on all training pairs after the folds and
        score new pairs with it, instead of with the mean of its fold models
        (the default). Without folds (``combine_on="validation"``) every base
        is fitted once on all training pairs either way. The default costs one
        fit per base less and was level with the refit on validation and test
        pairs of the six shared networks (``benchmarks/results/stack_refit.md``).

    Cost: ``n_folds`` fits per supervised base model (``n_folds + 1`` with
    ``refit=True``; 1 combining on validation pairs), one per unsupervised one.

    The training history (``adata.uns[key]["training"]``) holds ``combine_on``
    and ``n_folds`` as resolved (0 on validation pairs) and, per base model,
    its ``auroc``, ``auprc`` and mean per-TF ``tf_auroc`` over the pairs the
    meta-learner was fitted on (out-of-fold training pairs, or validation
    pairs), each fold model's validation AUROC (``fold_val_auroc``), its
    meta-learner weight (``coef``) and the fold models' own histories
    (``folds``) or, with ``refit=True``, the final refit's (``final``);
    ``controls`` the same metrics for the degree control (TF plus target degree); ``meta`` the meta-learner's inputs
    (``features``), ``coef``, ``intercept`` and its in-sample metrics.

    Examples
    --------
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(n_genes=160, n_tfs=16, n_cells=400, seed=0)
    >>> gl.tl.grn_fit(
    ...     adata, adata.uns["true_network"], model="stack", base_models=("dual_encoder", "pcc"),
    ...     base_options={"dual_encoder": {"max_epochs": 5}}, n_folds=2,
    ... )
    >>> adata.uns["grn"]["training"]["meta"]["features"].tolist()
    ['dual_encoder', 'pcc', 'log1p_tf_out_degree', 'log1p_target_in_degree']
    """

    name = "stack"
    per_group = True  # when every base model is
    paper = "stacked generalisation (Wolpert 1992) over the registered models and the degree controls"
    defaults: dict[str, Any] = {
        "base_models": DEFAULT_BASE_MODELS,
        "base_options": {},
        "combine_on": "auto",
        "n_folds": "auto",
        "use_controls": True,
        "meta_context": False,
        "refit": False,
    }
    schema = {
        "base_models": Rule(
            f"a non-empty tuple of model names, e.g. {DEFAULT_BASE_MODELS}",
            lambda v: isinstance(v, list | tuple) and len(v) > 0 and all(isinstance(n, str) for n in v),
        ),
        "base_options": Rule("a dict of model name -> options dict", lambda v: isinstance(v, Mapping)),
        "combine_on": one_of(*COMBINE_ON),
        "n_folds": any_of(one_of("auto"), int_at_least(2)),
        "use_controls": BOOLEAN,
        "meta_context": BOOLEAN,
        "refit": BOOLEAN,
    }

    def __init__(self, **params: Any):
        super().__init__(**params)
        self.base_names = check_stack_options(self.params)
        self.bases: dict[str, LinkPredictor] = {name: self._new_base(name) for name in self.base_names}
        # the feature groups grn_fit must build are those of the bases (it adds the ones it can, e.g. gene_stats)
        self.requires = tuple(dict.fromkeys(g for base in self.bases.values() for g in base.requires))
        self.gene_positions = tuple(
            f"bases/{n}/{path}" for n, base in self.bases.items() for path in base.gene_positions
        )
        self.logit = np.zeros(len(self.base_names), dtype=bool)
        self.coef = np.zeros(0, dtype=np.float64)
        self.intercept = np.zeros(1, dtype=np.float64)
        self.mean = np.zeros(0, dtype=np.float64)
        self.scale = np.ones(0, dtype=np.float64)
        self.tf_out = np.zeros(0, dtype=np.float64)
        self.target_in = np.zeros(0, dtype=np.float64)
        self.tf_context = np.zeros((0, 0), dtype=np.float64)  # genes x TF_CONTEXT columns (reliability per base)
        self.context_mean = np.zeros(0, dtype=np.float64)
        self.context_scale = np.ones(0, dtype=np.float64)

    def _new_base(self, name: str) -> LinkPredictor:
        return get_model_class(name)(**dict(self.params["base_options"].get(name, {})))

    def _restored_base(
        self, name: str, features: dict[str, np.ndarray], state: dict[str, Any], n_genes: int
    ) -> LinkPredictor | FoldAverage:
        """Base ``name`` from its stored state: one refitted model, or its fold models (``refit=False``)."""
        if FOLDS_KEY not in state:
            base = self._new_base(name)
            base.set_state(features, state, n_genes=n_genes)
            return base
        models = []
        for k in range(len(state[FOLDS_KEY])):
            base = self._new_base(name)
            base.set_state(features, dict(state[FOLDS_KEY][str(k)]), n_genes=n_genes)
            models.append(base)
        return FoldAverage(models)

    def state_gene_positions(self, state: Mapping[str, Any]) -> tuple[str, ...]:
        """Gene-position paths of a stored state: a base stored as fold models has them once per fold."""
        paths = []
        for name, base in self.bases.items():
            stored = state.get("bases", {}).get(name, {}) if isinstance(state, Mapping) else {}
            folds = stored.get(FOLDS_KEY) if isinstance(stored, Mapping) else None
            prefixes = (
                [f"bases/{name}/{FOLDS_KEY}/{k}" for k in folds] if isinstance(folds, Mapping) else [f"bases/{name}"]
            )
            paths += [f"{prefix}/{path}" for prefix in prefixes for path in base.gene_positions]
        return tuple(paths)

    @property
    def context_names(self) -> list[str]:
        """Columns of the per-TF context: each base's reliability, then the TF's degree, mean and sd."""
        return [f"reliability_{n}" for n in self.base_names] + list(TF_CONTEXT[1:])

    @property
    def feature_names(self) -> list[str]:
        """The meta-learner's inputs, in order: the base models, the controls when used, then with
        ``meta_context`` each base times its own reliability and times each TF property."""
        names = [*self.base_names, *(CONTROL_FEATURES if self.params["use_controls"] else ())]
        if self.params["meta_context"]:
            names += [f"{n}*{c}" for n in self.base_names for c in ("reliability", *TF_CONTEXT[1:])]
        return names

    def check_features(self, features: dict[str, np.ndarray]) -> None:
        """Raise when a feature group some base model needs is missing."""
        for base in self.bases.values():
            base.check_features(features)

    def fit(
        self, features: dict[str, np.ndarray], train: PairSet, val: PairSet, *, n_genes: int, seed: int
    ) -> dict[str, Any]:
        """Folds, the bases' out-of-sample scores and final refits (:meth:`_fit_bases`), the degree controls
        (:meth:`_fit_controls`), then the meta-learner (:meth:`_fit_meta`)."""
        self.check_features(features)
        combine_on = resolve_combine_on(self.params["combine_on"], len(train), val, self.params["n_folds"])
        n_folds = resolve_n_folds(self.params["n_folds"], len(train)) if combine_on == "out_of_fold" else 0
        fold = tf_label_folds(train, n_folds, seed) if n_folds else None
        meta_pairs = train if fold is not None else val
        self.features = features
        base_scores, histories = self._fit_bases(features, train, val, fold, n_folds, n_genes=n_genes, seed=seed)
        controls = self._fit_controls(train, val, fold, n_genes)
        design = self._fit_meta(features, meta_pairs, base_scores, controls, fold, n_genes=n_genes, seed=seed)

        for name, coef in zip(self.base_names, self.coef):
            histories[name]["coef"] = float(coef)
        weights = ", ".join(f"{n} {c:+.2f}" for n, c in zip(self.feature_names, self.coef))
        info(f"stack: meta-learner weights (standardised inputs, fitted on the {combine_on} pairs): {weights}")
        return {
            "combine_on": combine_on,
            "n_folds": n_folds,
            "bases": histories,
            "controls": {"degree": ranking_metrics(meta_pairs.label, controls.sum(axis=1), tf=meta_pairs.tf)},
            "meta": {
                "features": np.asarray(self.feature_names, dtype=str),
                "coef": self.coef.copy(),
                "intercept": float(self.intercept[0]),
                **ranking_metrics(meta_pairs.label, self._probability(design), tf=meta_pairs.tf),
            },
        }

    def _fit_bases(
        self,
        features: dict[str, np.ndarray],
        train: PairSet,
        val: PairSet,
        fold: np.ndarray | None,
        n_folds: int,
        *,
        n_genes: int,
        seed: int,
    ) -> tuple[np.ndarray, dict[str, dict[str, Any]]]:
        """Each base's scores of the meta pairs (pairs x bases) and its history; the final refits go to :attr:`bases`.

        Out of fold, a supervised base scores each fold's training pairs from a
        fit without that fold; on validation pairs (``fold`` None), and for a
        base that never sees a label, the final refit scores them.
        """
        meta_pairs = train if fold is not None else val
        refit = self.params["refit"] or fold is None  # without folds the final fit is the only one
        n_fits = sum(n_folds + refit if get_model_class(n).supervised else 1 for n in self.base_names)
        bar = tqdm(total=n_fits, desc=self.name, disable=progress_disabled(), leave=False)
        base_scores = np.empty((len(meta_pairs), len(self.base_names)), dtype=np.float64)
        histories: dict[str, dict[str, Any]] = {}
        for j, name in enumerate(self.base_names):
            fold_val_auroc = np.full(n_folds, np.nan)
            fold_models, fold_histories = [], {}
            if self.bases[name].supervised:
                for k in range(n_folds):
                    held = fold == k
                    base = self._new_base(name)
                    bar.set_postfix_str(f"{name}, fold {k + 1}/{n_folds} held out")
                    fold_seed = seed + (k + 1) * _FOLD_SEED_STRIDE
                    fold_histories[str(k)] = base.fit(
                        features, train.subset(~held), val, n_genes=n_genes, seed=fold_seed
                    )
                    base_scores[held, j] = base.score(train.tf[held], train.gene[held])
                    if has_both_classes(val.label):
                        fold_val_auroc[k] = roc_auc_score(val.label, base.score(val.tf, val.gene))
                    fold_models.append(base)
                    bar.update()
            histories[name] = {"fold_val_auroc": fold_val_auroc}
            if fold_models and not refit:
                self.bases[name] = FoldAverage(fold_models)
                histories[name] = {
                    **ranking_metrics(meta_pairs.label, base_scores[:, j], tf=meta_pairs.tf),
                    **histories[name],
                    "folds": fold_histories,
                }
                continue
            bar.set_postfix_str(f"{name}, all training pairs")
            final = self._new_base(name)
            final_history = final.fit(features, train, val, n_genes=n_genes, seed=seed)
            bar.update()
            # validation pairs, and training pairs for a model that never saw a label, are out-of-sample
            if fold is None or not final.supervised:
                base_scores[:, j] = final.score(meta_pairs.tf, meta_pairs.gene)
            self.bases[name] = final
            histories[name] = {
                **ranking_metrics(meta_pairs.label, base_scores[:, j], tf=meta_pairs.tf),
                **histories[name],
                "final": dict(final_history),
            }
        bar.close()
        return base_scores, histories

    def _fit_controls(self, train: PairSet, val: PairSet, fold: np.ndarray | None, n_genes: int) -> np.ndarray:
        """Set the degrees over all training positives; return the meta pairs' degrees (pairs x 2), out of fold
        for training pairs."""
        self.tf_out, self.target_in = positive_degrees(train, n_genes)
        if fold is not None:
            return out_of_fold_degrees(train, fold, n_genes)
        # validation edges are not training positives: their degrees already leave them out
        return np.column_stack([self.tf_out[val.tf], self.target_in[val.gene]])

    def _fit_meta(
        self,
        features: dict[str, np.ndarray],
        meta_pairs: PairSet,
        base_scores: np.ndarray,
        controls: np.ndarray,
        fold: np.ndarray | None,
        *,
        n_genes: int,
        seed: int,
    ) -> np.ndarray:
        """Fit the meta-learner (logit flags, standardisation, context, coefficients); return its design matrix."""
        self.logit = np.array([(col.min() >= 0) & (col.max() <= 1) for col in base_scores.T], dtype=bool)
        inputs = self._meta_inputs(base_scores, controls)
        self.mean, self.scale = standardisation(inputs)
        context = None
        if self.params["meta_context"]:
            context = self._fit_context(features, meta_pairs, base_scores, fold, n_genes, seed)
        design = self._design(inputs, meta_pairs.tf, context)
        self.coef, self.intercept = fit_logistic(design, meta_pairs.label, seed)
        return design

    def _fit_context(
        self,
        features: dict[str, np.ndarray],
        pairs: PairSet,
        base_scores: np.ndarray,
        fold: np.ndarray | None,
        n_genes: int,
        seed: int,
    ) -> np.ndarray:
        """Set the per-TF context (:attr:`tf_context`, its scaling) and return its rows for the meta pairs.

        Reliabilities are fitted on every meta pair for scoring, and cross-fitted
        for the meta pairs' own rows (:func:`cross_fitted_reliability`); with no
        way to split them, the rows carry no reliability (a constant).
        """
        reliability = np.column_stack([tf_reliability(pairs, col, n_genes) for col in base_scores.T])
        stats = np.asarray(features.get("gene_stats", np.zeros((n_genes, 2))), dtype=np.float64)[:, :2]
        self.tf_context = np.column_stack([reliability, np.log1p(self.tf_out), stats])
        rows = self.tf_context[pairs.tf].copy()
        folds = meta_folds(pairs, fold, seed)
        n_bases = len(self.base_names)
        if folds is None:
            rows[:, :n_bases] = reliability.mean(axis=0)
        else:
            rows[:, :n_bases] = cross_fitted_reliability(pairs, base_scores, folds, n_genes)
        self.context_mean = rows.mean(axis=0)
        self.context_scale = np.where(rows.std(axis=0) > 0, rows.std(axis=0), 1.0)
        return rows

    def _design(self, inputs: np.ndarray, tf: np.ndarray, context: np.ndarray | None = None) -> np.ndarray:
        """The meta-learner's design matrix: standardised inputs and, with ``meta_context``, base x context products.

        ``context`` (pairs x context columns) defaults to the stored per-TF context of ``tf``.
        """
        standard = (inputs - self.mean) / self.scale
        if not self.params["meta_context"]:
            return standard
        if context is None:
            context = self.tf_context[tf]
        context = (context - self.context_mean) / self.context_scale
        n_bases = len(self.base_names)
        products = [standard[:, [j]] * context[:, [j, *range(n_bases, context.shape[1])]] for j in range(n_bases)]
        return np.column_stack([standard, *products])

    def _probability(self, design: np.ndarray) -> np.ndarray:
        return expit(design @ self.coef + self.intercept[0])

    def _meta_inputs(self, base_scores: np.ndarray, degrees: np.ndarray) -> np.ndarray:
        """Meta-learner inputs (pairs x features) from raw base scores and raw TF/target degrees."""
        columns = [as_logits(s) if logit else s for s, logit in zip(base_scores.T, self.logit)]
        if self.params["use_controls"]:
            columns += [np.log1p(d) for d in degrees.T]
        return np.column_stack(columns).astype(np.float64)

    def _combine(self, inputs: np.ndarray, tf: np.ndarray) -> np.ndarray:
        return self._probability(self._design(inputs, tf))

    def score(self, tf: np.ndarray, gene: np.ndarray) -> np.ndarray:
        tf, gene = np.asarray(tf, dtype=np.int64), np.asarray(gene, dtype=np.int64)
        base_scores = np.column_stack([self.bases[n].score(tf, gene) for n in self.base_names])
        degrees = np.column_stack([self.tf_out[tf], self.target_in[gene]])
        return self._combine(self._meta_inputs(base_scores, degrees), tf)

    def score_matrix(self, tf: np.ndarray, n_genes: int) -> np.ndarray | None:
        """Stacked scores of each TF in ``tf`` against every gene, when some base model scores matrices.

        Those bases score the block as one matrix; the others score its pairs
        ``_PAIR_CHUNK`` at a time; the meta-learner then combines each entry
        exactly as :meth:`score` does. ``None`` when no base scores matrices.
        """
        tf = np.asarray(tf, dtype=np.int64)
        matrices = {name: self.bases[name].score_matrix(tf, n_genes) for name in self.base_names}
        if all(m is None for m in matrices.values()):
            return None
        tf_pos, gene_pos = np.repeat(tf, n_genes), np.tile(np.arange(n_genes, dtype=np.int64), len(tf))
        columns = []
        for name in self.base_names:
            matrix = matrices[name]
            if matrix is None:
                chunks = range(0, len(tf_pos), _PAIR_CHUNK)
                flat = [
                    self.bases[name].score(tf_pos[i : i + _PAIR_CHUNK], gene_pos[i : i + _PAIR_CHUNK]) for i in chunks
                ]
                matrix = np.concatenate(flat)
            columns.append(np.asarray(matrix, dtype=np.float64).ravel())
        degrees = np.column_stack([self.tf_out[tf_pos], self.target_in[gene_pos]])
        inputs = self._meta_inputs(np.column_stack(columns), degrees)
        return self._combine(inputs, tf_pos).reshape(len(tf), n_genes)

    def for_cells(self, features: dict[str, np.ndarray], cells: np.ndarray) -> Stack:
        """Every base model scores with the given cells' features (:meth:`LinkPredictor.for_cells`); the
        meta-learner and the degree controls stay the fit's."""
        within = copy.copy(self)
        within.bases = {name: base.for_cells(features, cells) for name, base in self.bases.items()}
        return within

    def scoring_features(self, groups: tuple[str, ...]) -> tuple[str, ...]:
        needed = {g for name in self.base_names for g in self.bases[name].scoring_features(groups)}
        return tuple(g for g in groups if g in needed)

    def get_state(self) -> dict[str, Any]:
        return {
            "bases": {name: self.bases[name].get_state() for name in self.base_names},
            "meta": {
                "logit": self.logit,
                "mean": self.mean,
                "scale": self.scale,
                "coef": self.coef,
                "intercept": self.intercept,
                **(
                    {
                        "tf_context": self.tf_context,
                        "context_mean": self.context_mean,
                        "context_scale": self.context_scale,
                    }
                    if self.params["meta_context"]
                    else {}
                ),
            },
            "degrees": {"tf_out": self.tf_out, "target_in": self.target_in},
        }

    def set_state(self, features: dict[str, np.ndarray], state: dict[str, Any], *, n_genes: int) -> None:
        self.features = features
        for name in self.base_names:
            self.bases[name] = self._restored_base(name, features, dict(state["bases"][name]), n_genes)
        meta = state["meta"]
        self.logit = np.asarray(meta["logit"], dtype=bool).ravel()
        self.mean = np.asarray(meta["mean"], dtype=np.float64).ravel()
        self.scale = np.asarray(meta["scale"], dtype=np.float64).ravel()
        self.coef = np.asarray(meta["coef"], dtype=np.float64).ravel()
        self.intercept = np.asarray(meta["intercept"], dtype=np.float64).ravel()
        if self.params["meta_context"]:
            self.tf_context = np.asarray(meta["tf_context"], dtype=np.float64).reshape(n_genes, -1)
            self.context_mean = np.asarray(meta["context_mean"], dtype=np.float64).ravel()
            self.context_scale = np.asarray(meta["context_scale"], dtype=np.float64).ravel()
        self.tf_out = np.asarray(state["degrees"]["tf_out"], dtype=np.float64).ravel()
        self.target_in = np.asarray(state["degrees"]["target_in"], dtype=np.float64).ravel()


class FoldAverage:
    """A base model's cross-fitting fold models, scoring a pair by the mean of their scores (``refit=False``).

    Each fold model was trained on the training pairs outside its fold and
    produced the out-of-fold scores the meta-learner was fitted on; their mean
    scores new pairs, as in cross-validation bagging.
    """

    supervised = True

    def __init__(self, models: list[LinkPredictor]):
        self.models = models

    def score(self, tf: np.ndarray, gene: np.ndarray) -> np.ndarray:
        return np.mean([model.score(tf, gene) for model in self.models], axis=0)

    def score_matrix(self, tf: np.ndarray, n_genes: int) -> np.ndarray | None:
        matrices = [model.score_matrix(tf, n_genes) for model in self.models]
        return None if any(m is None for m in matrices) else np.mean(matrices, axis=0)

    def for_cells(self, features: dict[str, np.ndarray], cells: np.ndarray) -> FoldAverage:
        return FoldAverage([model.for_cells(features, cells) for model in self.models])

    def scoring_features(self, groups: tuple[str, ...]) -> tuple[str, ...]:
        needed = {g for model in self.models for g in model.scoring_features(groups)}
        return tuple(g for g in groups if g in needed)

    def get_state(self) -> dict[str, Any]:
        return {FOLDS_KEY: {str(k): model.get_state() for k, model in enumerate(self.models)}}
