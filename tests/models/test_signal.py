"""Models read the network from the expression, not only from the prior's structure.

On simulated data whose TF-target co-expression carries the network (``gl.ds.simulate`` at its default
``signal``), a third of each TF's edges is held out (``gl.bm.split``, per-TF protocol, test pairs excluded from
training). Each supervised model must then beat, on the held-out pairs, both the correlation baseline (``pcc``)
and the degree-only control by ``MARGIN`` per-TF AUROC; and refitted on the same data with each gene's values
permuted across cells (the expression no longer says anything about the network, the prior is unchanged), its
held-out AUROC must drop by ``DROP``. A model that ignores the expression shows no such drop: the last test checks
that the shuffle test would catch one.

Models measured below a bar are marked ``xfail(strict=True)`` with their numbers, so that the suite stays green
while the shortfall stays visible, and a model that starts clearing the bar fails the suite until its mark is
removed. Measured with the fast options of ``tests/conftest.py``; the models' default options give the same
picture on these data (two_tower 0.614, gnt 0.621, the other neural models 0.44-0.62, all below pcc's 0.716).
"""

from __future__ import annotations

import numpy as np
import pytest

import grnlink as gl

pytestmark = pytest.mark.slow  # every model fitted twice on 200 genes x 800 cells

DATA = {"n_genes": 200, "n_tfs": 20, "n_cells": 800, "n_celltypes": 6, "seed": 0}  # default signal
MARGIN = 0.05  # per-TF AUROC ahead of the better of pcc and the degree control
DROP = 0.1  # per-TF AUROC lost when the expression is shuffled
SUPERVISED = [name for name in gl.models.available_models() if gl.models.get_model_class(name).supervised]

# held-out per-TF AUROC on DATA with the fast options (pcc 0.716, degree control 0.403), shuffled in brackets
_MEASURED = {
    "cross_encoder": (0.554, 0.501),
    "dual_encoder": (0.549, 0.479),
    "two_tower": (0.573, 0.515),
    "scregnet": (0.441, 0.516),
    "sctransnet": (0.550, 0.469),
    "gnt": (0.649, 0.483),
    "genelink": (0.635, 0.633),
}
NOT_AHEAD = {name: f"{name} {auc:.3f}: not ahead of pcc (0.716) by {MARGIN}" for name, (auc, _) in _MEASURED.items()}
NO_DROP = {
    name: f"{name} {auc:.3f}, shuffled {shuffled:.3f}: drop below {DROP}"
    for name, (auc, shuffled) in _MEASURED.items()
    if auc - shuffled < DROP
}
STILL_CHANGING = {"genelink"}  # being written: its mark does not fail the suite when it starts to pass


def _marked(names: list[str], known: dict[str, str]) -> list:
    return [
        pytest.param(
            name,
            marks=pytest.mark.xfail(strict=name not in STILL_CHANGING, reason=f"known shortfall: {known[name]}"),
        )
        if name in known
        else name
        for name in names
    ]


class _HeldOut:
    """The data, its shuffled copy and one split; each (model, shuffled) fit is made once per module."""

    def __init__(self):
        self.adata = gl.ds.simulate(**DATA)
        random_embedding = np.random.default_rng(0).normal(size=(self.adata.n_vars, 16)).astype(np.float32)
        self.adata.varm["X_random"] = random_embedding  # identical in both copies: no expression in it
        self.shuffled = gl.bm.shuffle_expression(self.adata, seed=0)
        self.split = gl.bm.split(self.adata.uns["true_network"], self.adata.var_names, protocol="tf_matched", seed=0)
        self.degree = gl.bm.evaluate(self.split.test, gl.bm.degree_scores(self.split.prior, self.split.test))
        self._done: dict[tuple, float] = {}

    def auroc(self, model: str, options: dict, *, shuffled: bool = False, label: str = "") -> float:
        key = (label or model, shuffled)
        if key not in self._done:
            adata = self.shuffled if shuffled else self.adata
            split = self.split
            gl.tl.grn_fit(adata, split.prior, **split.fit_kwargs(), model=model, groupby="cell_type", seed=0, **options)
            scores = gl.tl.grn_predict(adata, pairs=split.test)["score"].to_numpy()
            self._done[key] = gl.bm.evaluate(split.test, scores)["tf_auroc"]
        return self._done[key]


@pytest.fixture(scope="module")
def held_out():
    return _HeldOut()


def test_the_data_carry_the_network_in_co_expression(held_out):
    pcc = held_out.auroc("pcc", {})
    degree = held_out.degree["tf_auroc"]
    print(f"pcc {pcc:.3f}, degree control {degree:.3f}")
    assert pcc >= 0.65  # measured 0.716
    assert pcc - degree >= 0.2  # measured 0.403: held-out targets have fewer training edges than non-targets
    assert held_out.auroc("pcc", {}, shuffled=True) < 0.6  # measured 0.525: the shuffle removes it


@pytest.mark.parametrize("model", _marked(SUPERVISED, NOT_AHEAD))
def test_model_beats_correlation_and_degree_on_held_out_edges(held_out, model_options, model):
    auroc = held_out.auroc(model, model_options[model])
    pcc, degree = held_out.auroc("pcc", {}), held_out.degree["tf_auroc"]
    print(f"{model}: per-TF AUROC {auroc:.3f}, pcc {pcc:.3f}, degree control {degree:.3f}")
    assert auroc >= max(pcc, degree) + MARGIN


@pytest.mark.parametrize("model", _marked(SUPERVISED, NO_DROP))
def test_model_loses_its_lead_when_the_expression_is_shuffled(held_out, model_options, model):
    auroc = held_out.auroc(model, model_options[model])
    shuffled = held_out.auroc(model, model_options[model], shuffled=True)
    print(f"{model}: per-TF AUROC {auroc:.3f}, shuffled expression {shuffled:.3f}")
    assert auroc - shuffled >= DROP


def test_shuffle_test_catches_a_model_that_ignores_the_expression(held_out):
    # cross_encoder on a random gene embedding only: the expression never reaches it, so shuffling changes nothing
    options = {"features": ("embedding",), "embedding_key": "X_random", "n_ensemble": 1, "max_epochs": 12}
    auroc = held_out.auroc("cross_encoder", options, label="blind")
    shuffled = held_out.auroc("cross_encoder", options, shuffled=True, label="blind")
    print(f"expression-blind cross_encoder: per-TF AUROC {auroc:.3f}, shuffled expression {shuffled:.3f}")
    assert auroc - shuffled < DROP  # the assertion of the test above fails for it
    assert auroc < held_out.auroc("pcc", {}) + MARGIN  # and so does the one before
