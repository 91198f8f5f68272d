"""``gl.tl.grn_compare``: what changed between two networks (or two groups of one network)."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from .._settings import info
from .._validation import InputError, _preview, check_args, one_of

COMPARE_BY = ("score", "probability", "precision")
_KEYS = ["source", "target"]


def grn_compare(
    net_a: pd.DataFrame,
    net_b: pd.DataFrame | None = None,
    *,
    groups: tuple[str, str] | None = None,
    by: Literal["score", "probability", "precision"] = "score",
) -> pd.DataFrame:
    """The edges gained, lost and with a flipped sign from network ``a`` to network ``b``.

    Networks come from :func:`grnlink.tl.grn_network` (columns ``source``,
    ``target``, ``weight`` and ``by``). Pass two tables, or one long table of
    group networks (``grn_network(..., groupby=...)``) with ``groups=(a, b)``.

    An edge is *gained* when it is in ``b`` only, *lost* when it is in ``a``
    only, *flipped* when it is in both with opposite signs of ``weight``;
    edges in both with one sign are not listed. ``change`` is ``by`` in ``b``
    minus ``by`` in ``a``. A network holds each TF's top k targets only, so an
    edge missing from one network has no value there: it is given the lowest
    value of its TF in that network (the TF's cut-off; the network's lowest
    when the TF is absent), and the ``change`` of a gained (lost) edge is the
    least rise (fall) that takes it across that cut-off: a bound the true
    change reaches, 0 when the edge crossed only because its TF's other
    targets moved. Compare ``score`` only between networks
    of one fitted model (group networks, or refits); ``probability`` and
    ``precision`` share a scale between models.

    Parameters
    ----------
    net_a
        The first network (or the long table of group networks, with ``groups``).
    net_b
        The second network; ``None`` with ``groups``.
    groups
        ``(a, b)``: the two values of ``net_a["group"]`` to compare.
    by
        The column whose change ranks the edges: ``"score"``, ``"probability"`` or ``"precision"``.

    Returns
    -------
    DataFrame with columns ``source``, ``target``, ``status`` (``"gained"``,
    ``"lost"`` or ``"flipped"``), ``weight_a``, ``weight_b`` (NaN where the
    edge is absent), ``{by}_a``, ``{by}_b`` (the cut-off where absent),
    ``change`` and ``in_prior`` (when the networks carry it); ranked by the
    size of ``change``, largest first. The inputs are not modified.

    Examples
    --------
    >>> import pandas as pd
    >>> import grnlink as gl
    >>> a = pd.DataFrame({"source": ["T1", "T1", "T2"], "target": ["G1", "G2", "G3"],
    ...                   "weight": [0.9, 0.5, 0.8], "score": [0.9, 0.5, 0.8]})
    >>> b = pd.DataFrame({"source": ["T1", "T1", "T2"], "target": ["G1", "G4", "G3"],
    ...                   "weight": [0.9, 0.7, -0.8], "score": [0.9, 0.7, 0.8]})
    >>> gl.tl.grn_compare(a, b)[["source", "target", "status", "change"]]
      source target   status  change
    0     T1     G4   gained     0.2
    1     T1     G2     lost     0.0
    2     T2     G3  flipped     0.0
    """
    check_args(by=(by, one_of(*COMPARE_BY)))
    if net_b is None:
        table_a, table_b = _group_pair(net_a, groups)
    elif groups is not None:
        raise InputError("pass either two networks or groups=(a, b) with one long table of group networks, not both.")
    else:
        table_a, table_b = net_a, net_b
    for name, table in (("net_a", table_a), ("net_b", table_b)):
        _check_network(table, name, by)
    merged = table_a[[*_KEYS, "weight", by]].merge(
        table_b[[*_KEYS, "weight", by]], on=_KEYS, how="outer", suffixes=("_a", "_b"), indicator=True
    )
    status = np.select(
        [
            merged["_merge"].eq("right_only"),
            merged["_merge"].eq("left_only"),
            np.sign(merged["weight_a"]) * np.sign(merged["weight_b"]) < 0,
        ],
        ["gained", "lost", "flipped"],
        default="",
    )
    merged["status"] = status
    merged = merged.loc[merged["status"] != ""].drop(columns="_merge")
    for side, table in (("a", table_a), ("b", table_b)):
        missing = merged[f"{by}_{side}"].isna()
        merged.loc[missing, f"{by}_{side}"] = _cutoffs(table, by, merged.loc[missing, "source"])
    change = merged[f"{by}_b"] - merged[f"{by}_a"]
    gained, lost = merged["status"].eq("gained"), merged["status"].eq("lost")
    merged["change"] = np.where(gained, change.clip(lower=0), np.where(lost, change.clip(upper=0), change))
    if "in_prior" in table_a.columns and "in_prior" in table_b.columns:
        prior = pd.concat([table_a[[*_KEYS, "in_prior"]], table_b[[*_KEYS, "in_prior"]]]).drop_duplicates(_KEYS)
        merged = merged.merge(prior, on=_KEYS, how="left")
    order = np.lexsort((merged["target"].to_numpy(str), merged["source"].to_numpy(str), -merged["change"].abs()))
    out = merged.iloc[order].reset_index(drop=True)
    columns = [*_KEYS, "status", "weight_a", "weight_b", f"{by}_a", f"{by}_b", "change"]
    out = out[columns + (["in_prior"] if "in_prior" in out.columns else [])]
    counts = out["status"].value_counts()
    info(
        f"compared networks: {counts.get('gained', 0)} edges gained, {counts.get('lost', 0)} lost, "
        f"{counts.get('flipped', 0)} with a flipped sign"
    )
    return out


def _group_pair(net: pd.DataFrame, groups) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two group networks ``groups`` of a long table of group networks."""
    if not isinstance(net, pd.DataFrame) or "group" not in net.columns:
        raise InputError(
            "grn_compare needs two networks, or one table of group networks (a 'group' column, from "
            "gl.tl.grn_network(adata, groupby=...)) with groups=(a, b)."
        )
    if not (isinstance(groups, tuple | list) and len(groups) == 2):
        raise InputError(f"groups={groups!r} is not valid: pass the two groups to compare, e.g. groups=('a', 'b').")
    present = set(net["group"].astype(str))
    unknown = [g for g in groups if str(g) not in present]
    if unknown:
        raise InputError(f"groups {unknown} are not in the table's 'group' column ({_preview(sorted(present), 10)}).")
    labels = net["group"].astype(str)
    return net.loc[labels == str(groups[0])], net.loc[labels == str(groups[1])]


def _check_network(table, name: str, by: str) -> None:
    if not isinstance(table, pd.DataFrame):
        raise InputError(f"{name} is a {type(table).__name__}, not a network table (a DataFrame from grn_network).")
    missing = [c for c in [*_KEYS, "weight", by] if c not in table.columns]
    if missing:
        raise InputError(
            f"{name} lacks the column(s) {missing} (it has {_preview(table.columns, 10)}). Pass tables made by "
            f"gl.tl.grn_network, or compare by a column both have (by=...)."
        )
    if table.duplicated(_KEYS).any():
        raise InputError(
            f"{name} holds a (source, target) pair more than once: is it a table of several groups? "
            "Pass groups=(a, b), or select one group first."
        )


def _cutoffs(table: pd.DataFrame, by: str, sources: pd.Series) -> np.ndarray:
    """Each source's lowest value of ``by`` in ``table``; the table's lowest for sources absent from it."""
    lowest = table.groupby("source", observed=True)[by].min()
    floor = float(table[by].min()) if len(table) else np.nan
    return sources.map(lowest).fillna(floor).to_numpy(float)
