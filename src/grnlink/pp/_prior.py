"""Prior TF -> target networks: fetch or read them, and map their symbols to ``var_names``.

:func:`read_prior` and :func:`merge_priors` (tables as people have them) live in ``_read_prior.py`` and use
the helpers here: the tidy shape, the file reading rules and the symbol matching.
"""

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
from anndata import AnnData

from .._io import SEPARATORS, read_table
from .._settings import info, verbosity, warning
from .._validation import (
    BOOLEAN,
    NAME,
    GeneIndex,
    InputError,
    Rule,
    _preview,
    check_args,
    check_edge_table,
    check_unique_var_names,
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


def _read_prior_file(
    path: str | os.PathLike,
    *,
    symbols: Sequence[str] = ("source", "target"),
    values: Sequence[str] = ("weight", "confidence"),
    text: Sequence[str] = ("confidence",),
) -> pd.DataFrame:
    """Read a prior file: gene symbols (``symbols`` columns) are kept as written, ``"NA"`` and ``"0123"`` included.

    Only the ``values`` columns know missing values (``""``, ``"NA"``, ...); the ``text`` columns are read as
    strings (confidence levels such as ``"1"`` stay ``"1"``). Columns the file lacks are ignored here.
    """
    na_values = {column: _MISSING for column in values}
    dtype = dict.fromkeys([*symbols, *text], str)
    return read_table(path, what="prior file", keep_default_na=False, na_values=na_values, dtype=dtype)


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


def default_cache_dir() -> Path:
    """The folder where :func:`get_prior` keeps fetched priors unless told otherwise.

    ``$XDG_CACHE_HOME/grnlink`` when that variable holds an absolute path, else ``~/.cache/grnlink``:
    one absolute folder per user, the same whatever the working directory.

    Examples
    --------
    >>> from grnlink.pp._prior import default_cache_dir
    >>> default_cache_dir().is_absolute(), default_cache_dir().name
    (True, 'grnlink')
    """
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"  # a relative XDG path is invalid
    return base / "grnlink"


def _cache_file(name: str, kwargs: dict, cache_dir: Path) -> Path:
    """Where the table fetched with these options is kept: one file per resource, organism and options."""
    options = {k: v for k, v in kwargs.items() if k != "verbose"}
    digest = hashlib.sha1(json.dumps(options, sort_keys=True, default=str).encode()).hexdigest()[:12]
    return cache_dir / f"{name}_{kwargs['organism']}_{digest}.tsv.gz"


def _fetch_decoupler(name: str, kwargs: dict, cache: bool, cache_dir: Path) -> pd.DataFrame:
    import decoupler as dc
    import requests

    path = _cache_file(name, kwargs, cache_dir)
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
            f"gl.pp.get_prior('dorothea_hs.tsv.gz'). A table fetched once with cache=True is kept in {path.parent} "
            "and reused offline."
        ) from err
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(path, sep="\t", index=False)
        info(f"{name}: kept a copy in {path}; the same call reads it from there, also offline")
    return table


def _ends(table: pd.DataFrame, what: str) -> pd.DataFrame:
    """New DataFrame with the ``source`` and ``target`` symbols as str, surrounding spaces removed."""
    check_edge_table(table, what)
    out, empty = {}, np.zeros(len(table), dtype=bool)
    for column in ("source", "target"):
        codes, uniques = pd.factorize(table[column], use_na_sentinel=True)  # strip each distinct symbol once
        stripped = pd.Series(uniques, dtype=object).astype(str).str.strip().to_numpy(dtype=object)
        stripped = np.append(stripped, "")  # a missing cell has code -1: the appended empty symbol
        empty |= stripped[codes] == ""
        out[column] = stripped[codes]
    if empty.any():
        raise InputError(
            f"{what} has {int(empty.sum())} rows with an empty source or target. Drop them first, "
            "e.g. table.dropna(subset=['source', 'target'])."
        )
    return pd.DataFrame(out)


