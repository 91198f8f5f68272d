"""Prior TF -> target networks: fetch or read them, and map their symbols to ``var_names``."""

from __future__ import annotations

import hashlib
import inspect
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scanpy as sc

from .._io import SEPARATORS, read_table
from .._settings import info, verbosity, warning
from .._validation import (
    BOOLEAN,
    NAME,
    GeneIndex,
    InputError,
    _preview,
    check_args,
    check_edge_table,
    one_of,
    optional,
)

PRIOR_NAMES = ("dorothea", "collectri")
DOROTHEA_LEVELS = ("A", "B", "C", "D")
#: The licenses decoupler's OmniPath resources know.
LICENSES = ("academic", "commercial", "nonprofit")
PRIOR_COLUMNS = ["source", "target", "weight", "confidence"]
_MISSING = ["", "NA", "NaN", "nan", "None"]


@dataclass(frozen=True, eq=False)
class AlignedPrior:
    """A prior mapped onto ``var_names``: one entry per kept edge.

    Attributes
    ----------
    source_idx
        Position of each edge's TF in ``var_names`` (int64).
    target_idx
        Position of each edge's target gene in ``var_names`` (int64).
    weight
        Edge weight (float64), 1.0 where the prior had none.
    coverage
        Plain ints: ``n_edges``, ``n_edges_mapped``, ``n_tfs``, ``n_tfs_mapped``,
        ``n_targets``, ``n_targets_mapped`` and ``n_self_loops`` (mapped edges
        dropped because TF and target are the same gene).
    """

    source_idx: np.ndarray
    target_idx: np.ndarray
    weight: np.ndarray
    coverage: dict


def _looks_like_path(source: str | os.PathLike) -> bool:
    if not isinstance(source, str):
        return True
    name = source.lower().removesuffix(".gz")
    return name.endswith(tuple(SEPARATORS)) or os.sep in source or Path(source).exists()


def _read_prior_file(path: str | os.PathLike) -> pd.DataFrame:
    # Gene symbols such as "NA" must stay strings: only weight/confidence know missing values.
    na_values = {"weight": _MISSING, "confidence": _MISSING}
    return read_table(path, what="prior file", keep_default_na=False, na_values=na_values)


def _decoupler_options(name: str, organism: str, levels, license: str | None, verbose: bool | None, extra: dict):
    """The keyword arguments for decoupler's ``dc.op.<name>``; unknown or misplaced options raise."""
    import decoupler as dc

    organisms = ["human", *dc.op.show_organisms()]
    if organism not in organisms:
        raise InputError(f"organism={organism!r} is not known to decoupler; use one of {organisms}.")
    kwargs: dict = {"organism": organism, **extra}
    if name == "dorothea":
        levels = [levels] if isinstance(levels, str) else [str(lv).upper() for lv in levels]
        bad = [lv for lv in levels if lv not in DOROTHEA_LEVELS]
        if bad or not levels:
            raise InputError(
                f"levels={levels!r} is not valid for DoRothEA through decoupler; use a subset of {DOROTHEA_LEVELS}. "
                "For level E, pass a local DoRothEA table (DataFrame or .tsv file) and filter its confidence column."
            )
        kwargs["levels"] = levels
    if license is not None:
        kwargs["license"] = license
    kwargs["verbose"] = verbosity() >= 2 if verbose is None else bool(verbose)
    accepted = set(inspect.signature(getattr(dc.op, name)).parameters)
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise InputError(
            f"decoupler's dc.op.{name} has no option(s) {unknown}; its options are {sorted(accepted)} "
            f"(remove_complexes is CollecTRI's, dict_weights DoRothEA's)."
        )
    return kwargs


def _cache_file(name: str, kwargs: dict) -> Path:
    """Where the table fetched with these options is kept: ``scanpy.settings.cachedir / "grnlink"``."""
    options = {k: v for k, v in kwargs.items() if k != "verbose"}
    digest = hashlib.sha1(json.dumps(options, sort_keys=True, default=str).encode()).hexdigest()[:12]
    return Path(sc.settings.cachedir) / "grnlink" / f"{name}_{kwargs['organism']}_{digest}.tsv.gz"


