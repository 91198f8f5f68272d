"""``gl.tl.grn_tune``: search a model's options with Optuna on validation pairs, then refit with the best."""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from os import PathLike
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from anndata import AnnData
from sklearn.metrics import roc_auc_score
from tqdm.auto import tqdm

from .._metrics import has_both_classes, mean_tf_auroc
from .._pairs import PairSet
from .._settings import info, progress_disabled, thread_limit, verbosity
from .._validation import POSITIVE_INT, SECONDS, InputError, Rule, check_args, optional
from ..models import MODELS, LinkPredictor, get_model_class
from ..models._device import Device, on_device
from ..models._search import check_search_space, suggest_options, trial_params
from ._fit import (
    CalibrationMethod,
    FeatureGroup,
    FitData,
    NegativeStrategy,
    all_or_nothing,
    check_fit,
    fit_and_store,
    prepare_fit,
)
from ._precision import DEFAULT_PRIOR_COVERAGE

# grn_fit's default, stack, has no options worth searching (its bases are tuned on their own): tune its main base
DEFAULT_TUNED_MODEL = "degree_adjusted"

if TYPE_CHECKING:
    import optuna

#: fewest TFs with both classes among the validation pairs for the per-TF objective; fewer fall back to pooled AUROC
MIN_OBJECTIVE_TFS = 5
_SIGNATURE_ATTR = "grnlink"


