"""Outputs people open: ``open_output`` (the image with its record) and ``export_fits``."""

import os
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import zarr

import tileblot
from tileblot._api._description import data_unit
from tileblot._io._store import DONE

from ..helpers import affine_pixmap

fits = pytest.importorskip("astropy.io.fits")
astropy_wcs = pytest.importorskip("astropy.wcs")

from ..pixmaps.skies import make_gwcs, make_wcs  # noqa: E402  (needs astropy: after the skip)

DATA_SHAPE = (60, 70)
OUT_SHAPE = (45, 52)


@pytest.fixture
def blotted(rng, tmp_path):
    """An output store of a small blot, and the image it must hold."""
    data = rng.normal(size=DATA_SHAPE).astype(np.float32)
    pixmap = affine_pixmap(OUT_SHAPE, scale=1.1, angle=0.3, shift=(5.0, 2.0))
    store = str(tmp_path / "out.zarr")
    tileblot.blot_to_zarr(data, pixmap, store, interp="linear", fillval=np.nan, chunks=16,
                          progress=False)
    expected = tileblot.blot_image(data, pixmap, interp="linear", fillval=np.nan,
                                   precision="high")
    return store, expected


def _world(wcs, shape):
    y, x = np.mgrid[0 : shape[0] : 5j, 0 : shape[1] : 6j]
    return np.array(wcs.pixel_to_world_values(x, y))


def test_open_output_gives_the_image_and_its_record(blotted):
    store, expected = blotted
    output = tileblot.open_output(store)
    np.testing.assert_array_equal(output.image[...], expected)
    assert output.complete
    assert output.record["params"]["interp"] == "linear"
    assert (output.record["tiles"], output.record["tiles_done"]) == (12, 12)
    assert output.wcs is None and output.mosaic_wcs is None  # an affine pixmap: no WCS known
    assert "45 x 52 float32, 12/12 tiles, WCS unknown" in repr(output)
    with pytest.raises(ValueError):  # read-only: opening never lets a user clobber the job
        output.image[0, 0] = 1.0


def test_open_output_refuses_what_is_not_an_output(tmp_path):
    zarr.create_array(str(tmp_path / "plain.zarr"), shape=(3, 3), dtype="f4")
    with pytest.raises(ValueError, match="not a tileblot output"):
        tileblot.open_output(str(tmp_path / "plain.zarr"))


def test_export_fits_data_and_given_wcs(blotted, tmp_path):
    store, expected = blotted
    wcs = make_wcs(OUT_SHAPE, rotation=33.0, sip=True)
    path = tileblot.export_fits(store, tmp_path / "out.fits", wcs=wcs)
    with fits.open(path) as hdul:
        np.testing.assert_array_equal(hdul[0].data, expected)
        header = hdul[0].header
    assert "tileblot" in str(header["HISTORY"]) and "interp=linear" in str(header["HISTORY"])
    np.testing.assert_allclose(_world(astropy_wcs.WCS(header), OUT_SHAPE),
                               _world(wcs, OUT_SHAPE), rtol=0, atol=1e-14)


def test_export_fits_refuses_a_wcs_of_another_image_size(blotted, tmp_path):
    store, _ = blotted
    other = (OUT_SHAPE[0] + 1, OUT_SHAPE[1])
    wcs = make_wcs(other)
    header = wcs.to_header()
    header.update(NAXIS=2, NAXIS1=other[1], NAXIS2=other[0])
    for given in (wcs, header):
        with pytest.raises(ValueError, match=fr"wcs describes a {other[0]} x {other[1]} image, "
                                             r"but the exposure's \(the store's image\) is "
                                             fr"{OUT_SHAPE[0]} x"):
            tileblot.export_fits(store, tmp_path / "out.fits", wcs=given)
    assert not (tmp_path / "out.fits").exists()
    wcs.pixel_shape = None  # a WCS that does not say its size is taken as it is
    tileblot.export_fits(store, tmp_path / "out.fits", wcs=wcs)


