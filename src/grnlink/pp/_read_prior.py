"""Priors as people have them: read any TF -> target table (:func:`read_prior`), unite several (:func:`merge_priors`).

Both return the tidy prior shape of :func:`~grnlink.pp.get_prior` plus a ``prior_source`` column, with
``weight`` holding the sign of regulation: +1 activation, -1 repression, 0 unknown. A weight of 0 is what
``gl.tl.grn_network(..., sign="prior")`` reads as "sign unknown" (it then takes the sign of the
correlation), so a prior without signs, such as a ChIP-seq TF-gene list, gets 0 and not a made-up +1.
Repeated (source, target) pairs are combined by one rule, :func:`_combine`, used within a table and across
tables.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from anndata import AnnData

from .._io import table_suffix
from .._settings import info, warning
from .._validation import InputError, Rule, _preview, check_args, one_of, optional
from ._prior import (
    PRIOR_COLUMNS,
    PRIOR_NAMES,
    _check_adata,
    _confidence,
    _ends,
    _log_coverage,
    _read_prior_file,
    _respell,
    _weights,
    pair_groups,
    sign_vote,
)

#: How :func:`merge_priors` settles an edge that one table signs +1 and another -1.
SIGN_RULES = ("vote", "drop", "first")
#: Words read as a sign (after stripping spaces, ignoring case). Numbers are read as numbers: their sign counts.
SIGN_WORDS = {
    1.0: (
        "activation",
        "activator",
        "activates",
        "activating",
        "activate",
        "activated",
        "stimulation",
        "stimulates",
        "stimulatory",
        "induction",
        "induces",
        "positive",
        "up",
        "+",
    ),
    -1.0: (
        "repression",
        "repressor",
        "represses",
        "repressing",
        "repress",
        "repressed",
        "inhibition",
        "inhibitor",
        "inhibits",
        "inhibitory",
        "negative",
        "down",
        "-",
    ),
    0.0: ("unknown", "unk", "?", "dual", "", "na", "nan", "none"),
}
_SIGN_OF_WORD = {word: value for value, words in SIGN_WORDS.items() for word in words}
PRIOR_SOURCE = "prior_source"
COLUMNS = [*PRIOR_COLUMNS, PRIOR_SOURCE]

_COLUMN = Rule("a column name (a string)", lambda v: isinstance(v, str))
_SOURCE_NAME = Rule(
    "a non-empty string without ',' (merge_priors joins the names of an edge's sources with commas)",
    lambda v: isinstance(v, str) and v.strip() != "" and "," not in v,
)


def _accepted_signs() -> str:
    words = {value: ", ".join(repr(w) for w in SIGN_WORDS[value] if w) for value in SIGN_WORDS}
    return (
        f"numbers (their sign counts: 1, -1, +1, 0.5, ...); for +1 {words[1.0]}; for -1 {words[-1.0]}; "
        f"for 0 (unknown) {words[0.0]} or an empty cell (case and surrounding spaces are ignored)"
    )


def _parse_signs(values: pd.Series, what: str) -> np.ndarray:
    """Signs (+1, -1, 0 as float64) of a column of numbers and/or words; unknown words raise naming them."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return np.nan_to_num(np.sign(values.to_numpy(dtype=np.float64)), nan=0.0)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)  # missing cells get code -1: sign unknown
    text = pd.Series(uniques, dtype=object).astype(str).str.strip()
    numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    words = text.str.lower().map(_SIGN_OF_WORD).to_numpy(dtype=np.float64)
    # a word wins over pandas' reading of "nan"/"NA" as a number; "1e3" and "-0.5" are numbers
    signs = np.where(np.isnan(words), np.sign(numbers), words)
    bad = np.isnan(signs)
    if bad.any():
        bad_rows = int(np.isin(codes, np.flatnonzero(bad)).sum())
        raise InputError(
            f"{what} has {bad_rows} rows with a sign grnlink cannot read: {_preview(uniques[bad])}. "
            f"Accepted are {_accepted_signs()}. Replace the other values, e.g. "
            "table.replace({'Mode': {'Dual': 'Unknown'}}), or name another column with sign=."
        )
    return np.append(signs, 0.0)[codes]  # code -1 picks the appended 0.0


def _name_from_path(path: str | os.PathLike) -> str:
    """``"trrust_hs"`` for ``".../trrust_hs.tsv.gz"``: the file name without its table extension."""
    name = Path(path).name
    if name.lower().endswith(".gz"):
        name = name[:-3]
    suffix = table_suffix(name)
    stem = name[: len(name) - len(suffix)] if suffix and name.lower().endswith(suffix) else name
    return stem.replace(",", "_") or "table"


