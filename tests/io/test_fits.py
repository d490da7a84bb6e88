"""FITS headers and WCSs: reading them, recording them exactly, streaming an image out."""

import functools
import gzip
import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

fits = pytest.importorskip("astropy.io.fits")
astropy_wcs = pytest.importorskip("astropy.wcs")

from tileblot._io import _fits, _fits_out  # noqa: E402  (needs astropy: after the skip)
from tileblot._io._sources import open_path  # noqa: E402

from ..pixmaps.skies import make_gwcs, make_wcs  # noqa: E402


def _world(wcs, shape):
    """Sky coordinates of a grid of pixels over ``shape``, for comparing WCSs."""
    y, x = np.mgrid[0 : shape[0] : 7j, 0 : shape[1] : 9j]
    return np.array(wcs.pixel_to_world_values(x, y))


@pytest.mark.parametrize("sip", [False, True])
def test_wcs_cards_round_trip_to_the_last_digits(sip):
    # Awkward numbers: astropy's default 14 digits would move these by ~1e-12 degrees.
    wcs = make_wcs((90, 110), scale=0.0431234567891, rotation=23.456789012345, sip=sip,
                   crval=(150.123456789012345, 2.23456789012345))
    cards = _fits.wcs_cards(wcs)
    assert json.loads(json.dumps(cards)) == cards  # JSON as it is
    back = _fits.wcs_from_header(cards, label="test")
    assert (back.sip is not None) == sip
    # To a rounding: CD becomes PC and CDELT in the header. 14 digits would be ~1e-12 deg off.
    np.testing.assert_allclose(_world(back, (90, 110)), _world(wcs, (90, 110)), rtol=0,
                               atol=1e-14)
    # The cards hold a WCS only: no structural keywords that would fight a file's own.
    assert not {"NAXIS", "NAXIS1", "BITPIX", "SIMPLE"} & set(cards)


def test_wcs_cards_from_a_header_keep_only_the_wcs():
    wcs = make_wcs((40, 50), rotation=10.0)
    header = fits.Header({"OBJECT": "M31", "EXPTIME": 30.0, **wcs.to_header()})
    cards = _fits.wcs_cards(header)
    assert "OBJECT" not in cards and "EXPTIME" not in cards
    np.testing.assert_allclose(_world(_fits.wcs_from_header(cards, label="t"), (40, 50)),
                               _world(wcs, (40, 50)), rtol=0, atol=1e-12)


def test_wcs_cards_refuse_what_is_not_astropy():
    class Gwcsish:
        def pixel_to_world_values(self, x, y):
            return x, y

    with pytest.raises(TypeError, match=r"astropy WCS, FITS header cards or a gwcs.*Gwcsish"):
        _fits.wcs_cards(Gwcsish(), (10, 10))


def _sip_error(cards):
    return float(cards[_fits.SIP_NOTE].split("max error ")[1].split(" px")[0])


@pytest.mark.parametrize("bounded", [False, True])
def test_a_gwcs_is_recorded_as_tan_sip_within_the_error_it_states(bounded):
    pytest.importorskip("gwcs")
    shape = (300, 400)
    box = ((-0.5, shape[1] - 0.5), (-0.5, shape[0] - 0.5)) if bounded else None
    wcs = make_gwcs(shape, rotation=25.0, bounding_box=box)
    cards = _fits.wcs_cards(wcs, shape)
    assert json.loads(json.dumps(cards)) == cards
    assert 0 < _sip_error(cards) <= _fits.SIP_MAX_ERROR
    assert cards["CTYPE1"] == "RA---TAN-SIP" and cards["A_ORDER"] >= 2  # distortion kept
    approx = _fits.wcs_from_header(cards, label="t")
    # A grid other than the one the error was measured on, to the corners.
    y, x = np.mgrid[0 : shape[0] - 1 : 11j, 0 : shape[1] - 1 : 13j]
    px, py = approx.all_world2pix(*wcs(x, y), 0)
    assert np.hypot(px - x, py - y).max() <= _fits.SIP_MAX_ERROR


def test_a_gwcs_needs_its_grid():
    pytest.importorskip("gwcs")
    with pytest.raises(TypeError, match="gwcs"):
        _fits.wcs_cards(make_gwcs((30, 40)))  # no shape: no grid to fit over


