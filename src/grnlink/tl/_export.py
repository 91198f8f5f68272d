"""``gl.tl.to_networkx`` and ``gl.tl.write_network``: a network table as a graph, or as a file other tools read."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from .._validation import InputError, _preview

if TYPE_CHECKING:
    import networkx as nx

NetworkFormat = Literal["graphml", "sif", "csv", "tsv"]
#: file endings write_network understands, and the format each one means
FORMATS: dict[str, tuple[NetworkFormat, bool]] = {
    ".graphml": ("graphml", False),
    ".sif": ("sif", False),
    ".csv": ("csv", False),
    ".tsv": ("tsv", False),
    ".csv.gz": ("csv", True),
    ".tsv.gz": ("tsv", True),
}
#: the interaction word of a SIF line by the sign of the edge's weight
SIF_INTERACTIONS = {1: "activates", -1: "represses", 0: "regulates"}
_REQUIRED = ("source", "target", "weight")


def to_networkx(net: pd.DataFrame) -> nx.DiGraph:
    """A network table as a signed, weighted :class:`networkx.DiGraph` (one edge per row).

    Each row becomes an edge ``source -> target`` carrying every other column
    of the table as an attribute: ``weight`` keeps its sign (sign x
    confidence in :func:`grnlink.tl.grn_network`'s tables), and ``sign`` is
    added: +1 (activation) or -1 (repression) from the sign of ``weight``, 0
    when the weight is 0 or missing (a column of the table called ``sign`` is
    replaced). Numbers and booleans stay numbers and booleans; any other value
    becomes a string, and a missing one is left out of that edge's
    attributes. Every node has the attribute ``is_tf``: ``True`` when it is
    the source of an edge.

    A graph holds one edge per (source, target) pair, so the table must too:
    a table of :func:`grnlink.tl.grn_network` with ``groupby`` holds one
    network per group (``group`` column) and has to be cut to one group first.

    Parameters
    ----------
    net
        DataFrame with columns ``source``, ``target`` and a numeric ``weight``,
        as :func:`grnlink.tl.grn_network` returns it. Not modified.

    Returns
    -------
    The directed graph, nodes named by the genes (as strings), in the order they first appear in ``net``.

    Raises
    ------
    InputError
        When ``net`` lacks a required column, ``weight`` is not numeric, or a
        (source, target) pair appears twice (several groups, duplicated rows).

    Examples
    --------
    >>> import pandas as pd
    >>> import grnlink as gl
    >>> net = pd.DataFrame(
    ...     {"source": ["HNF4A", "HNF4A", "FOXA2"], "target": ["APOA1", "CYP3A4", "HNF4A"],
    ...      "weight": [0.9, -0.4, 0.7], "in_prior": [True, False, True]}
    ... )
    >>> g = gl.tl.to_networkx(net)
    >>> g.edges["HNF4A", "CYP3A4"]
    {'weight': -0.4, 'in_prior': False, 'sign': -1}
    >>> dict(g.nodes(data="is_tf"))
    {'HNF4A': True, 'FOXA2': True, 'APOA1': False, 'CYP3A4': False}
    """
    import networkx as nx

    check_network_table(net, "net")
    check_one_edge_per_pair(net, "net")
    sources, targets = net["source"].astype(str).tolist(), net["target"].astype(str).tolist()
    columns = [c for c in net.columns if c not in ("source", "target")]
    values = {str(c): _attribute_values(net[c]) for c in columns}
    signs = edge_signs(net["weight"])
    graph = nx.DiGraph()
    tfs = set(sources)
    for node in dict.fromkeys(sources + targets):  # first appearance order, once each
        graph.add_node(node, is_tf=node in tfs)
    for i, (source, target) in enumerate(zip(sources, targets)):
        attributes = {name: column[i] for name, column in values.items() if column[i] is not None}
        attributes["sign"] = int(signs[i])
        graph.add_edge(source, target, **attributes)
    return graph


def write_network(net: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write a network table to ``path`` in the format its ending names.

    ``.graphml``
        GraphML with every column as an edge attribute (see :func:`to_networkx`),
        read by :func:`networkx.read_graphml`, Cytoscape (File > Import > Network
        from File) and Gephi. The file for a network with attributes.
    ``.sif``
        Cytoscape's simple interaction format: one line ``source<TAB>interaction<TAB>target``
        per edge, the interaction ``activates`` (``weight`` > 0), ``represses``
        (< 0) or ``regulates`` (0 or missing). SIF holds nothing else, and no
        companion attribute file is written: for weights and the other columns
        in Cytoscape, write ``.graphml`` (or import a ``.csv`` as a network from table).
    ``.csv``, ``.tsv`` (optionally ``.gz``, compressed)
        The table itself, every column, without the index: ``pd.read_csv`` gives it back.

    The file is written beside ``path`` under a temporary name and renamed
    once complete, so an existing file is replaced only by a whole one.

    Parameters
    ----------
    net
        DataFrame with columns ``source``, ``target`` and a numeric ``weight``,
        as :func:`grnlink.tl.grn_network` returns it. Not modified. GraphML and
        SIF need one edge per (source, target) pair: cut a table with a
        ``group`` column to one group first (``net[net["group"] == "B cell"]``);
        CSV/TSV take it as it is.
    path
        File to write; its folder must exist.

    Returns
    -------
    ``None``. Before anything is written, :class:`~grnlink.InputError` is
    raised when the ending is none of the above, the folder does not exist,
    ``path`` is a folder, or ``net`` does not fit the format (missing columns;
    for GraphML/SIF a pair twice; for SIF a gene name with a tab or line break).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import pandas as pd
    >>> import grnlink as gl
    >>> net = pd.DataFrame({"source": ["HNF4A", "HNF4A"], "target": ["APOA1", "CYP3A4"], "weight": [0.9, -0.4]})
    >>> folder = Path(tempfile.mkdtemp())
    >>> gl.tl.write_network(net, folder / "hnf4a.sif")
    >>> print((folder / "hnf4a.sif").read_text(), end="")
    HNF4A	activates	APOA1
    HNF4A	represses	CYP3A4
    >>> gl.tl.write_network(net, folder / "hnf4a.csv.gz")
    >>> pd.read_csv(folder / "hnf4a.csv.gz").equals(net)
    True
    """
    path = check_network_path(path)
    fmt, compressed = network_format(path)
    check_network_table(net, "net")
    if fmt == "graphml":
        import networkx as nx

        graph = to_networkx(net)
        _write_whole(path, lambda partial: nx.write_graphml(graph, partial))
    elif fmt == "sif":
        check_one_edge_per_pair(net, "net")
        lines = _sif_lines(net)
        _write_whole(path, lambda partial: partial.write_text("".join(lines), encoding="utf-8"))
    else:
        sep = "," if fmt == "csv" else "\t"
        compression = "gzip" if compressed else None
        _write_whole(path, lambda partial: net.to_csv(partial, sep=sep, index=False, compression=compression))


def network_format(path: str | os.PathLike) -> tuple[NetworkFormat, bool]:
    """The format of a network file by its ending (case ignored) and whether it is gzipped; raises when unknown."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    ending = "".join(suffixes[-2:]) if suffixes[-1:] == [".gz"] else "".join(suffixes[-1:])
    if ending not in FORMATS:
        found = f"its ending {ending!r}" if ending else "no ending"
        raise InputError(
            f"cannot tell the network format of {str(path)!r} from {found}. Name the file with one of "
            f"{', '.join(FORMATS)}: .graphml keeps every column (networkx, Cytoscape, Gephi), .sif is Cytoscape's "
            "simple interaction format, .csv/.tsv(.gz) the table itself."
        )
    return FORMATS[ending]


def check_network_path(path: str | os.PathLike) -> Path:
    """``path`` as a Path, raising unless it names a file with a known ending in an existing folder."""
    if not isinstance(path, str | os.PathLike):
        raise InputError(f"path must be a file name (str or Path), got {type(path).__name__}.")
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{str(path)!r} is a folder; pass a file name in it, e.g. {str(path / 'network.graphml')!r}.")
    network_format(path)
    if not path.parent.is_dir():
        state = "is a file" if path.parent.exists() else "does not exist"
        raise InputError(
            f"the folder of {str(path)!r} {state}; create it first (Path(...).mkdir(parents=True)) "
            "or pass another path."
        )
    return path


def check_network_table(net: Any, what: str) -> None:
    """Raise :class:`~grnlink.InputError` unless ``net`` is a DataFrame with source, target and a numeric weight."""
    if not isinstance(net, pd.DataFrame):
        raise InputError(
            f"{what} must be a pandas DataFrame with columns 'source', 'target' and 'weight' "
            f"(as gl.tl.grn_network returns), got {type(net).__name__}."
        )
    missing = [c for c in _REQUIRED if c not in net.columns]
    if missing:
        raise InputError(
            f"{what} lacks the column(s) {missing}; it has {list(net.columns)}. A network table has one row per "
            "edge with 'source' (TF), 'target' (gene) and a signed numeric 'weight', as gl.tl.grn_network returns; "
            "rename the columns, e.g. net.rename(columns={'tf': 'source', 'gene': 'target', 'mor': 'weight'})."
        )
    if not (pd.api.types.is_numeric_dtype(net["weight"]) and not pd.api.types.is_bool_dtype(net["weight"])):
        raise InputError(
            f"{what}['weight'] must be numeric (sign x confidence), got dtype {net['weight'].dtype}. "
            "Convert it, e.g. net.assign(weight=pd.to_numeric(net['weight']))."
        )


def check_one_edge_per_pair(net: pd.DataFrame, what: str) -> None:
    """Raise unless each (source, target) pair is one row: a graph has one edge per pair."""
    if "group" in net.columns and net["group"].nunique(dropna=False) > 1:
        groups = pd.unique(net["group"]).tolist()
        raise InputError(
            f"{what} holds the networks of {len(groups)} groups ({_preview(groups)}), whose edges would collide "
            f"in one graph. Select one group first, e.g. {what}[{what}['group'] == {groups[0]!r}] "
            "(or write the whole table as .csv/.tsv)."
        )
    pairs = net["source"].astype(str) + "\t" + net["target"].astype(str)
    duplicated = pairs.duplicated()
    if duplicated.any():
        shown = [p.replace("\t", " -> ") for p in pd.unique(pairs[duplicated])]
        raise InputError(
            f"{what} has {int(duplicated.sum())} repeated (source, target) pairs ({_preview(shown)}), but a graph "
            f"holds one edge per pair. Keep one row per pair, e.g. {what}.drop_duplicates(['source', 'target'])."
        )


def edge_signs(weight: pd.Series | np.ndarray) -> np.ndarray:
    """+1, -1 or 0 per edge from the sign of its weight; 0 also for a missing weight."""
    values = np.asarray(weight, dtype=np.float64)
    return np.where(np.isfinite(values), np.sign(values), 0.0).astype(np.int64)


def _attribute_values(column: pd.Series) -> list[Any]:
    """A column as plain Python values for a graph attribute: bool, int, float or str; ``None`` where missing."""
    if pd.api.types.is_float_dtype(column) and not isinstance(column.dtype, pd.CategoricalDtype):
        return [float(v) for v in column.to_numpy(dtype=np.float64, na_value=np.nan)]  # NaN stays (GraphML: "nan")
    if pd.api.types.is_bool_dtype(column):
        kind = bool
    elif pd.api.types.is_integer_dtype(column):
        kind = int
    else:
        kind = str
    missing = column.isna().to_numpy()
    return [None if gone else kind(v) for v, gone in zip(column.tolist(), missing)]


def _sif_lines(net: pd.DataFrame) -> list[str]:
    sources, targets = net["source"].astype(str), net["target"].astype(str)
    names = pd.concat([sources, targets], ignore_index=True)
    bad = names[names.str.contains(r"[\t\r\n]", regex=True)]
    if len(bad):
        raise InputError(
            f"gene names with a tab or line break cannot go into a SIF file: {_preview(pd.unique(bad))}. "
            "Rename them, or write .graphml or .csv."
        )
    interactions = [SIF_INTERACTIONS[int(s)] for s in edge_signs(net["weight"])]
    return [f"{s}\t{i}\t{t}\n" for s, i, t in zip(sources, interactions, targets)]


def _write_whole(path: Path, write) -> None:
    """Call ``write`` on a temporary file beside ``path``, then put it in place; no partial file is left behind."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        write(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
