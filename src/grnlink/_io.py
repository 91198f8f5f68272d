"""Reading tables and expression: the one place that knows file separators and where a layer lives."""

from __future__ import annotations

import os
from pathlib import Path

from anndata import AnnData

from ._validation import InputError, _preview

#: Column separator of each table extension grnlink reads (optionally followed by ``.gz``).
SEPARATORS = {".csv": ",", ".tsv": "\t", ".txt": "\t"}


def table_suffix(path: str | os.PathLike) -> str:
    """The lower-case extension that names a table's format, ignoring a final ``.gz``.

    Examples
    --------
    >>> table_suffix("prior.TSV.gz")
    '.tsv'
    >>> table_suffix("embedding.npy")
    '.npy'
    """
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def table_separator(path: str | os.PathLike) -> str:
    """Column separator of a ``.csv`` (comma) or ``.tsv``/``.txt`` (tab) file, optionally gzipped.

    Raises :class:`~grnlink.InputError` for any other extension.

    Examples
    --------
    >>> table_separator("edges.csv")
    ','
    >>> table_separator("dorothea_hs.tsv.gz") == "\\t"
    True
    """
    sep = SEPARATORS.get(table_suffix(path))
    if sep is None:
        raise InputError(
            f"Cannot tell the column separator of {str(path)!r} from its extension. "
            "Name it .csv (comma) or .tsv/.txt (tab), optionally followed by .gz."
        )
    return sep


def expression(adata: AnnData, layer: str | None):
    """The cells x genes matrix of ``layer`` (``adata.X`` when ``None``) and its name for messages.

    Raises :class:`~grnlink.InputError` when the layer is missing or ``X`` is empty.

    Examples
    --------
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(n_genes=60, n_tfs=6, n_cells=40, n_celltypes=2)
    >>> matrix, what = expression(adata, "counts")
    >>> what, matrix.shape
    ("adata.layers['counts']", (40, 60))
    """
    if layer is None:
        if adata.X is None:
            raise InputError("adata.X is empty; pass layer='<name>' of a layer holding expression.")
        return adata.X, "adata.X"
    if layer not in adata.layers:
        raise InputError(
            f"layer={layer!r} is not in adata.layers (layers: {_preview(adata.layers.keys(), 10) or 'none'}). "
            "Pass one of those names, or layer=None to use adata.X."
        )
    return adata.layers[layer], f"adata.layers[{layer!r}]"