def _with_tables(wcs, shape, size):
    """``wcs`` with look-up-table distortions moving pixels by ``size`` in x and -``size`` in y."""
    table = np.full((20, 20), size, dtype=np.float32)
    step = (shape[1] / 19, shape[0] / 19)
    wcs.cpdis1 = astropy_wcs.DistortionLookupTable(table, (1, 1), (1, 1), step)
    wcs.cpdis2 = astropy_wcs.DistortionLookupTable(-table, (1, 1), (1, 1), step)
    return wcs


def test_look_up_tables_are_read_from_the_file_and_refused_when_they_matter(tmp_path):
    shape = (60, 80)
    wcs = _with_tables(make_wcs(shape), shape, 0.8)
    hdul = wcs.to_fits()  # the WCS cards, and the tables in WCSDVARR extensions
    hdul[0].data = np.zeros(shape, dtype=np.float32)
    hdul.writeto(tmp_path / "flt.fits")
    read, size = _fits.read_wcs(tmp_path / "flt.fits", what="--wcs-from")
    assert size == shape and read.cpdis1 is not None and read.cpdis2 is not None
    # Beyond half a pixel: refused.
    with pytest.raises(ValueError, match=r"look-up-table distortion \(cpdis1, cpdis2: a FITS "
                                         r"file's WCSDVARR/D2IMARR extensions\).* off 1\.1 pixel"):
        _fits.wcs_cards(read, shape)
    with pytest.raises(ValueError, match=r"off 1\.1 pixel"):  # the WCS's own size, without shape
        _fits.wcs_cards(read)
    # Tables that move no pixel by 0.01 pixel are left out, as FITS cards must; a card says so.
    cards, note = _fits.approximate_cards(_with_tables(make_wcs(shape), shape, 0.004), shape)
    assert "CPDIS1" not in cards and _fits.wcs_from_header(cards, label="t").cpdis1 is None
    assert note is None and cards[_fits.TABLES_NOTE].startswith("cpdis1, cpdis2 left out")
    # In between, the cards are kept with a note for a warning (HST's tables: tenths of a pixel).
    cards, note = _fits.approximate_cards(_with_tables(make_wcs(shape), shape, 0.2), shape)
    assert note == ("without its look-up-table distortion (cpdis1, cpdis2), up to 0.28 pixel "
                    "off")


def _wavy_gwcs(shape, amplitude, period):
    """An imaging gwcs whose distortion is a sine wave: no TAN-SIP polynomial follows it."""
    from astropy import coordinates
    from astropy import units as u
    from astropy.modeling import models
    from gwcs import WCS as GWCS
    from gwcs import coordinate_frames as cf

    ny, nx = shape
    wave = ((models.Identity(1) + models.Sine1D(amplitude, 1 / period))
            & (models.Identity(1) + models.Sine1D(amplitude, 1 / (0.75 * period))))
    transform = (models.Shift(-nx / 2) & models.Shift(-ny / 2) | wave
                 | models.Scale(-3e-5) & models.Scale(3e-5) | models.Pix2Sky_TAN()
                 | models.RotateNative2Celestial(150.1, 2.2, 180.0))
    return GWCS(forward_transform=transform,
                input_frame=cf.Frame2D(name="detector", unit=(u.pix, u.pix)),
                output_frame=cf.CelestialFrame(reference_frame=coordinates.ICRS(),
                                               unit=(u.deg, u.deg)))


def test_a_gwcs_no_tan_sip_fits_is_refused_or_noted_with_its_error():
    pytest.importorskip("gwcs")
    shape = (120, 160)
    with pytest.raises(ValueError, match=r"no FITS TAN-SIP form within 0\.5 pixel over its "
                                         r"grid: the best fit is [0-9.]+ pixel off"):
        _fits.wcs_cards(_wavy_gwcs(shape, 5.0, 60.0), shape)
    cards, note = _fits.approximate_cards(_wavy_gwcs(shape, 0.1, 60.0), shape)
    assert note == "a TAN-SIP fit of its gwcs, up to 0.17 pixel off"
    # A gentle wave is fitted (its check, which once raised astropy's NoConvergence, measures).
    cards = _fits.wcs_cards(_wavy_gwcs(shape, 6.0, 40 * np.pi), shape)
    assert float(cards[_fits.SIP_NOTE].split("max error ")[1].split()[0]) <= _fits.SIP_MAX_ERROR


