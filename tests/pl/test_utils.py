"""Behaviour every plot shares: ax=, show= and save= as in scanpy."""

import warnings

import matplotlib.pyplot as plt
import pytest
import scanpy as sc

import grnlink as gl
from grnlink.pl._utils import save_path, show_or_save

PLOTS = {
    "roc_curve": lambda adata, split, **kw: gl.pl.roc_curve(adata, split.test, key="held", **kw),
    "pr_curve": lambda adata, split, **kw: gl.pl.pr_curve(adata, split.test, key="held", **kw),
    "network": lambda adata, split, **kw: gl.pl.network(adata, "TF001", top_k=5, **kw),
    "training": lambda adata, split, **kw: gl.pl.training(adata, **kw),
    "scores": lambda adata, split, **kw: gl.pl.scores(adata, **kw),
    "calibration": lambda adata, split, **kw: gl.pl.calibration(adata, **kw),
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


def test_save_string_is_a_suffix_and_a_known_ending_the_format(fitted, split, figdir):
    gl.pl.scores(fitted, show=False, save="_mine.pdf")
    gl.pl.scores(fitted, show=False, save="_held_out")
    assert (figdir / "scores_mine.pdf").is_file() and (figdir / "scores_held_out.png").is_file()


SAVE_VALUES = [True, "_v2", "_v2.svg", "x.png", ".pdf", "fig.jpg", False]


@pytest.mark.parametrize("save", SAVE_VALUES, ids=str)
def test_save_writes_the_file_scanpy_writes(save, tmp_path):
    from scanpy.plotting._utils import savefig_or_show

    old = sc.settings.figdir, sc.settings.file_format_figs, sc.settings.plot_suffix
    written = {}
    try:
        for who in ("scanpy", "grnlink"):
            sc.settings.figdir, sc.settings.file_format_figs, sc.settings.plot_suffix = tmp_path / who, "png", "_sfx"
            fig, ax = plt.subplots()
            ax.plot([0, 1], [0, 1])
            if who == "scanpy":
                savefig_or_show("roc_curve", show=False, save=save)
            else:
                show_or_save(ax, "roc_curve", show=False, save=save)
            written[who] = sorted(p.name for p in (tmp_path / who).glob("*")) if (tmp_path / who).exists() else []
            assert plt.fignum_exists(fig.number) is (not written[who])  # closed when saved, as scanpy does
            plt.close(fig)
    finally:
        sc.settings.figdir, sc.settings.file_format_figs, sc.settings.plot_suffix = old
    assert written["grnlink"] == written["scanpy"]
    assert bool(written["grnlink"]) is (save is not False)


def test_save_none_follows_scanpy_autosave(fitted, figdir):
    old = sc.settings.autosave
    sc.settings.autosave = True
    try:
        gl.pl.scores(fitted, show=False)
    finally:
        sc.settings.autosave = old
    assert (figdir / "scores.png").is_file()
    assert save_path("scores", None) is None  # autosave is off again


def test_save_path_follows_scanpy_settings(figdir):
    assert save_path("roc_curve", None) is None and save_path("roc_curve", False) is None
    assert save_path("roc_curve", True) == figdir / "roc_curve.png"
    assert save_path("roc_curve", "_fig.svg") == figdir / "roc_curve_fig.svg"
    assert save_path("roc_curve", "_v2") == figdir / "roc_curve_v2.png"
    with pytest.raises(gl.InputError, match="save must be"):
        save_path("roc_curve", 3)


def test_shown_plot_returns_none(fitted):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Agg cannot show
        assert gl.pl.scores(fitted, show=True) is None


def test_show_none_follows_scanpy_autoshow(fitted, no_autoshow):
    assert not sc.settings.autoshow
    assert gl.pl.scores(fitted) is not None
