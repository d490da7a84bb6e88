"""Input generators shared by the tests: edge-probing coordinates and pixmaps."""

import numpy as np


def edge_values(n):
    """Coordinates that probe an axis of length ``n``: exactly 0, the last pixel, half a
    pixel before the end, just below ``n`` (in float32), negative, at and beyond the end."""
    below = float(np.nextafter(np.float32(n), np.float32(0)))
    return [0.0, -0.0, 0.25, 0.5, 1.0, n - 1.0, n - 0.5, n - 0.25, below, float(n), n + 0.25,
            -1e-6, -0.5, -3.0, n + 4.0, np.inf, -np.inf]


def affine_pixmap(shape_out, centre, scale, angle, distortion=0.0, phase=0.0):
    """A rotated, scaled, optionally distorted pixmap ``(ny, nx, 2)`` of float64 ``(x, y)``
    centred on ``centre`` (``(x, y)``)."""
    ny, nx = shape_out
    oy, ox = np.mgrid[0:ny, 0:nx].astype(np.float64)
    u = ox - (nx - 1) / 2
    v = oy - (ny - 1) / 2
    c, s = np.cos(angle), np.sin(angle)
    x = centre[0] + scale * (c * u - s * v) + distortion * np.sin(0.37 * v + phase)
    y = centre[1] + scale * (s * u + c * v) + distortion * np.cos(0.29 * u - phase)
    return np.dstack([x, y])


def probe_edges(pixmap, shape, fraction, rng):
    """Replace about ``fraction`` of the coordinates by edge probes (each axis drawn
    independently from :func:`edge_values` or uniformly on the axis)."""
    pixmap = pixmap.copy()
    height, width = shape
    hit = rng.random(pixmap.shape[:2]) < fraction
    count = int(hit.sum())
    for axis, n in ((0, width), (1, height)):
        probes = np.asarray(edge_values(n))[rng.integers(0, len(edge_values(n)), count)]
        uniform = rng.uniform(0, n, count)
        use_probe = rng.random(count) < 0.6
        pixmap[hit, axis] = np.where(use_probe, probes, uniform)
    return pixmap


def grid_floats(low, high):
    """Floats in ``[low, high]`` on a ``2**-24`` grid.

    Fine enough for any sub-pixel position, and never so close to zero that a kernel's
    ``u * u`` underflows: that bug (high-precision Lanczos divides by zero) has its own test
    in tests/kernels/test_lanczos.py, and would otherwise mask what these tests check.
    """
    from hypothesis import strategies as st

    scale = 2**24
    return st.integers(int(np.ceil(low * scale)), int(np.floor(high * scale))).map(
        lambda k: k / scale
    )