def test_gwcs_exposure_and_mosaic_are_recorded_and_exported_as_tan_sip(rng, tmp_path):
    pytest.importorskip("gwcs")
    exposure = make_gwcs(OUT_SHAPE, rotation=30.0, scale=0.05,
                         bounding_box=((-0.5, OUT_SHAPE[1] - 0.5), (-0.5, OUT_SHAPE[0] - 0.5)))
    mosaic = make_gwcs(DATA_SHAPE, scale=0.05, distortion=False)
    data = rng.normal(size=DATA_SHAPE).astype(np.float32)
    store = str(tmp_path / "out.zarr")
    tileblot.blot_to_zarr(data, tileblot.pixmap_from_wcs(exposure, mosaic, OUT_SHAPE), store,
                          interp="linear", chunks=16, progress=False)
    output = tileblot.open_output(store)
    for recorded, gwcs, shape in [(output.wcs, exposure, OUT_SHAPE),
                                  (output.mosaic_wcs, mosaic, DATA_SHAPE)]:
        assert recorded is not None
        y, x = np.mgrid[0 : shape[0] - 1 : 5j, 0 : shape[1] - 1 : 6j]
        # pixel positions agree to the 0.01 px the record promises
        px, py = recorded.all_world2pix(*gwcs(x, y), 0)
        assert np.hypot(px - x, py - y).max() <= 0.01
    assert "TBGWCSAP" in output.record["wcs"]["exposure"]
    y, x = np.mgrid[0 : OUT_SHAPE[0] - 1 : 5j, 0 : OUT_SHAPE[1] - 1 : 6j]
    header = fits.getheader(tileblot.export_fits(store, tmp_path / "out.fits"))
    assert "gwcs as TAN-SIP" in header["TBGWCSAP"]
    px, py = astropy_wcs.WCS(header).all_world2pix(*exposure(x, y), 0)
    assert np.hypot(px - x, py - y).max() <= 0.01


def test_export_fits_without_a_wcs_has_none(blotted, tmp_path):
    store, expected = blotted
    path = tileblot.export_fits(tileblot.open_output(store), tmp_path / "plain.fits")
    header = fits.getheader(path)
    assert "CTYPE1" not in header
    np.testing.assert_array_equal(fits.getdata(path), expected)


def test_export_fits_refuses_an_incomplete_output(blotted, tmp_path):
    store, expected = blotted
    zarr.open_group(store, mode="r+")[DONE][1, 2] = 0
    with pytest.raises(ValueError, match=r"incomplete \(11 of 12 tiles done\).*resume=True"):
        tileblot.export_fits(store, tmp_path / "out.fits")
    assert not (tmp_path / "out.fits").exists()
    with pytest.warns(UserWarning, match=r"incomplete: 1 of 12 tiles are not complete"):
        path = tileblot.export_fits(store, tmp_path / "out.fits", allow_incomplete=True)
    np.testing.assert_array_equal(fits.getdata(path), expected)  # the chunk was still there
    header = fits.getheader(path)
    assert header["TBMISSNG"] == 1
    assert any(str(line).startswith("INCOMPLETE: 1 of 12 tiles not complete") for line in
               header["HISTORY"])
    # A complete store's file has neither.
    zarr.open_group(store, mode="r+")[DONE][1, 2] = 1
    header = fits.getheader(tileblot.export_fits(store, tmp_path / "whole.fits"))
    assert "TBMISSNG" not in header
    assert not any("INCOMPLETE" in str(line) for line in header["HISTORY"])


