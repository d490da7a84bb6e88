"""Input sources: files reopen on workers, FITS windows, clear errors for bad inputs."""

import pickle

import dask
import numpy as np
import pytest
import zarr

import tileblot
from tests.helpers import affine_pixmap
from tileblot._io._errors import DamagedInputError
from tileblot._io._files import FitsImage, MemmapFile
from tileblot._io._fits import read_wcs
from tileblot._io._identity import difference, identify
from tileblot._io._sources import as_source

fits = pytest.importorskip("astropy.io.fits")


def test_memmap_pickles_as_its_path(tmp_path, rng):
    data = rng.normal(size=(300, 200)).astype(">f8")
    path = tmp_path / "data.npy"
    np.save(path, data)
    source = as_source(np.load(path, mmap_mode="r"), what="data")
    assert isinstance(source, MemmapFile)
    blob = pickle.dumps(source)
    assert len(blob) < 1000  # not the 480 kB of data
    clone = pickle.loads(blob)
    np.testing.assert_array_equal(clone[10:20, 30:45], data[10:20, 30:45])
    assert identify(clone) == identify(source)


_VIEWS = {
    "whole": lambda a: a,
    "slice": lambda a: a[10:50, 20:60],
    "rows from the middle": lambda a: a[5:],
    "every other pixel": lambda a: a[::2, 1::2],
    "reversed rows": lambda a: a[::-1],
    "transpose": lambda a: a.T,
    "transpose of a slice": lambda a: a[3:60, 7:40].T,
}


@pytest.mark.parametrize("view", _VIEWS)
@pytest.mark.parametrize("order", ["C", "F"])
def test_a_memmap_view_is_read_where_it_is(tmp_path, rng, view, order):
    # numpy gives a view of a memmap its parent's offset: reopened from it, a slice read
    # the parent's first rows (every path but blot_image's, which reads the array).
    path = tmp_path / "data.raw"
    path.write_bytes(b"h" * 24 + rng.normal(size=80 * 90).astype(np.float32).tobytes())
    # The offset as a header's length read from the file often is: a numpy integer.
    mapped = _VIEWS[view](np.memmap(path, np.float32, "r", np.int64(24), (80, 90), order))
    source = as_source(mapped, what="data")
    assert isinstance(source, MemmapFile)  # still read from the file, not shipped
    clone = pickle.loads(pickle.dumps(source))
    np.testing.assert_array_equal(clone[...], mapped)
    pixmap = affine_pixmap((30, 34), angle=0.3, shift=(4.0, 6.0))
    expected = tileblot.blot_image(np.asarray(mapped), pixmap, precision="high")
    np.testing.assert_array_equal(tileblot.blot(mapped, pixmap, chunks=16).compute(), expected)
    store = tileblot.blot_to_zarr(mapped, pixmap, tmp_path / "out.zarr", chunks=16,
                                  progress=False)
    np.testing.assert_array_equal(store[...], expected)


def test_memmap_views_as_pixmaps_and_edits_in_memory(tmp_path, rng):
    data = rng.normal(size=(60, 70)).astype(np.float32)
    # Several exposures' pixmaps in one file, each a view of it.
    stacked = np.stack([affine_pixmap((20, 24), angle=a, shift=(8.0 + a, 5.0))
                        for a in (0.0, 0.3, -0.2)])
    np.save(tmp_path / "pixmaps.npy", stacked)
    mapped = np.load(tmp_path / "pixmaps.npy", mmap_mode="r")
    pixmaps = [mapped[k] for k in range(3)]
    stores = [tmp_path / f"exposure{k}.zarr" for k in range(3)]
    images = tileblot.blot_to_zarr(data, pixmaps, stores, chunks=8, progress=False)
    for image, pixmap in zip(images, stacked, strict=True):
        np.testing.assert_array_equal(image[...],
                                      tileblot.blot_image(data, pixmap, precision="high"))
    # A copy-on-write map holds its edits in memory only: read as an array in memory.
    np.save(tmp_path / "data.npy", data)
    edited = np.load(tmp_path / "data.npy", mmap_mode="c")
    edited[:] = -1.0
    assert not isinstance(as_source(edited, what="data"), MemmapFile)
    assert (tileblot.blot(edited, stacked[0], chunks=8).compute() == -1.0).all()


