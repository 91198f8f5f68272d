import subprocess
import sys
from contextlib import nullcontext

import anndata as ad
import pandas as pd
import pytest

from grnlink._cli import main
from grnlink.tl._fit import DEFAULT_MODEL


@pytest.mark.parametrize("command", [[], ["demo"], ["fit"], ["predict"]])
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
                "-o",
                str(out),
            ]
        )
        == 0
    )
    assert main(["predict", str(out), "--top-k", "5", "--csv", str(csv)]) == 0
    edges = pd.read_csv(csv)
    assert edges.groupby("source").size().eq(5).all()
    assert "grn_scores" in ad.read_h5ad(out).varp


def test_cli_reports_bad_input_without_a_traceback(adata, tmp_path, capsys):
    data, prior = tmp_path / "in.h5ad", tmp_path / "prior.csv"
    adata.write_h5ad(data)
    pd.DataFrame({"tf": ["A"], "gene": ["B"]}).to_csv(prior, index=False)
    assert main(["fit", str(data), "--prior", str(prior)]) == 2
    assert "source" in capsys.readouterr().err


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


FAILING_CALLS = {
    "missing input": (["fit", "{d}/missing.h5ad", "--prior", "{d}/prior.tsv", "-o", "{d}/o.h5ad"], "does not exist"),
    "unreadable input": (["fit", "{d}/broken.h5ad", "--prior", "{d}/prior.tsv", "-o", "{d}/o.h5ad"], "as .h5ad"),
    "output folder missing": (["fit", "{d}/in.h5ad", "--prior", "{d}/prior.tsv", "-o", "{d}/no/o.h5ad"], "not exist"),
    "output folder is a file": (["fit", "{d}/in.h5ad", "--prior", "{d}/prior.tsv", "-o", "{d}/a_file/o.h5ad"], "file"),
    "output is a folder": (["fit", "{d}/in.h5ad", "--prior", "{d}/prior.tsv", "-o", "{d}"], "is a folder"),
    "option value": (
        ["fit", "{d}/in.h5ad", "--prior", "{d}/prior.tsv", "--model", "two_tower", "--option", "max_epochs=x"],
        "max_epochs='x'",
    ),
    "option syntax": (["fit", "{d}/in.h5ad", "--prior", "{d}/prior.tsv", "--option", "max_epochs"], "NAME=VALUE"),
    "seed": (["fit", "{d}/in.h5ad", "--prior", "{d}/prior.tsv", "--seed", "-1"], "seed=-1"),
    "ragged prior": (["fit", "{d}/in.h5ad", "--prior", "{d}/ragged.csv"], "line 3"),
    "ragged pairs": (["predict", "{d}/in.h5ad", "--pairs", "{d}/ragged.csv", "-o", "{d}/o.h5ad"], "line 3"),
    "csv folder missing": (["predict", "{d}/in.h5ad", "--csv", "{d}/no/e.csv", "-o", "{d}/o.h5ad"], "not exist"),
    "demo out-dir is a file": (["demo", "--out-dir", "{d}/a_file"], "is a file"),
}


@pytest.mark.parametrize("case", sorted(FAILING_CALLS))
def test_cli_failure_is_one_line_exit_2_and_no_partial_output(files, capsys, case):
    argv, match = FAILING_CALLS[case]
    before = sorted(p.name for p in files.rglob("*"))
    with pytest.raises(SystemExit) if case == "option syntax" else nullcontext() as exit_info:
        code = main(["-q", *[a.format(d=files) for a in argv]])
    code = exit_info.value.code if case == "option syntax" else code
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and match in err and "Traceback" not in err
    assert sorted(p.name for p in files.rglob("*")) == before


def test_cli_predict_failure_leaves_the_input_file_untouched(files, capsys):
    data = files / "in.h5ad"
    before = data.read_bytes()
    assert main(["-q", "predict", str(data), "--top-k", "0"]) == 2
    assert data.read_bytes() == before