def test_a_wcs_to_record_has_two_axes():
    cube = astropy_wcs.WCS(naxis=3)
    cube.wcs.ctype = ["RA---TAN", "DEC--TAN", "FREQ"]
    with pytest.raises(ValueError, match=r"2 pixel axes, got 3: give its celestial part"):
        _fits.wcs_cards(cube, (10, 10))


def test_wcs_from_header_refusals():
    with pytest.raises(ValueError, match="thing has no WCS"):
        _fits.wcs_from_header(fits.Header({"OBJECT": "M31"}), label="thing")
    cube = astropy_wcs.WCS(naxis=3)
    cube.wcs.ctype = ["RA---TAN", "DEC--TAN", "FREQ"]
    with pytest.raises(ValueError, match="3 axes, not 2"):
        _fits.wcs_from_header(cube.to_header(), label="cube")


def test_read_wcs_and_source_wcs(tmp_path):
    import zarr

    wcs = make_wcs((30, 40), rotation=15.0)
    hdus = [fits.PrimaryHDU(), fits.ImageHDU(np.zeros((30, 40), np.float32),
                                             header=wcs.to_header(), name="SCI")]
    fits.HDUList(hdus).writeto(tmp_path / "exposure.fits")
    read, shape = _fits.read_wcs(f"{tmp_path / 'exposure.fits'}[SCI]", what="--wcs-from")
    assert shape == (30, 40)
    np.testing.assert_allclose(_world(read, shape), _world(wcs, shape), rtol=0, atol=1e-12)
    np.save(tmp_path / "p.npy", np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match=r"--wcs-from: .*is not a FITS file"):
        _fits.read_wcs(tmp_path / "p.npy", what="--wcs-from")

    array = zarr.create_array(str(tmp_path / "m.zarr"), shape=(30, 40), dtype="f4",
                              attributes={"wcs": _fits.wcs_cards(wcs)})
    np.testing.assert_allclose(_world(_fits.source_wcs(array, what="DATA"), shape),
                               _world(wcs, shape), rtol=0, atol=1e-14)
    fits_source = open_path(f"{tmp_path / 'exposure.fits'}[SCI]", what="DATA")
    assert _fits.source_wcs(fits_source, what="DATA").pixel_n_dim == 2
    bare = zarr.create_array(str(tmp_path / "bare.zarr"), shape=(3, 3), dtype="f4")
    with pytest.raises(ValueError, match="DATA: the zarr array has no attribute 'wcs'"):
        _fits.source_wcs(bare, what="DATA")
    header_text = zarr.create_array(str(tmp_path / "text.zarr"), shape=(3, 3), dtype="f4",
                                    attributes={"wcs": wcs.to_header_string()})
    with pytest.raises(ValueError, match="the zarr array's attribute 'wcs' is a str, not a dict"):
        _fits.source_wcs(header_text, what="DATA")
    with pytest.raises(ValueError, match="DATA has no WCS"):
        _fits.source_wcs(np.zeros((3, 3)), what="DATA")


def test_is_fits_name():
    assert all(map(_fits.is_fits_name, ["a.fits", "B.FITS", "c.fits.gz", "d.fit", "e.fts"]))
    assert not any(map(_fits.is_fits_name, ["a.zarr", "fits", "a.fits.zarr", 3]))
    # One rule for reading, refusing output names and exporting (two lists had drifted).
    assert all(map(_fits.is_fits_name, ["f.fts.gz", "g.fits.fz", "h.fz", "i.fits[SCI]"]))
    written = functools.partial(_fits.is_fits_name, written=True)
    assert all(map(written, ["a.fits", "c.fits.gz", "f.fts.gz"]))
    assert not any(map(written, ["g.fits.fz", "h.fz", "i.fits[SCI]", "a.zarr"]))
    assert _fits.fits_stem("x.FITS.fz") == ("x", "x.FITS")
    assert _fits.fits_stem("y.fz") == ("y", "y.fits")