def _write_fits(path, data, **scale):
    # astropy scales the array it is given in place: hand it a copy.
    hdul = fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(data=data.copy(), name="SCI")])
    if scale:
        hdul["SCI"].scale("int16", **scale)
    hdul.writeto(path)


def test_fits_windows_by_extension(tmp_path, rng):
    data = rng.normal(size=(60, 70)).astype(np.float32)
    path = tmp_path / "mosaic.fits"
    _write_fits(path, data)
    pixmap = affine_pixmap((40, 40), angle=0.2, shift=(5.0, 3.0))
    expected = tileblot.blot_image(data, pixmap, precision="high")
    for spec in (f"{path}[1]", f"{path}[SCI]", f"{path}[sci,1]", str(path)):
        got = tileblot.blot(spec, pixmap, chunks=16).compute()
        np.testing.assert_array_equal(got, expected, err_msg=spec)
    source = as_source(f"{path}[SCI]", what="data")
    assert isinstance(source, FitsImage)
    assert source.shape == (60, 70) and source.dtype == np.dtype(">f4")
    clone = pickle.loads(pickle.dumps(source))
    np.testing.assert_array_equal(clone[5:9, 7:20], data[5:9, 7:20])



def test_a_truncated_fits_mosaic_is_refused_at_once_or_named_where_it_fails(tmp_path, rng):
    data = rng.normal(size=(60, 70)).astype(np.float32)
    path = tmp_path / "mosaic.fits"
    _write_fits(path, data)
    opened = as_source(f"{path}[SCI]", what="data")
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.truncate(size - 8000)
    # Found when opened: no store is made, no task fails; and said once, without astropy's
    # own warning first (a second line at the command line, an error under -W error).
    with pytest.raises(ValueError, match=r"mosaic.fits is damaged or still being written: it "
                                         rf"has {size - 8000} bytes, and its header says its "
                                         rf"\[first image\] ends at byte {size}"):
        tileblot.blot_to_zarr(str(path), affine_pixmap((20, 20)), tmp_path / "out.zarr",
                              progress=False)
    assert not (tmp_path / "out.zarr").exists()
    # Truncated after it was opened (still being copied): the task names the rows it read;
    # a file system's error (here: the file gone) is no damage and passes as it is.
    with pytest.raises(DamagedInputError, match=r"mosaic.fits\[SCI\]: rows 40:60, columns "
                                                r"0:70 cannot be read"), \
            pytest.warns(UserWarning, match="may have been truncated"):
        opened[40:60, 0:70]
    path.unlink()
    with pytest.raises(FileNotFoundError):
        opened[40:60, 0:70]


def test_a_fits_file_whose_data_is_not_written_yet_is_refused_by_name(tmp_path, rng):
    data = rng.normal(size=(60, 70)).astype(np.float32)
    path = tmp_path / "mosaic.fits"
    _write_fits(path, data)
    with path.open("r+b") as f:  # the headers written, the image's data not yet
        f.truncate(2 * 2880)
    with pytest.raises(ValueError, match=r"mosaic.fits is damaged or still being written"):
        as_source(f"{path}[SCI]", what="data")


def test_a_gzip_fits_mosaic_is_read_whole(tmp_path, rng):
    # Its size on disk is the compressed one: no measure of where its data ends.
    data = rng.normal(size=(60, 70)).astype(np.float32)
    _write_fits(tmp_path / "mosaic.fits.gz", data)
    assert (tmp_path / "mosaic.fits.gz").stat().st_size < data.nbytes
    pixmap = affine_pixmap((40, 40), angle=0.2, shift=(5.0, 3.0))
    np.testing.assert_array_equal(
        tileblot.blot(f"{tmp_path / 'mosaic.fits.gz'}[SCI]", pixmap, chunks=16).compute(),
        tileblot.blot_image(data, pixmap, precision="high"))

def test_a_gzip_fits_window_is_decompressed_once(tmp_path, rng, monkeypatch):
    """A gzip file is one stream: each seek back decompresses it again from its start, and
    astropy read a window narrower than the image row by row, a seek back per row (a 512-row
    tile of a 4 MB .fits.gz took 17 s, the whole file 0.04 s)."""
    import gzip

    data = rng.normal(size=(600, 70)).astype(np.float32)
    _write_fits(tmp_path / "mosaic.fits.gz", data)
    source = as_source(f"{tmp_path / 'mosaic.fits.gz'}[SCI]", what="data")
    restarts, seek = [], gzip.GzipFile.seek

    def counted(self, offset, whence=0):
        if whence == 0 and offset < self.tell():
            restarts.append(offset)
        return seek(self, offset, whence)

    monkeypatch.setattr(gzip.GzipFile, "seek", counted)
    np.testing.assert_array_equal(source[300:460, 5:15], data[300:460, 5:15])
    assert len(restarts) <= 2, f"{len(restarts)} restarts of the decompression for 160 rows"
    np.testing.assert_array_equal(source[0:600, 69:70], data[:, 69:70])


