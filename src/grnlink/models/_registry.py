"""The one registry of link predictors: ``model=NAME`` resolves here."""

from __future__ import annotations

from .._validation import InputError
from ._base import LinkPredictor

MODELS: dict[str, type[LinkPredictor]] = {}


def register(cls: type[LinkPredictor]) -> type[LinkPredictor]:
    """Class decorator adding a predictor to :data:`MODELS` under ``cls.name``."""
    if not cls.name or cls.name in MODELS:
        raise ValueError(f"predictor name {cls.name!r} is empty or taken")
    MODELS[cls.name] = cls
    return cls


def get_model_class(name: str) -> type[LinkPredictor]:
    """The predictor class registered as ``name``; an unknown name lists the valid ones."""
    if not isinstance(name, str) or name not in MODELS:
        raise InputError(f"model={name!r} is not a grnlink model. Valid names: {sorted(MODELS)}.")
    return MODELS[name]


def available_models() -> list[str]:
    """Names accepted by ``gl.tl.grn_fit(..., model=...)``."""
    return sorted(MODELS)