@thread_limit()
def grn_tune(
    adata: AnnData,
    prior: pd.DataFrame | str | PathLike,
    *,
    model: str = DEFAULT_TUNED_MODEL,
    n_trials: int = 20,
    storage: str | optuna.storages.BaseStorage | None = None,
    study_name: str | None = None,
    timeout: float | None = None,
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
    **model_options: Any,
) -> None:
    """Search a model's options with Optuna on validation pairs, then refit it with the best ones.

    The data are prepared once, exactly as :func:`grn_fit` prepares them
    (features, training pairs, validation pairs: the seeded random hold-out,
    or the ``validation=`` table), and every trial fits the model with other
    options on the same training pairs and is scored on the same validation
    pairs; test or ``exclude`` pairs never reach a trial. The searched options
    and their ranges are the model's ``search_space`` (see
    :attr:`grnlink.models.LinkPredictor.search_space` and the Models page);
    options passed in ``model_options`` are held fixed and left out of the search.
    Every argument is checked before any work, with :func:`grn_fit`'s checks
    for the arguments they share: a wrong one raises
    :class:`~grnlink.InputError` and leaves ``adata`` as it was.
    A new study first tries the model's defaults, then Optuna's TPE sampler
    proposes the rest.

    The objective, maximised, is the **per-TF AUROC** on the validation
    pairs: the mean over TFs that have both a validation edge and a
    validation non-edge, the question "which of this TF's candidates are
    real?". With fewer than ``MIN_OBJECTIVE_TFS`` (5) such TFs it falls back
    to the AUROC over all validation pairs pooled; ``tuning["objective"]`` says
    which was used.

    Parameters
    ----------
    adata
        Cells x genes, as for :func:`grn_fit`.
    prior
        TF→target table (``source``, ``target``) or a CSV/TSV path to one.
    model
        Name of a registered predictor with a non-empty search space (default
        ``"degree_adjusted"``: ``grn_fit``'s default, ``"stack"``, has none).
    n_trials
        Trials this call runs (in a shared study, other processes add theirs).
    storage
        ``None``: the study lives in memory and ends with the call. Otherwise
        an Optuna RDB URL such as ``"sqlite:///study.db"`` or
        ``"postgresql://user:password@host/db"`` (or an ``optuna.storages``
        object): processes on one or several machines that call ``grn_tune``
        with the same ``storage``, ``study_name``, data and arguments share one
        study, each adding its trials; each then refits the best trial of the
        whole study.
    study_name
        Name of the study; required with ``storage`` (an existing study of that
        name is continued, and must have been made with the same model, seed,
        search space and fixed options).
    timeout
        Seconds after which no new trial starts (``None`` or ``float("inf")``: no limit).
    groupby, embedding_key, layer, exclude, negatives, negative_ratio
        As in :func:`grn_fit` (same defaults): with the next ones, they shape
        the features and the training and validation pairs, which are
        prepared once for every trial and the refit.
    features, val_fraction, validation, max_cells, calibration, prior_coverage
        As in :func:`grn_fit` (same defaults).
    device
        Where every trial and the refit train and score, for the models that
        train by gradient: ``"cpu"`` (default), ``"cuda"`` or ``"auto"``, as in
        :func:`grn_fit` (checked before any work; ignored by the other models;
        not stored). Processes sharing a study may each use their own.
    seed
        Seeds the validation hold-out, negatives, features and every trial's
        fit (as in :func:`grn_fit`) and Optuna's TPE sampler. In memory, the
        same seed gives the same trials and the same best options. With
        ``storage``, each process seeds its sampler from ``seed`` and its process
        id, so that processes sharing a study do not propose the same options;
        a shared search is therefore not repeatable, while each trial's fit is.
    key_added
        The refitted model goes to ``adata.uns[key_added]``, as with
        :func:`grn_fit`, and the search to ``adata.uns[key_added]["tuning"]``.
        Anything there that grnlink did not write is refused before the
        search starts, unless ``overwrite``.
    overwrite
        Replace an ``adata.uns[key_added]`` (or ``adata.varp[f"{key_added}_scores"]``)
        entry that grnlink did not write, as in :func:`grn_fit`.
    **model_options
        Options of the model held fixed (e.g. ``max_epochs=50``).

    Returns
    -------
    ``None``. Writes ``adata.uns[key_added]`` as :func:`grn_fit` does (the
    model refitted with the best options), plus ``["tuning"]``:
    ``best_params`` (JSON string of the chosen options), ``best_value``,
    ``best_trial``, ``objective`` (``"tf_auroc"`` or ``"auroc"``),
    ``n_objective_tfs``, ``search_space`` (JSON string), ``study_name``,
    ``storage`` (``"memory"`` or the URL without its password), ``n_trials``
    (run by this call), ``seconds`` and ``trials``: a DataFrame with one row
    per trial of the study (``number``, ``state``, ``value``, ``duration_s``,
    ``worker`` as host:pid, and ``params_<option>`` as Optuna stores them).

    Examples
    --------
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(n_genes=160, n_tfs=16, n_cells=400, n_celltypes=4, seed=0)
    >>> gl.tl.grn_tune(adata, adata.uns["true_network"], model="cross_encoder", n_trials=4, max_epochs=10)
    >>> adata.uns["grn"]["tuning"]["trials"][["number", "value"]].shape
    (4, 2)
    >>> edges = gl.tl.grn_predict(adata)
    """
    start = time.perf_counter()
    _require_optuna()
    fit_args = check_fit(locals(), adata)  # the arguments shared with grn_fit, by name
    cls = get_model_class(model)
    _check_search(n_trials, timeout, storage, study_name)
    check_search_space(cls)
    space = {k: v for k, v in cls.search_space.items() if k not in model_options}
    if not space:
        reason = "declares no options to search" if not cls.search_space else "has every searchable option fixed"
        raise InputError(
            f"model {model!r} {reason}: there is nothing to tune. "
            f"Fit it with gl.tl.grn_fit, or tune a model with options, e.g. one of {_tunable_models()}."
        )
    base = cls(**model_options)
    if validation is None and val_fraction == 0:
        raise InputError("val_fraction=0 leaves no validation pairs to tune on; use val_fraction > 0 or validation=.")

    with _optuna_verbosity(), on_device(fit_args["device"]):
        seed = fit_args["seed"]  # checked, a Python int
        study = _open_study(storage, study_name, seed, _signature(model, seed, space, model_options))
        data = prepare_fit(adata, prior, base, fit_args)
        objective, n_tfs = _objective_kind(data.val)
        info(
            f"tuning {model} over {sorted(space)} on {data.val.n_pos} validation edges "
            f"({objective}{f' over {n_tfs} TFs' if objective == 'tf_auroc' else ''}), {n_trials} trials"
        )
        study.enqueue_trial(trial_params({k: base.params[k] for k in space}, space), skip_if_exists=True)
        ran = _optimize(study, cls, model_options, space, data, objective, n_trials=int(n_trials), timeout=timeout)
        best = _best_trial(study)
    best_options = suggest_options(_fixed_trial(best.params), space)
    tuning = {
        "best_params": json.dumps(_plain(best_options), sort_keys=True),
        "best_value": float(best.value),
        "best_trial": int(best.number),
        "objective": objective,
        "n_objective_tfs": int(n_tfs),
        "search_space": json.dumps(_plain(space), sort_keys=True),
        "study_name": str(study.study_name),
        "storage": _storage_label(storage),
        "n_trials": int(ran),
        "trials": trial_table(study, space),
    }
    predictor = cls(**model_options, **best_options)
    with on_device(fit_args["device"]), all_or_nothing(adata, key_added):  # the model and its search, or nothing
        fit_and_store(adata, predictor, data, key_added=key_added, start=time.perf_counter())
        tuning["seconds"] = float(time.perf_counter() - start)
        adata.uns[key_added]["tuning"] = tuning
    info(
        f"best {objective} {best.value:.3f} (trial {best.number} of {len(study.trials)}): {tuning['best_params']}; "
        f"refitted in adata.uns[{key_added!r}], search in adata.uns[{key_added!r}]['tuning']"
    )


