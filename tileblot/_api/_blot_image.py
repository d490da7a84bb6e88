"""The drop-in replacement for ``drizzle.resample.blot_image``: eager, in memory."""

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np

from .._engine._planning import prepare_window, row_bands
from .._engine._quiet import warn
from .._engine._tile import WholeImage, blot_tile
from .._engine._validation import (
    as_float,
    available_cores,
    check_data,
    check_iscale,
    check_min_size,
    check_num_threads,
    check_pixmap,
    make_params,
    sequence_array,
)


class _Deprecated:
    """Default of drizzle's deprecated arguments: tells "not given" from any value."""

    def __repr__(self):
        return "<deprecated>"


_DEPRECATED = _Deprecated()

# Bands per thread: enough to even out rows that fall off the image (cheap)
# against rows that do not.
_BANDS_PER_THREAD = 4


def _apply_deprecated(iscale, pix_ratio, exptime, output_pixel_shape, out_shape):
    """drizzle's deprecated arguments: warn, then act as drizzle 3.0 does."""
    if pix_ratio is not _DEPRECATED:
        warn(
            "'pix_ratio' is deprecated (as in drizzle); use iscale=1.0 / pix_ratio**2",
            DeprecationWarning,
            stacklevel=3,
        )
        ratio = as_float("pix_ratio", pix_ratio, finite=True)
        if ratio**2 == 0.0:
            raise ValueError(f"pix_ratio must be non-zero (its square divides iscale), "
                             f"got {pix_ratio!r}" + (", whose square underflows to 0"
                                                     if ratio else ""))
        iscale /= ratio**2
    if exptime is not _DEPRECATED:
        warn(
            "'exptime' is deprecated (as in drizzle); use iscale=exptime",
            DeprecationWarning,
            stacklevel=3,
        )
        iscale *= as_float("exptime", exptime, finite=True)
    if output_pixel_shape is not _DEPRECATED:
        warn(
            "'output_pixel_shape' is deprecated (as in drizzle); the shape comes from pixmap",
            DeprecationWarning,
            stacklevel=3,
        )
        try:
            nx, ny = (int(n) for n in output_pixel_shape)
        except (TypeError, ValueError):
            raise ValueError(
                f"output_pixel_shape must be a pair (nx, ny), got {output_pixel_shape!r}"
            ) from None
        if (ny, nx) != out_shape:
            raise ValueError(
                f"output_pixel_shape (nx, ny) = {(nx, ny)} does not match pixmap's "
                f"(nx, ny) = {out_shape[::-1]}"
            )
    if pix_ratio is _DEPRECATED and exptime is _DEPRECATED:
        return iscale
    return check_iscale(iscale, name="iscale * exptime / pix_ratio**2")


def _as_array(name, value):
    """``value`` itself if it is array-like (numpy, zarr, dask, ...), else ``np.asarray``.

    An array-like is read only once its shape and dtype have passed the checks
    (:func:`_read`), so that a wrong one is refused before anything is read.
    """
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return value
    if value is None or isinstance(value, (str, bytes, os.PathLike)):
        raise TypeError(
            f"{name} must be an array in memory, got {type(value).__name__}"
            + (": blot_image does not open files; tileblot.blot and blot_to_zarr read "
               "paths and URLs (zarr, FITS, .npy)" if value is not None else "")
        )
    return sequence_array(name, value)


def _read(value):
    """An array-like that passed the checks, as a numpy array.

    Objects numpy cannot convert (an astropy FITS section, an h5py-like
    dataset) are sliced whole, as :func:`tileblot.blot` slices them by window.
    """
    if isinstance(value, np.ndarray) or hasattr(value, "__array__"):
        return np.asarray(value)
    return np.asarray(value[(slice(None),) * len(value.shape)])


def _check_out_img(out_img, out_shape):
    if out_img is None:
        return np.empty(out_shape, dtype=np.float32)
    if not isinstance(out_img, np.ndarray):
        raise TypeError(f"out_img must be a numpy array, got {type(out_img).__name__}")
    if out_img.dtype != np.float32:
        raise TypeError(f"out_img must have dtype float32, got {out_img.dtype}")
    if out_img.shape != out_shape:
        raise ValueError(
            f"out_img has shape {out_img.shape}, but pixmap gives an output of shape {out_shape}"
        )
    if not out_img.flags.writeable:
        raise ValueError("out_img is read-only")
    return out_img


def _check_not_overlapping(out_img, **inputs):
    # The bands would read values the others have already overwritten. Exact (two interleaved
    # views of one buffer need not overlap); a case too hard to settle counts as overlapping.
    for name, array in inputs.items():
        try:
            overlap = np.shares_memory(out_img, array, max_work=10**6)
        except np.exceptions.TooHardError:
            overlap = True
        if overlap:
            raise ValueError(f"out_img shares memory with {name}: pass a separate array")


