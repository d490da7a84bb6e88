"""The canonical dtypes and layouts every entry point is compiled for (``_canonical``)."""

import numpy as np
import pytest

from tileblot._engine._planning import prepare_window, window_dtype
from tileblot._kernels._canonical import canonical_pixmap, pixmap_dtype


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [("<f4", np.float32), (">f4", np.float32), ("<f2", np.float32), ("<f8", np.float64),
     (">f8", np.float64), ("<i4", np.float64), ("<i2", np.float64)],
)
def test_pixmaps_become_native_contiguous_read_only_floats(dtype, expected):
    pixmap = np.arange(24, dtype=dtype).reshape(3, 4, 2)[:, ::2]
    prepared = canonical_pixmap(pixmap)
    assert pixmap_dtype(pixmap.dtype) == expected
    assert prepared.dtype == expected and prepared.dtype.isnative
    assert prepared.flags.c_contiguous and not prepared.flags.writeable
    np.testing.assert_array_equal(prepared, pixmap.astype(np.float64))


def test_a_ready_pixmap_is_not_copied():
    pixmap = np.zeros((3, 4, 2), np.float64)
    prepared = canonical_pixmap(pixmap)
    assert np.shares_memory(prepared, pixmap)
    assert pixmap.flags.writeable  # the caller's array keeps its flag


@pytest.mark.parametrize(
    ("dtype", "precision", "expected"),
    [("<f4", "drizzle", np.float32), ("<f8", "drizzle", np.float32),
     (">i2", "drizzle", np.float32), ("<f4", "high", np.float32), (">f4", "high", np.float32),
     ("<f2", "high", np.float32),
     ("<f8", "high", np.float64), (">f8", "high", np.float64), ("<i4", "high", np.float64)],
)
def test_windows_are_read_in_the_kernels_dtype(dtype, precision, expected):
    window = np.arange(30, dtype=dtype).reshape(5, 6)[:, ::2]
    assert window_dtype(window.dtype, precision) == expected
    prepared = prepare_window(window, precision)
    assert prepared.dtype == expected and prepared.dtype.isnative
    assert prepared.flags.c_contiguous
    np.testing.assert_array_equal(prepared, window)
