"""Table files pandas cannot parse raise InputError naming the file and the line; none is used in part."""

import gzip

import pytest

import grnlink as gl
from grnlink._io import read_table

MALFORMED = {
    "ragged rows": (b"source,target\nTF001,G0001\nTF001,G0002,extra\nTF002,G0003\n", "line 3"),
    "binary content": (b"source,target\n\x89PNG\r\n\x1a\n\xff\xfe\x00\x01\n", "line 2 is not UTF-8"),
    "no content": (b"", "is empty"),
    "an unterminated quote": (b'source,target\nTF001,G0001\n"TF001,G0002\nTF002,G0003\n', "line 3"),
    "a quote swallowing rows": (
        b'source,target\nTF001,G0001\n"TF001,G0002\nTF002,G0003"\nTF002,G0004\nTF003,G0005\n',
        "5 data lines but parses to 4 rows; line 3 opens a quoted field",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
@pytest.mark.parametrize("gzipped", [False, True])
def test_a_malformed_table_names_the_file_and_line(tmp_path, case, gzipped):
    content, match = MALFORMED[case]
    path = tmp_path / ("prior.csv.gz" if gzipped else "prior.csv")
    path.write_bytes(gzip.compress(content) if gzipped else content)
    with pytest.raises(gl.InputError, match=match) as err:
        read_table(path, what="prior file")
    assert str(path) in str(err.value)


def test_a_well_formed_table_reads_every_row(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text('source\ttarget\tnote\n\nTF001\tG0001\t"quoted, fine"\nTF002\tG0002\tplain\n')
    table = read_table(path, what="pairs file")
    assert table.shape == (2, 3) and table["note"].tolist() == ["quoted, fine", "plain"]


def test_a_file_that_is_not_gzip_despite_its_name_is_named(tmp_path):
    path = tmp_path / "prior.tsv.gz"
    path.write_text("source\ttarget\n")
    with pytest.raises(gl.InputError, match="prior.tsv.gz' cannot be read"):
        read_table(path, what="prior file")


@pytest.mark.parametrize("case", ["ragged rows", "a quote swallowing rows", "binary content"])
def test_get_prior_and_grn_fit_refuse_a_malformed_prior_file(adata, tmp_path, case):
    path = tmp_path / "prior.csv"
    path.write_bytes(MALFORMED[case][0])
    with pytest.raises(gl.InputError, match=MALFORMED[case][1]):
        gl.pp.get_prior(path)
    with pytest.raises(gl.InputError, match="prior file"):
        gl.tl.grn_fit(adata, path, model="pcc")
    assert "grn" not in adata.uns


EMBEDDING_FILES = {
    "ragged rows": ("gene,d0,d1\n{0},1,2\n{1},1,2,3\n{2},1,2\n", "line 3 cannot be parsed"),
    "a quote swallowing rows": (
        'gene,d0,d1\n{0},1,2\n"{1},1,2\n{2},1,2"\n{3},1,2\n{4},1,2\n',
        "5 data lines but parses to 4 rows",
    ),
    "no content": ("", "is empty"),
}


@pytest.mark.parametrize("case", sorted(EMBEDDING_FILES))
def test_gene_embeddings_refuse_a_malformed_embedding_file(adata, tmp_path, case):
    text, match = EMBEDDING_FILES[case]
    path = tmp_path / "emb.csv"
    path.write_text(text.format(*adata.var_names[:5]))
    with pytest.raises(gl.InputError, match=f"embedding file .*{match}"):
        gl.pp.gene_embeddings(adata, path)
    assert "X_scfm" not in adata.varm


def test_a_damaged_npy_embedding_is_named(adata, tmp_path):
    path = tmp_path / "emb.npy"
    path.write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(gl.InputError, match="not a readable .npy"):
        gl.pp.gene_embeddings(adata, path, genes=list(adata.var_names))
