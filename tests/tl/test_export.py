import gzip

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import grnlink as gl


@pytest.fixture
def net():
    """A network table with the columns grn_network returns (signed weight, precision NaN for one edge)."""
    return pd.DataFrame(
        {
            "source": ["HNF4A", "HNF4A", "HNF4A", "FOXA2", "FOXA2"],
            "target": ["APOA1", "CYP3A4", "G6PC1", "HNF4A", "APOA1"],
            "weight": [0.95, -0.6, 0.0, 0.8, -0.3],
            "score": [4.1, 2.2, 1.0, 3.3, 0.5],
            "probability": [0.95, 0.6, 0.1, 0.8, 0.3],
            "precision": [0.7, 0.35, np.nan, 0.5, 0.1],
            "specificity": [2.5, 1.1, 0.2, 1.7, -0.4],
            "in_prior": [True, False, False, True, False],
        }
    )


def _frame(net):
    return net.copy(deep=True)


def test_to_networkx_keeps_every_column_signs_and_tf_nodes(net):
    before = _frame(net)
    graph = gl.tl.to_networkx(net)
    pd.testing.assert_frame_equal(net, before)
    assert isinstance(graph, nx.DiGraph) and graph.number_of_edges() == len(net)
    for row in net.itertuples(index=False):
        edge = graph.edges[row.source, row.target]
        assert edge["weight"] == row.weight and edge["score"] == row.score
        assert edge["in_prior"] is bool(row.in_prior)
        assert edge["sign"] == int(np.sign(row.weight))
        np.testing.assert_equal(edge["precision"], row.precision)  # NaN stays NaN
    assert graph.edges["HNF4A", "G6PC1"]["sign"] == 0
    assert dict(graph.nodes(data="is_tf")) == {
        "HNF4A": True,
        "FOXA2": True,
        "APOA1": False,
        "CYP3A4": False,
        "G6PC1": False,
    }


def test_to_networkx_refuses_several_groups_and_takes_one(net):
    long = pd.concat([net.assign(group="B cell"), net.assign(group="T cell")], ignore_index=True)
    with pytest.raises(gl.InputError, match=r"2 groups.*'B cell'.*net\[net\['group'\] == 'B cell'\]"):
        gl.tl.to_networkx(long)
    graph = gl.tl.to_networkx(long[long["group"] == "T cell"])
    assert graph.number_of_edges() == len(net)
    assert {g for *_, g in graph.edges(data="group")} == {"T cell"}


def test_to_networkx_refuses_repeated_pairs(net):
    with pytest.raises(gl.InputError, match=r"1 repeated.*HNF4A -> APOA1.*drop_duplicates"):
        gl.tl.to_networkx(pd.concat([net, net.iloc[[0]]], ignore_index=True))


@pytest.mark.parametrize(
    "bad, match",
    [
        (pd.DataFrame({"tf": ["A"], "gene": ["B"], "weight": [1.0]}), r"lacks the column\(s\) \['source', 'target'\]"),
        (pd.DataFrame({"source": ["A"], "target": ["B"]}), r"lacks the column\(s\) \['weight'\]"),
        (pd.DataFrame({"source": ["A"], "target": ["B"], "weight": ["+"]}), "must be numeric"),
        ([("A", "B", 1.0)], "must be a pandas DataFrame"),
    ],
)
def test_export_rejects_tables_that_are_not_networks(bad, match, tmp_path):
    with pytest.raises(gl.InputError, match=match):
        gl.tl.to_networkx(bad)
    with pytest.raises(gl.InputError, match=match):
        gl.tl.write_network(bad, tmp_path / "net.csv")
    assert list(tmp_path.iterdir()) == []