def test_export_fits_refusals(blotted, tmp_path):
    store, _ = blotted
    (tmp_path / "there.fits").write_bytes(b"keep")
    with pytest.raises(ValueError, match="already exists"):
        tileblot.export_fits(store, tmp_path / "there.fits")
    assert (tmp_path / "there.fits").read_bytes() == b"keep"
    with pytest.raises(ValueError, match="written to the local filesystem"):
        tileblot.export_fits(store, "memory://out.fits")
    with pytest.raises(TypeError, match="path must be"):
        tileblot.export_fits(store, 3)
    # Where it cannot be written, a ValueError naming it (exit 2), not a bare OSError.
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ValueError, match=r"x.fits' cannot be written: a file is in the way"):
        tileblot.export_fits(store, tmp_path / "file.txt" / "x.fits")
    assert tileblot.export_fits(store, tmp_path / "new" / "dir" / "x.fits").exists()
    (tmp_path / "folder.fits").mkdir()  # named so, not advised to be overwritten
    with pytest.raises(ValueError, match="is a directory; refusing to replace it"):
        tileblot.export_fits(store, tmp_path / "folder.fits")
    # A plain FITS file under fpack's name, or a FITS file under any name, was written.
    for name, words in (("out.fits.fz", "then compress it with fpack"),
                        ("out.txt", "not named like a FITS file tileblot writes"),
                        ("out.fits[1]", r"writes a whole file .*give the file's name alone")):
        with pytest.raises(ValueError, match=words):
            tileblot.export_fits(store, tmp_path / name)
        assert not (tmp_path / name).exists()
    # Inside the store, an overwrite of the output would delete the file with its image.
    for inside in (os.path.join(store, "image", "x.fits"), f"file://{store}/x.fits"):
        with pytest.raises(ValueError, match="lies inside the output store"):
            tileblot.export_fits(store, inside)
    assert not any(p.name.endswith(".fits") for p in Path(store).rglob("*"))


@pytest.mark.parametrize("name", ["big.fits", "big.fits.gz"])
def test_export_fits_streams_band_by_band(tmp_path, name):
    # A 16 MiB output in 128-row tiles: the export's allocations (numpy's and zarr's, traced by
    # tracemalloc) stay near one 0.5 MiB band of tiles, far below the image. (Exporting the
    # whole image at once peaks above 32 MiB: the image and its big-endian copy.)
    shape = (4096, 1024)
    pixmap = tileblot.affine_pixmap(shape, np.eye(2) * (7.0 / shape[0]), chunks=128)
    store = str(tmp_path / "big.zarr")
    tileblot.blot_to_zarr(np.arange(64.0).reshape(8, 8), pixmap, store, interp="nearest",
                          progress=False)
    tileblot.export_fits(store, tmp_path / "warm.fits")  # first-use imports are not the export
    tracemalloc.start()
    try:
        path = tileblot.export_fits(store, tmp_path / name)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    image_bytes = shape[0] * shape[1] * 4
    assert peak < image_bytes / 6, f"peak {peak / 2**20:.1f} MiB for a 16 MiB image"
    with fits.open(path) as hdul:
        np.testing.assert_array_equal(hdul[0].data[::97, ::89],
                                      zarr.open_group(store, mode="r")["image"][::97, ::89])


# --------------------------------------------------------------------------- recorded WCSs


@pytest.fixture
def sky(rng):
    """A mosaic with a TAN WCS, and a rolled exposure inside it with a TAN-SIP WCS."""
    mosaic_wcs = make_wcs((80, 90), scale=0.05)
    center = mosaic_wcs.pixel_to_world_values(44.0, 40.0)
    exposure_wcs = make_wcs(OUT_SHAPE, scale=0.052, rotation=25.0, sip=True,
                            crval=tuple(map(float, center)))
    return rng.normal(size=(80, 90)).astype(np.float32), mosaic_wcs, exposure_wcs


def test_pixmap_from_wcs_outputs_record_both_wcs_and_export_them(sky, tmp_path):
    data, mosaic_wcs, exposure_wcs = sky
    pixmap = tileblot.pixmap_from_wcs(exposure_wcs, mosaic_wcs, OUT_SHAPE, chunks=16)
    store = str(tmp_path / "out.zarr")
    tileblot.blot_to_zarr(data, pixmap, store, interp="linear", fillval=np.nan, progress=False)
    output = tileblot.open_output(store)
    assert "WCS recorded" in repr(output)
    # Equal to rounding: 1e-12 degrees is 4e-9 arcsec, 1e-7 of a pixel (SIP adds a few ulps).
    np.testing.assert_allclose(_world(output.wcs, OUT_SHAPE), _world(exposure_wcs, OUT_SHAPE),
                               rtol=0, atol=1e-12)
    assert output.wcs.sip is not None
    assert output.wcs.pixel_shape == OUT_SHAPE[::-1]
    np.testing.assert_allclose(_world(output.mosaic_wcs, (80, 90)), _world(mosaic_wcs, (80, 90)),
                               rtol=0, atol=1e-12)
    # The FITS export: the blot's pixels and the exposure's WCS, as astropy reads the file.
    path = tileblot.export_fits(store, tmp_path / "out.fits")
    with fits.open(path) as hdul:
        np.testing.assert_array_equal(hdul[0].data, output.image[...])
        from_file = astropy_wcs.WCS(hdul[0].header)
    assert from_file.sip is not None
    # FITS cards hold 20 characters, so values keep 15 to 17 digits: still ~1e-13 degrees.
    np.testing.assert_allclose(_world(from_file, OUT_SHAPE), _world(exposure_wcs, OUT_SHAPE),
                               rtol=0, atol=1e-12)


