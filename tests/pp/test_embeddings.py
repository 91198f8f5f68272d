from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from grnlink._validation import InputError
from grnlink.pp import gene_embeddings

VAR_NAMES = ["IRF1", "STAT1", "TNF", "IL6", "CXCL10", "NFKB1", "MYC", "GAPDH"]
# mouse-style symbols for six of the eight genes, plus one gene adata lacks
TABLE_GENES = ["Irf1", "Stat1", "Tnf", "Il6", "Cxcl10", "Nfkb1", "Foxp3"]
FOUND = np.array([True, True, True, True, True, True, False, False])


def _adata() -> ad.AnnData:
    return ad.AnnData(np.ones((5, len(VAR_NAMES)), dtype=np.float32), var=pd.DataFrame(index=VAR_NAMES))


def _values() -> np.ndarray:
    return np.arange(len(TABLE_GENES) * 4, dtype=np.float64).reshape(len(TABLE_GENES), 4) / 7


def _table() -> pd.DataFrame:
    return pd.DataFrame(_values(), index=TABLE_GENES, columns=[f"d{i}" for i in range(4)])


def _expected() -> np.ndarray:
    out = np.zeros((len(VAR_NAMES), 4), dtype=np.float32)
    out[:6] = _values()[:6]
    return out


def _assert_aligned(adata: ad.AnnData, key: str = "X_scfm") -> None:
    emb = adata.varm[key]
    assert emb.dtype == np.float32 and emb.shape == (len(VAR_NAMES), 4)
    np.testing.assert_array_equal(emb, _expected())
    mask = adata.var[f"{key}_mask"]
    assert mask.dtype == bool
    np.testing.assert_array_equal(mask.to_numpy(), FOUND)


def test_gene_embeddings_dataframe_aligns_ignoring_case():
    adata = _adata()
    assert gene_embeddings(adata, _table()) is None
    _assert_aligned(adata)


def test_gene_embeddings_missing_genes_get_zeros_and_false_mask():
    adata = _adata()
    gene_embeddings(adata, _table(), key_added="emb")
    assert not adata.varm["emb"][~FOUND].any()
    assert adata.var["emb_mask"].tolist() == FOUND.tolist()


def test_gene_embeddings_logs_coverage(log_lines):
    gene_embeddings(_adata(), _table())
    assert any(line.startswith("embeddings: 6 of 8 genes (75.0%) found in the table") for line in log_lines)


@pytest.mark.parametrize("name", ["emb.csv", "emb.tsv", "emb.txt", "emb.csv.gz", "emb.tsv.gz"])
@pytest.mark.parametrize("header", [True, False], ids=["header", "no_header"])
def test_gene_embeddings_reads_csv_and_tsv(tmp_path, name, header):
    path = tmp_path / name
    _table().to_csv(path, sep="," if ".csv" in name else "\t", header=header, index_label="gene" if header else None)
    adata = _adata()
    gene_embeddings(adata, path)
    _assert_aligned(adata)


def test_gene_embeddings_npy_with_gene_list_or_gene_file(tmp_path):
    np.save(tmp_path / "emb.npy", _values())
    (tmp_path / "genes.txt").write_text("\n".join(TABLE_GENES) + "\n")
    from_list, from_file = _adata(), _adata()
    gene_embeddings(from_list, tmp_path / "emb.npy", genes=TABLE_GENES)
    gene_embeddings(from_file, str(tmp_path / "emb.npy"), genes=tmp_path / "genes.txt")
    _assert_aligned(from_list)
    _assert_aligned(from_file)


def test_gene_embeddings_numpy_array_with_genes():
    adata = _adata()
    gene_embeddings(adata, _values().astype(np.float32), genes=TABLE_GENES)
    _assert_aligned(adata)


def test_gene_embeddings_from_other_anndata_default_key_and_tuple():
    other = ad.AnnData(np.zeros((1, len(TABLE_GENES)), dtype=np.float32), var=pd.DataFrame(index=TABLE_GENES))
    other.varm["X_scfm"] = _values()
    other.varm["geneformer"] = _values()
    by_default, by_tuple = _adata(), _adata()
    gene_embeddings(by_default, other)
    gene_embeddings(by_tuple, (other, "geneformer"), key_added="gf")
    _assert_aligned(by_default)
    _assert_aligned(by_tuple, key="gf")


def test_gene_embeddings_other_anndata_without_key_lists_varm_keys(untouched):
    other = ad.AnnData(np.zeros((1, len(TABLE_GENES)), dtype=np.float32), var=pd.DataFrame(index=TABLE_GENES))
    other.varm["geneformer"] = _values()
    adata = _adata()
    with untouched(adata), pytest.raises(InputError, match=r"no varm\['X_scfm'\].*'geneformer'"):
        gene_embeddings(adata, other)


def test_gene_embeddings_duplicate_symbols_keep_first_and_warn(log_lines):
    table = pd.concat([_table(), _table().iloc[[0]] * 0 + 99, _table().iloc[[1]].rename(index={"Stat1": "STAT1"})])
    adata = _adata()
    gene_embeddings(adata, table)
    _assert_aligned(adata)
    assert any(line.startswith("WARNING:") and "2 duplicated gene symbols" in line for line in log_lines)


def test_gene_embeddings_copy_leaves_original(untouched):
    adata = _adata()
    with untouched(adata):
        out = gene_embeddings(adata, _table(), copy=True)
    _assert_aligned(out)


def test_gene_embeddings_non_numeric_column_raises(untouched):
    adata = _adata()
    table = _table().assign(species="mouse")
    with untouched(adata), pytest.raises(InputError, match="non-numeric columns.*'species'"):
        gene_embeddings(adata, table)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_gene_embeddings_non_finite_values_raise(untouched, bad):
    adata = _adata()
    table = _table()
    table.iloc[2, 1] = bad
    with untouched(adata), pytest.raises(InputError, match="NaN or infinite"):
        gene_embeddings(adata, table)


def test_gene_embeddings_genes_rows_mismatch_raises(untouched):
    adata = _adata()
    with untouched(adata), pytest.raises(InputError, match="7 rows but 6 gene symbols"):
        gene_embeddings(adata, _values(), genes=TABLE_GENES[:6])


def test_gene_embeddings_npy_without_genes_raises(tmp_path, untouched):
    np.save(tmp_path / "emb.npy", _values())
    adata = _adata()
    with untouched(adata), pytest.raises(InputError, match="genes="):
        gene_embeddings(adata, tmp_path / "emb.npy")


def test_gene_embeddings_without_overlap_raises(untouched):
    adata = _adata()
    table = _table().reset_index(drop=True)  # symbols lost: integer index
    with untouched(adata), pytest.raises(InputError, match="shares no gene.*set_index"):
        gene_embeddings(adata, table)


def test_gene_embeddings_unknown_table_kind_raises(untouched):
    adata = _adata()
    with untouched(adata), pytest.raises(InputError, match="table must be"):
        gene_embeddings(adata, [[1.0, 2.0]])