def _bands(image, rows):
    for start in range(0, image.shape[0], rows):
        yield image[start : start + rows]


@pytest.mark.parametrize("name", ["out.fits", "out.fits.gz"])
@pytest.mark.parametrize("rows", [1, 7, 64])
def test_write_fits_bands_writes_the_image_and_header(rng, tmp_path, rows, name):
    image = rng.normal(size=(50, 37)).astype(np.float32)
    image[3, 4] = np.nan
    wcs = make_wcs(image.shape, rotation=-20.0, sip=True)
    header = _fits_out.image_header(image.shape, _fits.wcs_cards(wcs), history=["made in a test"])
    path = _fits_out.write_fits_bands(tmp_path / name, header, _bands(image, rows))
    if name.endswith(".gz"):
        # Really gzip, and inside it a FITS file of whole 2880-byte blocks.
        raw = gzip.decompress(path.read_bytes())
        assert raw.startswith(b"SIMPLE  =") and len(raw) % 2880 == 0
        # The same bytes as the plain file astropy's StreamingHDU writes.
        plain = _fits_out.write_fits_bands(tmp_path / "plain.fits", header, _bands(image, rows))
        assert raw == plain.read_bytes()
    with fits.open(path) as hdul:
        assert len(hdul) == 1
        np.testing.assert_array_equal(hdul[0].data, image)
        assert hdul[0].data.dtype == np.dtype(">f4")
        assert "made in a test" in str(hdul[0].header["HISTORY"])
        back = astropy_wcs.WCS(hdul[0].header)
    np.testing.assert_allclose(_world(back, image.shape), _world(wcs, image.shape), rtol=0,
                               atol=1e-12)


def test_write_fits_bands_refusals_leave_no_file(rng, tmp_path):
    image = rng.normal(size=(20, 10)).astype(np.float32)
    header = _fits_out.image_header(image.shape)
    with pytest.raises(ValueError, match="written to the local filesystem"):
        _fits_out.write_fits_bands("s3://bucket/out.fits", header, _bands(image, 5))
    with pytest.raises(ValueError, match="held 15 rows, the image has 20"):
        _fits_out.write_fits_bands(tmp_path / "short.fits.gz", header, _bands(image[:15], 5))
    with pytest.raises(ValueError, match="held 15 rows, the image has 20"):
        _fits_out.write_fits_bands(tmp_path / "short.fits", header, _bands(image[:15], 5))
    with pytest.raises(ValueError, match="does not fit"):
        _fits_out.write_fits_bands(tmp_path / "wide.fits", header, [np.zeros((20, 11), np.float32)])
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no half-written file kept
    (tmp_path / "there.fits").write_bytes(b"keep me")
    with pytest.raises(ValueError, match="already exists"):
        _fits_out.write_fits_bands(tmp_path / "there.fits", header, _bands(image, 5))
    assert (tmp_path / "there.fits").read_bytes() == b"keep me"
    _fits_out.write_fits_bands(tmp_path / "there.fits", header, _bands(image, 5), overwrite=True)
    np.testing.assert_array_equal(fits.getdata(tmp_path / "there.fits"), image)


@pytest.mark.parametrize("name", ["big.fits", "big.fits.gz"])
def test_write_fits_bands_memory_follows_one_band(tmp_path, name):
    # A 16 MiB image streamed in 256 KiB bands: numpy's allocations (traced by tracemalloc)
    # stay near a band, far below the image. The bands are made on the fly, never held.
    shape, rows = (2048, 2048), 32
    header = _fits_out.image_header(shape)

    def bands():
        for start in range(0, shape[0], rows):
            yield np.full((rows, shape[1]), start, dtype=np.float32)

    tracemalloc.start()
    try:
        _fits_out.write_fits_bands(tmp_path / name, header, bands())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    image_bytes = shape[0] * shape[1] * 4
    assert peak < image_bytes / 8, f"peak {peak / 2**20:.1f} MiB for a 16 MiB image"
    with fits.open(tmp_path / name) as hdul:
        assert hdul[0].data.shape == shape
        assert hdul[0].data[-1, 0] == shape[0] - rows


