"""``expression_scaling``: how the neural models scale the principal components of per-cell expression."""

from __future__ import annotations

import numpy as np
import pytest

import grnlink as gl
from grnlink.models._neural import expression_components


@pytest.fixture(scope="module")
def z():
    rng = np.random.default_rng(0)
    loadings = rng.normal(size=(80, 3)) * np.array([5.0, 2.0, 1.0])  # three axes of falling strength
    profiles = loadings @ rng.normal(size=(3, 300)) + rng.normal(size=(80, 300))
    return ((profiles - profiles.mean(1, keepdims=True)) / profiles.std(1, keepdims=True)).astype(np.float32)


def test_component_scaling_gives_every_component_unit_variance(z):
    comps = expression_components(z, 10, "component")
    np.testing.assert_allclose(comps.std(axis=0), 1.0, rtol=1e-5)


def test_shared_scaling_keeps_the_components_relative_variances_and_correlation_geometry(z):
    comps = expression_components(z, 10, "shared")
    sd = comps.std(axis=0)
    assert np.mean(sd**2) == pytest.approx(1.0, rel=1e-5)
    assert sd[0] > 2 * sd[3]  # the leading axis stays louder than the noise axes
    correlation = z @ z.T / z.shape[1]
    off = ~np.eye(len(z), dtype=bool)
    shared = np.corrcoef((comps @ comps.T)[off], correlation[off])[0, 1]
    whitened = np.corrcoef((expression_components(z, 10) @ expression_components(z, 10).T)[off], correlation[off])[0, 1]
    assert shared > 0.95 > whitened  # dot products of shared-scale components track the genes' correlations


def test_the_option_reaches_the_network_inputs_and_is_checked(z):
    features = {"expression": z}
    inputs = {
        scaling: gl.models.get_model_class("dual_encoder")(expression_scaling=scaling).network_inputs(features, len(z))
        for scaling in ("component", "shared")
    }
    np.testing.assert_allclose(inputs["component"], expression_components(z, 50, "component"))
    np.testing.assert_allclose(inputs["shared"], expression_components(z, 50, "shared"))
    with pytest.raises(gl.InputError, match="expression_scaling"):
        gl.models.get_model_class("two_tower")(expression_scaling="whiten")