def _fetch_decoupler(name: str, kwargs: dict, cache: bool) -> pd.DataFrame:
    import decoupler as dc
    import requests

    path = _cache_file(name, kwargs)
    if cache and path.is_file():
        info(f"{name}: read from grnlink's cache {path} (delete it, or pass cache=False, to fetch again)")
        return _read_prior_file(path)
    try:
        table = getattr(dc.op, name)(**kwargs)
    except (requests.exceptions.RequestException, OSError) as err:
        raise RuntimeError(
            f"Downloading the {name!r} prior through decoupler failed ({type(err).__name__}: {err}). "
            "Without network access, pass the prior as a DataFrame or a local file instead, e.g. the DoRothEA "
            "table saved as TSV with columns source, target, weight, confidence: "
            "gl.pp.get_prior('dorothea_hs.tsv.gz'). A table fetched once with cache=True is reused offline."
        ) from err
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(path, sep="\t", index=False)
        info(f"{name}: kept a copy in {path}; the same call reads it from there, also offline")
    return table


def _tidy(table: pd.DataFrame, what: str) -> pd.DataFrame:
    """New DataFrame with columns source, target, weight (float), confidence (str); unique (source, target)."""
    check_edge_table(table, what)
    ends = table[["source", "target"]]
    empty = ends.isna().any(axis=1).to_numpy() | (ends.astype(str).apply(lambda c: c.str.strip()) == "").any(axis=1)
    if empty.any():
        raise InputError(
            f"{what} has {int(empty.sum())} rows with an empty source or target. Drop them first, "
            "e.g. table.dropna(subset=['source', 'target'])."
        )
    out = pd.DataFrame(
        {"source": ends["source"].astype(str).to_numpy(), "target": ends["target"].astype(str).to_numpy()}
    )

    if "weight" in table.columns:
        weight = pd.to_numeric(table["weight"], errors="coerce").to_numpy(dtype=np.float64)
        bad = np.isnan(weight) & table["weight"].notna().to_numpy()
        if bad.any():
            examples = _preview(table["weight"][bad].unique())
            raise InputError(
                f"{what}['weight'] has {int(bad.sum())} non-numeric values ({examples}). "
                "Weights must be numbers (e.g. +1/-1 mode of regulation); drop the column to use weight 1.0."
            )
        if not np.isfinite(weight).all():
            raise InputError(
                f"{what}['weight'] has {int((~np.isfinite(weight)).sum())} missing or infinite values. "
                "Fill them (e.g. table.fillna({'weight': 1.0})) or drop the weight column to use weight 1.0."
            )
        out["weight"] = weight
    else:
        out["weight"] = 1.0

    if "confidence" in table.columns:
        conf = table["confidence"]
        out["confidence"] = np.where(conf.isna().to_numpy(), "", conf.astype(str).to_numpy()).astype(object)
    else:
        out["confidence"] = ""
    return out.drop_duplicates(["source", "target"], keep="first").reset_index(drop=True)


def _symbol_positions(index: GeneIndex, symbols: pd.Series) -> np.ndarray:
    """Positions of ``symbols`` in var_names (-1 where none), looking each distinct symbol up once."""
    codes, uniques = pd.factorize(symbols)
    return index.positions(uniques)[codes]


def _align(prior: pd.DataFrame, var_names: Sequence[str]) -> AlignedPrior:
    tidy = _tidy(prior, "prior")
    names = pd.Index([str(v) for v in var_names])
    if not names.is_unique:
        dups = names[names.duplicated()].unique()
        raise InputError(
            f"var_names has {len(dups)} duplicated gene names ({_preview(dups)}). "
            "Make them unique first, e.g. adata.var_names_make_unique()."
        )
    index = GeneIndex(names)
    src = _symbol_positions(index, tidy["source"])
    tgt = _symbol_positions(index, tidy["target"])

    mapped = (src >= 0) & (tgt >= 0)
    self_loop = mapped & (src == tgt)
    keep = mapped & ~self_loop
    # "Irf1" and "IRF1" in one prior land on the same gene pair: keep its first edge only
    pair = np.where(keep, src * len(names) + tgt, -1 - np.arange(len(src)))  # dropped rows never collide
    keep &= ~pd.Series(pair).duplicated().to_numpy()

    sources = tidy["source"].to_numpy()
    targets = tidy["target"].to_numpy()
    coverage = {
        "n_edges": int(len(tidy)),
        "n_edges_mapped": int(keep.sum()),
        "n_tfs": int(pd.unique(sources).size),
        "n_tfs_mapped": int(pd.unique(sources[src >= 0]).size),
        "n_targets": int(pd.unique(targets).size),
        "n_targets_mapped": int(pd.unique(targets[tgt >= 0]).size),
        "n_self_loops": int(self_loop.sum()),
    }
    return AlignedPrior(
        source_idx=src[keep].astype(np.int64),
        target_idx=tgt[keep].astype(np.int64),
        weight=tidy["weight"].to_numpy(dtype=np.float64)[keep],
        coverage=coverage,
    )


