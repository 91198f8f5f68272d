import subprocess
import sys

import anndata as ad
import pandas as pd
import pytest

from grnlink._cli import main


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
    assert "two_tower" in result.stdout and "pcc" in result.stdout and "degree control" in result.stdout
    assert (tmp_path / "grnlink_demo.h5ad").exists() and (tmp_path / "grnlink_demo_pr.png").exists()
