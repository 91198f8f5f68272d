from __future__ import annotations

import gzip
import io

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import requests
import scanpy as sc
from hypothesis import given, settings
from hypothesis import strategies as st

from grnlink._validation import InputError
from grnlink.pp import AlignedPrior, align_prior, get_prior
from grnlink.pp._prior import coverage_message, default_cache_dir

# decoupler 2.x fetches every resource through decoupler._download._download, which calls
# _download_chunks (the requests layer). Only that function is replaced; decoupler parses for real.
DOWNLOAD = "decoupler._download._download_chunks"

OMNIPATH_DOROTHEA = pd.DataFrame(
    {
        "source_genesymbol": ["IRF1", "IRF1", "STAT1", "NFKB1", "NFKB1"],
        "target_genesymbol": ["CXCL10", "STAT1", "IRF1", "TNF", "IL6"],
        "is_stimulation": [1, 1, 1, 0, 1],
        "is_inhibition": [0, 0, 1, 1, 0],
        "consensus_direction": [1, 1, 1, 1, 1],
        "consensus_stimulation": [1, 1, 0, 0, 1],
        "consensus_inhibition": [0, 0, 1, 1, 0],
        "dorothea_level": ["A", "B", "A;B", "C", "D"],
    }
)
COLLECTRI = pd.DataFrame(
    {
        "source": ["MYC", "MYC", "TP53"],
        "target": ["CDK4", "TERT", "CDKN1A"],
        "weight": [1, 1, 1],
        "resources": ["CollecTRI;ExTRI_CollecTRI", "CollecTRI", "CollecTRI;TRRUST_CollecTRI"],
        "references": ["CollecTRI:1", "CollecTRI:2", "CollecTRI:3"],
        "sign_decision": ["default activation", "PMID", "PMID"],
    }
)
HCOP_MOUSE = pd.DataFrame(
    {
        "human_symbol": ["IRF1", "STAT1", "CXCL10", "NFKB1", "TNF"],
        "mouse_symbol": ["Irf1", "Stat1", "Cxcl10", "Nfkb1", "Tnf"],
        "support": ["Ensembl,HGNC,MGI,OMA"] * 5,
    }
)


def _fake_download(calls: list[str]):
    def download_chunks(url: str, verbose: bool = False) -> io.BytesIO:
        calls.append(url)
        if "omnipathdb.org/interactions" in url:
            # like OmniPath, serve only the requested levels
            levels = url.split("dorothea_levels=")[1].split("&")[0].split(",")
            served = OMNIPATH_DOROTHEA[OMNIPATH_DOROTHEA["dorothea_level"].str[0].isin(levels)]
            return io.BytesIO(served.to_csv(sep="\t", index=False).encode())
        if "CollecTRI" in url:
            return io.BytesIO(COLLECTRI.to_csv(index=False).encode())
        if "hcop" in url:
            return io.BytesIO(gzip.compress(HCOP_MOUSE.to_csv(sep="\t", index=False).encode()))
        raise AssertionError(f"unexpected download {url}")

    return download_chunks


