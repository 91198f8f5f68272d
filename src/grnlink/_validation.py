"""Input checks shared by every public function.

Every check raises :class:`InputError` with a message that names the problem
and the fix. Checks only read their inputs; they never modify an AnnData.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from anndata import AnnData


class InputError(ValueError):
    """Bad user input: the message says what is wrong and how to fix it."""


def _preview(items: Iterable, n: int = 5) -> str:
    items = list(items)
    shown = ", ".join(repr(x) for x in items[:n])
    return shown + (f", ... ({len(items)} in all)" if len(items) > n else "")


# --- argument rules ----------------------------------------------------------------------------------------------
# One rule per kind of scalar argument, shared by the public functions and the models' option schemas
# (``LinkPredictor.schema``): a rule is a test plus the words saying what is allowed.


@dataclass(frozen=True)
class Rule:
    """What an argument may hold: ``test(value)`` is true for allowed values; ``allowed`` says so in words.

    Examples
    --------
    >>> from grnlink._validation import POSITIVE_INT
    >>> POSITIVE_INT.check("max_epochs", 0)
    Traceback (most recent call last):
    ...
    grnlink._validation.InputError: max_epochs=0 is not valid: max_epochs must be a positive integer (1, 2, ...).
    """

    allowed: str
    test: Callable[[Any], bool]

    def check(self, name: str, value: Any, *, owner: str = "") -> None:
        """Raise :class:`InputError` naming ``name``, ``value`` and what is allowed unless ``value`` passes."""
        try:
            ok = bool(self.test(value))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            where = f" for {owner}" if owner else ""
            raise InputError(f"{name}={value!r} is not valid{where}: {name} must be {self.allowed}.")


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool | np.bool_)


def int_at_least(low: int) -> Rule:
    """Integers ``>= low``."""
    words = {0: "a non-negative integer (0, 1, 2, ...)", 1: "a positive integer (1, 2, ...)"}
    return Rule(words.get(low, f"an integer >= {low}"), lambda v: _is_int(v) and v >= low)


def number_in(low: float, high: float = np.inf, *, low_open: bool = False, high_open: bool = True) -> Rule:
    """Finite numbers between ``low`` and ``high`` (``high=inf``: no upper bound)."""
    left, right = "(" if low_open else "[", ")" if high_open else "]"
    words = f"a finite number > {low}" if low_open else f"a finite number >= {low}"
    if np.isfinite(high):
        words = f"a number in {left}{low}, {high}{right}"

    def test(v: Any) -> bool:
        if not _is_number(v) or not np.isfinite(v):
            return False
        above = v > low if low_open else v >= low
        below = v < high if high_open else v <= high
        return bool(above and below)

    return Rule(words, test)


def one_of(*choices: Any) -> Rule:
    """Exactly one of ``choices`` (strings, ``None``)."""
    return Rule(
        f"one of {list(choices)!r}", lambda v: isinstance(v, Hashable) and not isinstance(v, bool) and v in choices
    )


def optional(rule: Rule) -> Rule:
    """``None`` or what ``rule`` allows."""
    return Rule(f"{rule.allowed} or None", lambda v: v is None or rule.test(v))


def any_of(*rules: Rule) -> Rule:
    """What any of ``rules`` allows."""
    return Rule(" or ".join(r.allowed for r in rules), lambda v: any(r.test(v) for r in rules))


def subset_of(*choices: str) -> Rule:
    """A list or tuple of distinct values among ``choices`` (possibly empty)."""
    return Rule(
        f"a list or tuple of distinct values among {list(choices)!r}, e.g. {tuple(choices[:1])!r}",
        lambda v: isinstance(v, list | tuple) and len(set(v)) == len(v) and all(x in choices for x in v),
    )


POSITIVE_INT = int_at_least(1)
NON_NEGATIVE_INT = int_at_least(0)
POSITIVE_NUMBER = number_in(0, low_open=True)
NON_NEGATIVE_NUMBER = number_in(0)
FRACTION = number_in(0, 1)  # [0, 1): dropout rates, held-out shares
BOOLEAN = Rule("True or False", lambda v: isinstance(v, bool | np.bool_))
POSITIVE_INTS = Rule(
    "a non-empty list of positive integers, e.g. [256, 128]",
    lambda v: isinstance(v, list | tuple) and len(v) > 0 and all(POSITIVE_INT.test(x) for x in v),
)
SEED = NON_NEGATIVE_INT
NAME = Rule("a string", lambda v: isinstance(v, str))
#: a duration in seconds: ``inf`` (no limit) is allowed, NaN and values <= 0 are not
SECONDS = Rule("a number of seconds > 0 (float('inf'): no limit)", lambda v: _is_number(v) and v > 0)
KEY = Rule(
    "a non-empty string without '/' (h5ad files cannot store '/' in a key)",
    lambda v: isinstance(v, str) and len(v) > 0 and "/" not in v,
)
#: where the models that train by gradient run (``grn_fit``, ``grn_tune``, ``grn_predict``; see ``models/_device.py``)
DEVICES = ("cpu", "cuda", "auto")
DEVICE = one_of(*DEVICES)


def check_args(**named: tuple[Any, Rule]) -> None:
    """Check several arguments at once: ``check_args(seed=(seed, SEED), top_k=(top_k, optional(POSITIVE_INT)))``."""
    for name, (value, rule) in named.items():
        rule.check(name, value)


def check_tfs(tfs: Any) -> list[str] | None:
    """``tfs`` as a list of symbols: ``None`` stays ``None``, a single string is one TF (``"GATA1"`` is
    ``["GATA1"]`` in every function that takes ``tfs``); empty or blank symbols raise. Symbols are matched to
    ``var_names`` later, by :class:`GeneIndex` (ignoring case and surrounding spaces)."""
    if tfs is None:
        return None
    if isinstance(tfs, str | np.str_):
        tfs = [tfs]
    if isinstance(tfs, pd.DataFrame) or not isinstance(tfs, Iterable) or isinstance(tfs, bytes | dict):
        raise InputError(
            f"tfs must be a TF symbol or a list of them, got {type(tfs).__name__} {tfs!r}. Pass e.g. tfs=['IRF1']."
        )
    listed = list(tfs)
    bad = [t for t in listed if not isinstance(t, str | np.str_) or not str(t).strip()]
    if bad:
        raise InputError(f"tfs must hold gene symbols (non-empty strings); got {_preview(bad)}.")
    if not listed:
        raise InputError("tfs is empty: pass at least one TF symbol, or tfs=None for the prior's TFs.")
    return [str(t) for t in listed]


def check_unique_var_names(adata: AnnData) -> None:
    """Raise when ``var_names`` has duplicates (genes would be ambiguous)."""
    if not adata.var_names.is_unique:
        dups = adata.var_names[adata.var_names.duplicated()].unique()
        raise InputError(
            f"adata.var_names has {len(dups)} duplicated gene names ({_preview(dups)}). "
            "Make them unique first, e.g. adata.var_names_make_unique()."
        )


def check_edge_table(table: pd.DataFrame, what: str) -> None:
    """Raise unless ``table`` is a DataFrame with ``source`` and ``target`` columns."""
    if not isinstance(table, pd.DataFrame):
        raise InputError(
            f"{what} must be a pandas DataFrame with columns 'source' and 'target', got {type(table).__name__}."
        )
    missing = [c for c in ("source", "target") if c not in table.columns]
    if missing:
        raise InputError(
            f"{what} lacks the column(s) {missing}; it has {list(table.columns)}. "
            "Rename the TF column to 'source' and the target-gene column to 'target', "
            "e.g. table.rename(columns={'tf': 'source', 'gene': 'target'})."
        )


def check_finite(values: np.ndarray, what: str) -> None:
    """Raise when ``values`` holds NaN or infinite entries."""
    if values.dtype.kind in "fc" and not np.isfinite(values).all():
        n_bad = int((~np.isfinite(values)).sum())
        raise InputError(
            f"{what} contains {n_bad} NaN or infinite values. Remove or impute them "
            "(e.g. np.nan_to_num on a copy in a new layer, then pass layer=...)."
        )


def check_groupby(adata: AnnData, groupby: str) -> pd.Series:
    """Return ``adata.obs[groupby]`` as strings, raising when it is missing or has one group."""
    if not isinstance(groupby, str) or groupby not in adata.obs.columns:
        raise InputError(
            f"groupby={groupby!r} is not a column of adata.obs (columns: {_preview(adata.obs.columns, 10)}). "
            "Pass the name of an obs column holding cell types or clusters, e.g. groupby='cell_type'."
        )
    labels = adata.obs[groupby]
    if labels.isna().any():
        raise InputError(
            f"adata.obs[{groupby!r}] has {int(labels.isna().sum())} missing labels. "
            "Give every cell a group (or subset to labelled cells) before using it as groupby."
        )
    n_groups = labels.astype(str).nunique()
    if n_groups < 2:
        raise InputError(
            f"adata.obs[{groupby!r}] has {n_groups} group; cell-type means need at least two. "
            "Pass a column with several cell types or clusters, or leave groupby=None."
        )
    if n_groups == len(labels):
        raise InputError(
            f"adata.obs[{groupby!r}] has as many groups as cells ({n_groups}): every cell is its own group, so "
            "the 'cell-type means' would be single cells. It looks like a continuous value or a cell id; pass a "
            "column of cell types or clusters (e.g. from sc.tl.leiden), or leave groupby=None."
        )
    return labels.astype(str)


def check_embedding(adata: AnnData, embedding_key: str) -> np.ndarray:
    """Return ``adata.varm[embedding_key]`` as a dense float array after checking it."""
    if embedding_key not in adata.varm:
        raise InputError(
            f"embedding_key={embedding_key!r} is not in adata.varm (keys: {list(adata.varm.keys())}). "
            "Load gene embeddings first with gl.pp.gene_embeddings(adata, table, key_added=...)."
        )
    emb = adata.varm[embedding_key]
    emb = (
        emb.to_numpy()
        if isinstance(emb, pd.DataFrame)
        else np.asarray(emb.toarray() if hasattr(emb, "toarray") else emb)
    )
    if emb.ndim != 2 or emb.shape[0] != adata.n_vars or emb.shape[1] < 1:
        raise InputError(
            f"adata.varm[{embedding_key!r}] has shape {emb.shape}; expected (n_vars={adata.n_vars}, d) with d >= 1. "
            "Re-create it with gl.pp.gene_embeddings so that rows follow adata.var_names."
        )
    if emb.dtype.kind not in "fiub":
        raise InputError(f"adata.varm[{embedding_key!r}] has dtype {emb.dtype}; gene embeddings must be numeric.")
    check_finite(emb.astype(np.float64, copy=False), f"adata.varm[{embedding_key!r}]")
    return emb


class GeneIndex:
    """Maps gene symbols to positions in ``var_names``: exact match first, then ignoring case and surrounding spaces.

    Mouse symbols in DoRothEA are mixed case (``Irf1``) while BEELINE uses upper case
    (``IRF1``); both must land on the same gene. Spaces around a symbol (``" GATA1 "``,
    as spreadsheets and hand-made tables leave them) are not part of a gene's name: it
    matches ``GATA1``. A folded key shared by several var_names is ambiguous and only
    matches exactly. Every table of symbols grnlink reads (priors, ``tfs``, ``pairs``,
    ``exclude``, ``validation``, ``negatives``) is matched here.

    Examples
    --------
    >>> from grnlink._validation import GeneIndex
    >>> GeneIndex(["GATA1", "Irf1", "TAL1"]).positions([" GATA1 ", "IRF1", "tal1", "NOPE"]).tolist()
    [0, 1, 2, -1]
    """

    def __init__(self, var_names: Sequence[str]):
        self.var_names = pd.Index([str(v) for v in var_names])
        self._exact = {name: i for i, name in enumerate(self.var_names)}
        folded = pd.Series(np.arange(len(self.var_names)), index=self.var_names.str.strip().str.upper())
        unique_folded = folded[~folded.index.duplicated(keep=False)]
        self._folded = dict(zip(unique_folded.index, unique_folded.to_numpy()))

    def positions(self, symbols: Iterable) -> np.ndarray:
        """Positions of ``symbols`` in var_names, -1 where a symbol does not map."""
        out = []
        for sym in symbols:
            sym = str(sym)
            pos = self._exact.get(sym)
            if pos is None:
                pos = self._folded.get(sym.strip().upper(), -1)
            out.append(pos)
        return np.asarray(out, dtype=np.int64)

    def positions_or_raise(self, symbols: Sequence, what: str) -> np.ndarray:
        """Like :meth:`positions`, raising :class:`InputError` naming genes not in var_names."""
        pos = self.positions(symbols)
        if (pos < 0).any():
            unknown = pd.unique(np.asarray(symbols, dtype=object)[pos < 0])
            raise InputError(
                f"{what} names {len(unknown)} gene(s) not in adata.var_names: {_preview(unknown)}. "
                "Drop those rows or use symbols that match adata.var_names (matching ignores case and "
                "surrounding spaces)."
            )
        return pos
