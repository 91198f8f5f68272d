from __future__ import annotations

from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grnlink._validation import InputError
from grnlink.pp import align_prior, merge_priors, read_prior

SHARED = Path(__file__).parents[2].parent / "shared"
PRIORS = SHARED / "data" / "priors"
COLUMNS = ["source", "target", "weight", "confidence", "prior_source"]


def _shared_prior(name: str) -> Path:
    path = PRIORS / name
    if not path.is_file():
        pytest.skip(f"{path} not found: the ../shared folder beside the repository is absent")
    return path


def _adata(var_names) -> ad.AnnData:
    return ad.AnnData(np.zeros((2, len(var_names)), dtype=np.float32), var=pd.DataFrame(index=var_names))


def _edges(prior: pd.DataFrame) -> dict:
    return {(s, t): w for s, t, w in prior[["source", "target", "weight"]].itertuples(index=False)}


def _trrust() -> pd.DataFrame:
    """TRRUST's layout: TF, Target, Mode (words), PMIDs; a pair listed once per mode."""
    return pd.DataFrame(
        {
            "TF": ["IRF1", "IRF1", "STAT1", "STAT1", "NFKB1", "NFKB1"],
            "Target": ["CXCL10", "CXCL10", "IRF1", "SOCS3", "TNF", "TNF"],
            "Mode": ["Activation", "Repression", "Activation", "Unknown", "Unknown", "Repression"],
            "PMID": ["1;2", "3", "4", "5", "6", "7"],
        }
    )


# --- read_prior: signs ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Activation", 1.0),
        ("ACTIVATION", 1.0),
        (" activation ", 1.0),
        ("activator", 1.0),
        ("+", 1.0),
        ("1", 1.0),
        ("+1", 1.0),
        ("0.25", 1.0),
        ("Repression", -1.0),
        ("repressor", -1.0),
        ("Inhibition", -1.0),
        ("-", -1.0),
        ("-1", -1.0),
        ("-0.333", -1.0),
        ("Unknown", 0.0),
        ("unknown", 0.0),
        ("0", 0.0),
        ("", 0.0),
        ("NA", 0.0),
        (None, 0.0),
    ],
)
def test_read_prior_maps_sign_words_and_numbers(value, expected):
    table = pd.DataFrame({"source": ["IRF1", "STAT1"], "target": ["CXCL10", "IRF1"], "mode": [value, "Activation"]})
    prior = read_prior(table, sign="mode")
    assert prior["weight"].tolist() == [expected, 1.0]


def test_read_prior_numeric_sign_column_keeps_the_sign_only():
    table = pd.DataFrame({"source": ["A", "A", "A", "A"], "target": ["B", "C", "D", "E"], "w": [3, -1 / 3, 0, np.nan]})
    assert read_prior(table, sign="w")["weight"].tolist() == [1.0, -1.0, 0.0, 0.0]


def test_read_prior_trrust_layout_combines_a_pair_listed_with_both_modes_to_unknown():
    prior = read_prior(_trrust(), source="TF", target="Target", sign="Mode", name="trrust")
    assert list(prior.columns) == COLUMNS
    assert prior["weight"].dtype == np.float64
    assert _edges(prior) == {
        ("IRF1", "CXCL10"): 0.0,  # Activation and Repression rows: both signs reported
        ("STAT1", "IRF1"): 1.0,
        ("STAT1", "SOCS3"): 0.0,
        ("NFKB1", "TNF"): -1.0,  # Unknown never conflicts with a signed row
    }
    assert set(prior["prior_source"]) == {"trrust"}
    assert set(prior["confidence"]) == {""}


def test_read_prior_unknown_sign_words_raise_naming_them_and_the_accepted_ones():
    table = _trrust()
    table.loc[1, "Mode"] = "Dualistic"
    table.loc[2, "Mode"] = "sometimes"
    with pytest.raises(InputError) as err:
        read_prior(table, source="TF", target="Target", sign="Mode")
    message = str(err.value)
    assert "'Dualistic'" in message and "'sometimes'" in message and "2 rows" in message
    assert "'activation'" in message and "'repression'" in message and "'unknown'" in message