@pytest.fixture(autouse=True)
def cachedir(tmp_path, monkeypatch):
    """grnlink keeps fetched priors in $XDG_CACHE_HOME/grnlink by default: a fresh, empty one per test."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def downloads(monkeypatch) -> list[str]:
    calls: list[str] = []
    monkeypatch.setattr(DOWNLOAD, _fake_download(calls))
    return calls


def _prior() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": ["Irf1", "Irf1", "Stat1", "Stat1", "Foxp3", "Nfkb1"],
            "target": ["Cxcl10", "Stat1", "Irf1", "Stat1", "Il2", "Ensg_unknown"],
            "weight": [1.0, -1.0, 0.5, 1.0, 1.0, 1.0],
            "confidence": ["A", "B", "A", "C", "A", "D"],
        }
    )


VAR_NAMES = ["IRF1", "STAT1", "CXCL10", "NFKB1", "TNF", "GAPDH"]


def test_align_prior_matches_symbols_ignoring_case():
    aligned = align_prior(pd.DataFrame({"source": ["Irf1"], "target": ["Cxcl10"]}), VAR_NAMES)
    assert isinstance(aligned, AlignedPrior)
    assert aligned.source_idx.tolist() == [0]
    assert aligned.target_idx.tolist() == [2]
    assert aligned.source_idx.dtype == np.int64 and aligned.weight.dtype == np.float64
    assert aligned.weight.tolist() == [1.0]


def test_align_prior_coverage_counts_and_drops_self_loops():
    aligned = align_prior(_prior(), VAR_NAMES)
    # kept: Irf1->Cxcl10, Irf1->Stat1, Stat1->Irf1; self-loop Stat1->Stat1 and unmapped ends dropped
    assert list(zip(aligned.source_idx, aligned.target_idx)) == [(0, 2), (0, 1), (1, 0)]
    assert aligned.weight.tolist() == [1.0, -1.0, 0.5]
    assert aligned.coverage == {
        "n_edges": 6,
        "n_edges_mapped": 3,
        "n_tfs": 4,
        "n_tfs_mapped": 3,
        "n_targets": 5,
        "n_targets_mapped": 3,
        "n_self_loops": 1,
    }
    assert all(type(v) is int for v in aligned.coverage.values())


def test_align_prior_keeps_first_of_edges_mapping_to_one_pair():
    prior = pd.DataFrame({"source": ["Irf1", "IRF1"], "target": ["STAT1", "Stat1"], "weight": [2.0, 3.0]})
    aligned = align_prior(prior, VAR_NAMES)
    assert aligned.weight.tolist() == [2.0]


def test_align_prior_logs_one_coverage_line(log_lines):
    align_prior(_prior(), VAR_NAMES)
    assert "prior: 3 of 6 edges map to var_names (TFs 3/4, targets 3/5); 1 self-loops dropped" in log_lines


def test_coverage_message_format():
    cov = dict(n_edges=3100, n_edges_mapped=3067, n_tfs=21, n_tfs_mapped=20, n_targets=702, n_targets_mapped=700)
    assert coverage_message(cov) == "prior: 3067 of 3100 edges map to var_names (TFs 20/21, targets 700/702)"


def test_align_prior_without_overlap_explains_organism_and_ensembl():
    prior = pd.DataFrame({"source": ["IRF1"], "target": ["CXCL10"]})
    with pytest.raises(InputError, match="shares no gene.*organism.*Ensembl"):
        align_prior(prior, ["ENSG00000125347", "ENSG00000169245"])


def test_align_prior_missing_column_raises():
    with pytest.raises(InputError, match="lacks the column"):
        align_prior(pd.DataFrame({"tf": ["IRF1"], "target": ["CXCL10"]}), VAR_NAMES)


def test_align_prior_duplicated_var_names_raises():
    with pytest.raises(InputError, match="duplicated"):
        align_prior(_prior(), ["IRF1", "IRF1", "CXCL10"])


def test_get_prior_dataframe_fills_defaults_and_keeps_symbols():
    prior = get_prior(pd.DataFrame({"source": ["Irf1", "NA"], "target": ["Cxcl10", "Irf1"]}))
    assert list(prior.columns) == ["source", "target", "weight", "confidence"]
    assert prior["source"].tolist() == ["Irf1", "NA"]
    assert prior["weight"].dtype == np.float64 and prior["weight"].tolist() == [1.0, 1.0]
    assert prior["confidence"].tolist() == ["", ""]


def test_get_prior_keeps_one_row_per_pair_voting_opposite_signs_and_leaves_input_unchanged():
    table = _prior()
    table.loc[len(table)] = ["Irf1", "Cxcl10", 5.0, "E"]  # same sign: the first row stays as it is
    table.loc[len(table)] = ["Irf1", "Cxcl10", -5.0, "E"]  # two +, one -: the majority, +1
    before = table.copy()
    prior = get_prior(table)
    pd.testing.assert_frame_equal(table, before)
    assert len(prior) == len(before) - 2
    assert prior.loc[(prior.source == "Irf1") & (prior.target == "Cxcl10"), "weight"].tolist() == [1.0]
    tied = get_prior(table.iloc[[0, -1]])  # one +1, one -1: the sign is unknown
    assert tied["weight"].tolist() == [0.0]


def test_get_prior_keeps_only_the_four_columns():
    table = _prior().assign(extra=1)
    assert list(get_prior(table).columns) == ["source", "target", "weight", "confidence"]


@pytest.mark.parametrize("name", ["prior.csv", "prior.tsv", "prior.txt", "prior.csv.gz", "prior.tsv.gz"])
def test_get_prior_reads_csv_and_tsv_files(tmp_path, name):
    table = _prior()
    table.loc[0, "source"] = "NA"  # a symbol, not a missing value
    path = tmp_path / name
    table.to_csv(path, sep="," if ".csv" in name else "\t", index=False)
    prior = get_prior(path)
    pd.testing.assert_frame_equal(prior, get_prior(table))
    assert prior.loc[0, "source"] == "NA"
    assert get_prior(str(path)).equals(prior)


def test_get_prior_file_without_optional_columns(tmp_path):
    path = tmp_path / "edges.tsv"
    path.write_text("source\ttarget\nIRF1\tCXCL10\n")
    prior = get_prior(path)
    assert prior["weight"].tolist() == [1.0] and prior["confidence"].tolist() == [""]


def test_get_prior_unknown_name_lists_valid_names():
    with pytest.raises(InputError, match=r"'dorothea', 'collectri'"):
        get_prior("trrust")


def test_get_prior_missing_file_raises(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        get_prior(tmp_path / "nope.tsv")


def test_get_prior_missing_column_raises():
    with pytest.raises(InputError, match=r"lacks the column\(s\) \['target'\]"):
        get_prior(pd.DataFrame({"source": ["IRF1"], "gene": ["CXCL10"]}))


def test_get_prior_non_numeric_weight_raises():
    with pytest.raises(InputError, match="non-numeric"):
        get_prior(pd.DataFrame({"source": ["IRF1"], "target": ["CXCL10"], "weight": ["activates"]}))


def test_get_prior_missing_weight_raises(tmp_path):
    path = tmp_path / "edges.csv"
    path.write_text("source,target,weight\nIRF1,CXCL10,1\nIRF1,STAT1,\n")
    with pytest.raises(InputError, match="missing or infinite.*fillna"):
        get_prior(path)


def test_get_prior_dorothea_runs_decoupler_with_only_the_download_replaced(downloads):
    prior = get_prior("dorothea", levels=("A", "B", "C"))
    assert len(downloads) == 1 and "dorothea_levels=A,B,C" in downloads[0]
    assert list(prior.columns) == ["source", "target", "weight", "confidence"]
    edges = {(s, t): (w, c) for s, t, w, c in prior.itertuples(index=False)}
    # decoupler's weights: mode of regulation / level (A=1, B=2, C=3); level D not requested
    assert edges == {
        ("IRF1", "CXCL10"): (1.0, "A"),
        ("STAT1", "IRF1"): (-1.0, "A"),
        ("IRF1", "STAT1"): (0.5, "B"),
        ("NFKB1", "TNF"): (pytest.approx(-1 / 3), "C"),
    }


def test_get_prior_dorothea_mouse_goes_through_decoupler_translation(downloads):
    prior = get_prior("dorothea", organism="mouse", levels=["A", "B", "C"])
    assert any("human_mouse_hcop" in url for url in downloads)
    assert set(prior["source"]) == {"Irf1", "Stat1", "Nfkb1"}
    aligned = align_prior(prior, VAR_NAMES)  # mouse symbols land on upper-case var_names
    assert aligned.coverage["n_edges_mapped"] == 4


def test_get_prior_collectri_runs_decoupler(downloads):
    prior = get_prior("collectri")
    assert len(downloads) == 1 and "CollecTRI" in downloads[0]
    assert prior[["source", "target"]].to_numpy().tolist() == [["MYC", "CDK4"], ["MYC", "TERT"], ["TP53", "CDKN1A"]]
    assert prior["weight"].tolist() == [1.0, 1.0, 1.0]
    assert prior["confidence"].tolist() == ["", "", ""]


def test_get_prior_failed_download_says_to_pass_a_local_table(monkeypatch):
    def offline(url, verbose=False):
        raise requests.exceptions.ConnectionError("no network")

    monkeypatch.setattr(DOWNLOAD, offline)
    with pytest.raises(RuntimeError, match="(?is)download.*failed.*DataFrame or a local file"):
        get_prior("dorothea")


def test_get_prior_rejects_levels_decoupler_does_not_serve(downloads):
    with pytest.raises(InputError, match="subset of"):
        get_prior("dorothea", levels=("A", "E"))
    assert downloads == []


def test_get_prior_rejects_unknown_organism(downloads):
    with pytest.raises(InputError, match="organism"):
        get_prior("collectri", organism="martian")


def _adata(var_names) -> ad.AnnData:
    return ad.AnnData(np.zeros((2, len(var_names)), dtype=np.float32), var=pd.DataFrame(index=var_names))


def test_get_prior_with_adata_spells_symbols_as_var_names_and_logs_coverage(log_lines):
    table = _prior()
    before = table.copy()
    prior = get_prior(table, adata=_adata(VAR_NAMES))
    pd.testing.assert_frame_equal(table, before)
    # Irf1 -> IRF1 (case), unmatched Foxp3 / Il2 / Ensg_unknown keep their spelling
    assert prior["source"].tolist() == ["IRF1", "IRF1", "STAT1", "STAT1", "Foxp3", "NFKB1"]
    assert prior["target"].tolist() == ["CXCL10", "STAT1", "IRF1", "STAT1", "Il2", "Ensg_unknown"]
    assert any(line.startswith("prior: 3 of 6 edges map to var_names") for line in log_lines)


def test_get_prior_with_adata_keeps_the_first_of_edges_that_become_one_pair():
    table = pd.DataFrame({"source": ["Irf1", "IRF1", " irf1 "], "target": ["Stat1", "STAT1", "stat1"]})
    prior = get_prior(table.assign(weight=[2.0, 3.0, 4.0]), adata=_adata(VAR_NAMES))
    assert prior[["source", "target", "weight"]].to_numpy().tolist() == [["IRF1", "STAT1", 2.0]]


def test_get_prior_strips_spaces_around_symbols():
    prior = get_prior(pd.DataFrame({"source": [" IRF1"], "target": ["CXCL10 "]}))
    assert prior[["source", "target"]].to_numpy().tolist() == [["IRF1", "CXCL10"]]


def test_get_prior_with_adata_matches_exactly_when_case_is_ambiguous():
    prior = get_prior(
        pd.DataFrame({"source": ["irf1", "Irf1"], "target": ["CXCL10", "CXCL10"]}),
        adata=_adata(["IRF1", "Irf1", "CXCL10"]),
    )
    assert prior["source"].tolist() == ["irf1", "Irf1"]  # two var_names fold to IRF1: only exact matches


@pytest.mark.filterwarnings("ignore:Variable names are not unique")
def test_get_prior_rejects_adata_that_is_not_anndata_or_has_duplicated_var_names():
    with pytest.raises(InputError, match="adata must be an AnnData"):
        get_prior(_prior(), adata=VAR_NAMES)
    with pytest.raises(InputError, match="duplicated"):
        get_prior(_prior(), adata=_adata(["IRF1", "IRF1"]))


def test_get_prior_with_adata_without_overlap_warns(log_lines):
    adata = ad.AnnData(np.zeros((2, 2), dtype=np.float32), var=pd.DataFrame(index=["ENSG1", "ENSG2"]))
    prior = get_prior(_prior(), adata=adata)
    assert len(prior) == 6
    assert any(line.startswith("WARNING: The prior shares no gene") for line in log_lines)


def _recording(monkeypatch, name: str, table: pd.DataFrame) -> list[dict]:
    """Replace dc.op.<name> by a stand-in with decoupler's signature that records its keyword arguments."""
    import inspect

    import decoupler as dc

    calls: list[dict] = []
    real = getattr(dc.op, name)

    def fake(*args, **kwargs):
        calls.append(inspect.signature(real).bind(*args, **kwargs).arguments)
        return table.copy()

    fake.__signature__ = inspect.signature(real)
    monkeypatch.setattr(dc.op, name, fake)
    return calls