def coverage_message(coverage: dict) -> str:
    """One line saying how much of a prior maps to ``var_names``.

    Parameters
    ----------
    coverage
        The ``coverage`` dict of an :class:`AlignedPrior`.

    Returns
    -------
    A line such as ``"prior: 3067 of 3100 edges map to var_names (TFs 20/21, targets 700/702)"``.

    Examples
    --------
    >>> from grnlink.pp import coverage_message
    >>> cov = dict(n_edges=10, n_edges_mapped=8, n_tfs=3, n_tfs_mapped=2, n_targets=9, n_targets_mapped=8)
    >>> coverage_message(cov)
    'prior: 8 of 10 edges map to var_names (TFs 2/3, targets 8/9)'
    """
    msg = (
        f"prior: {coverage['n_edges_mapped']} of {coverage['n_edges']} edges map to var_names "
        f"(TFs {coverage['n_tfs_mapped']}/{coverage['n_tfs']}, "
        f"targets {coverage['n_targets_mapped']}/{coverage['n_targets']})"
    )
    if coverage.get("n_self_loops", 0):
        msg += f"; {coverage['n_self_loops']} self-loops dropped"
    return msg


def _no_overlap_message(coverage: dict) -> str:
    return (
        f"The prior shares no gene with adata.var_names ({coverage_message(coverage)}). "
        "Check the organism (human 'IRF1' vs mouse 'Irf1' symbols are matched ignoring case, but orthologs are not) "
        "and whether var_names hold Ensembl ids; pass gene symbols, e.g. adata.var_names = adata.var['gene_symbols']."
    )


def align_prior(prior: pd.DataFrame, var_names: Sequence[str]) -> AlignedPrior:
    """Map a prior's TF and target symbols to positions in ``var_names``.

    Symbols match exactly first, then ignoring case (mouse ``Irf1`` == ``IRF1``).
    Only edges whose TF and target both map are kept. Self-loops (a TF
    regulating itself) are dropped, and so are repeated edges that map to the
    same gene pair (the first is kept). The coverage is logged as one line.

    Parameters
    ----------
    prior
        DataFrame with columns ``source`` and ``target`` (``weight`` optional, 1.0 when absent),
        e.g. from :func:`get_prior`.
    var_names
        Gene names to map onto, usually ``adata.var_names`` (must be unique).

    Returns
    -------
    :class:`AlignedPrior` with ``source_idx``, ``target_idx``, ``weight`` and ``coverage``.

    Raises
    ------
    InputError
        When columns are missing or when no edge maps (wrong organism, Ensembl ids ...).

    Examples
    --------
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(n_genes=200, n_tfs=20, n_cells=500, seed=0)
    >>> aligned = gl.pp.align_prior(adata.uns["true_network"], adata.var_names)
    >>> int(aligned.coverage["n_edges_mapped"]) == len(adata.uns["true_network"])
    True
    >>> bool((adata.var_names[aligned.source_idx] == adata.uns["true_network"]["source"]).all())
    True
    """
    aligned = _align(prior, var_names)
    if aligned.coverage["n_edges_mapped"] == 0:
        raise InputError(_no_overlap_message(aligned.coverage))
    info(coverage_message(aligned.coverage))
    return aligned