def test_given_wcs_and_the_mosaics_own_are_recorded(sky, tmp_path):
    data, mosaic_wcs, exposure_wcs = sky
    pixmap = tileblot.pixmap_from_wcs(exposure_wcs, mosaic_wcs, OUT_SHAPE).compute()  # numpy
    zarr.create_array(str(tmp_path / "mosaic.zarr"), data=data,
                      attributes={"wcs": dict(mosaic_wcs.to_header())})
    stores = [str(tmp_path / "a.zarr"), str(tmp_path / "b.zarr")]
    tileblot.blot_to_zarr(str(tmp_path / "mosaic.zarr"), [pixmap, pixmap], stores,
                          wcs=[exposure_wcs, None], progress=False)
    given, unknown = (tileblot.open_output(s) for s in stores)
    np.testing.assert_allclose(_world(given.wcs, OUT_SHAPE), _world(exposure_wcs, OUT_SHAPE),
                               rtol=0, atol=1e-12)
    assert unknown.wcs is None  # a plain array pixmap: the exposure's WCS is not known
    for output in (given, unknown):  # the mosaic's, from the zarr array's attrs["wcs"]
        np.testing.assert_allclose(_world(output.mosaic_wcs, (80, 90)),
                                   _world(mosaic_wcs, (80, 90)), rtol=0, atol=1e-12)


def test_a_bad_wcs_is_refused_before_any_store_is_made(sky, tmp_path):
    data, _, exposure_wcs = sky
    pixmap = affine_pixmap(OUT_SHAPE)
    with pytest.raises(TypeError, match="astropy WCS, FITS header cards or a gwcs, got str"):
        tileblot.blot_to_zarr(data, pixmap, str(tmp_path / "out.zarr"), wcs="RA---TAN",
                              progress=False)
    assert not (tmp_path / "out.zarr").exists()
    with pytest.raises(ValueError, match=r"wcs describes a 5 x 7 image, but the exposure's"):
        tileblot.blot_to_zarr(data, pixmap, str(tmp_path / "out.zarr"),
                              wcs=make_wcs((5, 7)), progress=False)
    assert not (tmp_path / "out.zarr").exists()
    with pytest.raises(ValueError, match="wcs as a list of the same length"):
        tileblot.blot_to_zarr(data, [pixmap], [str(tmp_path / "out.zarr")], wcs=exposure_wcs,
                              progress=False)


@pytest.mark.parametrize(("size", "warning"), [
    (0.8, r"the output records no exposure WCS: this WCS holds look-up-table distortion"),
    (0.2, r"the exposure WCS is recorded as without its look-up-table distortion \(cpdis1, "
          r"cpdis2\), up to 0\.[0-9]+ pixel off"),
])
def test_distortion_tables_fits_cards_cannot_hold_are_left_out_with_a_warning(sky, tmp_path,
                                                                              size, warning):
    from ..io.test_fits import _with_tables

    data, mosaic_wcs, exposure_wcs = sky
    distorted = _with_tables(exposure_wcs, OUT_SHAPE, size)
    pixmap = tileblot.pixmap_from_wcs(distorted, mosaic_wcs, OUT_SHAPE, chunks=16)
    store = str(tmp_path / "out.zarr")
    with pytest.warns(UserWarning, match=warning) as caught:
        tileblot.blot_to_zarr(data, pixmap, store, interp="linear", progress=False)
    assert caught[0].filename == __file__  # the warning points at the call
    output = tileblot.open_output(store)
    # The blot itself used the tables.
    np.testing.assert_array_equal(output.image[...], tileblot.blot_image(
        data, pixmap.compute(), interp="linear", precision="high"))
    if size > 0.5:  # more than half a pixel: not recorded
        assert output.wcs is None and output.mosaic_wcs is not None
        return
    assert output.record["wcs"]["exposure"]["TBLUTOUT"].startswith("cpdis1, cpdis2 left out")
    # The distorted WCS given for the export: within half a pixel of the recorded one.
    with pytest.warns(UserWarning, match="recorded as without its look-up-table distortion"):
        tileblot.export_fits(store, tmp_path / "out.fits", wcs=distorted)