def test_get_prior_passes_license_verbose_and_other_decoupler_options(monkeypatch):
    calls = _recording(monkeypatch, "collectri", COLLECTRI[["source", "target", "weight"]])
    get_prior("collectri", license="commercial", verbose=True, remove_complexes=True, cache=False)
    assert calls == [{"organism": "human", "license": "commercial", "verbose": True, "remove_complexes": True}]
    calls = _recording(monkeypatch, "dorothea", COLLECTRI[["source", "target", "weight"]])
    get_prior("dorothea", levels=("A",), dict_weights={"A": 2}, cache=False)
    assert calls[0]["dict_weights"] == {"A": 2} and calls[0]["levels"] == ["A"]
    assert calls[0]["verbose"] is False  # follows scanpy's verbosity (warning in the tests)
    assert "license" not in calls[0]  # decoupler's own default


def test_get_prior_refuses_options_the_resource_does_not_take_before_downloading(downloads):
    with pytest.raises(InputError, match="remove_complexes"):
        get_prior("dorothea", remove_complexes=True)
    with pytest.raises(InputError, match="no option"):
        get_prior("collectri", colour="blue")
    assert downloads == []


def test_get_prior_refuses_decoupler_options_for_a_table():
    with pytest.raises(InputError, match="only apply to a name"):
        get_prior(_prior(), license="commercial")