def test_graphml_round_trip_gives_the_same_edges_signs_and_weights(net, tmp_path):
    path = tmp_path / "net.graphml"
    gl.tl.write_network(net, path)
    back = nx.read_graphml(path)
    assert back.is_directed()
    assert set(back.edges) == set(zip(net["source"], net["target"]))
    for row in net.itertuples(index=False):
        edge = back.edges[row.source, row.target]
        assert edge["weight"] == pytest.approx(row.weight, abs=0)
        assert edge["sign"] == int(np.sign(row.weight))
        assert edge["in_prior"] is bool(row.in_prior)
        assert edge["specificity"] == row.specificity
    assert back.nodes["FOXA2"]["is_tf"] is True and back.nodes["G6PC1"]["is_tf"] is False


@pytest.mark.parametrize("name, sep", [("net.csv", ","), ("net.tsv", "\t"), ("net.CSV.gz", ","), ("net.tsv.gz", "\t")])
def test_csv_round_trip_equals_the_table(net, tmp_path, name, sep):
    long = pd.concat([net.assign(group="B cell"), net.assign(group="T cell")], ignore_index=True)
    before = _frame(long)
    gl.tl.write_network(long, tmp_path / name)
    pd.testing.assert_frame_equal(long, before)
    if name.endswith(".gz"):
        with gzip.open(tmp_path / name, "rt") as fh:  # really gzipped
            assert fh.readline().startswith(sep.join(["source", "target", "weight"]))
    back = pd.read_csv(tmp_path / name, sep=sep)
    pd.testing.assert_frame_equal(back, long, check_exact=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temporary file left


def test_csv_keeps_a_categorical_table_as_strings(net, tmp_path):
    categorical = net.astype({"source": "category", "target": "category"})
    gl.tl.write_network(categorical, tmp_path / "net.csv")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "net.csv"), net)


def test_sif_lines_say_activates_represses_regulates(net, tmp_path):
    path = tmp_path / "net.sif"
    gl.tl.write_network(net, path)
    assert path.read_text().splitlines() == [
        "HNF4A\tactivates\tAPOA1",
        "HNF4A\trepresses\tCYP3A4",
        "HNF4A\tregulates\tG6PC1",
        "FOXA2\tactivates\tHNF4A",
        "FOXA2\trepresses\tAPOA1",
    ]


def test_write_network_replaces_an_existing_file_whole(net, tmp_path):
    path = tmp_path / "net.sif"
    path.write_text("old\n")
    gl.tl.write_network(net.iloc[:1], path)
    assert path.read_text() == "HNF4A\tactivates\tAPOA1\n"


@pytest.mark.parametrize(
    "name, match",
    [
        ("net.txt", r"'.txt'.*\.graphml.*\.sif.*\.csv"),
        ("net", "no ending"),
        ("net.sif.gz", r"'.sif.gz'"),
        ("missing/net.csv", r"folder of .*missing/net.csv' does not exist; create it"),
        ("a_file/net.csv", "is a file"),
        (".", "is a folder"),
    ],
)
def test_write_network_bad_path_writes_nothing(net, tmp_path, name, match):
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(gl.InputError, match=match):
        gl.tl.write_network(net, tmp_path / name)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a_file"]


def test_graph_formats_refuse_several_groups_but_csv_takes_them(net, tmp_path):
    long = pd.concat([net.assign(group="a"), net.assign(group="b")], ignore_index=True)
    for name in ("net.graphml", "net.sif"):
        with pytest.raises(gl.InputError, match="Select one group"):
            gl.tl.write_network(long, tmp_path / name)
    assert list(tmp_path.iterdir()) == []
    gl.tl.write_network(long, tmp_path / "net.tsv")
    assert len(pd.read_csv(tmp_path / "net.tsv", sep="\t")) == 2 * len(net)


def test_sif_refuses_names_with_tabs(tmp_path):
    bad = pd.DataFrame({"source": ["A\tB"], "target": ["C"], "weight": [1.0]})
    with pytest.raises(gl.InputError, match="tab or line break"):
        gl.tl.write_network(bad, tmp_path / "net.sif")
    assert list(tmp_path.iterdir()) == []