# --- read_prior: columns ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "missing"),
    [
        ({"source": "tf"}, "'tf'"),
        ({"source": "TF", "target": "gene"}, "'gene'"),
        ({"source": "TF", "target": "Target", "sign": "mode"}, "'mode'"),
        ({"source": "TF", "target": "Target", "confidence": "level"}, "'level'"),
    ],
)
def test_read_prior_missing_named_column_raises_listing_the_columns_present(kwargs, missing):
    with pytest.raises(InputError, match=rf"no column {missing}.*'TF', 'Target', 'Mode', 'PMID'"):
        read_prior(_trrust(), **kwargs)


def test_read_prior_chip_list_without_sign_column_gets_unknown_signs():
    chip = pd.DataFrame({"tf": ["Irf1", "Irf1"], "gene": ["Cxcl10", "Stat1"], "score": [12.5, -3.0]})
    prior = read_prior(chip, source="tf", target="gene")
    assert prior["weight"].tolist() == [0.0, 0.0]
    assert prior["prior_source"].tolist() == ["table", "table"]


def test_read_prior_uses_weight_and_confidence_columns_by_default():
    table = pd.DataFrame(
        {"source": ["IRF1", "STAT1"], "target": ["CXCL10", "IRF1"], "weight": [1, -1], "confidence": ["A", "E"]}
    )
    prior = read_prior(table, name="dorothea")
    assert prior.to_numpy().tolist() == [
        ["IRF1", "CXCL10", 1.0, "A", "dorothea"],
        ["STAT1", "IRF1", -1.0, "E", "dorothea"],
    ]


def test_read_prior_leaves_the_users_table_unchanged():
    table = _trrust()
    table.loc[0, "TF"] = " Irf1 "
    before = table.copy()
    read_prior(table, source="TF", target="Target", sign="Mode", adata=_adata(["IRF1", "CXCL10"]))
    pd.testing.assert_frame_equal(table, before)


def test_read_prior_files_keep_symbols_as_written_and_name_the_source(tmp_path):
    path = tmp_path / "trrust_rawdata.human.tsv.gz"
    table = _trrust()
    table.loc[0, "TF"] = "NA"  # a gene symbol, not a missing value
    table.loc[3, "Mode"] = ""  # an empty mode is an unknown sign
    table.to_csv(path, sep="\t", index=False)
    prior = read_prior(path, source="TF", target="Target", sign="Mode")
    assert prior["source"].tolist()[0] == "NA"
    assert _edges(prior)[("STAT1", "SOCS3")] == 0.0
    assert set(prior["prior_source"]) == {"trrust_rawdata.human"}
    csv = tmp_path / "levels.csv"
    pd.DataFrame({"source": ["A"], "target": ["B"], "confidence": ["1"], "weight": ["-1"]}).to_csv(csv, index=False)
    assert read_prior(str(csv)).to_numpy().tolist() == [["A", "B", -1.0, "1", "levels"]]


def test_read_prior_refuses_a_resource_name_a_bad_type_and_commas_in_the_name():
    with pytest.raises(InputError, match="get_prior"):
        read_prior("dorothea")
    with pytest.raises(InputError, match="DataFrame or a path"):
        read_prior([("IRF1", "CXCL10")])
    with pytest.raises(InputError, match="without ','"):
        read_prior(_trrust(), source="TF", target="Target", name="a,b")


@pytest.mark.parametrize("tfs", [["IRF1", " "], ["IRF1", None], [None, np.nan]])
def test_read_prior_empty_symbol_raises(tfs):
    with pytest.raises(InputError, match="empty source or target"):
        read_prior(pd.DataFrame({"TF": tfs, "Target": ["CXCL10", "IRF1"]}), source="TF", target="Target")


