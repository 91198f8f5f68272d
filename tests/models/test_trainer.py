"""The shared trainer's within-TF ranking term (``ranking_weight``)."""

import numpy as np
import pytest
import torch

import grnlink as gl
from grnlink.models._trainer import within_tf_ranking_loss


def test_ranking_loss_counts_only_positive_negative_pairs_of_the_same_tf():
    logits = torch.tensor([2.0, 0.0, 5.0, -1.0])
    tf = torch.tensor([0, 0, 1, 1])
    label = torch.tensor([1.0, 0.0, 0.0, 1.0])
    # TF 0: positive 2.0 over negative 0.0; TF 1: positive -1.0 under negative 5.0; cross-TF pairs never count
    expected = (torch.nn.functional.softplus(torch.tensor(-2.0)) + torch.nn.functional.softplus(torch.tensor(6.0))) / 2
    assert torch.isclose(within_tf_ranking_loss(logits, tf, label), expected)


def test_ranking_loss_is_zero_without_a_same_tf_pair_and_keeps_the_graph():
    logits = torch.tensor([1.0, 3.0], requires_grad=True)
    loss = within_tf_ranking_loss(logits, torch.tensor([0, 1]), torch.tensor([1.0, 0.0]))
    assert float(loss) == 0.0
    loss.backward()  # a batch without such pairs still backpropagates (a zero gradient)
    assert torch.equal(logits.grad, torch.zeros(2))


def test_ranking_loss_falls_as_each_tfs_positives_move_above_its_negatives():
    tf, label = torch.tensor([0, 0, 0, 0]), torch.tensor([1.0, 1.0, 0.0, 0.0])
    wrong = within_tf_ranking_loss(torch.tensor([0.0, 0.0, 1.0, 1.0]), tf, label)
    right = within_tf_ranking_loss(torch.tensor([1.0, 1.0, 0.0, 0.0]), tf, label)
    assert right < wrong


@pytest.fixture(scope="module")
def small():
    return gl.ds.simulate(n_genes=120, n_tfs=12, n_cells=300, seed=0)


def _scores(adata, **options):
    fitted = adata.copy()
    gl.tl.grn_fit(fitted, fitted.uns["true_network"], model="two_tower", max_epochs=3, seed=1, **options)
    return gl.tl.grn_predict(fitted, inplace=False)["score"].to_numpy()


def test_ranking_weight_zero_is_the_plain_cross_entropy_and_a_positive_weight_changes_training(small):
    plain = _scores(small)
    np.testing.assert_array_equal(_scores(small, ranking_weight=0.0), plain)
    assert not np.allclose(_scores(small, ranking_weight=1.0), plain)


def test_a_negative_ranking_weight_is_refused_before_any_work(small):
    adata = small.copy()
    with pytest.raises(gl.InputError, match="ranking_weight"):
        gl.tl.grn_fit(adata, adata.uns["true_network"], model="two_tower", ranking_weight=-1.0)
    assert "grn" not in adata.uns