def test_an_extension_spelled_otherwise_is_the_same_input(tmp_path, rng):
    """FITS compares extension names without case: a resume with [sci] after [SCI] was
    refused as another input ("extension 'SCI' then, 'sci' now")."""
    _write_fits(tmp_path / "mosaic.fits", rng.normal(size=(60, 70)).astype(np.float32))
    spellings = ["[SCI]", "[sci]", "[ Sci ]", "[SCI,1]", "[sci, 1]"]
    identities = [identify(as_source(f"{tmp_path / 'mosaic.fits'}{ext}", what="data"))
                  for ext in spellings]
    assert identities[0] == identities[1] == identities[2]
    assert identities[3] == identities[4] != identities[0]  # another spelling: [1] and [SCI,1]
    # A store started before names were normalised recorded them as typed.
    typed = {**identities[0], "metadata": {**identities[0]["metadata"], "extension": "sci"}}
    assert difference("data", typed, identities[0]) is None
    typed["metadata"]["extension"] = "err"
    assert "extension 'err' then, 'SCI' now" in difference("data", typed, identities[0])


def test_the_first_image_is_found_after_a_table(tmp_path, rng):
    """A table's header has NAXIS = 2 too: 'file.fits' took a catalogue before the image for
    its "first image", and refused it as holding none."""
    data = rng.normal(size=(60, 70)).astype(np.float32)
    table = fits.BinTableHDU.from_columns(
        [fits.Column(name="FLUX", format="E", array=np.arange(5.0))], name="CAT")
    fits.HDUList([fits.PrimaryHDU(), table, fits.ImageHDU(data, name="SCI")]).writeto(
        tmp_path / "mosaic.fits")
    pixmap = affine_pixmap((40, 40), angle=0.2, shift=(5.0, 3.0))
    np.testing.assert_array_equal(tileblot.blot(tmp_path / "mosaic.fits", pixmap,
                                                chunks=16).compute(),
                                  tileblot.blot_image(data, pixmap, precision="high"))
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(tmp_path / "catalogue.fits")
    with pytest.raises(ValueError, match=r"catalogue\.fits has no image extension"):
        as_source(str(tmp_path / "catalogue.fits"), what="data")


@pytest.mark.parametrize("name", ["mosaic.fits.fz", "mosaic.fz", "mosaic.fts.gz"])
def test_every_fits_name_tileblot_refuses_as_output_is_read_as_fits(tmp_path, rng, name):
    # fpack's tile-compressed .fz (the image in extension 1) was taken for a zarr store and
    # refused as "not a zarr array"; .fts.gz was refused as an output name, not read as FITS.
    data = rng.normal(size=(60, 70)).astype(np.float32)
    image = (fits.CompImageHDU(data=data, compression_type="GZIP_2") if name.endswith(".fz")
             else fits.ImageHDU(data=data))
    fits.HDUList([fits.PrimaryHDU(), image]).writeto(tmp_path / name)
    pixmap = affine_pixmap((40, 40), angle=0.2, shift=(5.0, 3.0))
    expected = tileblot.blot_image(fits.getdata(tmp_path / name, 1), pixmap, precision="high")
    for source in (tmp_path / name, f"{tmp_path / name}[1]"):
        np.testing.assert_array_equal(tileblot.blot(source, pixmap, chunks=16).compute(),
                                      expected)


def _radio_header(ny, nx):
    header = fits.Header()
    for key, value in (("CTYPE1", "RA---SIN"), ("CTYPE2", "DEC--SIN"), ("CRVAL1", 150.0),
                       ("CRVAL2", 2.0), ("CRPIX1", nx / 2), ("CRPIX2", ny / 2),
                       ("CDELT1", -1e-4), ("CDELT2", 1e-4), ("CTYPE3", "FREQ"),
                       ("CRVAL3", 1.4e9), ("CDELT3", 1e6), ("CRPIX3", 1.0),
                       ("CTYPE4", "STOKES"), ("CRVAL4", 1.0), ("CDELT4", 1.0), ("CRPIX4", 1.0)):
        header[key] = value
    return header