def test_second_call_reads_the_cache_and_works_offline(downloads, monkeypatch, cachedir):
    first = get_prior("dorothea", levels=("A", "B"))
    assert len(downloads) == 1 and len(list(cachedir.glob("grnlink/dorothea_human_*.tsv.gz"))) == 1

    def offline(url, verbose=False):
        raise requests.exceptions.ConnectionError("no network")

    monkeypatch.setattr(DOWNLOAD, offline)
    pd.testing.assert_frame_equal(get_prior("dorothea", levels=("A", "B")), first)
    with pytest.raises(RuntimeError, match="failed"):
        get_prior("dorothea", levels=("A", "B"), cache=False)
    with pytest.raises(RuntimeError, match="failed"):  # other options are another file
        get_prior("dorothea", levels=("A",))


def test_default_cache_is_one_absolute_folder_per_user_not_the_working_directory(
    downloads, cachedir, tmp_path, monkeypatch
):
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    old = sc.settings.cachedir
    sc.settings.cachedir = "./cache/"  # scanpy's relative default: grnlink must no longer write there
    try:
        get_prior("collectri")
    finally:
        sc.settings.cachedir = old
    assert len(list((cachedir / "grnlink").glob("collectri_human_*.tsv.gz"))) == 1
    assert list(workdir.iterdir()) == []
    assert default_cache_dir() == cachedir / "grnlink"


