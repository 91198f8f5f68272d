import subprocess
import sys
from contextlib import nullcontext

import anndata as ad
import pandas as pd
import pytest

from grnlink._cli import main
from grnlink.tl._fit import DEFAULT_MODEL


@pytest.mark.parametrize("command", [[], ["demo"], ["fit"], ["predict"], ["network"]])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: grnlink" in capsys.readouterr().out


def test_fit_then_predict_on_h5ad_files(adata, truth, tmp_path):
    data, prior, out, csv = tmp_path / "in.h5ad", tmp_path / "prior.tsv", tmp_path / "out.h5ad", tmp_path / "e.csv"
    adata.write_h5ad(data)
    truth.to_csv(prior, sep="\t", index=False)
    assert (
        main(
            [
                "fit",
                str(data),
                "--prior",
                str(prior),
                "--model",
                "cross_encoder",
                "--groupby",
                "cell_type",
                "--option",
                "n_ensemble=1",
                "--option",
                "max_epochs=3",
                "--prior-coverage",
                "0.4",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    assert ad.read_h5ad(out).uns["grn"]["precision"]["prior_coverage"] == 0.4
    before = out.read_bytes()
    scored = tmp_path / "scored.h5ad"
    assert main(["predict", str(out), "--top-k", "5", "--csv", str(csv), "--out", str(scored)]) == 0
    edges = pd.read_csv(csv)
    assert edges.groupby("source").size().eq(5).all()
    assert "grn_scores" in ad.read_h5ad(scored).varp
    assert out.read_bytes() == before  # the input is only read
    assert "grn_scores" not in ad.read_h5ad(out).varp


def test_cli_reports_bad_input_without_a_traceback(adata, tmp_path, capsys):
    data, prior = tmp_path / "in.h5ad", tmp_path / "prior.csv"
    adata.write_h5ad(data)
    pd.DataFrame({"tf": ["A"], "gene": ["B"]}).to_csv(prior, index=False)
    assert main(["fit", str(data), "--prior", str(prior), "--out", str(tmp_path / "out.h5ad")]) == 2
    assert "source" in capsys.readouterr().err


@pytest.mark.slow
def test_demo_runs_offline_and_writes_outputs(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "grnlink._cli", "demo", "--out-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert DEFAULT_MODEL in result.stdout and "pcc" in result.stdout and "degree control" in result.stdout
    assert (tmp_path / "grnlink_demo.h5ad").exists() and (tmp_path / "grnlink_demo_pr.png").exists()


@pytest.fixture
def files(adata, truth, tmp_path):
    data, prior = tmp_path / "in.h5ad", tmp_path / "prior.tsv"
    adata.write_h5ad(data)
    truth.to_csv(prior, sep="\t", index=False)
    (tmp_path / "a_file").write_text("not a folder")
    (tmp_path / "broken.h5ad").write_text("not an HDF5 file")
    (tmp_path / "ragged.csv").write_text("source,target\nTF001,G0001\nTF001,G0002,extra\n")
    return tmp_path


FIT = ["fit", "{d}/in.h5ad", "--prior", "{d}/prior.tsv"]
FAILING_CALLS = {
    "missing input": (["fit", "{d}/missing.h5ad", "--prior", "{d}/prior.tsv", "-o", "{d}/o.h5ad"], "does not exist"),
    "unreadable input": (["fit", "{d}/broken.h5ad", "--prior", "{d}/prior.tsv", "-o", "{d}/o.h5ad"], "as .h5ad"),
    "output folder missing": (["fit", "{d}/in.h5ad", "--prior", "{d}/prior.tsv", "-o", "{d}/no/o.h5ad"], "not exist"),
    "output folder is a file": (["fit", "{d}/in.h5ad", "--prior", "{d}/prior.tsv", "-o", "{d}/a_file/o.h5ad"], "file"),
    "output is a folder": (["fit", "{d}/in.h5ad", "--prior", "{d}/prior.tsv", "-o", "{d}"], "is a folder"),
    "option value": ([*FIT, "--model", "two_tower", "--option", "max_epochs=x", "-o", "{d}/o.h5ad"], "max_epochs='x'"),
    "option syntax": ([*FIT, "--option", "max_epochs", "-o", "{d}/o.h5ad"], "NAME=VALUE"),
    "seed": ([*FIT, "--seed", "-1", "-o", "{d}/o.h5ad"], "seed=-1"),
    "ragged prior": (["fit", "{d}/in.h5ad", "--prior", "{d}/ragged.csv", "--out", "{d}/o.h5ad"], "line 3"),
    "ragged pairs": (["predict", "{d}/in.h5ad", "--pairs", "{d}/ragged.csv", "-o", "{d}/o.h5ad"], "line 3"),
    "csv folder missing": (["predict", "{d}/in.h5ad", "--csv", "{d}/no/e.csv", "-o", "{d}/o.h5ad"], "not exist"),
    "csv exists": (["predict", "{d}/in.h5ad", "--csv", "{d}/ragged.csv", "-o", "{d}/o.h5ad"], "--overwrite"),
    "csv is the output": (["predict", "{d}/in.h5ad", "--csv", "{d}/o.h5ad", "-o", "{d}/o.h5ad"], "same file"),
    "demo out-dir is a file": (["demo", "--out-dir", "{d}/a_file"], "is a file"),
    # fit and predict never replace a file (their input above all) unless --overwrite says so
    "fit without --out": (FIT, "pass --out FILE.h5ad"),
    "predict without --out": (["predict", "{d}/in.h5ad", "--top-k", "3"], "never replaces its input"),
    "fit --out is the input": ([*FIT, "--out", "{d}/in.h5ad"], "is the input file"),
    "predict --out is the input": (["predict", "{d}/in.h5ad", "--out", "{d}/./in.h5ad"], "is the input file"),
    "fit --out exists": ([*FIT, "--out", "{d}/broken.h5ad"], "exists; pass --overwrite"),
    # network: the format comes from --out's ending; a bad --out fails before the input is read
    "network without --out": (["network", "{d}/in.h5ad"], "--out"),
    "network unknown ending": (["network", "{d}/in.h5ad", "--out", "{d}/net.xlsx"], "'.xlsx'"),
    "network folder missing": (["network", "{d}/in.h5ad", "--out", "{d}/no/net.csv"], "not exist"),
    "network --out exists": (["network", "{d}/in.h5ad", "--out", "{d}/ragged.csv"], "--overwrite"),
    "network missing input": (["network", "{d}/missing.h5ad", "--out", "{d}/net.csv"], "does not exist"),
    "network rank-by": (["network", "{d}/in.h5ad", "--out", "{d}/net.csv", "--rank-by", "pvalue"], "invalid choice"),
    "network groups in a graph": (["network", "{d}/in.h5ad", "--out", "{d}/n.graphml", "--groupby", "x"], "per group"),
    "network unfitted input": (["network", "{d}/in.h5ad", "--out", "{d}/net.csv"], "grn_fit"),
}
SYSTEM_EXIT = ("option syntax", "network without --out", "network rank-by")


@pytest.mark.parametrize("case", sorted(FAILING_CALLS))
def test_cli_failure_is_one_line_exit_2_and_no_partial_output(files, capsys, case):
    argv, match = FAILING_CALLS[case]
    before = sorted(p.name for p in files.rglob("*"))
    with pytest.raises(SystemExit) if case in SYSTEM_EXIT else nullcontext() as exit_info:
        code = main(["-q", *[a.format(d=files) for a in argv]])
    code = exit_info.value.code if case in SYSTEM_EXIT else code
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and match in err and "Traceback" not in err
    assert sorted(p.name for p in files.rglob("*")) == before


def test_cli_predict_failure_leaves_the_input_file_untouched(files, capsys):
    data = files / "in.h5ad"
    before = data.read_bytes()
    assert main(["-q", "predict", str(data), "--top-k", "0", "--overwrite"]) == 2
    assert data.read_bytes() == before


@pytest.fixture(scope="module")
def fitted_file(tmp_path_factory):
    """An .h5ad with a tiny two_tower model under uns['grn'] (read-only for the tests)."""
    import grnlink as gl

    adata = gl.ds.simulate(n_genes=80, n_tfs=8, n_cells=200, n_celltypes=3, seed=0)
    gl.tl.grn_fit(adata, adata.uns["true_network"], model="two_tower", n_ensemble=1, max_epochs=3)
    path = tmp_path_factory.mktemp("fitted") / "fitted.h5ad"
    adata.write_h5ad(path)
    return path


def test_network_writes_the_table_in_the_format_of_its_ending(fitted_file, tmp_path, capsys):
    import networkx as nx

    import grnlink as gl

    before = fitted_file.read_bytes()
    csv, graphml, sif = tmp_path / "net.csv", tmp_path / "net.graphml", tmp_path / "net.sif"
    for path in (csv, graphml, sif):
        assert main(["-q", "network", str(fitted_file), "--top-k", "4", "--key", "grn", "--out", str(path)]) == 0
    assert f"to {sif}" in capsys.readouterr().out
    assert fitted_file.read_bytes() == before  # the input is only read
    expected = gl.tl.grn_network(ad.read_h5ad(fitted_file), key="grn", top_k=4)
    table = pd.read_csv(csv)
    pd.testing.assert_frame_equal(table, expected, check_dtype=False)
    assert table.groupby("source").size().eq(4).all()
    graph = nx.read_graphml(graphml)
    assert set(graph.edges) == set(zip(expected["source"], expected["target"]))
    assert all(
        graph.edges[s, t]["weight"] == w for s, t, w in expected[["source", "target", "weight"]].itertuples(False)
    )
    words = {1: "activates", -1: "represses"}
    assert sif.read_text().splitlines() == [
        f"{s}\t{words[int(w > 0) - int(w < 0)]}\t{t}"
        for s, t, w in expected[["source", "target", "weight"]].itertuples(False)
    ]


def test_network_replaces_an_existing_file_only_with_overwrite(fitted_file, tmp_path, capsys):
    out = tmp_path / "net.tsv"
    out.write_text("old")
    assert main(["-q", "network", str(fitted_file), "--top-k", "2", "--out", str(out)]) == 2
    assert out.read_text() == "old"
    assert main(["-q", "network", str(fitted_file), "--top-k", "2", "--out", str(out), "--overwrite"]) == 0
    assert pd.read_csv(out, sep="\t").groupby("source").size().eq(2).all()


def test_predict_overwrite_updates_the_input_in_place_only_when_asked(fitted_file, tmp_path):
    data = tmp_path / "data.h5ad"
    data.write_bytes(fitted_file.read_bytes())
    assert main(["-q", "predict", str(data), "--top-k", "3"]) == 2
    assert "grn_scores" not in ad.read_h5ad(data).varp
    assert main(["-q", "predict", str(data), "--top-k", "3", "--overwrite"]) == 0
    assert "grn_scores" in ad.read_h5ad(data).varp
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.h5ad"]  # no temporary file left


def test_network_forwards_the_new_options_as_keywords(monkeypatch, tmp_path):
    import grnlink as gl

    seen = {}

    def fake_network(adata, **kwargs):
        seen.update(kwargs)
        return pd.DataFrame({"source": ["A"], "target": ["B"], "weight": [-0.5]})

    data = tmp_path / "in.h5ad"
    ad.AnnData(pd.DataFrame({"A": [1.0], "B": [2.0]}, index=["cell"])).write_h5ad(data)
    monkeypatch.setattr(gl.tl, "grn_network", fake_network)
    argv = ["network", str(data), "--out", str(tmp_path / "n.tsv"), "--min-precision", "0.2", "--groupby", "ct"]
    assert main(["-q", *argv, "--rank-by", "specificity", "--prior-coverage", "0.3"]) == 0
    expected = {"key": "grn", "top_k": 100, "min_precision": 0.2, "groupby": "ct", "rank_by": "specificity"}
    assert seen == {**expected, "prior_coverage": 0.3}
    assert (tmp_path / "n.tsv").read_text() == "source\ttarget\tweight\nA\tB\t-0.5\n"


# --- grnlink fit takes grn_fit's arguments from one definition (grn_fit's signature and docstring) --------------


def _fit_parser():
    from grnlink._cli import build_parser

    (sub,) = [a for a in build_parser()._actions if isinstance(a, __import__("argparse")._SubParsersAction)]
    return sub.choices["fit"]


def test_fit_has_a_flag_for_every_grn_fit_argument_and_no_other():
    import inspect

    import grnlink as gl

    flags = {a.dest: a for a in _fit_parser()._actions if a.option_strings and a.dest != "help"}
    parameters = inspect.signature(gl.tl.grn_fit).parameters
    # a keyword argument of grn_fit without a flag, or a flag grn_fit does not take, fails here
    expected = {name for name, p in parameters.items() if p.kind is p.KEYWORD_ONLY} - {"copy"}
    assert set(flags) - {"prior", "organism", "option", "out"} == expected
    for name in expected:
        assert flags[name].option_strings[0] == "--" + name.replace("_", "-")
        assert flags[name].default == parameters[name].default, name


def test_fit_flags_take_grn_fits_choices_from_its_literal_types_not_a_copy():
    import typing

    import grnlink as gl

    hints = typing.get_type_hints(gl.tl.grn_fit)
    flags = {a.dest: a for a in _fit_parser()._actions}
    strategies = typing.get_args(typing.get_args(hints["negatives"])[0])
    assert tuple(flags["negatives"].choices) == strategies == gl.tl._fit.NEGATIVE_STRATEGIES
    assert tuple(flags["calibration"].choices) == typing.get_args(hints["calibration"])
    assert tuple(flags["device"].choices) == typing.get_args(hints["device"])
    assert tuple(flags["features"].choices) == gl.models.FEATURE_GROUPS


def test_fit_help_is_grn_fits_docstring_and_lists_every_option(capsys):
    import grnlink as gl
    from grnlink._cli import parameter_help

    with pytest.raises(SystemExit):
        main(["fit", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Same options as" not in text
    for flag in ("--calibration", "--val-fraction", "--max-cells", "--features", "--overwrite", "--validation"):
        assert flag in text
    docs = parameter_help(gl.tl.grn_fit)
    assert docs["negative_ratio"] == "Negatives per positive (ignored when negatives is a table)."
    assert docs["negative_ratio"] in text and "{tf_matched,uniform,hard}" in text


def test_a_grn_fit_argument_the_cli_cannot_take_fails_loudly():
    from grnlink._cli import _fit_option

    with pytest.raises(TypeError, match="teach grnlink._cli"):
        _fit_option("mapping", dict[str, int], None, "")


def test_fit_flags_reach_grn_fit_as_python_values(files, monkeypatch, capsys):
    import grnlink as gl

    seen = {}

    def fake_fit(adata, prior, **kwargs):
        seen.update(kwargs, prior_rows=len(prior))

    monkeypatch.setattr(gl.tl, "grn_fit", fake_fit)
    (files / "val.csv").write_text("source,target,label\nTF001,G0001,1\nTF001,G0002,0\n")
    (files / "exclude.csv").write_text("source,target\nTF002,G0003\n")
    argv = [
        *("fit", str(files / "in.h5ad"), "--prior", str(files / "prior.tsv"), "--model", "pcc"),
        *("--groupby", "cell_type", "--layer", "counts", "--negatives", "hard", "--negative-ratio", "2"),
        *("--seed", "3", "--key-added", "mine", "--features", "expression", "celltype_means"),
        *("--val-fraction", "0.2", "--max-cells", "none", "--calibration", "isotonic", "--prior-coverage", "0.3"),
        *("--device", "cpu", "--validation", str(files / "val.csv"), "--exclude", str(files / "exclude.csv")),
        *("--option", "n_ensemble=1", "-o", str(files / "out.h5ad")),
    ]
    assert main(["-q", *argv]) == 0, capsys.readouterr().err
    tables = {name: seen.pop(name) for name in ("validation", "exclude")}
    assert seen == {
        "model": "pcc",
        "groupby": "cell_type",
        "embedding_key": None,
        "layer": "counts",
        "negatives": "hard",
        "negative_ratio": 2.0,
        "seed": 3,
        "key_added": "mine",
        "features": ["expression", "celltype_means"],
        "val_fraction": 0.2,
        "max_cells": None,
        "calibration": "isotonic",
        "prior_coverage": 0.3,
        "device": "cpu",
        "overwrite": False,
        "n_ensemble": 1,
        "prior_rows": len(pd.read_csv(files / "prior.tsv", sep="\t")),
    }
    assert tables["validation"]["label"].tolist() == [1, 0] and tables["exclude"]["target"].tolist() == ["G0003"]


def test_fit_with_no_features_flag_value_fits_on_identities_only(files, monkeypatch):
    import grnlink as gl

    seen = {}
    monkeypatch.setattr(gl.tl, "grn_fit", lambda adata, prior, **kwargs: seen.update(kwargs))
    argv = ["fit", str(files / "in.h5ad"), "--prior", str(files / "prior.tsv"), "--features", "-o", str(files / "o")]
    assert main(["-q", *argv]) == 0
    assert seen["features"] == [] and seen["max_cells"] == 2000 and seen["overwrite"] is False


@pytest.mark.parametrize("name", ["val_fraction", "calibration", "features", "overwrite", "validation", "prior"])
def test_fit_refuses_an_option_repeating_a_generated_flag(files, capsys, name):
    argv = ["fit", str(files / "in.h5ad"), "--prior", str(files / "prior.tsv"), "-o", str(files / "o.h5ad")]
    assert main(["-q", *argv, "--option", f"{name}=1"]) == 2
    assert f"repeats --{name.replace('_', '-')}" in capsys.readouterr().err


def test_fit_overwrite_is_grn_fits_too_replacing_an_entry_it_did_not_write(adata, truth, tmp_path):
    data, prior, out = tmp_path / "in.h5ad", tmp_path / "prior.csv", tmp_path / "out.h5ad"
    adata.uns["grn"] = {"note": "my own results"}
    adata.write_h5ad(data)
    truth.to_csv(prior, index=False)
    argv = ["-q", "fit", str(data), "--prior", str(prior), "--model", "pcc", "-o", str(out)]
    assert main(argv) == 2 and not out.exists()
    assert main([*argv, "--overwrite"]) == 0
    assert ad.read_h5ad(out).uns["grn"]["model"] == "pcc"
    assert ad.read_h5ad(data).uns["grn"] == {"note": "my own results"}  # the input is only read