def test_a_radio_image_with_degenerate_axes_is_read_as_its_sky_image(tmp_path, rng):
    # Frequency and Stokes axes of length 1, in the data as in the header: the mosaic was
    # refused as 4-D, and as an exposure its WCS as 4 axes.
    data = rng.normal(size=(1, 1, 60, 70)).astype(np.float32)
    path = tmp_path / "radio.fits"
    fits.PrimaryHDU(data, header=_radio_header(60, 70)).writeto(path)
    fits.PrimaryHDU(data, header=_radio_header(60, 70)).writeto(tmp_path / "radio.fits.gz")
    pixmap = affine_pixmap((40, 40), angle=0.2, shift=(5.0, 3.0))
    for name in ("radio.fits", "radio.fits.gz"):  # read by full rows when gzipped
        np.testing.assert_array_equal(
            tileblot.blot(tmp_path / name, pixmap, chunks=16).compute(),
            tileblot.blot_image(data[0, 0], pixmap, precision="high"))
    source = as_source(str(path), what="data")
    assert source.shape == (60, 70) and pickle.loads(pickle.dumps(source))[10:12, 3].shape == (2,)
    wcs, shape = read_wcs(str(path), what="--wcs-from")
    assert shape == (60, 70) and wcs.pixel_n_dim == 2 and wcs.wcs.ctype[0] == "RA---SIN"
    # A cube of several channels is not an image: still refused.
    fits.PrimaryHDU(np.zeros((3, 60, 70), np.float32)).writeto(tmp_path / "cube.fits")
    with pytest.raises(ValueError, match="data must be 2-D, got 3-D"):
        tileblot.blot(tmp_path / "cube.fits", pixmap)


@pytest.mark.parametrize("name", ["m.fits.fz", "m.fits.gz"])  # .gz: read by full rows
def test_an_hcompress_mosaic_is_read_by_many_threads(tmp_path, rng, name):
    # astropy's HCOMPRESS decoder is not thread-safe: tiles read on dask's threads failed
    # with "qtree_decode64: bad format code".
    data = rng.normal(size=(160, 200)).astype(np.float32)
    fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(
        data=data, compression_type="HCOMPRESS_1")]).writeto(tmp_path / name)
    pixmap = affine_pixmap((120, 150), angle=0.2, shift=(5.0, 3.0))
    expected = tileblot.blot_image(fits.getdata(tmp_path / name, 1), pixmap,
                                   precision="high")
    with dask.config.set(scheduler="threads", num_workers=4):
        for _ in range(3):
            np.testing.assert_array_equal(
                tileblot.blot(tmp_path / name, pixmap, chunks=16).compute(), expected)


def test_fits_scaled_integers_are_read_scaled(tmp_path):
    data = np.arange(30 * 40, dtype=np.float32).reshape(30, 40) / 2
    path = tmp_path / "scaled.fits"
    _write_fits(path, data, bscale=0.5, bzero=100.0)
    source = as_source(f"{path}[1]", what="data")
    assert source.dtype.kind == "f"
    np.testing.assert_allclose(source[3:5, 2:6], data[3:5, 2:6])
    unsigned = tmp_path / "unsigned.fits"
    _write_fits(unsigned, data * 2, bzero=32768)  # FITS's uint16 convention
    np.testing.assert_array_equal(as_source(str(unsigned), what="data")[3:5, 2:6],
                                  data[3:5, 2:6] * 2)


def test_bad_paths_and_objects(tmp_path):
    path = tmp_path / "empty.fits"
    fits.HDUList([fits.PrimaryHDU()]).writeto(path)
    with pytest.raises(ValueError, match="no image"):
        as_source(str(path), what="data")
    with pytest.raises(ValueError, match="no extension"):
        as_source(f"{path}[SCI]", what="data")
    with pytest.raises(ValueError, match=r"\[SCI,x\] must be \[NAME,VERSION\]"):
        as_source(f"{path}[SCI,x]", what="data")
    group = tmp_path / "group.zarr"
    zarr.open_group(group, mode="w")
    with pytest.raises(ValueError, match="is a zarr group, not an array"):
        as_source(str(group), what="data")
    with pytest.raises(TypeError, match="data must be"):
        as_source(42, what="data")