_STUDY_NAME = Rule("a non-empty string", lambda v: isinstance(v, str) and v.strip() != "")


def _check_search(n_trials: Any, timeout: Any, storage: Any, study_name: Any) -> None:
    """The search's own arguments (grn_fit's are :func:`~grnlink.tl._fit.check_fit`'s); a database URL is
    only opened by :func:`_open_study`."""
    import optuna

    storages = Rule(
        "None, a database URL (a string such as 'sqlite:///study.db') or an optuna.storages object",
        lambda v: v is None or isinstance(v, str | optuna.storages.BaseStorage),
    )
    check_args(
        n_trials=(n_trials, POSITIVE_INT),
        timeout=(timeout, optional(SECONDS)),
        storage=(storage, storages),
        study_name=(study_name, optional(_STUDY_NAME)),
    )
    if storage is not None and study_name is None:
        raise InputError(
            "storage= needs a study_name= (a string) so that every process joins the same study, "
            "e.g. grn_tune(..., storage='sqlite:///study.db', study_name='cross_encoder_mdc')."
        )


def _require_optuna() -> None:
    """Raise a clear error when the optional search engine (the ``tune`` extra) is not installed."""
    try:
        import optuna  # noqa: F401
        import sqlalchemy  # noqa: F401
    except ImportError as err:
        raise InputError(
            f"grn_tune searches with Optuna, which is not installed ({err}). Install it with "
            "pip install 'grnlink[tune]' (Optuna and the SQLAlchemy its storage uses)."
        ) from err


def _tunable_models() -> list[str]:
    return sorted(name for name, cls in MODELS.items() if cls.search_space)


@contextmanager
def _optuna_verbosity() -> Iterator[None]:
    """Optuna's logging follows scanpy's verbosity (trial reports from ``hint``, 3); restored afterwards."""
    import optuna

    previous = optuna.logging.get_verbosity()
    level = verbosity()
    optuna.logging.set_verbosity(
        {0: optuna.logging.ERROR, 3: optuna.logging.INFO}.get(
            level, optuna.logging.WARNING if level < 3 else optuna.logging.DEBUG
        )
    )
    try:
        yield
    finally:
        optuna.logging.set_verbosity(previous)


def _signature(model: str, seed: int, space: dict[str, tuple], fixed: dict[str, Any]) -> str:
    """What must agree for trials of one study to be comparable (processes sharing a study check it)."""
    return json.dumps({"model": model, "seed": int(seed), "space": _plain(space), "fixed": _plain(fixed)}, default=str)


def _open_study(storage: Any, study_name: str | None, seed: int, signature: str) -> optuna.Study:
    """A maximising study with a seeded TPE sampler: in memory, or created or continued in ``storage``."""
    import optuna
    import sqlalchemy.exc

    if storage is None:
        sampler = optuna.samplers.TPESampler(seed=seed)
        return optuna.create_study(direction="maximize", sampler=sampler, study_name=study_name)
    if isinstance(storage, str):
        try:
            storage = _rdb_storage(storage)
        except (ValueError, ImportError, sqlalchemy.exc.SQLAlchemyError) as err:
            raise InputError(
                f"storage={_storage_label(storage)!r} is not a usable Optuna database URL ({type(err).__name__}: "
                f"{str(err).splitlines()[0]}). Pass e.g. 'sqlite:///path/to/study.db' (the folder must exist) "
                "or 'postgresql://user:password@host/db' with its driver installed."
            ) from err
    sampler = optuna.samplers.TPESampler(seed=int(np.random.SeedSequence([seed, os.getpid()]).generate_state(1)[0]))
    study = optuna.create_study(
        storage=storage, study_name=study_name, direction="maximize", sampler=sampler, load_if_exists=True
    )
    if study.direction != optuna.study.StudyDirection.MAXIMIZE:
        raise InputError(f"study {study_name!r} in this storage minimises; pick a new study_name for grn_tune.")
    found = study.user_attrs.get(_SIGNATURE_ATTR)
    if found is None:
        study.set_user_attr(_SIGNATURE_ATTR, signature)
    elif found != signature:
        raise InputError(
            f"study {study_name!r} was made by grn_tune with other settings ({found}); these are {signature}. "
            "Use the same model, seed and fixed options to join it, or pick a new study_name."
        )
    return study


def _rdb_storage(url: str, attempts: int = 5) -> optuna.storages.RDBStorage:
    """Connect to ``url``, retrying briefly when processes starting together race to create its tables."""
    import optuna
    import sqlalchemy.exc

    attempt = 1
    while True:
        try:
            return optuna.storages.RDBStorage(url)
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.OperationalError) as err:
            # symptoms of another process creating the same tables at this moment
            racing = isinstance(err, sqlalchemy.exc.IntegrityError) or any(
                sign in str(err) for sign in ("locked", "already exists")
            )
            if not racing or attempt >= attempts:
                raise
            time.sleep(0.2 * attempt)
            attempt += 1