def test_export_fits_replaces_a_recorded_wcs_it_cannot_read(sky, tmp_path):
    data, _, exposure_wcs = sky
    store = str(tmp_path / "out.zarr")
    tileblot.blot_to_zarr(data, affine_pixmap(OUT_SHAPE), store, progress=False)
    group = zarr.open_group(store, mode="r+")
    record = group.attrs["tileblot"]
    record["wcs"] = {"exposure": {"WCSAXES": 3, "CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN",
                                  "CTYPE3": "FREQ"}}
    group.attrs["tileblot"] = record
    with pytest.raises(ValueError, match="3 axes, not 2"):
        _ = tileblot.open_output(store).wcs
    path = tileblot.export_fits(store, tmp_path / "out.fits", wcs=exposure_wcs)
    with fits.open(path) as hdul:
        assert astropy_wcs.WCS(hdul[0].header).has_celestial


def test_export_fits_takes_a_gwcs(blotted, tmp_path):
    pytest.importorskip("gwcs")
    store, _ = blotted
    path = tileblot.export_fits(store, tmp_path / "out.fits",
                                wcs=make_gwcs(OUT_SHAPE, distortion=False))
    with fits.open(path) as hdul:
        assert "gwcs as TAN-SIP" in hdul[0].header["TBGWCSAP"]
        assert astropy_wcs.WCS(hdul[0].header).has_celestial


def _galactic(wcs):
    other = wcs.deepcopy()
    other.wcs.ctype = ["GLON-TAN", "GLAT-TAN"]
    other.wcs.set()
    return other


def test_a_given_wcs_must_put_the_exposure_where_its_pixmap_does(sky, tmp_path):
    data, mosaic_wcs, exposure_wcs = sky
    pixmap = tileblot.pixmap_from_wcs(exposure_wcs, mosaic_wcs, OUT_SHAPE, chunks=16)
    elsewhere = make_wcs(OUT_SHAPE, crval=(10.0, -40.0))
    ra, dec = (float(v) for v in exposure_wcs.wcs.crval)
    nudged = make_wcs(OUT_SHAPE, scale=0.052, rotation=25.0, sip=True, crval=(ra + 1e-4, dec))
    header = elsewhere.to_header()  # header cards are read and compared as a WCS
    header["NAXIS1"], header["NAXIS2"] = OUT_SHAPE[1], OUT_SHAPE[0]
    # The galactic copy has the same numbers: another place on the sky (frames are converted).
    for wrong in (elsewhere, header, dict(header), _galactic(exposure_wcs), nudged):
        with pytest.raises(ValueError, match=r"wcs and the exposure WCS the pixmap was made from "
                                             r"\(pixmap_from_wcs\) put the image [0-9.e+]+ "
                                             r"pixels apart( \(one is in GALACTIC, the other "
                                             r"in ICRS\))?: they describe different places"):
            tileblot.blot_to_zarr(data, pixmap, str(tmp_path / "out.zarr"), wcs=wrong,
                                  progress=False)
        assert not (tmp_path / "out.zarr").exists()
    cube = astropy_wcs.WCS(naxis=3)
    cube.wcs.ctype = ["RA---TAN", "DEC--TAN", "FREQ"]
    with pytest.raises(ValueError, match=r"^wcs must have 2 pixel axes, got 3"):
        tileblot.blot_to_zarr(data, pixmap, str(tmp_path / "out.zarr"), wcs=cube, progress=False)
    # Part of the exposure (a corner: its WCS describes it, whatever its own image size).
    corner = tileblot.pixmap_from_wcs(exposure_wcs, mosaic_wcs, (20, 30), chunks=16)
    tileblot.blot_to_zarr(data, corner, str(tmp_path / "corner.zarr"), wcs=exposure_wcs,
                          progress=False)
    store = str(tmp_path / "out.zarr")
    tileblot.blot_to_zarr(data, pixmap, store, wcs=exposure_wcs, progress=False)
    # The export checks a WCS it is given against the one the store records.
    with pytest.raises(ValueError, match=r"wcs and the exposure WCS the store records put the "
                                         r"image [0-9.e+]+ pixels apart"):
        tileblot.export_fits(store, tmp_path / "out.fits", wcs=elsewhere)
    assert not (tmp_path / "out.fits").exists()
    tileblot.export_fits(store, tmp_path / "out.fits", wcs=exposure_wcs)


