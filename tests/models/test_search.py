import optuna
import pytest

import grnlink as gl
from grnlink.models._search import check_search_space, suggest_options, trial_params


@pytest.mark.parametrize("name", gl.models.available_models())
def test_every_search_space_is_well_formed_and_holds_the_defaults(name):
    cls = gl.models.get_model_class(name)
    check_search_space(cls)
    if issubclass(cls, gl.models.NeuralPredictor):
        assert cls.search_space, f"{name} is a trained network but declares nothing to tune"


def test_suggestions_map_labels_back_to_declared_values():
    space = {
        "hidden": ("categorical", [(128,), (256, 128)]),
        "max_features": ("categorical", ["sqrt", None]),
        "d": ("categorical", [64, 128]),
        "lr": ("float", 1e-4, 1e-2, "log"),
        "n_layers": ("int", 1, 3),
    }
    options = {"hidden": (256, 128), "max_features": None, "d": 128, "lr": 3e-3, "n_layers": 2}
    stored = trial_params(options, space)
    assert stored == {"hidden": "[256, 128]", "max_features": "null", "d": 128, "lr": 3e-3, "n_layers": 2}
    assert suggest_options(optuna.trial.FixedTrial(stored), space) == options


class _Spaced(gl.models.PCC):
    defaults = {"alpha": 1.0, "kind": "a"}


@pytest.mark.parametrize(
    ("space", "message"),
    [
        ({"beta": ("float", 0.1, 2.0)}, "not an option"),
        ({"alpha": ("uniform", 0.1, 2.0)}, "first item"),
        ({"alpha": ("float", 2.0, 0.1)}, "low, high"),
        ({"alpha": ("float", 0.0, 2.0, "log")}, "low > 0"),
        ({"alpha": ("float", 2.0, 4.0)}, "does not hold the default"),
        ({"kind": ("categorical", [])}, "at least one choice"),
        ({"kind": ("categorical", ["a", "a"])}, "repeats"),
    ],
)
def test_malformed_search_spaces_raise(monkeypatch, space, message):
    monkeypatch.setattr(_Spaced, "search_space", space)
    with pytest.raises(gl.InputError, match=message):
        check_search_space(_Spaced)