def _objective_kind(val: PairSet) -> tuple[str, int]:
    """``("tf_auroc", n)`` when ``n >= MIN_OBJECTIVE_TFS`` TFs have both classes in ``val``, else ``("auroc", n)``."""
    if not has_both_classes(val.label):
        raise InputError(
            f"the validation pairs hold {val.n_pos} edges and {len(val) - val.n_pos} non-edges; tuning needs both. "
            "Use a larger val_fraction, or a validation= table with label 1 and 0 rows."
        )
    frame = pd.DataFrame({"tf": val.tf, "label": val.label})
    n_pos = frame.groupby("tf")["label"].agg(["sum", "size"])
    n_tfs = int(((n_pos["sum"] > 0) & (n_pos["sum"] < n_pos["size"])).sum())
    return ("tf_auroc" if n_tfs >= MIN_OBJECTIVE_TFS else "auroc"), n_tfs


def validation_score(predictor: LinkPredictor, val: PairSet, objective: str) -> float:
    """The tuning objective of a fitted predictor on the validation pairs (higher is better)."""
    scores = predictor.score(val.tf, val.gene)
    if objective == "auroc":
        return float(roc_auc_score(val.label, scores))
    return mean_tf_auroc(val.tf, val.label, scores)


def _optimize(
    study: optuna.Study,
    cls: type[LinkPredictor],
    fixed: dict[str, Any],
    space: dict[str, tuple],
    data: FitData,
    objective: str,
    *,
    n_trials: int,
    timeout: float | None,
) -> int:
    """Run up to ``n_trials`` trials in ``study``; return how many ran."""
    worker = f"{socket.gethostname()}:{os.getpid()}"

    def run_trial(trial: optuna.Trial) -> float:
        trial.set_user_attr("worker", worker)
        predictor = cls(**fixed, **suggest_options(trial, space))
        predictor.fit(data.features, data.train, data.val, n_genes=len(data.genes), seed=data.seed)
        return validation_score(predictor, data.val, objective)

    bar = tqdm(total=n_trials, desc=f"tuning {cls.name}", disable=progress_disabled(), mininterval=0.5)
    done: list[float] = []

    def report(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        done.append(np.nan if trial.value is None else trial.value)
        if np.isfinite(done).any():
            bar.set_postfix({objective: f"{np.nanmax(done):.3f}"}, refresh=False)
        bar.update(1)

    try:
        study.optimize(run_trial, n_trials=n_trials, timeout=timeout, callbacks=[report], gc_after_trial=False)
    finally:
        bar.close()
    return len(done)


def _best_trial(study: optuna.Study) -> optuna.trial.FrozenTrial:
    import optuna

    if not study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        raise RuntimeError(
            f"no trial of study {study.study_name!r} completed (a trial whose objective is NaN fails); "
            "see optuna's warnings above."
        )
    return study.best_trial


def _fixed_trial(params: dict[str, Any]) -> optuna.trial.FixedTrial:
    import optuna

    return optuna.trial.FixedTrial(params)


def trial_table(study: optuna.Study, space: dict[str, tuple]) -> pd.DataFrame:
    """One row per trial of ``study``, in plain columns that ``write_h5ad`` can store."""
    rows = []
    for trial in study.get_trials(deepcopy=False):
        ended = trial.datetime_complete is not None and trial.datetime_start is not None
        row = {
            "number": int(trial.number),
            "state": trial.state.name,
            "value": np.nan if trial.value is None else float(trial.value),
            "duration_s": (trial.datetime_complete - trial.datetime_start).total_seconds() if ended else np.nan,
            "worker": str(trial.user_attrs.get("worker", "")),
        }
        row.update({f"params_{k}": trial.params.get(k) for k in space})
        rows.append(row)
    table = pd.DataFrame(rows).astype({"number": np.int64, "value": np.float64, "duration_s": np.float64})
    for column in table.columns:
        if table[column].dtype == object:
            table[column] = [_cell_text(v) for v in table[column]]
    return table


def _cell_text(value: Any) -> str:
    """A mixed or missing cell as text, so that an object column holds strings only."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def _plain(value: Any) -> Any:
    """Tuples as lists, numpy scalars as Python ones: a value ``json.dumps`` writes."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _storage_label(storage: Any) -> str:
    """Where the study lives, without a password."""
    if storage is None:
        return "memory"
    if isinstance(storage, str):
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            return make_url(str(storage)).render_as_string(hide_password=True)
        except ArgumentError:  # not a URL: keep what follows a would-be credentials part
            return str(storage).split("@")[-1]
    return type(storage).__name__