def test_a_file_made_meanwhile_is_never_replaced_without_overwrite(tmp_path):
    # Checked when the export starts, then renamed over at its end: another export's file
    # made meanwhile was replaced.
    partial, path = tmp_path / ".tileblot-x.partial", tmp_path / "out.fits"
    partial.write_bytes(b"new")
    path.write_bytes(b"the other export's")
    with pytest.raises(ValueError, match="already exists; pass overwrite=True"):
        _fits_out._put(partial, path, overwrite=False)
    assert path.read_bytes() == b"the other export's"
    _fits_out._put(partial, path, overwrite=True)
    assert path.read_bytes() == b"new" and not partial.exists()


_SLOW_EXPORT = """
import sys, time
import numpy as np
from tileblot._io import _fits_out

def bands():
    for _ in range(100):
        yield np.zeros((1, 64), dtype=np.float32)
        time.sleep(0.2)

_fits_out.write_fits_bands(sys.argv[1], _fits_out.image_header((100, 64)), bands())
"""


def test_what_a_killed_export_left_is_deleted_by_the_next(rng, tmp_path):
    """Killed (kill -9, out of memory), an export left its hidden file, as large as the
    image, for good: nothing ever deleted it."""
    killed = subprocess.Popen([sys.executable, "-c", _SLOW_EXPORT, str(tmp_path / "a.fits")])
    deadline = time.monotonic() + 120
    while not any(tmp_path.glob(".tileblot-*.partial")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # a few bands written
    killed.kill()
    killed.wait()
    (left,) = tmp_path.glob(".tileblot-*.partial")
    assert left.stat().st_size > 2880
    # Kept: a file of a process that still runs (this one), and one of another host.
    host = _fits_out._host()
    mine = tmp_path / f".tileblot-{host}-{os.getpid()}-{'0' * 12}.partial"
    other = "f" * 8 if host != "f" * 8 else "0" * 8
    elsewhere = tmp_path / f".tileblot-{other}-1-{'0' * 12}.partial"
    for kept in (mine, elsewhere):
        kept.write_bytes(b"")
    image = rng.normal(size=(20, 10)).astype(np.float32)
    _fits_out.write_fits_bands(tmp_path / "b.fits", _fits_out.image_header(image.shape),
                               _bands(image, 5))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["b.fits", mine.name, elsewhere.name])
    np.testing.assert_array_equal(fits.getdata(tmp_path / "b.fits"), image)


_EXPORT_ONE = """
import sys
import numpy as np
from tileblot._io import _fits_out

_fits_out.write_fits_bands(sys.argv[1], _fits_out.image_header((4, 4)),
                           [np.zeros((4, 4), np.float32)])
"""


def test_a_live_exports_file_is_kept_by_an_export_in_another_process_namespace(tmp_path):
    """Containers that share a host name (host networking) but not their processes: a live
    export's file was deleted by another's, whose pids are not the live one's."""
    import shutil

    unshare = shutil.which("unshare")
    if unshare is None or os.geteuid() != 0:
        pytest.skip("needs unshare, as root, to run a process in another pid namespace")
    live = tmp_path / f".tileblot-{_fits_out._host()}-{os.getpid()}-{'0' * 12}.partial"
    live.write_bytes(b"")  # this process's: alive, here
    done = subprocess.run([unshare, "--pid", "--fork", "--mount-proc", sys.executable, "-c",
                           _EXPORT_ONE, str(tmp_path / "a.fits")], capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).parents[2])
    if done.returncode and "unshare" in done.stderr:
        pytest.skip(f"unshare refused here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    assert live.exists() and (tmp_path / "a.fits").exists()


def test_the_longest_name_a_file_system_takes_can_be_written(rng, tmp_path):
    # The hidden file was named after the file, 23 bytes longer: past the limit where the
    # file's own name was not.
    image = rng.normal(size=(4, 5)).astype(np.float32)
    path = tmp_path / ("a" * 250 + ".fits")
    _fits_out.write_fits_bands(path, _fits_out.image_header(image.shape), [image])
    np.testing.assert_array_equal(fits.getdata(path), image)