def test_read_prior_logs_signs_and_repeated_rows(log_lines):
    read_prior(_trrust(), source="TF", target="Target", sign="Mode", name="trrust")
    assert any(
        line.startswith("read_prior 'trrust': 4 edges (1 +1, 1 -1, 2 unknown), signs from column 'Mode'")
        and "2 repeated rows combined" in line
        for line in log_lines
    )


# --- symbols spelled as in var_names -------------------------------------------------------------------------------


def test_read_prior_spells_symbols_as_var_names_and_keeps_unmatched_ones(log_lines):
    mouse = pd.DataFrame({"tf": ["Irf1", " Stat1 ", "Foxp3"], "gene": ["Cxcl10", "irf1", "Il2"]})
    prior = read_prior(mouse, source="tf", target="gene", adata=_adata(["IRF1", "STAT1", "CXCL10", "GAPDH"]))
    assert prior[["source", "target"]].to_numpy().tolist() == [["IRF1", "CXCL10"], ["STAT1", "IRF1"], ["Foxp3", "Il2"]]
    assert any(line.startswith("prior: 2 of 3 edges map to var_names") for line in log_lines)


def test_read_prior_pairs_that_become_one_after_respelling_are_combined():
    table = pd.DataFrame({"source": ["Irf1", "IRF1"], "target": ["Cxcl10", "CXCL10"], "mode": ["+", "-"]})
    prior = read_prior(table, sign="mode", adata=_adata(["IRF1", "CXCL10"]))
    assert _edges(prior) == {("IRF1", "CXCL10"): 0.0}


def test_merge_priors_spells_symbols_as_var_names_before_uniting():
    mouse = pd.DataFrame({"source": ["Irf1"], "target": ["Cxcl10"], "weight": [1.0], "prior_source": ["mm"]})
    human = pd.DataFrame({"source": ["IRF1"], "target": ["CXCL10"], "weight": [1.0], "prior_source": ["hs"]})
    merged = merge_priors([mouse, human], adata=_adata(["IRF1", "CXCL10"]))
    assert merged[["source", "target", "prior_source"]].to_numpy().tolist() == [["IRF1", "CXCL10", "hs,mm"]]


def test_respelled_prior_aligns_to_the_same_genes():
    var_names = ["IRF1", "STAT1", "CXCL10"]
    table = pd.DataFrame({"source": ["Irf1", "Stat1"], "target": ["Cxcl10", "Irf1"]})
    respelled = read_prior(table, adata=_adata(var_names))
    assert set(respelled["source"]) <= set(var_names)
    plain, spelled = align_prior(read_prior(table), var_names), align_prior(respelled, var_names)
    assert plain.source_idx.tolist() == spelled.source_idx.tolist()
    assert plain.target_idx.tolist() == spelled.target_idx.tolist()


# --- merge_priors ----------------------------------------------------------------------------------------------------


def _table(rows, name=None, confidence=None) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=["source", "target", "weight"])
    if confidence is not None:
        table["confidence"] = confidence
    if name is not None:
        table["prior_source"] = name
    return table


def _three():
    a = _table([("T1", "G1", 1.0), ("T1", "G2", 1.0), ("T2", "G1", 0.0)], "a", ["C", "A", ""])
    b = _table([("T1", "G1", -1.0), ("T1", "G2", -1.0), ("T2", "G1", -1.0)], "b", ["B", "", ""])
    c = _table([("T1", "G1", -1.0), ("T3", "G3", 1.0)], "c")
    return a, b, c


def test_merge_priors_vote_takes_the_majority_and_keeps_tied_edges_as_unknown():
    a, b, c = _three()
    merged = merge_priors([a, b, c], signs="vote")
    assert list(merged.columns) == COLUMNS
    assert _edges(merged) == {
        ("T1", "G1"): -1.0,  # +1, -1, -1: the majority
        ("T1", "G2"): 0.0,  # +1 vs -1: a tie, kept with sign unknown
        ("T2", "G1"): -1.0,  # 0 never conflicts: the signed one
        ("T3", "G3"): 1.0,
    }