def test_default_cache_dir_without_xdg_or_with_a_relative_one_is_home_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "grnlink"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # invalid by the XDG rules: ignored
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "grnlink"
    assert default_cache_dir().is_absolute()


def test_explicit_cache_dir_is_used_and_read_offline(downloads, monkeypatch, tmp_path, cachedir):
    folder = tmp_path / "project_priors"
    first = get_prior("collectri", cache_dir=str(folder))
    assert len(list(folder.glob("collectri_human_*.tsv.gz"))) == 1
    assert not (cachedir / "grnlink").exists()

    def offline(url, verbose=False):
        raise requests.exceptions.ConnectionError("no network")

    monkeypatch.setattr(DOWNLOAD, offline)
    pd.testing.assert_frame_equal(get_prior("collectri", cache_dir=folder), first)
    with pytest.raises(RuntimeError, match="failed"):  # the default folder holds no copy
        get_prior("collectri")


def test_cache_dir_must_be_a_path():
    with pytest.raises(InputError, match="cache_dir=3 is not valid"):
        get_prior("collectri", cache_dir=3)


def test_a_prior_saved_as_tsv_reads_back_as_the_same_prior(downloads, tmp_path):
    online = get_prior("dorothea", levels=("A", "B", "C"))
    online.to_csv(tmp_path / "dorothea_hs.tsv.gz", sep="\t", index=False)
    pd.testing.assert_frame_equal(get_prior(tmp_path / "dorothea_hs.tsv.gz"), online)


# --- property tests ------------------------------------------------------------------------------------------------

_GENES = [f"Gene{letter}{i}" for letter in "ab" for i in range(6)]  # mixed case, unique ignoring case


@st.composite
def _prior_rows(draw):
    names = [*_GENES, "NOTAGENE"]
    rows = draw(st.lists(st.tuples(st.sampled_from(names), st.sampled_from(names)), min_size=1, max_size=40))
    cases = draw(st.lists(st.sampled_from([str, str.upper, str.lower]), min_size=2 * len(rows), max_size=2 * len(rows)))
    styled = [(cases[2 * i](s), cases[2 * i + 1](t)) for i, (s, t) in enumerate(rows)]
    return rows, pd.DataFrame(styled, columns=["source", "target"]).assign(weight=np.arange(len(rows), dtype=float))


@settings(max_examples=200, deadline=None)
@given(_prior_rows())
def test_aligned_prior_is_the_distinct_mapped_non_self_pairs_in_first_seen_order(prior_rows):
    rows, prior = prior_rows
    position = {g: i for i, g in enumerate(_GENES)}
    expected, weights = [], []
    for i, (s, t) in enumerate(rows):
        pair = (position.get(s), position.get(t))
        if None not in pair and pair[0] != pair[1] and pair not in expected:
            expected.append(pair)
            weights.append(float(i))
    aligned = align_prior_quietly(prior)
    if aligned is None:
        assert not expected
        return
    assert list(zip(aligned.source_idx.tolist(), aligned.target_idx.tolist(), strict=True)) == expected
    assert aligned.weight.tolist() == weights
    assert aligned.coverage["n_edges_mapped"] == len(expected)


def align_prior_quietly(prior):
    """align_prior, or None when no edge maps (the InputError that says so)."""
    try:
        return align_prior(prior, _GENES)
    except InputError as err:
        assert "shares no gene" in str(err)
        return None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"license": "free"}, "license='free' is not valid"),
        ({"verbose": "loud"}, "verbose='loud' is not valid"),
        ({"cache": None}, "cache=None is not valid"),
        ({"remove_complexes": "yes"}, "remove_complexes='yes' is not valid"),
    ],
)
def test_get_prior_checks_decoupler_options_before_downloading(downloads, kwargs, match):
    with pytest.raises(InputError, match=match):
        get_prior("collectri", **kwargs)
    assert downloads == []
