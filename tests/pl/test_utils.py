"""Behaviour every plot shares: ax=, show= and save= as in scanpy."""

import warnings

import matplotlib.pyplot as plt
import pytest
import scanpy as sc

import grnlink as gl
from grnlink.pl._utils import save_path

PLOTS = {
    "roc_curve": lambda adata, split, **kw: gl.pl.roc_curve(adata, split.test, key="held", **kw),
    "pr_curve": lambda adata, split, **kw: gl.pl.pr_curve(adata, split.test, key="held", **kw),
    "network": lambda adata, split, **kw: gl.pl.network(adata, "TF001", top_k=5, **kw),
    "training": lambda adata, split, **kw: gl.pl.training(adata, **kw),
    "scores": lambda adata, split, **kw: gl.pl.scores(adata, **kw),
}


@pytest.mark.parametrize("name", PLOTS)
def test_plot_saves_under_its_name_in_figdir_and_returns_the_axes(name, fitted, split, figdir):
    ax = PLOTS[name](fitted, split, show=False, save=True)
    assert (figdir / f"{name}.png").stat().st_size > 0
    assert ax is not None and ax.has_data()


@pytest.mark.parametrize("name", PLOTS)
def test_plot_draws_into_given_axes(name, fitted, split):
    _, ax = plt.subplots()
    assert PLOTS[name](fitted, split, ax=ax, show=False) is ax
    assert ax.has_data()


def test_save_with_extension_or_suffix(fitted, split, figdir):
    gl.pl.scores(fitted, show=False, save="mine.pdf")
    gl.pl.scores(fitted, show=False, save="_held_out")
    assert (figdir / "mine.pdf").is_file() and (figdir / "scores_held_out.png").is_file()


def test_save_path_follows_scanpy_settings(figdir):
    assert save_path("roc_curve", None) is None and save_path("roc_curve", False) is None
    assert save_path("roc_curve", True) == figdir / "roc_curve.png"
    assert save_path("roc_curve", "fig.svg") == figdir / "fig.svg"
    assert save_path("roc_curve", "_v2") == figdir / "roc_curve_v2.png"


def test_shown_plot_returns_none(fitted):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Agg cannot show
        assert gl.pl.scores(fitted, show=True) is None


def test_show_none_follows_scanpy_autoshow(fitted, no_autoshow):
    assert not sc.settings.autoshow
    assert gl.pl.scores(fitted) is not None
