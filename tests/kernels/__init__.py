"""Tests of the numba kernels, called through the registry's entry points."""