def blot_image(
    data,
    pixmap,
    pix_ratio=_DEPRECATED,
    exptime=_DEPRECATED,
    output_pixel_shape=_DEPRECATED,
    out_img=None,
    fillval=0.0,
    iscale=1.0,
    interp="poly5",
    sinscl=1.0,
    *,
    sincscl=None,
    precision="drizzle",
    num_threads=None,
):
    """Resample ``data`` onto the grid that ``pixmap`` defines (drizzle's blot).

    A drop-in replacement for ``drizzle.resample.blot_image``: the same
    arguments in the same order, the same numbers (to float32 rounding, see
    the documentation's "Differences from drizzle"), computed with numba on
    all cores.

    Parameters
    ----------
    data : 2-D array_like
        The image to sample (a drizzled mosaic), any real dtype and byte
        order. Converted to float32 as drizzle does (``precision="drizzle"``)
        or read as float32/float64 (``precision="high"``).
    pixmap : (ny, nx, 2) array_like
        ``pixmap[j, i] = (x, y)``: the position in ``data`` (0-based pixels)
        of output pixel ``(j, i)``. NaN or infinite coordinates give
        ``fillval``.
    pix_ratio : float, optional
        Deprecated (as in drizzle): divides ``iscale`` by ``pix_ratio**2``.
    exptime : float, optional
        Deprecated (as in drizzle): multiplies ``iscale``.
    output_pixel_shape : (int, int), optional
        Deprecated (as in drizzle): ``(nx, ny)``; must match ``pixmap``.
    out_img : (ny, nx) float32 numpy.ndarray, optional
        Filled in place and returned; a new array if omitted.
    fillval : float, optional
        Value of output pixels whose coordinates fall off the image
        (outside ``0 <= x < W``, ``0 <= y < H``) or are not finite.
    iscale : float, optional
        Factor applied to interpolated values; must be finite.
    interp : str, optional
        ``"nearest"``, ``"linear"``, ``"poly3"``, ``"poly5"``, ``"sinc"``,
        ``"lan3"`` or ``"lan5"`` (``"lanczos3"``, ``"lanczos5"`` accepted).
    sinscl : float, optional
        Scale of the sinc kernel (``interp="sinc"`` only); ``sincscl`` is
        accepted as an alias.
    sincscl : float, optional
        Alias of ``sinscl``.
    precision : {"drizzle", "high"}, optional
        ``"drizzle"`` (default) reproduces drizzle 3.0's float32 coordinates,
        Lanczos table and edge rules; ``"high"`` uses float64 coordinates and
        arithmetic, exact Lanczos weights and odd reflection at every edge.
    num_threads : int, optional
        Most threads to use; all available cores by default.

    Returns
    -------
    numpy.ndarray
        The blotted image: float32, shape ``pixmap.shape[:2]`` (``out_img``
        itself if given).

    Raises
    ------
    TypeError
        For non-numeric or complex data or pixmap, a path instead of an array
        (:func:`blot` reads files), a non-string ``interp``, non-numeric
        scalars or an ``out_img`` that is not float32.
    ValueError
        For data not 2-D or empty, a pixmap not ``(ny, nx, 2)``, an unknown
        ``interp`` or ``precision``, an ``out_img`` of the wrong shape or
        sharing memory with ``data`` or ``pixmap``, an ``iscale`` (times
        ``exptime``, over ``pix_ratio**2``) not finite within float32's range,
        or an image smaller than the stencil.

    See Also
    --------
    blot : The same blot, lazily, tile by tile, for mosaics of any size.
    blot_to_zarr : The same, streamed into a zarr store.

    Examples
    --------
    >>> import numpy as np
    >>> from tileblot import blot_image
    >>> data = np.arange(100.0).reshape(10, 10)
    >>> y, x = np.mgrid[0:4, 0:4]
    >>> pixmap = np.dstack([x + 2.5, y + 3.0])
    >>> out = blot_image(data, pixmap, interp="linear")
    >>> out.dtype, float(out[0, 0])
    (dtype('float32'), 32.5)
    """
    params = make_params(interp=interp, fillval=fillval, iscale=iscale, sinscl=sinscl,
                         sincscl=sincscl, precision=precision)
    # drizzle accepts anything numpy can turn into an array (nested lists, ...).
    data = _as_array("data", data)
    pixmap = _as_array("pixmap", pixmap)
    shape = check_data(data)
    out_shape = check_pixmap(pixmap)
    check_min_size(params.interp, shape)
    params = replace(params, iscale=_apply_deprecated(params.iscale, pix_ratio, exptime,
                                                      output_pixel_shape, out_shape))
    num_threads = check_num_threads(num_threads) or available_cores()
    out_img = _check_out_img(out_img, out_shape)
    precision = params.precision

    data, pixmap = _read(data), _read(pixmap)
    _check_not_overlapping(out_img, data=data, pixmap=pixmap)
    # The whole image is the window: converted once, read by every band.
    read_window = WholeImage(prepare_window(data, precision))

    target = out_img if out_img.flags.c_contiguous else np.empty(out_shape, np.float32)
    bands = row_bands(out_shape[0], num_threads * _BANDS_PER_THREAD if num_threads > 1 else 1)

    def run(band):
        blot_tile(read_window, pixmap[band], shape, params, out=target[band])

    if len(bands) == 1:
        run(bands[0])
    else:
        with ThreadPoolExecutor(max_workers=num_threads) as pool:
            list(pool.map(run, bands))
    if target is not out_img:
        out_img[...] = target
    return out_img
