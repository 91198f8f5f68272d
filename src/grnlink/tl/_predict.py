"""``gl.tl.grn_predict``: score TF-gene pairs with a fitted model and write them back."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from anndata import AnnData
from tqdm.auto import tqdm

from .._pairs import pair_keys
from .._settings import dask_client, debug, info, progress_disabled, thread_limit, warning
from .._validation import (
    BOOLEAN,
    POSITIVE_INT,
    GeneIndex,
    InputError,
    _preview,
    check_args,
    check_edge_table,
    check_tfs,
    check_unique_var_names,
    one_of,
    optional,
)
from ..models._device import Device, current_device, on_device, resolve_device
from ._groups import MIN_TF_DETECTION, group_models
from ._precision import PRIOR_COVERAGE
from ._store import FittedGRN, load_fitted

DEFAULT_CHUNK_PAIRS = 16_384
MATRIX_BLOCK_ENTRIES = 1 << 22  # TF x gene scores per block when the model scores a matrix at once (32 MiB)
ALL_PAIRS_LIMIT = 5_000_000  # above this many TF x gene pairs, top_k=None keeps GENOME_TOP_K targets per TF
GENOME_TOP_K = 1000
RANK_BY = ("score", "specificity")
#: TFs whose scores give each target's mean and spread for ``specificity`` (a seeded sample above this many):
#: a standard deviation from 128 TFs is within about 6% of the one from all of them, at half the fit-time scoring
#: of 256 (10 s of a genome-scale default fit)
STATS_TFS = 128


@thread_limit()
def grn_predict(
    adata: AnnData,
    *,
    pairs: pd.DataFrame | None = None,
    tfs: str | Sequence[str] | None = None,
    top_k: int | str | None = None,
    key: str = "grn",
    rank_by: Literal["score", "specificity"] = "score",
    prior_coverage: float | None = None,
    groupby: str | None = None,
    chunk_size: int = DEFAULT_CHUNK_PAIRS,
    inplace: bool = True,
    device: Device = "cpu",
) -> pd.DataFrame:
    """Score TF→target pairs with the model fitted by :func:`grnlink.tl.grn_fit`.

    By default every TF of the prior is scored against every gene the model was
    fitted on (self-pairs left out). Models whose score factorises over the
    two genes of a pair (``dual_encoder``, ``two_tower``, ``scregnet``,
    ``sctransnet`` with its default ``pair="dot"``, ``pcc``, ``genie3``, ``gnt``
    with a linear SVM) encode each gene once (graph models run their graph
    encoder once) and score a block of TFs
    against all genes by one matrix product (about 4 million scores, 32 MiB,
    per block); the others score ``chunk_size`` pairs at a time, with working
    memory of about ``chunk_size`` x (widest layer) x 4 bytes per network
    activation (about 64 MiB at the default 16,384 pairs). Only the kept rows
    (``top_k`` per TF when set) outlive a block. With an active
    ``dask.distributed`` client, the blocks are scored on its workers (the
    same scores; see the docs page "Large data").

    Parameters
    ----------
    adata
        The AnnData the model was fitted on, or one holding every gene it was
        fitted on. The model scores from the features stored at fit time;
        ``adata`` only receives the scores, matched to ``var_names`` by name,
        so gene order and extra genes do not matter. An AnnData lacking some
        fitted genes raises :class:`~grnlink.InputError` naming them: their
        scores would have no row or column in ``varp`` (mapping by name is
        well defined, silently dropping scores is not).
    pairs
        Pairs to score, columns ``source`` and ``target`` (any order, any size,
        duplicates allowed). Rows of the result follow its order.
    tfs
        TFs to score against every gene (default: the prior's TFs); a string
        is one TF. Ignored when ``pairs`` is given.
    top_k
        Keep only the ``top_k`` best targets of each TF (ranked by ``rank_by``). ``None``
        keeps every scored pair, except when every gene is scored for more
        than 5 million TF x gene pairs (genome scale: 1,500 TFs x 20,000
        genes is 30 million): then the 1,000 best targets of each TF are kept,
        which a log line says, so that the table and ``varp`` stay sparse.
        ``"all"`` keeps every pair whatever their number.
    key
        ``adata.uns`` key the model was fitted under.
    rank_by
        What ``top_k`` keeps: each TF's highest ``"score"`` (default) or
        highest ``"specificity"`` (targets that stand out for this TF rather
        than score high with every TF).
    prior_coverage
        Overrides the fraction of the true network the prior is assumed to
        hold (see :func:`grnlink.tl.grn_fit`) for the ``precision`` column.
    groupby
        An ``adata.obs`` column: score once per group with the features of
        that group's cells (see :func:`grnlink.tl.grn_network`; TFs the group
        does not express are left out of its rows); the table gains a
        ``group`` column, ``top_k`` applies per TF within each group,
        and ``adata.varp`` is left alone (one matrix cannot hold several
        networks): the table goes to ``adata.uns[key]["group_edges"]`` (and the
        column's name to ``adata.uns[key]["group_by"]``).
    chunk_size
        Pairs scored at once.
    inplace
        Write the result into ``adata`` (below); ``False`` only returns it.
    device
        Where the networks of models that train by gradient score: ``"cpu"``
        (default), ``"cuda"`` or ``"auto"`` (CUDA when available), whatever
        device the model was fitted on (see :func:`grnlink.tl.grn_fit`; the
        weights are stored on the CPU). ``"cuda"`` without a CUDA device raises
        :class:`~grnlink.InputError` before any work; the other models ignore
        it. Scores are float64 on the CPU either way. With an active
        ``dask.distributed`` client, genome-wide blocks are scored on the
        workers' CPUs.

    Returns
    -------
    DataFrame with columns ``source``, ``target``, ``score`` (the model's raw
    score, higher = more likely regulatory, on the model's own scale),
    ``probability`` (the score calibrated on the fit's validation pairs, see
    ``calibration`` in :func:`grnlink.tl.grn_fit`: comparable between models
    and fits), ``precision`` (for a pair outside the prior, the estimated
    chance that a pair scoring at least this high is a true edge, given
    ``prior_coverage``; see below), ``specificity`` (how far the score stands
    above the same target's scores with the prior's TFs, in standard
    deviations of those scores: hub targets that every TF scores high get
    little) and ``in_prior`` (the pair is in the fitted prior). With
    ``inplace=True`` (default) it also writes ``adata.uns[key]["edges"]`` (the
    same table) and ``adata.varp[f"{key}_scores"]`` (CSR n_vars x n_vars, row =
    TF, column = target, holding the raw scores of the scored pairs). A damaged
    stored model, or scores that are not finite, raise
    :class:`~grnlink.InputError`: no NaN score is ever returned.

    The probability is that of a pair being a prior edge among pairs like the
    validation pairs, which hold ``negative_ratio`` non-edges per edge (one by
    default); it is a common scale for ranking and thresholding, not the
    share of true edges among all TF-gene pairs, which is far lower: that is
    what ``precision`` estimates. It counts the true edges missing from the
    prior from the prior's size and ``prior_coverage``, and how many of them
    score at least ``s`` from the held-out prior edges (validation pairs the
    model did not train on) against candidate pairs drawn outside the prior
    (:mod:`grnlink.tl._precision`). It rises with the score, so sorting by
    either gives the same order. A model stored by an older grnlink has no
    calibration or precision estimate: those columns are NaN, with a warning.

    Examples
    --------
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(n_genes=120, n_tfs=12, n_cells=300, n_celltypes=4, seed=0)
    >>> gl.tl.grn_fit(adata, adata.uns["true_network"], model="two_tower", n_ensemble=1, max_epochs=5)
    >>> edges = gl.tl.grn_predict(adata, top_k=20)
    >>> edges.columns.tolist()
    ['source', 'target', 'score', 'probability', 'precision', 'specificity', 'in_prior']
    >>> bool(edges["probability"].between(0, 1).all())
    True
    """
    check_score_args(top_k=top_k, chunk_size=chunk_size, rank_by=rank_by, prior_coverage=prior_coverage)
    check_args(inplace=(inplace, BOOLEAN))
    resolve_device(device)
    tfs = check_tfs(tfs)
    fitted = load_fitted(adata, key)
    var_pos = _var_positions(adata, fitted, key)
    score_args = {
        "pairs": pairs,
        "tfs": tfs,
        "top_k": top_k,
        "rank_by": rank_by,
        "prior_coverage": prior_coverage,
        "chunk_size": chunk_size,
    }
    if groupby is not None:
        with on_device(device):
            edges = score_groups(adata, fitted, groupby, **score_args)
        if inplace:
            adata.uns[key]["group_edges"] = edges.reset_index(drop=True)
            adata.uns[key]["group_by"] = groupby
            n_groups = edges["group"].nunique()
            info(f"scored {len(edges)} pairs in {n_groups} groups; table in adata.uns[{key!r}]['group_edges']")
        return edges
    with on_device(device):
        edges, (tf_pos, gene_pos, scores) = score_edges(fitted, **score_args)
    warn_missing_estimates(fitted, key)
    if not inplace:
        info(f"scored {len(edges)} pairs (not written to adata: inplace=False)")
        return edges
    _write_back(adata, key, edges, var_pos[tf_pos], var_pos[gene_pos], scores)
    info(f"scored {len(edges)} pairs; edges in adata.uns[{key!r}]['edges'], matrix in adata.varp['{key}_scores']")
    return edges


def score_edges(
    fitted: FittedGRN,
    *,
    pairs: pd.DataFrame | None = None,
    tfs: str | Sequence[str] | None = None,
    top_k: int | str | None = None,
    rank_by: str = "score",
    prior_coverage: float | None = None,
    chunk_size: int = DEFAULT_CHUNK_PAIRS,
) -> tuple[pd.DataFrame, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The edge table of :func:`grn_predict` and its (TF, gene, score) arrays, writing nothing.

    Raises :class:`~grnlink.InputError` when a score is NaN or infinite.
    """
    check_score_args(top_k=top_k, chunk_size=chunk_size, rank_by=rank_by, prior_coverage=prior_coverage)
    tfs = check_tfs(tfs)
    model_index = GeneIndex(fitted.genes)
    keep_all = isinstance(top_k, str) and top_k == "all"
    top_k = None if keep_all else top_k
    stats = target_stats(fitted, chunk_size=chunk_size)
    ranking = stats if rank_by == "specificity" else None
    if pairs is not None:
        check_edge_table(pairs, "pairs")
        tf_pos = model_index.positions_or_raise(pairs["source"].to_numpy(), "pairs['source']")
        gene_pos = model_index.positions_or_raise(pairs["target"].to_numpy(), "pairs['target']")
        scores = _score_in_chunks(fitted, tf_pos, gene_pos, chunk_size)
        if top_k is not None:
            keep = _top_k_rows(tf_pos, _ranking_values(scores, gene_pos, ranking), int(top_k))
            tf_pos, gene_pos, scores = tf_pos[keep], gene_pos[keep], scores[keep]
    else:
        tf_list = fitted.tfs if tfs is None else np.asarray(tfs, dtype=str)
        tf_rows = np.unique(model_index.positions_or_raise(tf_list, "tfs"))
        n_pairs = len(tf_rows) * (len(fitted.genes) - 1)
        if top_k is None and not keep_all and n_pairs > ALL_PAIRS_LIMIT:
            top_k = GENOME_TOP_K
            info(
                f"{len(tf_rows)} TFs x {len(fitted.genes)} genes is {n_pairs:,} pairs: keeping the {top_k} best "
                "targets of each TF (pass top_k='all' for every pair, or another top_k)"
            )
        (tf_pos, gene_pos, scores), _ = _score_all_genes(fitted, tf_rows, top_k, chunk_size, ranking)
    table = _edge_table(fitted, tf_pos, gene_pos, scores, stats, prior_coverage)
    return table, (tf_pos, gene_pos, scores)


def group_tables(
    adata: AnnData, fitted: FittedGRN, groupby: str, **score_args: Any
) -> list[tuple[str, pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]]:
    """Per group: ``(group, edge table, TF positions, gene positions, the group's cells in adata)``.

    ``score_args`` go to :func:`score_edges` (``pairs``, ``tfs``, ``top_k``, ...).
    """
    out = []
    for group, model, cells, expressed in group_models(adata, fitted, groupby):
        edges, (tf_pos, gene_pos, _) = score_edges(model, **score_args)
        keep = expressed[tf_pos]  # a TF the group does not express regulates nothing there
        if not keep.all():
            silent = np.unique(tf_pos[~keep])
            debug(f"group {group!r}: {len(silent)} TFs detected in < {MIN_TF_DETECTION:.0%} of its cells left out")
        out.append((group, edges.loc[keep].reset_index(drop=True), tf_pos[keep], gene_pos[keep], cells))
    return out


def score_groups(adata: AnnData, fitted: FittedGRN, groupby: str, **score_args: Any) -> pd.DataFrame:
    """:func:`grnlink.tl.grn_predict`'s table per group, in one long table with a leading ``group`` column."""
    tables = []
    for group, edges, *_ in group_tables(adata, fitted, groupby, **score_args):
        table = edges.copy()
        table["source"] = table["source"].astype(str)
        table["target"] = table["target"].astype(str)
        table.insert(0, "group", group)
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def check_score_args(
    *, top_k: int | str | None, chunk_size: int, rank_by: str = "score", prior_coverage: float | None = None
) -> None:
    """Raise :class:`~grnlink.InputError` unless ``top_k`` is a positive int, None or "all", ``chunk_size`` > 0,
    ``rank_by`` is known and ``prior_coverage`` is None or in (0, 1]."""
    if not (isinstance(top_k, str) and top_k == "all"):
        check_args(top_k=(top_k, optional(POSITIVE_INT)))
    check_args(
        chunk_size=(chunk_size, POSITIVE_INT),
        rank_by=(rank_by, one_of(*RANK_BY)),
        prior_coverage=(prior_coverage, optional(PRIOR_COVERAGE)),
    )


def warn_missing_estimates(fitted: FittedGRN, key: str) -> None:
    """Warn when the stored model lacks the calibration or the precision estimate (their columns are NaN)."""
    if fitted.calibration is None:
        warning(
            f"the model under {key!r} has no calibration (fitted by an older grnlink, or without labelled pairs "
            "of both classes): probability is NaN"
        )
    if fitted.precision_estimator is None:
        warning(
            f"the model under {key!r} has no precision estimate (fitted by grnlink before format 5, or without "
            "held-out prior edges): precision is NaN. Refit it with gl.tl.grn_fit to get one."
        )


def target_stats(fitted: FittedGRN, *, chunk_size: int = DEFAULT_CHUNK_PAIRS) -> dict[str, np.ndarray]:
    """Each gene's mean score and standard deviation as the target of the fit's TFs (``mean``, ``sd``).

    The fit stores them (format 5); otherwise they are computed here from the
    scores of the fit's TFs (a seeded sample of :data:`STATS_TFS` when there
    are more) against every gene, self-pairs left out.
    """
    if fitted.target_stats is not None:
        return fitted.target_stats
    rows = np.unique(GeneIndex(fitted.genes).positions(fitted.tfs))
    if len(rows) > STATS_TFS:
        rows = np.sort(np.random.default_rng(0).choice(rows, size=STATS_TFS, replace=False))
    _, (count, total, squares) = _score_all_genes(fitted, rows, 0, chunk_size, None)
    n = np.maximum(count, 1)
    mean = total / n
    sd = np.sqrt(np.clip(squares / n - mean**2, 0.0, None))
    fitted.target_stats = {"mean": mean, "sd": sd}
    return fitted.target_stats


def specificity(stats: dict[str, np.ndarray], gene_pos: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """How many of the target's standard deviations (over the fit's TFs) each score lies above its mean."""
    mean, sd = stats["mean"][gene_pos], stats["sd"][gene_pos]
    return np.divide(scores - mean, sd, out=np.zeros(len(scores)), where=sd > 0)


def _ranking_values(scores: np.ndarray, gene_pos: np.ndarray, ranking: dict | None) -> np.ndarray:
    return scores if ranking is None else specificity(ranking, gene_pos, scores)


def _var_positions(adata: AnnData, fitted: FittedGRN, key: str) -> np.ndarray:
    """Position in ``adata.var_names`` of every fitted gene; raises naming the fitted genes ``adata`` lacks."""
    check_unique_var_names(adata)
    var_pos = GeneIndex(adata.var_names).positions(fitted.genes)
    if (var_pos < 0).any():
        absent = fitted.genes[var_pos < 0].tolist()
        raise InputError(
            f"adata lacks {len(absent)} of the {len(fitted.genes)} genes the model in adata.uns[{key!r}] was "
            f"fitted on: {_preview(absent)}. Scores go to adata.varp by gene name, so adata must hold every "
            "fitted gene (order and extra genes do not matter). Predict on the AnnData it was fitted on."
        )
    return var_pos


def _score_in_chunks(fitted: FittedGRN, tf_pos, gene_pos, chunk_size: int) -> np.ndarray:
    scores = np.empty(len(tf_pos), dtype=np.float64)
    starts = range(0, len(tf_pos), chunk_size)
    for start in tqdm(starts, desc="scoring", disable=progress_disabled() or len(starts) < 2, leave=False):
        stop = start + chunk_size
        scores[start:stop] = fitted.model.score(tf_pos[start:stop], gene_pos[start:stop])
    return _checked_finite(fitted, scores)


def _checked_finite(fitted: FittedGRN, scores: np.ndarray) -> np.ndarray:
    if not np.isfinite(scores).all():
        raise InputError(
            f"the {fitted.model.name} model gave {int((~np.isfinite(scores)).sum())} NaN or infinite scores out of "
            f"{scores.size}: its stored state is damaged or its training diverged (try a smaller lr). Refit it."
        )
    return scores


def rank_within(groups: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """1-based rank of each score among the scores of its group (highest first, ties in input order)."""
    order = np.lexsort((-scores, groups))
    sorted_groups = groups[order]
    ranks = np.empty(len(order), dtype=np.int64)
    ranks[order] = np.arange(len(order)) - np.searchsorted(sorted_groups, sorted_groups, side="left") + 1
    return ranks


def _top_k_rows(tf_pos: np.ndarray, scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` best-scoring rows of each TF, in their original order."""
    return np.flatnonzero(rank_within(tf_pos, scores) <= k)


def _score_all_genes(fitted: FittedGRN, tf_rows: np.ndarray, top_k: int | None, chunk_size: int, ranking):
    """Score each TF against every other gene, a block of TFs at a time.

    A model with a :meth:`~grnlink.models.LinkPredictor.score_matrix` scores a
    block as one TF x gene matrix; the others score the block's pairs in chunks.
    With an active ``dask.distributed`` client and more than one block, the
    blocks are scored on its workers (:func:`_score_blocks_on_client`), but
    for a model that scores matrices the first block, which shows that it
    does, in this process.
    ``top_k`` (per TF; 0 keeps nothing) is chosen by score, or by specificity
    under the target statistics ``ranking``. Returns the kept (TF, gene,
    score) and, over every scored pair, each gene's count, sum and sum of
    squares of its scores.
    """
    n_genes = len(fitted.genes)
    if not len(tf_rows):
        empty = np.empty(0, np.int64)
        return (empty, empty, np.empty(0)), tuple(np.zeros(n_genes) for _ in range(3))
    # the first block tells whether the model scores matrices (None: it does not) and is kept, not scored twice
    first_matrix = fitted.model.score_matrix(tf_rows[: max(1, MATRIX_BLOCK_ENTRIES // n_genes)], n_genes)
    factorised = first_matrix is not None
    tfs_per_block = max(1, (MATRIX_BLOCK_ENTRIES if factorised else chunk_size) // n_genes)
    blocks = [tf_rows[start : start + tfs_per_block] for start in range(0, len(tf_rows), tfs_per_block)]
    args = (factorised, top_k, chunk_size, ranking)
    kept = [_score_block(fitted, blocks.pop(0), *args, matrix=first_matrix)] if factorised else []
    client = dask_client() if len(blocks) > 1 else None
    if client is not None:
        kept += _score_blocks_on_client(client, fitted, blocks, *args)
    else:
        bar = tqdm(blocks, desc="scoring TFs", disable=progress_disabled() or len(blocks) < 2, leave=False)
        kept += [_score_block(fitted, block, *args) for block in bar]
    rows = tuple(np.concatenate([part[i] for part in kept]) for i in range(3))
    sums = tuple(np.sum([part[3][i] for part in kept], axis=0) for i in range(3))
    return rows, sums


def _score_block(
    fitted: FittedGRN,
    block: np.ndarray,
    factorised: bool,
    top_k: int | None,
    chunk_size: int,
    ranking,
    matrix: np.ndarray | None = None,
):
    """(TF, gene, score) of the TFs ``block`` against every other gene, the ``top_k`` best per TF when set,
    and the per-gene (count, sum, sum of squares) of all the block's scores (``matrix``: the block's
    :meth:`~grnlink.models.LinkPredictor.score_matrix`, when already computed)."""
    n_genes = len(fitted.genes)
    if factorised:
        matrix = fitted.model.score_matrix(block, n_genes) if matrix is None else matrix
        matrix = _checked_finite(fitted, matrix)
        matrix[np.arange(len(block)), block] = np.nan  # self-pairs: neither kept nor counted
        return (*_kept_matrix_entries(block, matrix, top_k, ranking), _gene_sums(matrix))
    tf_pos = np.repeat(block, n_genes)
    gene_pos = np.tile(np.arange(n_genes), len(block))
    not_self = tf_pos != gene_pos
    tf_pos, gene_pos = tf_pos[not_self], gene_pos[not_self]
    scores = _score_in_chunks(fitted, tf_pos, gene_pos, chunk_size)
    sums = (
        np.bincount(gene_pos, minlength=n_genes).astype(np.float64),
        np.bincount(gene_pos, weights=scores, minlength=n_genes),
        np.bincount(gene_pos, weights=scores**2, minlength=n_genes),
    )
    if top_k is not None:
        keep = _top_k_rows(tf_pos, _ranking_values(scores, gene_pos, ranking), int(top_k))
        tf_pos, gene_pos, scores = tf_pos[keep], gene_pos[keep], scores[keep]
    return tf_pos, gene_pos, scores, sums


def _gene_sums(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per gene (column): count, sum and sum of squares of the non-NaN entries."""
    present = ~np.isnan(matrix)
    values = np.where(present, matrix, 0.0)
    return present.sum(axis=0).astype(np.float64), values.sum(axis=0), (values**2).sum(axis=0)


@thread_limit()  # on a worker: the worker's scanpy n_jobs (1 unless set there), one block per worker thread
def _score_block_on_worker(fitted: FittedGRN, block, factorised, top_k, chunk_size, ranking):
    with on_device("cpu"):  # workers share one copy of the model: nothing may move it
        return _score_block(fitted, block, factorised, top_k, chunk_size, ranking)


def _score_blocks_on_client(client, fitted: FittedGRN, blocks, factorised: bool, top_k, chunk_size: int, ranking):
    """:func:`_score_block` of every block on the workers of ``client``; results in block order."""
    if current_device().type != "cpu":  # a copy whose networks are on the CPU (see NeuralPredictor.__getstate__)
        fitted = copy.deepcopy(fitted)
    remote = client.scatter(fitted, broadcast=True)  # one copy of the model per worker, not per block
    futures = client.map(
        _score_block_on_worker,
        [remote] * len(blocks),
        blocks,
        factorised=factorised,
        top_k=top_k,
        chunk_size=chunk_size,
        ranking=ranking,
        pure=False,
    )
    info(f"scoring {len(blocks)} blocks of TFs on the dask cluster ({len(client.scheduler_info()['workers'])} workers)")
    from distributed import as_completed  # a client exists, so distributed is installed

    finished = as_completed(futures)
    for _ in tqdm(finished, total=len(futures), desc="scoring TFs", disable=progress_disabled(), leave=False):
        pass  # the bar advances as blocks finish
    return client.gather(futures)


def _kept_matrix_entries(block: np.ndarray, matrix: np.ndarray, top_k: int | None, ranking):
    """(TF, gene, score) of a TF x gene score matrix (self-pairs NaN, left out), the ``top_k`` best per TF when set.

    Rows come TF by TF in gene order, and ties are broken by gene order, as the pair-by-pair path does.
    """
    keep = ~np.isnan(matrix)
    if top_k is not None and top_k < matrix.shape[1] - 1:
        values = matrix if ranking is None else _matrix_specificity(matrix, ranking)
        ranked = np.where(keep, values, -np.inf)
        best = np.argsort(-ranked, axis=1, kind="stable")[:, :top_k]
        chosen = np.zeros_like(keep)
        np.put_along_axis(chosen, best, True, axis=1)
        keep &= chosen
    rows, genes = np.nonzero(keep)
    return block[rows], genes.astype(np.int64), matrix[rows, genes]


def _matrix_specificity(matrix: np.ndarray, stats: dict[str, np.ndarray]) -> np.ndarray:
    sd = stats["sd"][None, :]
    return np.divide(matrix - stats["mean"][None, :], sd, out=np.zeros_like(matrix), where=sd > 0)


def _edge_table(fitted: FittedGRN, tf_pos, gene_pos, scores, stats, prior_coverage) -> pd.DataFrame:
    n_genes = len(fitted.genes)
    prior_keys = np.unique(pair_keys(fitted.prior_source, fitted.prior_target, n_genes))
    categories = pd.Index(fitted.genes)
    return pd.DataFrame(
        {
            "source": pd.Categorical.from_codes(tf_pos, categories=categories),
            "target": pd.Categorical.from_codes(gene_pos, categories=categories),
            "score": scores.astype(np.float64),
            "probability": fitted.probability(scores),
            "precision": fitted.precision(scores, prior_coverage),
            "specificity": specificity(stats, gene_pos, scores),
            "in_prior": np.isin(pair_keys(tf_pos, gene_pos, n_genes), prior_keys),
        }
    )


def _write_back(adata: AnnData, key: str, edges: pd.DataFrame, rows, cols, values) -> None:
    """Store the edges in ``uns`` and the score matrix (``rows``, ``cols``: positions in var_names) in ``varp``."""
    # duplicated pairs would be summed by the sparse constructor: keep one of each
    _, first = np.unique(pair_keys(rows, cols, adata.n_vars), return_index=True)
    matrix = sp.csr_matrix((values[first], (rows[first], cols[first])), shape=(adata.n_vars, adata.n_vars))
    adata.varp[f"{key}_scores"] = matrix
    adata.uns[key]["edges"] = edges.reset_index(drop=True)
