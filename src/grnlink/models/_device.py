"""Where the models that train by gradient run their networks: ``device="cpu"``, ``"cuda"`` or ``"auto"``.

The device is a run-time choice, never part of a model: ``gl.tl`` checks the
user's value with :func:`resolve_device` before any work and runs the fit or
the scoring inside :func:`on_device`; the shared trainer
(:func:`~grnlink.models._trainer.train_module`,
:func:`~grnlink.models._trainer.predict_logits`) and
:class:`~grnlink.models.NeuralPredictor` read :func:`current_device` and move
the networks and each batch there. Networks are always built on the CPU (the
same initial weights whichever device trains them), their stored state is
always CPU numpy arrays, and scores come back as float64 numpy arrays. On the
CPU nothing moves and nothing else changes: a CPU fit gives the same scores
as before the device existed. Models that do not train by gradient (``pcc``,
``genie3``, ``degree_adjusted``, ``stack``'s meta-learner) never read it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal

import torch
from torch import nn

from .._validation import DEVICE, InputError

#: the values of ``device=``, as the signatures of ``grn_fit``, ``grn_tune`` and ``grn_predict`` type them
Device = Literal["cpu", "cuda", "auto"]
_CPU = torch.device("cpu")
_CURRENT: ContextVar[torch.device] = ContextVar("grnlink_device", default=_CPU)


def resolve_device(device: str) -> str:
    """``"cpu"`` or ``"cuda"`` for the user's ``device``; raises :class:`~grnlink.InputError` before any work.

    ``"auto"`` is ``"cuda"`` when :func:`torch.cuda.is_available`, else ``"cpu"``.
    ``"cuda"`` without a usable CUDA device raises, saying so and how to go on.

    Examples
    --------
    >>> from grnlink.models._device import resolve_device
    >>> resolve_device("cpu")
    'cpu'
    >>> resolve_device("gpu")
    Traceback (most recent call last):
    ...
    grnlink._validation.InputError: device='gpu' is not valid: device must be one of ['cpu', 'cuda', 'auto'].
    """
    DEVICE.check("device", device)
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise InputError(
            f"device='cuda' was requested, but torch {torch.__version__} sees no CUDA device "
            "(torch.cuda.is_available() is False: no GPU, no driver, or a CPU-only torch build). "
            "Use device='cpu', or device='auto' to take a GPU only where there is one."
        )
    return device


@contextmanager
def on_device(device: str) -> Iterator[torch.device]:
    """Run the fits and scorings inside on ``device`` (checked by :func:`resolve_device`); restored afterwards."""
    name = resolve_device(device)
    # a CUDA device with its index, as tensors report theirs: `move` then sees a module already there
    token = _CURRENT.set(torch.device("cuda", torch.cuda.current_device()) if name == "cuda" else _CPU)
    try:
        yield _CURRENT.get()
    finally:
        _CURRENT.reset(token)


def current_device() -> torch.device:
    """The device set by the innermost :func:`on_device` (the CPU outside any)."""
    return _CURRENT.get()


@contextmanager
def tensors_on(device: torch.device) -> Iterator[None]:
    """Inside, torch creates tensors on ``device`` when a call names none (``torch.arange(n)`` in a forward pass).

    A no-op on the CPU. Elsewhere it is :class:`torch.device` used as a
    context manager, so that the networks' forward passes need not name a device.
    """
    if device.type == "cpu":
        yield
        return
    with device:
        yield


def move(module: nn.Module, device: torch.device) -> nn.Module:
    """``module`` with every parameter and buffer on ``device`` (in place; nothing moves when already there)."""
    tensors = [*module.parameters(), *module.buffers()]
    if any(t.device != device for t in tensors):
        module.to(device)
    return module