def _confidence(values: pd.Series) -> np.ndarray:
    """Confidence labels as str, ``""`` where missing."""
    return np.where(values.isna().to_numpy(), "", values.astype(str).str.strip().to_numpy()).astype(object)


def _weights(table: pd.DataFrame, what: str) -> np.ndarray:
    """The numeric ``weight`` column as float64; non-numeric, missing or infinite entries raise."""
    weight = pd.to_numeric(table["weight"], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(weight) & table["weight"].notna().to_numpy()
    if bad.any():
        examples = _preview(table["weight"][bad].unique())
        raise InputError(
            f"{what}['weight'] has {int(bad.sum())} non-numeric values ({examples}). "
            "Weights must be numbers (e.g. +1/-1 mode of regulation); drop the column to use weight 1.0, "
            "or read words such as 'Activation' with gl.pp.read_prior(..., sign='weight')."
        )
    if not np.isfinite(weight).all():
        raise InputError(
            f"{what}['weight'] has {int((~np.isfinite(weight)).sum())} missing or infinite values. "
            "Fill them (e.g. table.fillna({'weight': 1.0})) or drop the weight column to use weight 1.0."
        )
    return weight


def pair_groups(source: Any, target: Any) -> np.ndarray:
    """One id per row, shared by the rows of one (source, target) pair; ids numbered in first-seen order."""
    src_codes, _ = pd.factorize(np.asarray(source, dtype=object))
    tgt_codes, tgt_uniques = pd.factorize(np.asarray(target, dtype=object))
    group, _ = pd.factorize(src_codes.astype(np.int64) * max(len(tgt_uniques), 1) + tgt_codes)
    return group


def sign_vote(group: np.ndarray, weight: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The one rule for an edge listed with opposite signs: per group of rows, the majority sign.

    Returns, per group ``0 .. n-1``: the sign of the majority of its signed rows (+1, -1; 0 on a tie or when
    no row is signed), whether it has both a positive and a negative row (a conflict), and whether that
    conflict is a tie. A weight of 0 (sign unknown) never conflicts.
    """
    n_pos = np.bincount(group, weights=weight > 0, minlength=n)
    n_neg = np.bincount(group, weights=weight < 0, minlength=n)
    conflict = (n_pos > 0) & (n_neg > 0)
    return np.sign(n_pos - n_neg), conflict, conflict & (n_pos == n_neg)


def _one_row_per_pair(rows: pd.DataFrame, group: np.ndarray, what: str) -> np.ndarray:
    """Positions of each group's first row in ``rows``; a group whose weights disagree in sign gets the voted sign.

    ``rows["weight"]`` is set, in place, to the voted sign (+1, -1, 0 on a tie) on those first rows (the
    caller's own table, never the user's), and a warning says how many edges were settled so.
    """
    first = np.unique(group, return_index=True)[1]  # group ids are in first-seen order
    weight = rows["weight"].to_numpy(dtype=np.float64)
    vote, conflict, tied = sign_vote(group, weight, len(first))
    if conflict.any():
        rows.loc[rows.index[first[conflict]], "weight"] = vote[conflict]
        examples = _preview(f"{s}->{t}" for s, t in rows.iloc[first[conflict]][["source", "target"]].itertuples(False))
        warning(
            f"{what} lists {int(conflict.sum())} edges with both a positive and a negative weight ({examples}): "
            f"each takes the sign of the majority of its rows, {int(tied.sum())} tied and got weight 0 (sign "
            "unknown; grn_network then signs them by correlation). To choose another rule, combine the rows "
            "first with gl.pp.merge_priors([...], signs='drop' or 'first')."
        )
    return first


def _tidy(table: pd.DataFrame, what: str) -> pd.DataFrame:
    """New DataFrame with columns source, target, weight (float), confidence (str); unique (source, target).

    A pair listed more than once keeps its first row; when its weights disagree in sign, :func:`sign_vote`
    settles the sign (the rule of :func:`read_prior` and ``merge_priors(signs="vote")``).
    """
    out = _ends(table, what)
    out["weight"] = _weights(table, what) if "weight" in table.columns else 1.0
    out["confidence"] = _confidence(table["confidence"]) if "confidence" in table.columns else ""
    first = _one_row_per_pair(out, pair_groups(out["source"], out["target"]), what)
    return out.iloc[first].reset_index(drop=True)


def _check_adata(adata: Any) -> None:
    if not isinstance(adata, AnnData):
        raise InputError(
            f"adata must be an AnnData whose var_names the prior's symbols are matched to, got {type(adata).__name__}."
        )
    check_unique_var_names(adata)


def _respell(prior: pd.DataFrame, var_names: Sequence[str]) -> pd.DataFrame:
    """Copy of ``prior`` whose source/target symbols are spelled as in ``var_names`` where they match.

    Matching is :class:`~grnlink._validation.GeneIndex`'s, the one :func:`align_prior` uses (exact first, then
    ignoring case); symbols without a match keep their spelling.
    """
    index = GeneIndex(var_names)
    names = index.var_names.to_numpy(dtype=object)
    out = prior.copy()
    for column in ("source", "target"):
        pos = _symbol_positions(index, out[column])
        out[column] = np.where(pos >= 0, names[np.maximum(pos, 0)], out[column].to_numpy(dtype=object))
    return out


def _log_coverage(prior: pd.DataFrame, adata: AnnData) -> None:
    """Log how much of ``prior`` maps to ``adata.var_names`` (a warning when nothing does)."""
    coverage = _align(prior, adata.var_names).coverage
    if coverage["n_edges_mapped"] == 0:
        warning(_no_overlap_message(coverage))
    else:
        info(coverage_message(coverage))


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
    # "Irf1" and "IRF1" in one prior land on the same gene pair: keep its first edge only (signs voted)
    pair = np.where(keep, src * len(names) + tgt, -1 - np.arange(len(src)))  # dropped rows never collide
    first = _one_row_per_pair(tidy, pd.factorize(pair)[0], "prior (after matching symbols to var_names)")
    keep &= np.isin(np.arange(len(src)), first)

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

    Symbols match exactly first, then ignoring case and surrounding spaces
    (mouse ``Irf1`` == ``IRF1``, ``" GATA1 "`` == ``GATA1``); source and target
    columns may hold strings or a pandas Categorical. Only edges whose TF and
    target both map are kept. Self-loops (a TF regulating itself) are dropped,
    and so are repeated edges that map to the same gene pair: the first is
    kept, and when the repeats disagree in sign (+1 and -1, the same edge
    listed as activation and as repression) it takes the sign of the majority
    of its rows, 0 (unknown) on a tie, with a warning: the rule of
    :func:`read_prior` and :func:`merge_priors` with ``signs="vote"``. Weights
    must be finite numbers (NaN and infinite weights raise). The coverage is
    logged as one line.

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


_PATH = Rule("a str or os.PathLike naming a folder, or None", lambda v: v is None or isinstance(v, str | os.PathLike))


def get_prior(
    source: str | os.PathLike | pd.DataFrame = "dorothea",
    *,
    organism: str = "human",
    levels: Sequence[str] = ("A", "B", "C"),
    license: str | None = None,
    verbose: bool | None = None,
    cache: bool = True,
    cache_dir: str | os.PathLike | None = None,
    adata: AnnData | None = None,
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
        For tables with other column names or with signs written as words (TRRUST's ``Activation``),
        use :func:`read_prior`.
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
        Keep the fetched table in ``cache_dir`` (one file per resource, organism and options) and read
        it from there on later calls, so that a second call works offline. decoupler 2.x itself
        downloads on every call and keeps no copy, so without this every call needs the network.
        Delete the file, or pass ``cache=False`` (which neither reads nor writes the cache), to fetch
        a fresh copy.
    cache_dir
        Folder of that cache. ``None``: one folder per user, ``$XDG_CACHE_HOME/grnlink`` or else
        ``~/.cache/grnlink`` (the same whatever the working directory). Pass a folder of your own to keep
        the priors with a project, or one that an offline machine can read.
    adata
        If given, the returned symbols are spelled as in ``adata.var_names`` where they match (exactly,
        else ignoring case, as :func:`align_prior` matches: mouse ``Irf1`` becomes ``IRF1`` when
        var_names has ``IRF1``); symbols without a match keep their spelling. Edges that become the same
        pair keep the first. How much of the prior maps is logged (a warning when nothing does).
    **decoupler_kwargs
        Further options of ``dc.op.dorothea`` / ``dc.op.collectri``, passed through, e.g.
        ``remove_complexes=True`` (CollecTRI) or ``dict_weights={"A": 1, "B": 2}`` (DoRothEA).
        An option the resource does not take raises :class:`~grnlink.InputError`.

    Returns
    -------
    DataFrame with columns ``source``, ``target`` (str, surrounding spaces removed), ``weight`` (float,
    1.0 when absent) and ``confidence`` (str, ``""`` when absent); one row per (source, target) pair, the
    first kept (a pair listed with opposite signs takes the majority sign, 0 on a tie, as :func:`align_prior`
    settles it, with a warning).

    Raises
    ------
    InputError
        Unknown name, missing file, missing ``source``/``target`` columns, non-numeric weights,
        ``adata`` with duplicated var_names.
    RuntimeError
        When decoupler's download fails (no network): pass a DataFrame or a local file instead.

    Notes
    -----
    To use a resource on a machine without network access, fetch it once where there is network and
    save it as a table, then read that file offline::

        prior = gl.pp.get_prior("dorothea", levels=("A", "B", "C"))
        prior.to_csv("dorothea_hs.tsv.gz", sep="\\t", index=False)
        # later, offline:
        prior = gl.pp.get_prior("dorothea_hs.tsv.gz")  # or gl.pp.read_prior("dorothea_hs.tsv.gz")

    Or copy the cache folder (``cache_dir``) to the offline machine: the same call then reads its file.

    Examples
    --------
    >>> import pandas as pd
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(n_genes=200, n_tfs=20, n_cells=500, seed=0)
    >>> prior = gl.pp.get_prior(adata.uns["true_network"], adata=adata)
    >>> list(prior.columns)
    ['source', 'target', 'weight', 'confidence']

    Symbols are spelled as in ``adata.var_names`` when ``adata`` is given:

    >>> table = pd.DataFrame({"source": [adata.var_names[0].lower()], "target": [adata.var_names[5]]})
    >>> gl.pp.get_prior(table, adata=adata)["source"].tolist() == [adata.var_names[0]]
    True
    >>> dorothea = gl.pp.get_prior("dorothea", organism="human", levels=("A", "B"))  # doctest: +SKIP
    >>> collectri = gl.pp.get_prior("collectri", license="commercial", remove_complexes=True)  # doctest: +SKIP
    """
    check_args(
        organism=(organism, NAME),
        license=(license, optional(one_of(*LICENSES))),
        verbose=(verbose, optional(BOOLEAN)),
        cache=(cache, BOOLEAN),
        cache_dir=(cache_dir, _PATH),
    )
    if "remove_complexes" in decoupler_kwargs:
        check_args(remove_complexes=(decoupler_kwargs["remove_complexes"], BOOLEAN))
    if adata is not None:
        _check_adata(adata)
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
        folder = default_cache_dir() if cache_dir is None else Path(cache_dir).expanduser()
        table, what = _fetch_decoupler(name, kwargs, cache, folder), f"decoupler's {name}"
    elif isinstance(source, str | os.PathLike) and _looks_like_path(source):
        table, what = _read_prior_file(source), f"prior file {str(source)!r}"
    else:
        raise InputError(
            f"Unknown prior {source!r}. Pass one of the names {list(PRIOR_NAMES)}, a DataFrame with columns "
            "source and target, or a path to a .csv/.tsv(.gz) file."
        )
    prior = _tidy(table, what)
    if adata is not None:
        prior = _respell(prior, adata.var_names)
        prior = prior.drop_duplicates(["source", "target"], keep="first").reset_index(drop=True)
        _log_coverage(prior, adata)
    return prior
