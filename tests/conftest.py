"""Shared fixtures: a seeded random generator, never global seeding."""

import numpy as np
import pytest


@pytest.fixture
def rng(request):
    """A ``numpy.random.Generator`` seeded from the test's name, so that every test draws
    its own reproducible stream and adding a test never changes another's data."""
    seed = sum(ord(c) * (i + 1) for i, c in enumerate(request.node.name))
    return np.random.default_rng(seed)