def get_prior(
    source: str | os.PathLike | pd.DataFrame = "dorothea",
    *,
    organism: str = "human",
    levels: Sequence[str] = ("A", "B", "C"),
    license: str | None = None,
    verbose: bool | None = None,
    cache: bool = True,
    adata=None,
    **decoupler_kwargs: Any,
) -> pd.DataFrame:
    """A prior TF -> target network as a tidy DataFrame.

    Parameters
    ----------
    source
        ``"dorothea"`` or ``"collectri"`` (fetched through decoupler 2.x, which needs network access),
        a DataFrame, or a path to a ``.csv`` (comma) or ``.tsv``/``.txt`` (tab) file, optionally gzipped.
        Tables need ``source`` and ``target`` columns; ``weight`` and ``confidence`` are optional.
        DataFrames and files are read as they are: ``organism`` and ``levels`` do not apply to them.
    organism
        Organism for decoupler's resources (``"human"``, ``"mouse"``, ...; decoupler translates
        human symbols through orthologs).
    levels
        DoRothEA confidence levels to keep (subset of A-D); only used for ``"dorothea"``.
    license
        decoupler's ``license`` (``"academic"``, ``"commercial"`` or ``"nonprofit"``): which
        OmniPath resources may be served. ``None`` keeps decoupler's default (``"academic"``);
        non-academic users should pass theirs.
    verbose
        decoupler's ``verbose`` (its download progress and messages); ``None`` follows scanpy's
        verbosity (on from ``info``).
    cache
        Keep the fetched table in ``scanpy.settings.cachedir / "grnlink"`` (one file per resource,
        organism and options) and read it from there on later calls, so that a second call works
        offline. decoupler 2.x itself downloads on every call and keeps no copy, so without this
        every call needs the network. Delete the file, or pass ``cache=False`` (which neither reads
        nor writes the cache), to fetch a fresh copy.
    adata
        If given, log how much of the prior maps to ``adata.var_names`` (case-insensitive).
        The returned table keeps the original symbols.
    **decoupler_kwargs
        Further options of ``dc.op.dorothea`` / ``dc.op.collectri``, passed through, e.g.
        ``remove_complexes=True`` (CollecTRI) or ``dict_weights={"A": 1, "B": 2}`` (DoRothEA).
        An option the resource does not take raises :class:`~grnlink.InputError`.

    Returns
    -------
    DataFrame with columns ``source``, ``target`` (str), ``weight`` (float, 1.0 when absent) and
    ``confidence`` (str, ``""`` when absent); one row per (source, target) pair, the first kept.

    Raises
    ------
    InputError
        Unknown name, missing file, missing ``source``/``target`` columns, non-numeric weights.
    RuntimeError
        When decoupler's download fails (no network): pass a DataFrame or a local file instead.

    Examples
    --------
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(n_genes=200, n_tfs=20, n_cells=500, seed=0)
    >>> prior = gl.pp.get_prior(adata.uns["true_network"], adata=adata)
    >>> list(prior.columns)
    ['source', 'target', 'weight', 'confidence']
    >>> dorothea = gl.pp.get_prior("dorothea", organism="human", levels=("A", "B"))  # doctest: +SKIP
    >>> collectri = gl.pp.get_prior("collectri", license="commercial", remove_complexes=True)  # doctest: +SKIP
    """
    check_args(
        organism=(organism, NAME),
        license=(license, optional(one_of(*LICENSES))),
        verbose=(verbose, optional(BOOLEAN)),
        cache=(cache, BOOLEAN),
    )
    if "remove_complexes" in decoupler_kwargs:
        check_args(remove_complexes=(decoupler_kwargs["remove_complexes"], BOOLEAN))
    is_name = isinstance(source, str) and source.lower() in PRIOR_NAMES
    if not is_name and (license is not None or verbose is not None or decoupler_kwargs):
        named = {"license": license, "verbose": verbose}
        given = sorted([*decoupler_kwargs, *(k for k, v in named.items() if v is not None)])
        raise InputError(
            f"{given} are options of decoupler's resources and only apply to a name in {list(PRIOR_NAMES)}; "
            "a DataFrame or file is read as it is. Leave them out."
        )
    if isinstance(source, pd.DataFrame):
        table, what = source, "the prior DataFrame"
    elif is_name:
        name = source.lower()
        kwargs = _decoupler_options(name, organism, levels, license, verbose, decoupler_kwargs)
        table, what = _fetch_decoupler(name, kwargs, cache), f"decoupler's {name}"
    elif isinstance(source, str | os.PathLike) and _looks_like_path(source):
        table, what = _read_prior_file(source), f"prior file {str(source)!r}"
    else:
        raise InputError(
            f"Unknown prior {source!r}. Pass one of the names {list(PRIOR_NAMES)}, a DataFrame with columns "
            "source and target, or a path to a .csv/.tsv(.gz) file."
        )
    prior = _tidy(table, what)
    if adata is not None:
        coverage = _align(prior, adata.var_names).coverage
        if coverage["n_edges_mapped"] == 0:
            warning(_no_overlap_message(coverage))
        else:
            info(coverage_message(coverage))
    return prior
