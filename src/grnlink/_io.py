"""Reading tables and expression: the one place that knows file separators, reads delimited tables and finds a layer.

Every table file grnlink reads goes through :func:`read_table`, so a file that
pandas cannot parse (ragged rows, binary content, no content, a quote that is
never closed) raises :class:`~grnlink.InputError` naming the file and the
line, and a file that parses to fewer rows than it has lines (a stray quote
swallowing the rows after it) is refused instead of being used in part.
:func:`expression` is the one accessor of a cells x genes layer.
"""

from __future__ import annotations

import gzip
import os
import re
import zlib
from pathlib import Path

import pandas as pd
from anndata import AnnData

from ._validation import InputError, _preview

#: Column separator of each table extension grnlink reads (optionally followed by ``.gz``).
SEPARATORS = {".csv": ",", ".tsv": "\t", ".txt": "\t"}
_SEPARATOR_NAMES = {",": "comma", "\t": "tab"}


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


def _open(path: Path):
    return gzip.open(path, "rb") if path.suffix.lower() == ".gz" else open(path, "rb")


def _first_undecodable_line(path: Path) -> int | None:
    with _open(path) as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return None


def _data_lines(path: Path) -> tuple[int, int | None]:
    """Number of non-blank lines and the number of the first line holding a double quote."""
    count, first_quote = 0, None
    with _open(path) as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                count += 1
            if first_quote is None and b'"' in line:
                first_quote = number
    return count, first_quote


def _parser_line(message: str) -> int | None:
    """1-based file line named by a pandas parser error (its ``row`` counts from 0)."""
    found = re.search(r"line (\d+)", message)
    if found:
        return int(found.group(1))
    found = re.search(r"row (\d+)", message)
    return int(found.group(1)) + 1 if found else None


def read_table(path: str | os.PathLike, *, what: str, sep: str | None = None, **read_csv: object) -> pd.DataFrame:
    """Read a delimited text file; every way it can fail raises :class:`~grnlink.InputError` naming file and line.

    Parameters
    ----------
    path
        A ``.csv``/``.tsv``/``.txt`` file, optionally gzipped.
    what
        What the file is, for messages (e.g. ``"prior file"``).
    sep
        Column separator; default from the extension (:func:`table_separator`).
    **read_csv
        Passed to :func:`pandas.read_csv`.

    Returns
    -------
    The parsed table. When ``nrows`` is not given, it has exactly one row per
    non-blank line after the header.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from grnlink._io import read_table
    >>> path = tempfile.mkdtemp() + "/pairs.csv"
    >>> pd.DataFrame({"source": ["A"], "target": ["B"]}).to_csv(path, index=False)
    >>> read_table(path, what="pairs file").shape
    (1, 2)
    """
    path = Path(path)
    name = f"{what} {str(path)!r}"
    if not path.is_file():
        raise InputError(f"{name} does not exist (or is a folder). Pass an existing .csv/.tsv(.gz) file.")
    sep = sep or table_separator(path)
    try:
        table = pd.read_csv(path, sep=sep, **read_csv)
    except pd.errors.EmptyDataError as err:
        raise InputError(f"{name} is empty: it has no header line and no rows.") from err
    except pd.errors.ParserError as err:
        line = _parser_line(str(err))
        at = f", line {line}" if line else ""
        detail = str(err).strip().splitlines()[-1]
        raise InputError(
            f"{name}{at} cannot be parsed ({detail}). Every row needs as many "
            f"{_SEPARATOR_NAMES.get(sep, repr(sep))}-separated fields as the header, and quotes must be closed."
        ) from err
    except UnicodeDecodeError as err:
        line = _first_undecodable_line(path)
        raise InputError(
            f"{name}{f', line {line}' if line else ''} is not UTF-8 text: it looks like a binary file "
            "(an .h5ad, a spreadsheet, an image). Save the table as plain CSV/TSV."
        ) from err
    except (OSError, EOFError, zlib.error) as err:  # gzip.BadGzipFile is an OSError
        raise InputError(f"{name} cannot be read ({type(err).__name__}: {err}).") from err
    if "nrows" not in read_csv:
        _check_rows(path, table, name, header=read_csv.get("header", "infer") is not None)
    return table


def _check_rows(path: Path, table: pd.DataFrame, name: str, *, header: bool) -> None:
    """Refuse a table with fewer rows than its file has non-blank lines (a quote swallowed some)."""
    n_lines, first_quote = _data_lines(path)
    expected = n_lines - int(header)
    if len(table) < expected:
        where = f"; line {first_quote} opens a quoted field that runs over the lines after it" if first_quote else ""
        raise InputError(
            f"{name} has {expected} data lines but parses to {len(table)} rows{where}. "
            "Close or remove the stray quote character so that every line is one row."
        )


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