def test_a_pixmap_made_for_another_mosaic_is_refused(sky, tmp_path):
    data, mosaic_wcs, exposure_wcs = sky
    zarr.create_array(str(tmp_path / "mosaic.zarr"), data=data,
                      attributes={"wcs": dict(mosaic_wcs.to_header())})
    shifted = make_wcs((80, 90), scale=0.05, crval=(mosaic_wcs.wcs.crval[0] + 2e-5,
                                                    mosaic_wcs.wcs.crval[1]))
    pixmap = tileblot.pixmap_from_wcs(exposure_wcs, shifted, OUT_SHAPE, chunks=16)
    message = (r"the mosaic WCS the pixmap was made from \(pixmap_from_wcs\) and data's own WCS "
               r"put the image [0-9.]+ pixels apart")
    with pytest.raises(ValueError, match=message):
        tileblot.blot(str(tmp_path / "mosaic.zarr"), pixmap)
    with pytest.raises(ValueError, match=message):
        tileblot.blot_to_zarr(str(tmp_path / "mosaic.zarr"), pixmap, str(tmp_path / "out.zarr"),
                              progress=False)
    assert not (tmp_path / "out.zarr").exists()
    # A FITS mosaic whose header has a third, degenerate axis (radio) is compared on its sky.
    cube = astropy_wcs.WCS(naxis=3)
    cube.wcs.ctype = [*mosaic_wcs.wcs.ctype, "FREQ"]
    cube.wcs.crval = [*mosaic_wcs.wcs.crval, 1.4e9]
    cube.wcs.crpix = [*mosaic_wcs.wcs.crpix, 1.0]
    cube.wcs.cd = np.pad(mosaic_wcs.wcs.cd, (0, 1)) + np.diag([0.0, 0.0, 1e6])
    header = cube.to_header()
    fits.PrimaryHDU(data, header=header).writeto(tmp_path / "radio.fits")
    with pytest.raises(ValueError, match=message):
        tileblot.blot(str(tmp_path / "radio.fits"), pixmap)
    # Its own mosaic WCS passes; a mosaic without a WCS of another size is questioned.
    tileblot.blot(str(tmp_path / "mosaic.zarr"),
                  tileblot.pixmap_from_wcs(exposure_wcs, mosaic_wcs, OUT_SHAPE))
    with pytest.warns(UserWarning, match="made for a mosaic WCS of a 80 x 90 image, and data is "
                                         "80 x 100: is it that mosaic"):
        tileblot.blot(np.zeros((80, 100), np.float32),
                      tileblot.pixmap_from_wcs(exposure_wcs, mosaic_wcs, OUT_SHAPE))


