"""Reader for BEELINE benchmark data in the GENELink folder layout."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from anndata import AnnData

from .._io import read_table
from .._settings import info, warning
from .._validation import InputError, _preview, check_finite

EXPRESSION_FILE = "BL--ExpressionData.csv"
NETWORK_FILE = "BL--network.csv"
TF_FILE = "TF.csv"
TARGET_FILE = "Target.csv"

_LAYOUT = (
    f"A BEELINE folder in the GENELink layout holds {EXPRESSION_FILE} (genes x cells, first column gene names), "
    f"{NETWORK_FILE} (columns Gene1 = TF, Gene2 = target) and optionally {TF_FILE} (columns ,TF,index) "
    f"and {TARGET_FILE} (columns ,Gene,index), e.g. .../Non-Specific/mDC/TFs+500/."
)
CONDITION_KEY = "condition"
HEPATOCYTE_STAGES = ("ipsc", "de", "he1", "he2", "ih1", "mh1", "mh2")
HSC_CELL_TYPES = ("LT_HSC", "HSPC", "Prog")


@dataclass(frozen=True)
class CellNameRule:
    """How a BEELINE data set names its cells, and the ``obs`` column the parsed part goes to.

    ``pattern`` must match every cell name; its group ``value`` is the condition.
    ``order`` gives the categories' biological order (an ordered categorical);
    ``None`` keeps the order of first appearance (unordered).
    """

    name: str
    column: str
    pattern: re.Pattern
    order: tuple[str, ...] | None = None

    def parse(self, cells: pd.Index) -> pd.Categorical | None:
        """The condition of every cell as a categorical, or None when a cell name does not match."""
        matches = [self.pattern.match(cell) for cell in cells]
        if not all(matches):
            return None
        values = [m.group("value") for m in matches]
        if self.order is None:
            return pd.Categorical(values, categories=list(dict.fromkeys(values)))
        present = set(values)
        return pd.Categorical(values, categories=[c for c in self.order if c in present], ordered=True)


CELL_NAME_RULES = (
    CellNameRule("mdc_time_point", "time_point", re.compile(r"^(?P<value>.+)_S\d+$")),
    CellNameRule(
        "hhep_stage",
        "stage",
        re.compile(rf"^[A-Za-z]+\d+_(?P<value>{'|'.join(HEPATOCYTE_STAGES)})$"),
        HEPATOCYTE_STAGES,
    ),
    CellNameRule(
        "mhsc_cell_type", "cell_type", re.compile(rf"^(?P<value>{'|'.join(HSC_CELL_TYPES)})_\d+$"), HSC_CELL_TYPES
    ),
)


def beeline(path: str | os.PathLike) -> AnnData:
    """Read a BEELINE benchmark folder (GENELink layout) into AnnData with its ground-truth network.

    Parameters
    ----------
    path
        Folder holding the files below, e.g. ``.../Non-Specific/mDC/TFs+500``.

        - ``BL--ExpressionData.csv`` (required): genes x cells, first column gene
          names, values as given (BEELINE ships log expression).
        - ``BL--network.csv`` (required): ground truth, ``Gene1`` = TF,
          ``Gene2`` = target. Edges naming genes absent from the expression file
          are dropped with a warning; duplicated edges are kept once.
        - ``TF.csv`` (optional): columns ``,TF,index``, the TFs of the gene set.
          Without it the network's sources count as TFs.
        - ``Target.csv`` (optional): columns ``,Gene,index``; only checked
          against the expression genes (a warning names genes it lacks).

    Returns
    -------
    AnnData (cells x genes) with

    - ``X``: the expression as given, dense float32,
    - ``var["is_tf"]``: genes listed in ``TF.csv`` (plus any network source),
    - the condition parsed from the cell names, by the first rule below that
      matches **every** cell name, in its own column and, for every layout
      alike, in ``obs["condition"]`` (the same categorical; usable as
      ``groupby``):

      - ``<time>_S<n>`` (mDC: ``LPS_1h_S10``): rule ``mdc_time_point``,
        column ``time_point``, categories in order of first appearance
        (mDC: ``LPS_1h``, ``LPS_2h``, ``LPS_4h``, ``LPS_6h``);
      - ``<well>_<stage>``, well = letters then digits, stage one of ``ipsc``,
        ``de``, ``he1``, ``he2``, ``ih1``, ``mh1``, ``mh2`` (hHEP: ``A10_de``):
        rule ``hhep_stage``, column ``stage``, ordered in that order (the
        differentiation from iPSC to mature hepatocyte);
      - ``<type>_<n>``, type one of ``LT_HSC``, ``HSPC``, ``Prog``, n digits
        (mHSC-GM: ``HSPC_025``): rule ``mhsc_cell_type``, column
        ``cell_type``, ordered ``LT_HSC`` < ``HSPC`` < ``Prog`` (long-term
        stem cells, stem and progenitor cells, committed progenitors).

      Ordered categories keep the biological order and only the stages or
      types present. When no rule matches every cell name, no column is added
      and an info line says so,
    - ``uns["true_network"]``: DataFrame ``source``, ``target``, ``weight``
      (1.0), in file order,
    - ``uns["beeline"]``: ``path`` (the folder read), ``n_edges_dropped``,
      ``cell_name_rule`` (the rule that matched, ``""`` for none) and
      ``condition_key`` (its column, ``""`` for none).

    Examples
    --------
    >>> import grnlink as gl
    >>> adata = gl.ds.beeline("data/beeline/Non-Specific/mDC/TFs+500")  # doctest: +SKIP
    >>> adata.shape  # doctest: +SKIP
    (383, 821)
    >>> adata.obs["time_point"].cat.categories.tolist()  # doctest: +SKIP
    ['LPS_1h', 'LPS_2h', 'LPS_4h', 'LPS_6h']
    >>> hhep = gl.ds.beeline("data/beeline/Non-Specific/hHEP/TFs+500")  # doctest: +SKIP
    >>> hhep.uns["beeline"]["cell_name_rule"], hhep.obs["condition"].cat.categories.tolist()  # doctest: +SKIP
    ('hhep_stage', ['ipsc', 'de', 'he1', 'he2', 'ih1', 'mh1', 'mh2'])
    """
    folder = _check_folder(path)
    expression = _read_expression(folder / EXPRESSION_FILE)
    genes = expression.index
    network, n_dropped = _read_network(folder / NETWORK_FILE, genes)
    is_tf = _read_tfs(folder / TF_FILE, genes, network)
    _check_targets(folder / TARGET_FILE, genes)

    cells = expression.columns
    obs = pd.DataFrame(index=cells)
    rule, condition = _parse_cell_names(cells)
    if rule is not None:
        obs[rule.column] = condition
        obs[CONDITION_KEY] = condition
    adata = AnnData(
        X=np.ascontiguousarray(expression.to_numpy(dtype=np.float32).T),
        obs=obs,
        var=pd.DataFrame({"is_tf": is_tf}, index=genes),
    )
    adata.uns["true_network"] = network
    adata.uns["beeline"] = {
        "path": str(folder),
        "n_edges_dropped": int(n_dropped),
        "cell_name_rule": rule.name if rule is not None else "",
        "condition_key": rule.column if rule is not None else "",
    }
    info(
        f"read {adata.n_obs} cells x {adata.n_vars} genes ({int(is_tf.sum())} TFs) and {len(network)} true edges "
        f"from {folder}"
    )
    return adata


def _check_folder(path: str | os.PathLike) -> Path:
    """The folder as a Path, raising :class:`InputError` when it or a required file is missing."""
    if not isinstance(path, str | os.PathLike):
        raise InputError(f"path must be a folder path (str or pathlib.Path), got {type(path).__name__}. {_LAYOUT}")
    folder = Path(path).expanduser()
    if folder.is_file():
        raise InputError(f"path={str(folder)!r} is a file; pass the folder that holds it. {_LAYOUT}")
    if not folder.is_dir():
        raise InputError(f"BEELINE folder {str(folder)!r} does not exist. {_LAYOUT}")
    for name in (EXPRESSION_FILE, NETWORK_FILE):
        if not (folder / name).is_file():
            hint = _nested_layouts(folder)
            raise InputError(
                f"{name} is missing from {str(folder)!r}. {_LAYOUT}"
                + (f" Folders below it that have this layout: {_preview(hint)}." if hint else "")
            )
    return folder


def _nested_layouts(folder: Path, max_depth: int = 3) -> list[str]:
    """Subfolders (up to ``max_depth`` levels down) that hold an expression file: hints for a wrong path."""
    found: list[str] = []
    for depth in range(1, max_depth + 1):
        pattern = "/".join(["*"] * depth) + "/" + EXPRESSION_FILE
        found += sorted(str(p.parent) for p in folder.glob(pattern))
    return found


def _read_csv(file: Path, **kwargs) -> pd.DataFrame:
    """A BEELINE CSV file; unreadable files raise :class:`InputError` naming the file and line."""
    return read_table(file, what="BEELINE file", sep=",", **kwargs)


def _read_expression(file: Path) -> pd.DataFrame:
    """Genes x cells table with string gene and cell names and numeric values."""
    table = _read_csv(file, index_col=0)
    if table.shape[0] == 0 or table.shape[1] == 0:
        raise InputError(f"{file} has shape {table.shape}; expected genes x cells with at least one of each. {_LAYOUT}")
    non_numeric = [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])]
    if non_numeric:
        raise InputError(
            f"{file} has non-numeric values in the cell column(s) {_preview(non_numeric)}. "
            "Each row must be a gene name followed by one number per cell."
        )
    table.index = table.index.astype(str)
    table.columns = table.columns.astype(str)
    for names, what in ((table.index, "gene names (first column)"), (table.columns, "cell names (header)")):
        if not names.is_unique:
            raise InputError(
                f"{file} has duplicated {what}: {_preview(names[names.duplicated()].unique())}. "
                "Make them unique (or drop the duplicates) before reading."
            )
    check_finite(table.to_numpy(dtype=np.float64), str(file))
    return table


def _read_network(file: Path, genes: pd.Index) -> tuple[pd.DataFrame, int]:
    """Edges ``source``, ``target``, ``weight`` among ``genes`` and the number of edges dropped."""
    table = _read_csv(file, dtype=str)
    missing = [c for c in ("Gene1", "Gene2") if c not in table.columns]
    if missing:
        raise InputError(
            f"{file} lacks the column(s) {missing}; it has {list(table.columns)}. "
            "Expected Gene1 (the TF) and Gene2 (the target), one edge per row."
        )
    edges = pd.DataFrame({"source": table["Gene1"].astype(str), "target": table["Gene2"].astype(str)})
    known = edges["source"].isin(genes) & edges["target"].isin(genes)
    if not known.all():
        absent = pd.unique(pd.concat([edges["source"], edges["target"]])[lambda s: ~s.isin(genes)])
        warning(
            f"{NETWORK_FILE}: dropped {int((~known).sum())} of {len(edges)} edges naming {len(absent)} gene(s) "
            f"absent from {EXPRESSION_FILE}: {_preview(absent)}"
        )
    n_dropped = int((~known).sum())
    edges = edges[known]
    n_dup = int(edges.duplicated().sum())
    if n_dup:
        info(f"{NETWORK_FILE}: kept {n_dup} duplicated edge(s) once")
        edges = edges.drop_duplicates()
    edges = edges.reset_index(drop=True).astype({"source": object, "target": object})
    edges["weight"] = 1.0
    return edges, n_dropped


def _read_tfs(file: Path, genes: pd.Index, network: pd.DataFrame) -> np.ndarray:
    """Boolean mask over ``genes``: listed in ``TF.csv`` or a source of the network."""
    sources = genes.isin(network["source"])
    if not file.is_file():
        info(f"{TF_FILE} not found: the {int(sources.sum())} network sources count as TFs")
        return np.asarray(sources)
    table = _read_csv(file, dtype=str)
    if "TF" not in table.columns:
        raise InputError(f"{file} lacks the column 'TF'; it has {list(table.columns)}. {_LAYOUT}")
    listed = pd.Index(table["TF"].astype(str))
    unknown = listed[~listed.isin(genes)]
    if len(unknown):
        warning(f"{TF_FILE}: ignored {len(unknown)} TF(s) absent from {EXPRESSION_FILE}: {_preview(unknown)}")
    is_tf = genes.isin(listed)
    extra = genes[sources & ~is_tf]
    if len(extra):
        warning(f"{len(extra)} network source(s) are not in {TF_FILE}; marking them as TFs too: {_preview(extra)}")
    return np.asarray(is_tf | sources)


def _check_targets(file: Path, genes: pd.Index) -> None:
    """Warn when ``Target.csv`` exists and names genes that the expression file lacks."""
    if not file.is_file():
        return
    table = _read_csv(file, dtype=str)
    if "Gene" not in table.columns:
        warning(f"{TARGET_FILE} has no 'Gene' column (columns: {list(table.columns)}); not checked")
        return
    unknown = pd.Index(table["Gene"].astype(str))
    unknown = unknown[~unknown.isin(genes)]
    if len(unknown):
        warning(f"{TARGET_FILE}: {len(unknown)} gene(s) absent from {EXPRESSION_FILE}: {_preview(unknown)}")


def _parse_cell_names(cells: pd.Index) -> tuple[CellNameRule | None, pd.Categorical | None]:
    """The first of ``CELL_NAME_RULES`` that matches every cell name, with its categorical; else (None, None)."""
    for rule in CELL_NAME_RULES:
        condition = rule.parse(cells)
        if condition is not None:
            info(
                f"cell names follow the rule {rule.name!r}: obs[{rule.column!r}] and obs[{CONDITION_KEY!r}] hold "
                f"{len(condition.categories)} conditions {_preview(condition.categories, 10)}"
            )
            return rule, condition
    patterns = ", ".join(f"{r.name} ({r.pattern.pattern})" for r in CELL_NAME_RULES)
    info(f"cell names such as {_preview(cells)} follow none of the known rules [{patterns}]: no condition column added")
    return None, None
