"""Slow, obviously correct reference implementations, one point at a time.

Everything here is plain Python and numpy in float64, written from the
definitions rather than from the kernels: no tables, no stencil tricks, no
drizzle quirks. ``blot`` applies any of them to a whole pixmap.
"""

import math

import numpy as np

SINC_TAPS = 7
SINC_A2 = -0.49670
SINC_A4 = 0.03705
SINC_EXACT = 1e-3


def nearest(data, x, y):
    """The pixel nearest ``(x, y)``; a coordinate that rounds past the edge takes the edge."""
    height, width = data.shape
    return float(data[min(int(y + 0.5), height - 1), min(int(x + 0.5), width - 1)])


def linear(data, x, y):
    """Bilinear interpolation; on the last row/column only along the other axis."""
    height, width = data.shape
    ix, iy = int(x), int(y)
    sx, sy = x - ix, y - iy
    ix1, iy1 = min(ix + 1, width - 1), min(iy + 1, height - 1)
    if ix == width - 1:
        sx = 0.0
    if iy == height - 1:
        sy = 0.0
    return float(
        (1 - sx) * (1 - sy) * data[iy, ix]
        + sx * (1 - sy) * data[iy, ix1]
        + (1 - sx) * sy * data[iy1, ix]
        + sx * sy * data[iy1, ix1]
    )


def odd_extension(data, row, col):
    """``data`` continued past every edge by odd reflection, first along rows, then columns.

    ``d[-k] = 2 d[0] - d[k]`` and ``d[N-1+k] = 2 d[N-1] - d[N-1-k]`` on each axis.
    """
    height, width = data.shape

    def along_row(r, c):
        if c < 0:
            return 2.0 * data[r, 0] - data[r, -c]
        if c >= width:
            return 2.0 * data[r, width - 1] - data[r, 2 * width - 2 - c]
        return float(data[r, c])

    if row < 0:
        return 2.0 * along_row(0, col) - along_row(-row, col)
    if row >= height:
        return 2.0 * along_row(height - 1, col) - along_row(2 * height - 2 - row, col)
    return along_row(row, col)


def lagrange_weights(s, nodes):
    """Weights of the Lagrange polynomial through ``nodes``, evaluated at ``s``."""
    weights = []
    for k, nk in enumerate(nodes):
        w = 1.0
        for m, nm in enumerate(nodes):
            if m != k:
                w *= (s - nm) / (nk - nm)
        weights.append(w)
    return weights


def poly(data, x, y, order):
    """The unique polynomial of degree ``order`` (3 or 5) per axis through the
    ``order + 1`` pixels around ``(x, y)``, with odd reflection past every edge."""
    half = (order - 1) // 2
    nodes = list(range(-half, half + 2))
    ix, iy = math.floor(x), math.floor(y)
    wx = lagrange_weights(x - ix, nodes)
    wy = lagrange_weights(y - iy, nodes)
    total = 0.0
    for b, nb in enumerate(nodes):
        for a, na in enumerate(nodes):
            total += wy[b] * wx[a] * odd_extension(data, iy + nb, ix + na)
    return total


def lanczos_kernel(u, order):
    """``L(u) = sinc(u) sinc(u / order)`` for ``|u| < order``, else 0."""
    if abs(u) >= order:
        return 0.0
    return float(np.sinc(u) * np.sinc(u / order))


def lanczos(data, x, y, order):
    """Exact Lanczos sum over pixels ``floor(v) - order + 1 .. floor(v) + order`` on the
    image, weights not renormalised."""
    height, width = data.shape
    ix, iy = math.floor(x), math.floor(y)
    total = 0.0
    for q in range(max(iy - order + 1, 0), min(iy + order, height - 1) + 1):
        for p in range(max(ix - order + 1, 0), min(ix + order, width - 1) + 1):
            total += data[q, p] * lanczos_kernel(x - p, order) * lanczos_kernel(y - q, order)
    return total


def sinc_taper(k):
    """``T(k) = (-1)^k (1 + a2 z + a4 z^2)^2`` with ``z = (pi k / 14)^2``."""
    z = (math.pi * k / (2 * SINC_TAPS)) ** 2
    return (-1.0) ** abs(k) * (1.0 + SINC_A2 * z + SINC_A4 * z * z) ** 2


def sinc_axis(v, sinscl):
    """Nearest pixel ``n`` and the weights of pixels ``n - 7 .. n + 7`` along one axis."""
    n = math.floor(v + 0.5)
    sd = sinscl * (v - n)
    taps = range(-SINC_TAPS, SINC_TAPS + 1)
    if abs(sd) < SINC_EXACT:
        return n, [1.0 if k == 0 else 0.0 for k in taps]
    raw = [sinc_taper(k) / (sd - k) for k in taps]
    total = sum(raw)
    return n, [w / total for w in raw]


def sinc(data, x, y, sinscl=1.0):
    """Tapered 15-point sinc, separable, normalised; pixels past an edge repeat the edge."""
    height, width = data.shape
    nx, wx = sinc_axis(x, sinscl)
    ny, wy = sinc_axis(y, sinscl)
    total = 0.0
    for b, k in enumerate(range(-SINC_TAPS, SINC_TAPS + 1)):
        row = min(max(ny + k, 0), height - 1)
        for a, m in enumerate(range(-SINC_TAPS, SINC_TAPS + 1)):
            col = min(max(nx + m, 0), width - 1)
            total += wy[b] * wx[a] * data[row, col]
    return total


POINT = {
    "nearest": nearest,
    "linear": linear,
    "poly3": lambda data, x, y: poly(data, x, y, 3),
    "poly5": lambda data, x, y: poly(data, x, y, 5),
    "sinc": sinc,
    "lan3": lambda data, x, y: lanczos(data, x, y, 3),
    "lan5": lambda data, x, y: lanczos(data, x, y, 5),
}


def blot(data, pixmap, interp, fillval=0.0, iscale=1.0):
    """Blot ``data`` at every ``pixmap`` coordinate with the reference ``interp``; float64."""
    data = np.asarray(data, dtype=np.float64)
    height, width = data.shape
    point = POINT[interp]
    out = np.empty(pixmap.shape[:2])
    for j in range(pixmap.shape[0]):
        for i in range(pixmap.shape[1]):
            x, y = float(pixmap[j, i, 0]), float(pixmap[j, i, 1])
            if 0 <= x < width and 0 <= y < height:
                out[j, i] = point(data, x, y) * iscale
            else:
                out[j, i] = fillval
    return out