def test_the_mosaics_unit_is_recorded_and_exported_when_the_values_keep_it(sky, tmp_path):
    data, mosaic_wcs, _ = sky
    header = mosaic_wcs.to_header()
    header["BUNIT"] = "MJy/sr"
    fits.PrimaryHDU(data, header=header).writeto(tmp_path / "mosaic.fits")
    zarr.create_array(str(tmp_path / "mosaic.zarr"), data=data, attributes={"units": "e-/s"})
    pixmap = affine_pixmap(OUT_SHAPE, shift=(10.0, 10.0))
    for mosaic, iscale, unit, bunit in (("mosaic.fits", 1.0, "MJy/sr", "MJy/sr"),
                                        ("mosaic.fits", 2.0, "MJy/sr", None),
                                        ("mosaic.zarr", 1.0, "e-/s", "e-/s")):
        store = str(tmp_path / "out.zarr")
        tileblot.blot_to_zarr(str(tmp_path / mosaic), pixmap, store, iscale=iscale,
                              overwrite=True, progress=False)
        assert tileblot.open_output(store).record["unit"] == unit
        path = tileblot.export_fits(store, tmp_path / "out.fits", overwrite=True)
        with fits.open(path) as hdul:
            assert hdul[0].header.get("BUNIT") == bunit
            history = str(hdul[0].header["HISTORY"])
        # Scaled values are not in the mosaic's unit: no BUNIT, and the history says why.
        assert ("scaled by iscale: no BUNIT" in history) == (bunit is None)
    tileblot.blot_to_zarr(data, pixmap, str(tmp_path / "plain.zarr"), progress=False)
    assert "unit" not in tileblot.open_output(str(tmp_path / "plain.zarr")).record
    # What a FITS card cannot hold is passed over, for the next place a unit may be given.
    for attrs, unit in (({"units": "µJy"}, None), ({"units": "Jy\nfoo"}, None),
                        ({"BUNIT": "", "units": "e-/s"}, "e-/s"), ({"BUNIT": 5}, None)):
        zarr.create_array(str(tmp_path / "odd.zarr"), data=data, attributes=attrs,
                          overwrite=True)
        assert data_unit(zarr.open_array(str(tmp_path / "odd.zarr"), mode="r")) == unit


def test_a_resume_keeps_the_recorded_wcs_and_refuses_another(sky, tmp_path):
    data, mosaic_wcs, exposure_wcs = sky
    # A numpy pixmap: the given WCS is compared with the store's only.
    plain = tileblot.pixmap_from_wcs(exposure_wcs, mosaic_wcs, OUT_SHAPE).compute()
    store = str(tmp_path / "out.zarr")
    tileblot.blot_to_zarr(data, plain, store, wcs=exposure_wcs, progress=False)
    zarr.open_group(store, mode="r+")[DONE][0, 0] = 0
    ra, dec = (float(v) for v in exposure_wcs.wcs.crval)
    other = make_wcs(OUT_SHAPE, scale=0.052, rotation=25.0, sip=True, crval=(ra + 1e-3, dec))
    with pytest.raises(ValueError, match=r"cannot resume .*out\.zarr.*: the exposure WCS now and "
                                         r"the one it records put the image [0-9.]+ pixels"):
        tileblot.blot_to_zarr(data, plain, store, wcs=other, resume=True, progress=False)
    tileblot.blot_to_zarr(data, plain, store, wcs=exposure_wcs, resume=True, progress=False)
    assert tileblot.open_output(store).complete
    # A store that records no WCS gets none from a resume, and says so.
    bare = str(tmp_path / "bare.zarr")
    tileblot.blot_to_zarr(data, plain, bare, progress=False)
    zarr.open_group(bare, mode="r+")[DONE][0, 0] = 0
    with pytest.warns(UserWarning, match="records no exposure WCS .*: a resume does not add"):
        tileblot.blot_to_zarr(data, plain, bare, wcs=exposure_wcs, resume=True,
                              progress=False)
    assert tileblot.open_output(bare).wcs is None




@pytest.mark.parametrize("name", ["out.fits", "OUT.FITS.GZ"])
def test_blot_to_zarr_refuses_a_fits_named_store(name, tmp_path):
    with pytest.raises(ValueError, match=r"named like a FITS file.*tileblot\.export_fits"):
        tileblot.blot_to_zarr(np.ones((8, 8)), affine_pixmap((4, 4)), str(tmp_path / name),
                              progress=False)
    assert not (tmp_path / name).exists()
