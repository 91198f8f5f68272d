"""The one training loop every neural predictor uses.

Mini-batch Adam on binary cross-entropy over labelled TF-gene pairs, with
early stopping on the validation pairs (AUROC when both classes are present,
loss otherwise) and the best weights restored at the end. Models only define
their network; they never write a loop of their own.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from torch import nn
from tqdm.auto import tqdm

from .._metrics import has_both_classes
from .._pairs import PairSet
from .._settings import progress_disabled
from .._validation import NON_NEGATIVE_NUMBER, POSITIVE_INT, POSITIVE_NUMBER, int_at_least, number_in, optional
from ._device import current_device, move, tensors_on

TRAINER_DEFAULTS: dict[str, Any] = {
    "lr": 1e-3,
    "weight_decay": 0.0,
    "batch_size": 256,
    "max_epochs": 100,
    "patience": 10,
    "epoch_pairs": 16_384,
    "lr_decay": None,
    "ranking_weight": 0.0,
}
TRAINER_SCHEMA = {
    "lr": POSITIVE_NUMBER,
    "weight_decay": NON_NEGATIVE_NUMBER,
    "batch_size": int_at_least(2),  # batch norm cannot train on a single pair
    "max_epochs": POSITIVE_INT,
    "patience": POSITIVE_INT,
    "epoch_pairs": int_at_least(2),
    "lr_decay": optional(number_in(0, 1, low_open=True, high_open=False)),  # (0, 1] or None
    "ranking_weight": NON_NEGATIVE_NUMBER,
}

# ranges that hold every neural model's default learning rate and (non-zero) L2 penalty; see LinkPredictor.search_space
TRAINER_SEARCH_SPACE: dict[str, tuple] = {
    "lr": ("float", 1e-4, 1e-2, "log"),
    "weight_decay": ("float", 1e-6, 1e-2, "log"),
}


def epoch_orders(n: int, epoch_pairs: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """Positions of the training pairs each epoch visits, in order: endless.

    With ``n <= epoch_pairs`` every epoch is a fresh permutation of all pairs.
    Otherwise an epoch takes the next ``epoch_pairs`` of a permutation, drawing
    a new one when it runs out, so every pair is visited once per ``n`` pairs.
    """
    if n <= epoch_pairs:
        while True:
            yield torch.randperm(n, generator=generator)
    order, cursor = torch.randperm(n, generator=generator), 0
    while True:
        parts, needed = [], epoch_pairs
        while needed:
            if cursor == n:
                order, cursor = torch.randperm(n, generator=generator), 0
            taken = order[cursor : cursor + needed]
            parts.append(taken)
            cursor += len(taken)
            needed -= len(taken)
        yield torch.cat(parts)


def _as_tensors(pairs: PairSet) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return torch.from_numpy(pairs.tf), torch.from_numpy(pairs.gene), torch.from_numpy(pairs.label)


@torch.no_grad()
def predict_logits(
    module: nn.Module,
    tf: np.ndarray,
    gene: np.ndarray,
    batch_size: int = 16384,
    *,
    device: torch.device | str | None = None,
) -> np.ndarray:
    """Logits of ``module`` for the pairs, in eval mode and in batches, as a float64 numpy array.

    ``module`` and each batch are moved to ``device`` (default: the one set by
    :func:`~grnlink.models._device.on_device`, the CPU outside it); the logits come back to the CPU.
    """
    device = current_device() if device is None else torch.device(device)
    move(module, device).eval()
    out = np.empty(len(tf), dtype=np.float64)
    for start in range(0, len(tf), batch_size):
        stop = start + batch_size
        tf_t = torch.from_numpy(np.asarray(tf[start:stop], dtype=np.int64)).to(device)
        gene_t = torch.from_numpy(np.asarray(gene[start:stop], dtype=np.int64)).to(device)
        with tensors_on(device):
            out[start:stop] = module(tf_t, gene_t).double().cpu().numpy()
    return out


def _validation_metrics(module: nn.Module, val: PairSet, device: torch.device) -> tuple[float, float]:
    logits = predict_logits(module, val.tf, val.gene, device=device)
    loss = nn.functional.binary_cross_entropy_with_logits(
        torch.from_numpy(logits), torch.from_numpy(val.label.astype(np.float64))
    ).item()
    both_classes = has_both_classes(val.label)
    auroc = float(roc_auc_score(val.label, logits)) if both_classes else float("nan")
    return loss, auroc


def within_tf_ranking_loss(logits: torch.Tensor, tf: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
    """Mean ``softplus(s_neg - s_pos)`` over the batch's (positive, negative) pairs of the same TF (RankNet).

    The per-TF AUROC counts exactly these pairs ranked wrongly; pairs of
    different TFs never enter, so a TF's number of targets cannot lower it.
    Zero when the batch holds no such pair.
    """
    positive = label > 0.5
    same_tf = tf[:, None] == tf[None, :]
    ordered = same_tf & positive[:, None] & ~positive[None, :]
    if not bool(ordered.any()):
        return logits.sum() * 0.0
    margins = logits[None, :] - logits[:, None]  # [i, j]: s_j - s_i, for positive i and negative j
    return nn.functional.softplus(margins[ordered]).mean()


def train_module(
    module: nn.Module,
    train: PairSet,
    val: PairSet,
    *,
    seed: int,
    lr: float,
    weight_decay: float,
    batch_size: int,
    max_epochs: int,
    patience: int,
    epoch_pairs: int,
    lr_decay: float | None = None,
    ranking_weight: float = 0.0,
    desc: str = "training",
    device: torch.device | str | None = None,
) -> dict[str, Any]:
    """Train ``module`` (``module(tf, gene) -> logits``) in place and return its history.

    Parameters
    ----------
    module
        Network mapping TF and gene position tensors to one logit per pair.
    train, val
        Labelled pairs. With no validation pairs the loop runs ``max_epochs``.
    seed
        Seeds batch order and dropout; the caller's global torch RNG is left as it was.
    lr, weight_decay
        Adam learning rate and L2 penalty.
    batch_size, max_epochs, patience
        Mini-batch size, epoch cap and epochs without validation improvement before stopping.
    epoch_pairs
        Training pairs per epoch at most (:func:`epoch_orders`): on a large
        training set, validation and early stopping come every ``epoch_pairs``
        pairs instead of only after all of them.
    lr_decay
        Multiply the learning rate by this factor after every optimiser step
        (:class:`torch.optim.lr_scheduler.ExponentialLR` stepped per batch, as
        GENELink trains); ``None`` keeps it constant.
    ranking_weight
        Add this times :func:`within_tf_ranking_loss` (each TF's positives
        against its own negatives in the batch) to the binary cross-entropy;
        0 trains on the cross-entropy alone.
    device
        Where to train: ``module`` and the pairs are moved there (default: the
        device set by :func:`~grnlink.models._device.on_device`, the CPU
        outside it). ``module`` stays there afterwards. On the CPU the loop is
        unchanged; elsewhere the batch order is drawn on the CPU as always,
        dropout draws from that device's generator.

    Returns
    -------
    ``{"loss", "val_loss", "val_auroc"}`` per epoch (numpy arrays), ``best_epoch`` and ``n_epochs``.
    """
    device = current_device() if device is None else torch.device(device)
    move(module, device)
    tf_all, gene_all, label_all = (t.to(device) for t in _as_tensors(train))
    n = len(train)
    history: dict[str, list[float]] = {"loss": [], "val_loss": [], "val_auroc": []}
    best_score, best_epoch, best_state, waited = -np.inf, 0, None, 0
    use_auroc = has_both_classes(val.label)
    with torch.random.fork_rng(devices=[] if device.type == "cpu" else [device]):
        torch.manual_seed(seed)
        order_rng = torch.Generator().manual_seed(seed)
        optimiser = torch.optim.Adam(module.parameters(), lr=lr, weight_decay=weight_decay)
        scheduler = None if lr_decay is None else torch.optim.lr_scheduler.ExponentialLR(optimiser, gamma=lr_decay)
        orders = epoch_orders(n, epoch_pairs, order_rng)
        bar = tqdm(range(max_epochs), desc=desc, disable=progress_disabled(), leave=False, mininterval=0.5)
        for epoch in bar:
            module.train()
            order = next(orders).to(device)
            total = 0.0
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                if len(idx) < 2:  # batch norm cannot train on a single pair
                    continue
                optimiser.zero_grad()
                with tensors_on(device):  # forward passes that make tensors make them on the device
                    logits = module(tf_all[idx], gene_all[idx])
                    loss = nn.functional.binary_cross_entropy_with_logits(logits, label_all[idx])
                    if ranking_weight:
                        loss = loss + ranking_weight * within_tf_ranking_loss(logits, tf_all[idx], label_all[idx])
                loss.backward()
                optimiser.step()
                if scheduler is not None:
                    scheduler.step()
                total += loss.item() * len(idx)
            history["loss"].append(total / max(len(order), 1))
            if len(val) == 0:
                best_epoch = epoch
                continue
            val_loss, val_auroc = _validation_metrics(module, val, device)
            history["val_loss"].append(val_loss)
            history["val_auroc"].append(val_auroc)
            bar.set_postfix(loss=f"{history['loss'][-1]:.3f}", val_auroc=f"{val_auroc:.3f}", refresh=False)
            score = val_auroc if use_auroc else -val_loss
            if score > best_score:
                best_score, best_epoch, waited = score, epoch, 0
                best_state = copy.deepcopy(module.state_dict())
            else:
                waited += 1
                if waited >= patience:
                    break
        bar.close()
    if best_state is not None:
        module.load_state_dict(best_state)
    module.eval()
    out: dict[str, Any] = {k: np.asarray(v, dtype=np.float64) for k, v in history.items()}
    out["best_epoch"] = int(best_epoch)
    out["n_epochs"] = len(history["loss"])
    return out
