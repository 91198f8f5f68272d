"""Every model declares a rule for each option; a wrong option value is named before any work."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import grnlink as gl
from grnlink.models import MODELS


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_registered_model_declares_a_schema_rule_for_each_option(name):
    cls = MODELS[name]
    undeclared = sorted(set(cls.defaults) - set(cls.schema))
    assert not undeclared, f"{cls.__name__}.schema lacks rules for {undeclared}: declare them beside `defaults`"
    assert set(cls.schema) == set(cls.defaults), f"{cls.__name__}.schema has rules for options it does not have"
    for option, value in cls.defaults.items():
        assert cls.schema[option].test(value), f"{cls.__name__}'s default {option}={value!r} breaks its own rule"
    cls()  # the defaults build


@pytest.mark.parametrize(
    ("model", "option", "value", "allowed"),
    [
        ("dual_encoder", "max_epochs", 0, "positive integer"),
        ("dual_encoder", "max_epochs", "5", "positive integer"),
        ("dual_encoder", "lr", -1.0, "> 0"),
        ("dual_encoder", "n_ensemble", 0, "positive integer"),
        ("dual_encoder", "hidden", [0], "list of positive integers"),
        ("dual_encoder", "hidden", 5, "list of positive integers"),
        ("dual_encoder", "batch_size", 1, ">= 2"),
        ("dual_encoder", "expression_pcs", 0, "positive integer (1, 2, ...) or None"),
        ("dual_encoder", "entities", "tf", "list or tuple"),
        ("two_tower", "dropout", 1.5, "[0, 1)"),
        ("two_tower", "tau", float("nan"), "> 0"),
        ("cross_encoder", "interaction", "no", "True or False"),
        ("scregnet", "gnn", "gin", "one of"),
        ("sctransnet", "heads", 0, "positive integer"),
        ("gnt", "svm_c", 0, "> 0"),
        ("genie3", "max_features", 0, "'sqrt'"),
    ],
)
def test_a_wrong_option_names_the_option_the_value_and_what_is_allowed(adata, truth, model, option, value, allowed):
    with pytest.raises(gl.InputError, match=f"{option}=") as err:
        gl.tl.grn_fit(adata, truth, model=model, **{option: value})
    assert allowed in str(err.value) and repr(value) in str(err.value) and repr(model) in str(err.value)
    assert "grn" not in adata.uns


OPTION_VALUES = st.none() | st.booleans() | st.integers(-3, 300) | st.floats() | st.text(max_size=4)
OPTION_VALUES |= st.lists(st.integers(-2, 300) | st.sampled_from(["tf", "gene"]), max_size=3)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(MODELS)), st.data())
def test_any_option_value_builds_the_model_or_raises_input_error(name, data):
    cls = MODELS[name]
    if not cls.defaults:
        return
    option = data.draw(st.sampled_from(sorted(cls.defaults)))
    value = data.draw(OPTION_VALUES)
    try:
        model = cls(**{option: value})
    except gl.InputError as err:
        assert option in str(err)
    else:
        assert cls.schema[option].test(value)
        assert model.params[option] == value


@pytest.mark.parametrize("name", ["cross_encoder", "dual_encoder", "two_tower"])
def test_an_encoder_with_one_identity_role_and_no_features_is_refused_in_the_same_words(name):
    import torch

    model = MODELS[name](entities=("tf",))
    with pytest.raises(gl.InputError, match=f"with no feature group, {name} needs identity embeddings for both roles"):
        model.build(torch.zeros((6, 0)), 6)
    model = MODELS[name](entities=("tf", "gene"))
    assert model.build(torch.zeros((6, 0)), 6)(torch.tensor([0, 1]), torch.tensor([2, 3])).shape == (2,)


def test_scregnet_network_choices_go_through_the_shared_rule():
    from grnlink.models.scregnet import PAIR_MODES, check_choice

    with pytest.raises(gl.InputError, match=r"pair='sum' is not valid for model 'scregnet': pair must be one of"):
        check_choice("pair", "sum", PAIR_MODES)
    check_choice("pair", PAIR_MODES[0], PAIR_MODES)
