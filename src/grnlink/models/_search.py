"""Search spaces: a model's declared ``search_space`` checked and turned into Optuna suggestions.

The format (see :attr:`LinkPredictor.search_space`) is a dict from option name
to ``("float", low, high[, "log"])``, ``("int", low, high[, "log"])`` or
``("categorical", [choice, ...])``. Optuna only stores ``None``, bools,
numbers and strings, so a categorical whose choices are not all of one such
type (tuples of layer widths, ``"sqrt"`` beside ``None``) is searched over
string labels (the choice itself for a string, its JSON text otherwise) and
mapped back to the declared value.
"""

from __future__ import annotations

import json
from typing import Any

from .._validation import InputError
from ._base import LinkPredictor

SPACE_KINDS = ("float", "int", "categorical")
_PLAIN_TYPES = (bool, int, float, str)


def choice_label(choice: Any) -> str:
    """The string a categorical choice is stored under when its choices need labels."""
    return choice if isinstance(choice, str) else json.dumps(choice)


def _labelled(choices: list | tuple) -> bool:
    """True when the choices are not all of one plain type (bool, int, float or str)."""
    kinds = {type(c) for c in choices}
    return len(kinds) != 1 or not issubclass(kinds.pop(), _PLAIN_TYPES)


def trial_choices(choices: list | tuple) -> list:
    """The choices as Optuna sees them: as declared, or as labels (see :func:`choice_label`)."""
    return [choice_label(c) for c in choices] if _labelled(choices) else list(choices)


def _check_entry(model: str, option: str, spec: Any) -> None:
    where = f"{model}.search_space[{option!r}]"
    if not isinstance(spec, tuple) or not spec or spec[0] not in SPACE_KINDS:
        raise InputError(f"{where} = {spec!r}; each entry is a tuple whose first item is one of {SPACE_KINDS}.")
    if spec[0] == "categorical":
        if len(spec) != 2 or not isinstance(spec[1], list | tuple) or not spec[1]:
            raise InputError(f"{where} = {spec!r}; write ('categorical', [choice, ...]) with at least one choice.")
        if len(set(trial_choices(spec[1]))) != len(spec[1]):
            raise InputError(f"{where} repeats a choice; list each choice once.")
        return
    numeric = int if spec[0] == "int" else (int, float)
    bounds_ok = len(spec) in (3, 4) and all(isinstance(b, numeric) and not isinstance(b, bool) for b in spec[1:3])
    if not bounds_ok or not spec[1] < spec[2] or (len(spec) == 4 and spec[3] != "log"):
        raise InputError(f"{where} = {spec!r}; write ({spec[0]!r}, low, high) or ({spec[0]!r}, low, high, 'log').")
    if len(spec) == 4 and spec[1] <= 0:
        raise InputError(f"{where} = {spec!r}; a log-scale range needs low > 0.")


def _contains(spec: tuple, value: Any) -> bool:
    if spec[0] == "categorical":
        return choice_label(value) in {choice_label(c) for c in spec[1]}
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return spec[1] <= value <= spec[2] and (spec[0] == "float" or float(value).is_integer())


def check_search_space(cls: type[LinkPredictor]) -> None:
    """Raise :class:`InputError` unless ``cls.search_space`` is well formed, names options and holds the defaults."""
    for option, spec in cls.search_space.items():
        if option not in cls.defaults:
            raise InputError(
                f"{cls.name}.search_space names {option!r}, which is not an option; options: {sorted(cls.defaults)}."
            )
        _check_entry(cls.name, option, spec)
        if not _contains(spec, cls.defaults[option]):
            raise InputError(
                f"{cls.name}.search_space[{option!r}] = {spec!r} does not hold the default "
                f"{cls.defaults[option]!r}; widen it so that tuning can keep the default."
            )


def suggest_options(trial: Any, space: dict[str, tuple]) -> dict[str, Any]:
    """Model options for one Optuna ``trial``: one suggestion per entry of ``space``, labels mapped back."""
    options = {}
    for option, spec in space.items():
        if spec[0] == "categorical":
            labels = trial_choices(spec[1])
            picked = trial.suggest_categorical(option, labels)
            options[option] = spec[1][labels.index(picked)]
        else:
            suggest = trial.suggest_float if spec[0] == "float" else trial.suggest_int
            options[option] = suggest(option, spec[1], spec[2], log=len(spec) == 4)
    return options


def trial_params(options: dict[str, Any], space: dict[str, tuple]) -> dict[str, Any]:
    """The inverse of :func:`suggest_options`: options as Optuna stores them (e.g. for ``enqueue_trial``)."""
    out = {}
    for option, value in options.items():
        spec = space[option]
        if spec[0] == "categorical":
            labels = [choice_label(c) for c in spec[1]]
            value = trial_choices(spec[1])[labels.index(choice_label(value))]
        out[option] = value
    return out