def _best_confidence(conf: np.ndarray, group: np.ndarray, n: int) -> np.ndarray:
    """Per group the first non-empty confidence in alphabetical order (DoRothEA's ``A`` before ``B``); ``""``."""
    has = conf != ""
    levels = np.sort(pd.unique(conf[has]).astype(object))
    rank = np.full(n, len(levels), dtype=np.int64)
    np.minimum.at(rank, group[has], np.searchsorted(levels, conf[has]))
    return np.append(levels, "").astype(object)[rank]


def _joined_sources(names: np.ndarray, group: np.ndarray, n: int) -> np.ndarray:
    """Per group the distinct source names of its rows, sorted and comma-joined (a row may list several)."""
    codes, uniques = pd.factorize(names)
    uniques = pd.Series(uniques, dtype=object)
    if uniques.str.contains(",", regex=False).any():  # rows of an earlier merge: one row per listed name
        split = uniques.str.split(",")
        exploded = split.explode()
        per_code = pd.Series(exploded.str.strip().to_numpy(dtype=object), index=exploded.index)
        group = np.repeat(group, split.str.len().to_numpy()[codes])
        codes, uniques = pd.factorize(per_code.loc[codes].to_numpy(dtype=object))
        uniques = pd.Series(uniques, dtype=object)
    if len(uniques) == 1:  # one table's rows: every edge has the one name
        return np.full(n, uniques[0], dtype=object)
    order = np.argsort(np.asarray(uniques, dtype=str), kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    sorted_names = np.asarray(uniques, dtype=object)[order]
    pairs = pd.DataFrame({"g": group, "r": rank[codes]}).drop_duplicates().sort_values(["g", "r"])
    g, r = pairs["g"].to_numpy(), pairs["r"].to_numpy()
    nth = pairs.groupby("g").cumcount().to_numpy()
    out = np.full(n, "", dtype=object)
    for j in range(int(nth.max()) + 1 if len(nth) else 0):
        at = nth == j
        out[g[at]] = sorted_names[r[at]] if j == 0 else out[g[at]] + "," + sorted_names[r[at]]
    return out


def _combine(rows: pd.DataFrame, signs: str) -> tuple[pd.DataFrame, dict]:
    """One row per (source, target) of ``rows`` (columns of :data:`COLUMNS`, weight in {-1, 0, 1}), in first-seen order.

    Signs: 0 never conflicts; +1 and -1 among an edge's rows do, and ``signs`` settles it ("vote": the majority,
    a tie gives 0; "drop": the edge goes; "first": the first nonzero sign in row order). Confidence: the best
    (:func:`_best_confidence`); ``prior_source``: every name, sorted, comma-joined.
    """
    group = pair_groups(rows["source"], rows["target"])
    n = int(group.max()) + 1 if len(group) else 0
    sign = rows["weight"].to_numpy(dtype=np.float64)
    merged, conflict, tied = sign_vote(group, sign, n)
    if signs == "first":
        signed = np.flatnonzero(sign != 0)
        signed_groups, first = np.unique(group[signed], return_index=True)
        merged = np.zeros(n)
        merged[signed_groups] = sign[signed[first]]
    first_row = np.unique(group, return_index=True)[1]  # group ids are in first-seen order
    out = pd.DataFrame(
        {
            "source": rows["source"].to_numpy(dtype=object)[first_row],
            "target": rows["target"].to_numpy(dtype=object)[first_row],
            "weight": merged.astype(np.float64),
            "confidence": _best_confidence(rows["confidence"].to_numpy(dtype=object), group, n),
            PRIOR_SOURCE: _joined_sources(rows[PRIOR_SOURCE].to_numpy(dtype=object), group, n),
        }
    )
    stats = {
        "n_rows": len(rows),
        "n_edges": n,
        "n_conflicts": int(conflict.sum()),
        "n_tied": int(tied.sum()),
        "n_dropped": int(conflict.sum()) if signs == "drop" else 0,
    }
    if signs == "drop":
        out = out[~conflict].reset_index(drop=True)
    return out, stats


def _sign_counts(prior: pd.DataFrame) -> str:
    w = prior["weight"].to_numpy()
    return f"{int((w > 0).sum())} +1, {int((w < 0).sum())} -1, {int((w == 0).sum())} unknown"


def read_prior(
    table_or_path: pd.DataFrame | str | os.PathLike,
    *,
    source: str = "source",
    target: str = "target",
    sign: str | None = None,
    confidence: str | None = None,
    name: str | None = None,
    adata: AnnData | None = None,
) -> pd.DataFrame:
    """Read a TF -> target table in any layout (TRRUST, CollecTRI, DoRothEA, a ChIP-seq list) as a prior.

    Parameters
    ----------
    table_or_path
        A DataFrame, or a ``.csv`` (comma) or ``.tsv``/``.txt`` (tab) file, optionally gzipped. Files are read
        as :func:`get_prior` reads them: gene symbols are kept as written (``"NA"`` is a gene, not a missing
        value); only the sign and confidence columns know empty cells. The DataFrame is never modified.
    source, target
        Columns holding the TF and the target gene symbols.
    sign
        Column holding the mode of regulation, read as a sign: numbers keep their sign only (+1, -1, 0; a
        DoRothEA weight of -1/3 becomes -1); words are matched ignoring case and surrounding spaces
        (``"Activation"``, ``"activator"``, ``"+"`` give +1; ``"Repression"``, ``"repressor"``, ``"-"`` give -1;
        ``"Unknown"``, ``"dual"``, ``"?"`` and empty cells give 0; see ``SIGN_WORDS`` in this module). Any
        other value raises :class:`~grnlink.InputError`. ``None``: the ``weight`` column when the table has
        one (the shape of decoupler's DoRothEA and CollecTRI), else no sign: every edge gets 0.
    confidence
        Column holding a confidence label (DoRothEA's levels ``A``-``E``), kept as text. ``None``: the
        ``confidence`` column when the table has one, else ``""``.
    name
        What the ``prior_source`` column says (no commas). ``None``: the file name without its extension
        (``"trrust_hs"`` for ``trrust_hs.tsv.gz``), ``"table"`` for a DataFrame.
    adata
        If given, symbols are spelled as in ``adata.var_names`` where they match (exactly, else ignoring
        case, as :func:`align_prior` matches: mouse ``Irf1`` becomes ``IRF1`` when var_names has ``IRF1``);
        symbols without a match keep their spelling. How much of the prior maps is logged.

    Returns
    -------
    DataFrame with columns ``source``, ``target`` (str, surrounding spaces removed), ``weight`` (float:
    +1, -1, or 0 for an unknown sign), ``confidence`` (str, ``""`` when absent) and ``prior_source`` (str,
    ``name``). One row per (source, target) pair, in the order first seen: rows repeating a pair are
    combined as :func:`merge_priors` combines tables with ``signs="vote"`` (TRRUST lists a pair once per
    mode, so a pair both activated and repressed gets 0), the best confidence kept.

    Raises
    ------
    InputError
        A named column the table lacks (the message lists the columns it has), a sign that cannot be read
        (the message lists the bad values and the accepted ones), empty source or target cells, a missing
        or unreadable file, ``adata`` with duplicated var_names.

    Examples
    --------
    >>> import pandas as pd
    >>> import grnlink as gl
    >>> trrust = pd.DataFrame(
    ...     {
    ...         "TF": ["IRF1", "IRF1", "STAT1", "STAT1"],
    ...         "Target": ["CXCL10", "CXCL10", "IRF1", "SOCS3"],
    ...         "Mode": ["Activation", "Repression", "activation", "Unknown"],
    ...     }
    ... )
    >>> gl.pp.read_prior(trrust, source="TF", target="Target", sign="Mode", name="trrust")
      source  target  weight confidence prior_source
    0   IRF1  CXCL10     0.0                  trrust
    1  STAT1    IRF1     1.0                  trrust
    2  STAT1   SOCS3     0.0                  trrust

    A ChIP-seq list has no sign: every edge gets 0 (unknown).

    >>> chip = pd.DataFrame({"tf": ["Irf1"], "gene": ["Cxcl10"], "peak_score": [12.5]})
    >>> gl.pp.read_prior(chip, source="tf", target="gene", name="chip")[["source", "target", "weight"]]
      source  target  weight
    0   Irf1  Cxcl10     0.0

    A DoRothEA or CollecTRI file (``source, target, weight, confidence``) needs no options:
    ``gl.pp.read_prior("dorothea_hs.tsv.gz")``.
    """
    check_args(
        source=(source, _COLUMN),
        target=(target, _COLUMN),
        sign=(sign, optional(_COLUMN)),
        confidence=(confidence, optional(_COLUMN)),
        name=(name, optional(_SOURCE_NAME)),
    )
    if adata is not None:
        _check_adata(adata)
    if isinstance(table_or_path, pd.DataFrame):
        table, what, default_name = table_or_path, "the prior DataFrame", "table"
    elif isinstance(table_or_path, str) and table_or_path.lower() in PRIOR_NAMES:
        raise InputError(
            f"read_prior reads tables; {table_or_path!r} is a resource name. Fetch it with "
            f"gl.pp.get_prior({table_or_path!r}), or pass a saved table of it (a DataFrame or .tsv file)."
        )
    elif isinstance(table_or_path, str | os.PathLike):
        sign_column, conf_column = sign or "weight", confidence or "confidence"
        table = _read_prior_file(
            table_or_path, symbols=(source, target), values=(sign_column, conf_column), text=(conf_column,)
        )
        what, default_name = f"prior file {str(table_or_path)!r}", _name_from_path(table_or_path)
    else:
        raise InputError(
            f"read_prior takes a DataFrame or a path to a .csv/.tsv(.gz) file, got {type(table_or_path).__name__}."
        )
    named = {"source": source, "target": target, "sign": sign, "confidence": confidence}
    missing = {arg: column for arg, column in named.items() if column is not None and column not in table.columns}
    if missing:
        given = ", ".join(f"{arg}={column!r}" for arg, column in missing.items())
        raise InputError(
            f"{what} has no column {_preview(missing.values())} (from {given}); its columns are "
            f"{list(table.columns)}. Name the columns it has, e.g. source='TF', target='Target', sign='Mode'."
        )
    sign = sign if sign is not None else ("weight" if "weight" in table.columns else None)
    confidence = confidence if confidence is not None else ("confidence" if "confidence" in table.columns else None)
    name = name if name is not None else default_name

    rows = _ends(pd.DataFrame({"source": table[source], "target": table[target]}), what)
    rows["weight"] = 0.0 if sign is None else _parse_signs(table[sign], f"{what}[{sign!r}]")
    rows["confidence"] = "" if confidence is None else _confidence(table[confidence])
    rows[PRIOR_SOURCE] = name
    if adata is not None:
        rows = _respell(rows, adata.var_names)
    prior, stats = _combine(rows, "vote")
    signs_from = f"signs from column {sign!r}" if sign is not None else "no sign column: every sign unknown (0)"
    repeated = ""
    if stats["n_rows"] > stats["n_edges"]:
        repeated = f"; {stats['n_rows'] - stats['n_edges']} repeated rows combined"
        if stats["n_conflicts"]:
            repeated += f" ({stats['n_conflicts']} pairs listed with both signs: {stats['n_tied']} tied, sign 0)"
    info(f"read_prior {name!r}: {len(prior)} edges ({_sign_counts(prior)}), {signs_from}{repeated}")
    if adata is not None:
        _log_coverage(prior, adata)
    return prior


def _merge_input(table: pd.DataFrame, position: int) -> pd.DataFrame:
    """Rows of one table to merge: tidy ends, weight as its sign (0 without a weight column), source names."""
    what = f"priors[{position}]"
    if not isinstance(table, pd.DataFrame):
        raise InputError(
            f"{what} is a {type(table).__name__}; merge_priors takes prior DataFrames. Read files first, "
            "e.g. gl.pp.read_prior('trrust.tsv', source='TF', target='Target', sign='Mode')."
        )
    rows = _ends(table, what)
    rows["weight"] = np.sign(_weights(table, what)) if "weight" in table.columns else 0.0
    rows["confidence"] = _confidence(table["confidence"]) if "confidence" in table.columns else ""
    fallback = f"prior{position}"
    if PRIOR_SOURCE in table.columns:
        names = _confidence(table[PRIOR_SOURCE])  # str, "" where missing
        rows[PRIOR_SOURCE] = np.where(names == "", fallback, names).astype(object)
    else:
        rows[PRIOR_SOURCE] = fallback
    return rows


def merge_priors(
    priors: Sequence[pd.DataFrame],
    *,
    signs: Literal["vote", "drop", "first"] = "vote",
    adata: AnnData | None = None,
) -> pd.DataFrame:
    """Unite several priors into one row per (source, target), listing which priors support each edge.

    Parameters
    ----------
    priors
        Prior DataFrames (from :func:`read_prior`, :func:`get_prior`, or any table with ``source`` and
        ``target``; ``weight``, ``confidence`` and ``prior_source`` optional). A table without
        ``prior_source`` is named by its position: ``"prior0"``, ``"prior1"``, ... Only the sign of a weight
        counts (decoupler's DoRothEA weight of 1/3 is +1); a table without ``weight`` has unknown signs (0).
        Rows repeating a pair within one table are first combined as :func:`read_prior` does. The tables
        are never modified.
    signs
        What to do with an edge that one table signs +1 and another -1 (a sign of 0, unknown, never conflicts:
        an edge signed by one table and unknown in another takes the known sign):

        - ``"vote"``: the sign of the majority of the tables that sign it; a tie gives 0 (unknown). The edge
          is always kept.
        - ``"drop"``: the edge is removed (a warning says how many).
        - ``"first"``: the sign of the first table in ``priors`` that signs it.
    adata
        If given, symbols are spelled as in ``adata.var_names`` where they match (as in :func:`read_prior`)
        before the tables are united, so that mouse ``Irf1`` and ``IRF1`` become one edge. Coverage is logged.

    Returns
    -------
    DataFrame with columns ``source``, ``target`` (str), ``weight`` (float: the merged sign, +1, -1 or 0),
    ``confidence`` (str: the best of the supporting tables' confidences, i.e. the first non-empty one in
    alphabetical order, so DoRothEA's ``A`` beats ``B`` ... ``E``; a table without a confidence never
    beats one with; ``""`` when none has one) and ``prior_source`` (str: the names of the supporting
    tables, sorted and comma-joined, e.g. ``"dorothea,trrust"``). Edges are in the order first seen. How
    many conflicts there were and what was done with them is logged.

    Raises
    ------
    InputError
        An empty list, something that is not a DataFrame, a table without ``source``/``target``,
        non-numeric weights, a ``signs`` other than ``"vote"``, ``"drop"``, ``"first"``.

    Examples
    --------
    >>> import pandas as pd
    >>> import grnlink as gl
    >>> dorothea = pd.DataFrame(
    ...     {"source": ["IRF1", "STAT1"], "target": ["CXCL10", "IRF1"], "weight": [1.0, 1.0], "confidence": ["A", "B"]}
    ... ).assign(prior_source="dorothea")
    >>> trrust = pd.DataFrame({"source": ["STAT1", "IRF1"], "target": ["IRF1", "CXCL10"], "weight": [-1.0, 0.0]})
    >>> gl.pp.merge_priors([dorothea, trrust.assign(prior_source="trrust")], signs="vote")
      source  target  weight confidence    prior_source
    0   IRF1  CXCL10     1.0          A  dorothea,trrust
    1  STAT1    IRF1     0.0          B  dorothea,trrust
    >>> gl.pp.merge_priors([dorothea, trrust], signs="first")["weight"].tolist()
    [1.0, 1.0]
    >>> len(gl.pp.merge_priors([dorothea, trrust], signs="drop"))
    1
    """
    check_args(signs=(signs, one_of(*SIGN_RULES)))
    if isinstance(priors, pd.DataFrame | str | bytes | os.PathLike) or not isinstance(priors, Iterable):
        raise InputError(
            f"priors must be a list of prior DataFrames, got {type(priors).__name__}. "
            "Pass e.g. gl.pp.merge_priors([dorothea, trrust])."
        )
    priors = list(priors)
    if not priors:
        raise InputError("priors is an empty list: pass at least one prior table, e.g. [dorothea, trrust].")
    if adata is not None:
        _check_adata(adata)
    parts, within_conflicts = [], 0
    for position, table in enumerate(priors):
        rows = _merge_input(table, position)
        if adata is not None:
            rows = _respell(rows, adata.var_names)
        collapsed, stats = _combine(rows, "vote")
        within_conflicts += stats["n_conflicts"]
        parts.append(collapsed)
    merged, stats = _combine(pd.concat(parts, ignore_index=True), signs)

    summary = f"merge_priors: {len(priors)} tables, {stats['n_rows']} edges -> {stats['n_edges']} distinct edges"
    if within_conflicts:
        summary += f" ({within_conflicts} pairs listed with both signs inside one table got sign 0 first)"
    n_conflicts = stats["n_conflicts"]
    if not n_conflicts:
        info(f"{summary}; no conflicting signs ({_sign_counts(merged)})")
    elif signs == "drop":
        warning(
            f"{summary}; {n_conflicts} edges signed +1 by one table and -1 by another were dropped (signs='drop'; "
            f"signs='vote' keeps them). {len(merged)} edges remain ({_sign_counts(merged)})."
        )
    elif signs == "vote":
        info(
            f"{summary}; {n_conflicts} edges signed +1 by one table and -1 by another: "
            f"{n_conflicts - stats['n_tied']} took the majority sign, {stats['n_tied']} tied and got sign 0 "
            f"(unknown); all kept ({_sign_counts(merged)})"
        )
    else:
        info(
            f"{summary}; {n_conflicts} edges signed +1 by one table and -1 by another took the sign of the first "
            f"table that signs them; all kept ({_sign_counts(merged)})"
        )
    if adata is not None:
        _log_coverage(merged, adata)
    return merged