def test_merge_priors_vote_never_loses_a_conflicting_edge():
    plus = _table([("T1", "G1", 1.0), ("T1", "G2", 1.0)])
    minus = _table([("T1", "G1", -1.0), ("T1", "G3", -1.0)])
    merged = merge_priors([plus, minus])
    assert set(zip(merged["source"], merged["target"])) == {("T1", "G1"), ("T1", "G2"), ("T1", "G3")}
    assert _edges(merged)[("T1", "G1")] == 0.0


def test_merge_priors_drop_removes_exactly_the_conflicting_edges_and_warns(log_lines):
    a, b, c = _three()
    merged = merge_priors([a, b, c], signs="drop")
    assert _edges(merged) == {("T2", "G1"): -1.0, ("T3", "G3"): 1.0}
    assert any(line.startswith("WARNING: merge_priors") and "2 edges signed +1" in line for line in log_lines)


def test_merge_priors_first_takes_the_first_table_with_a_sign():
    a, b, c = _three()
    assert _edges(merge_priors([a, b, c], signs="first")) == {
        ("T1", "G1"): 1.0,
        ("T1", "G2"): 1.0,
        ("T2", "G1"): -1.0,  # a's 0 is no sign: b's
        ("T3", "G3"): 1.0,
    }
    assert _edges(merge_priors([b, a, c], signs="first"))[("T1", "G2")] == -1.0


def test_merge_priors_lists_supporting_sources_sorted_and_keeps_the_best_confidence():
    a, b, c = _three()
    merged = merge_priors([c, b, a]).set_index(["source", "target"])
    assert merged.loc[("T1", "G1"), "prior_source"] == "a,b,c"
    assert merged.loc[("T3", "G3"), "prior_source"] == "c"
    assert merged.loc[("T1", "G1"), "confidence"] == "B"  # a says C, b says B: B is better
    assert merged.loc[("T1", "G2"), "confidence"] == "A"  # an empty confidence never wins
    assert merged.loc[("T2", "G1"), "confidence"] == ""


def test_merge_priors_names_tables_without_prior_source_by_position_and_keeps_first_seen_order():
    first = _table([("T2", "G1", 1.0), ("T1", "G1", 1.0)])
    second = _table([("T1", "G1", 1.0), ("T0", "G0", 1.0)])
    merged = merge_priors([first, second])
    assert merged[["source", "target", "prior_source"]].to_numpy().tolist() == [
        ["T2", "G1", "prior0"],
        ["T1", "G1", "prior0,prior1"],
        ["T0", "G0", "prior1"],
    ]


def test_merge_priors_of_a_merged_table_unites_the_listed_sources():
    a, b, c = _three()
    again = merge_priors([merge_priors([a, b]), c.assign(prior_source="d")])
    assert again.set_index(["source", "target"]).loc[("T1", "G1"), "prior_source"] == "a,b,d"


def test_merge_priors_reads_weights_as_signs_and_a_missing_weight_as_unknown():
    levelled = _table([("T1", "G1", 1 / 3), ("T1", "G2", -0.5)])
    unsigned = pd.DataFrame({"source": ["T1", "T4"], "target": ["G1", "G4"]})
    assert _edges(merge_priors([levelled, unsigned])) == {("T1", "G1"): 1.0, ("T1", "G2"): -1.0, ("T4", "G4"): 0.0}


def test_merge_priors_leaves_the_tables_unchanged():
    a, b, c = _three()
    a.loc[0, "source"] = " T1 "
    copies = [t.copy() for t in (a, b, c)]
    merge_priors([a, b, c], signs="drop", adata=_adata(["t1", "g1"]))
    for table, before in zip((a, b, c), copies, strict=True):
        pd.testing.assert_frame_equal(table, before)


def test_merge_priors_logs_how_many_conflicts_and_what_it_did(log_lines):
    a, b, c = _three()
    merge_priors([a, b, c], signs="vote")
    assert any(
        "3 tables, 8 edges -> 4 distinct edges" in line
        and "2 edges signed +1 by one table and -1 by another" in line
        and "1 took the majority sign, 1 tied and got sign 0" in line
        for line in log_lines
    )


