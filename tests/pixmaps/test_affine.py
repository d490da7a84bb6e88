"""The affine pixmap: the formula, the geometric parametrisation, bad input."""

import numpy as np
import pytest

from tileblot import affine_pixmap

from .skies import assert_same


def test_affine_matrix_and_offset_follow_the_formula(rng):
    matrix = rng.normal(size=(2, 2))
    offset = rng.normal(size=2) * 10
    pixmap = affine_pixmap((23, 31), matrix, offset, chunks=(10, 7))
    y, x = np.mgrid[0:23, 0:31].astype(float)
    expected = np.dstack(
        [
            matrix[0, 0] * x + matrix[0, 1] * y + offset[0],
            matrix[1, 0] * x + matrix[1, 1] * y + offset[1],
        ]
    )
    np.testing.assert_allclose(pixmap.compute(), expected, rtol=0, atol=1e-12)
    assert_same(pixmap.compute(), affine_pixmap((23, 31), matrix, offset).compute())


def test_affine_rotation_scale_shift_about_a_center(rng):
    rotation, scale = rng.uniform(-180, 180), rng.uniform(0.5, 2)
    shift, center = rng.normal(size=2) * 20, rng.normal(size=2) * 5
    pixmap = affine_pixmap(
        (17, 12), rotation=rotation, scale=scale, shift=shift, center=center, chunks=5
    ).compute()
    y, x = np.mgrid[0:17, 0:12].astype(float)
    c, s = np.cos(np.radians(rotation)), np.sin(np.radians(rotation))
    dx, dy = x - center[0], y - center[1]
    expected_x = scale * (c * dx - s * dy) + center[0] + shift[0]
    expected_y = scale * (s * dx + c * dy) + center[1] + shift[1]
    np.testing.assert_allclose(pixmap, np.dstack([expected_x, expected_y]), rtol=0, atol=1e-11)


def test_affine_defaults_center_on_the_grid_and_dtype():
    pixmap = affine_pixmap((5, 7), rotation=180.0, dtype=np.float32)
    assert pixmap.dtype == np.float32 and pixmap.chunks == ((5,), (7,), (2,))
    np.testing.assert_allclose(pixmap[0, 0].compute(), [6.0, 4.0], atol=1e-6)
    assert_same(affine_pixmap((2, 3)).compute()[1, 2], np.array([2.0, 1.0]))
    assert_same(affine_pixmap((2, 3), offset=(0.5, -4)).compute()[1, 2], np.array([2.5, -3.0]))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"shape": (3,)}, ValueError, "2 entries"),
        ({"matrix": np.eye(3)}, ValueError, "2 x 2"),
        ({"matrix": np.eye(2), "rotation": 5.0}, ValueError, "not both"),
        ({"scale": 0.0}, ValueError, "scale"),
        ({"shift": (1.0, np.nan)}, ValueError, "shift"),
        ({"offset": (1.0, 2.0, 3.0)}, ValueError, "offset"),
        ({"chunks": -3}, ValueError, "chunk"),
        ({"dtype": complex}, TypeError, "dtype"),
        ({"matrix": "ab"}, TypeError, "matrix must be a 2 x 2 array of numbers"),
        ({"matrix": np.eye(2) * (1 + 1j)}, TypeError, "matrix must be real"),
        ({"matrix": [[10**400, 0], [0, 1]]}, ValueError, "matrix must be .* finite numbers"),
        ({"matrix": [[1, 0], [0]]}, ValueError, "matrix must be a 2 x 2 array of numbers"),
        ({"shift": (1j, 0)}, TypeError, "shift must be real"),
    ],
)
def test_affine_bad_input_raises_a_clear_error(kwargs, error, match):
    with pytest.raises(error, match=match):
        affine_pixmap(**{"shape": (4, 4), **kwargs})