@pytest.mark.parametrize(
    ("priors", "kwargs", "match"),
    [
        ([], {}, "empty list"),
        (pd.DataFrame({"source": ["A"], "target": ["B"]}), {}, "list of prior DataFrames"),
        (["prior.tsv"], {}, r"priors\[0\] is a str.*read_prior"),
        ([pd.DataFrame({"tf": ["A"], "target": ["B"]})], {}, r"priors\[0\] lacks the column"),
        ([pd.DataFrame({"source": ["A"], "target": ["B"], "weight": ["Activation"]})], {}, "non-numeric"),
        ([pd.DataFrame({"source": ["A"], "target": ["B"]})], {"signs": "majority"}, "signs='majority' is not valid"),
    ],
)
def test_merge_priors_bad_input_raises(priors, kwargs, match):
    with pytest.raises(InputError, match=match):
        merge_priors(priors, **kwargs)


# one table per list; each row (source, target, sign); the reference below is the documented rule, row by row
_ROWS = st.lists(
    st.tuples(st.sampled_from(["T1", "T2"]), st.sampled_from(["G1", "G2", "G3"]), st.sampled_from([-1.0, 0.0, 1.0])),
    max_size=6,
)


def _reference(tables, signs):
    per_table = []
    for rows in tables:  # a pair repeated in one table: the vote of its rows
        votes: dict = {}
        for s, t, w in rows:
            votes.setdefault((s, t), []).append(w)
        per_table.append({pair: float(np.sign(sum(ws))) for pair, ws in votes.items()})
    out = {}
    for pair in {p for table in per_table for p in table}:
        ws = [table[pair] for table in per_table if pair in table]
        conflict = 1.0 in ws and -1.0 in ws
        if signs == "drop" and conflict:
            continue
        out[pair] = next((w for w in ws if w != 0), 0.0) if signs == "first" else float(np.sign(sum(ws)))
    return out


@settings(max_examples=150, deadline=None)
@given(st.lists(_ROWS, min_size=1, max_size=4), st.sampled_from(["vote", "drop", "first"]))
def test_merge_priors_follows_the_documented_sign_rules(tables, signs):
    frames = [_table(rows) for rows in tables]
    merged = merge_priors(frames, signs=signs)
    assert _edges(merged) == _reference(tables, signs)
    assert not merged.duplicated(["source", "target"]).any()


# --- the real TRRUST and DoRothEA files ------------------------------------------------------------------------------


def test_read_prior_reads_the_real_trrust_file():
    path = _shared_prior("trrust_hs.tsv.gz")
    raw = pd.read_csv(path, sep="\t")
    prior = read_prior(path)
    assert list(prior.columns) == COLUMNS
    assert len(prior) == len(raw.drop_duplicates(["source", "target"]))
    assert set(prior["prior_source"]) == {"trrust_hs"}
    expected = np.sign(raw.groupby(["source", "target"], sort=False)["weight"].sum())
    pd.testing.assert_series_equal(
        prior.set_index(["source", "target"])["weight"], expected, check_names=False, check_index_type=False
    )
    assert set(prior["weight"]) == {-1.0, 0.0, 1.0}
    edges = _edges(prior)
    assert edges[("AHR", "AHRR")] == 1.0 and edges[("AHR", "ABCG2")] == 0.0


@pytest.mark.slow
def test_merging_real_trrust_and_dorothea_keeps_every_pair():
    trrust = read_prior(_shared_prior("trrust_hs.tsv.gz"), name="trrust")
    dorothea = read_prior(_shared_prior("dorothea_hs.tsv.gz"), name="dorothea")
    merged = merge_priors([dorothea, trrust])
    pairs = pd.concat([dorothea, trrust])[["source", "target"]].drop_duplicates()
    assert len(merged) == len(pairs)
    both = merged[merged["prior_source"] == "dorothea,trrust"]
    assert len(both) == len(dorothea.merge(trrust, on=["source", "target"]))
    assert (both["confidence"] != "").all()  # DoRothEA's level, TRRUST has none
