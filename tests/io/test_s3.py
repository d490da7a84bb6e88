"""The store protocol on a real S3-compatible server (moto's, on loopback: tests/conftest.py).

The protocol tests of ``test_store.py`` also run on S3 (its ``store`` fixture); these
break what is particular to object stores on purpose: a second connection (another
process, another host) taking the lock, a listing cached while workers write, foreign
objects under the output's prefix, two spellings of one URL, and every way a URL can
fail to reach its store (wrong port, no bucket, no credentials, a bad option).
"""

import contextlib
import socket
import threading
import time

import numpy as np
import pytest
import zarr

import tileblot
from tileblot._io import _lock, _urls, _verify
from tileblot._io._locations import check_apart, check_distinct, store_location
from tileblot._io._maintenance import break_lock
from tileblot._io._refusals import check_output
from tileblot._io._sources import open_path
from tileblot._io._store import (
    IMAGE,
    create_output,
    describe,
    finish,
    take_output,
)
from tileblot._io._urls import output_store

s3fs = pytest.importorskip("s3fs")  # the test extra installs it; moto too

SHAPE, CHUNKS = (20, 30), (10, 10)  # a 2 x 3 grid of tiles
RECORD = {"version": "test", "params": {"interp": "linear"}, "shape": list(SHAPE),
          "chunks": list(CHUNKS), "data": {"token": ["d"]}, "pixmap": {"token": ["p"]}}


# Options that make fsspec give a filesystem instance of its own (its own session and
# listings cache) that it keeps, and closes, like any other (not skip_instance_cache,
# whose instances leave unclosed sessions behind when collected).
_ELSEWHERE = {"config_kwargs": {"user_agent_extra": "tileblot-test-elsewhere"}}


def _other_connection(options):
    """A filesystem that shares nothing with this test's stores (another worker, another host)."""
    return s3fs.S3FileSystem(**options, **_ELSEWHERE)


def _start(store):
    check_output(store, RECORD, overwrite=True)
    owner = _lock.new_owner()
    root = take_output(store, owner)
    image, done = create_output(root, SHAPE, CHUNKS, 0.0, RECORD, owner["job"])
    return image, done, root, owner["job"]


def test_a_lock_taken_through_another_connection_is_seen_at_once(s3):
    bucket, options = s3
    store = output_store(f"{bucket}/out.zarr", storage_options=options)
    _, _, root, job = _start(store)
    _verify.scan(root, (2, 3))  # a listing, as the client makes one
    # Another job, elsewhere, breaks the lock and takes the store.
    other = _other_connection(options)
    key = f"{bucket[5:]}/out.zarr/{_lock.LOCK}/zarr.json"
    thief = {**_lock.new_owner(), "host": "another-host"}  # not recognisable as stale
    other.pipe(key, _lock._encode(thief).to_bytes())
    assert not _lock.owns(root, job) and _lock.owns(root, thief["job"])
    # A second job through a fresh store object is refused while the thief holds it.
    again = output_store(f"{bucket}/out.zarr", storage_options=options)
    with pytest.raises(ValueError, match=rf"in use by job {thief['job']}"):
        take_output(again, _lock.new_owner())
    with pytest.raises(RuntimeError, match="taken over while this job ran"):
        finish(root, RECORD, job, label="out")
    # The thief is gone (another host: only an explicit break frees the store).
    removed = break_lock(f"{bucket}/out.zarr", storage_options=options)
    assert removed["job"] == thief["job"] and _lock.read_lock(root) is None
    take_output(again, _lock.new_owner())


def test_a_chunk_written_after_a_listing_is_read_not_the_fill_value(s3):
    # fsspec caches listings by default: a key written by a worker after the client
    # listed its prefix would then read as absent (zarr: the fill value). Output stores
    # are opened without that cache.
    bucket, options = s3
    store = output_store(f"{bucket}/out.zarr", storage_options=options)
    image, _, root, _ = _start(store)
    image[0:10, 0:10] = 1.0  # the chunk directory image/c/0 exists and is listed...
    assert _verify.scan(root, (2, 3)).chunk.sum() == 1
    worker = zarr.open_array(
        output_store(f"{bucket}/out.zarr/{IMAGE}", storage_options={**options, **_ELSEWHERE}),
        mode="r+")
    worker[0:10, 10:20] = 2.0  # ...then another process writes image/c/0/1
    reread = zarr.open_array(store=root.store, path=IMAGE, mode="r")
    np.testing.assert_array_equal(reread[0:10, 10:20], 2.0)


def test_overwrite_on_s3_deletes_only_tileblots_objects(s3):
    bucket, options = s3
    store = output_store(f"{bucket}/out.zarr", storage_options=options)
    image, done, root, job = _start(store)
    image[...] = 1.0
    done[...] = 1
    finish(root, RECORD, job, label="out")
    other = _other_connection(options)
    prefix = f"{bucket[5:]}/out.zarr"
    other.pipe(f"{prefix}/notes.txt", b"mine")
    other.pipe(f"{prefix}/extra/data.bin", b"\0")
    with pytest.raises(ValueError, match=r"'s3://.*/out.zarr' already exists"):
        check_output(store, RECORD)
    image, done, root, job = _start(store)
    assert other.cat(f"{prefix}/notes.txt") == b"mine"
    assert other.exists(f"{prefix}/extra/data.bin")
    assert not other.find(f"{prefix}/{IMAGE}/c")  # the old tiles are gone
    assert describe(store)["tiles_done"] == 0


def test_a_foreign_prefix_is_never_overwritten(s3):
    bucket, options = s3
    _other_connection(options).pipe(f"{bucket[5:]}/theirs.zarr/zarr.json", b"{}")
    store = output_store(f"{bucket}/theirs.zarr", storage_options=options)
    with pytest.raises(ValueError, match="is not a tileblot output; refusing to delete it"):
        check_output(store, RECORD, overwrite=True)


def test_one_url_spelled_two_ways_is_one_store(s3):
    bucket, options = s3
    plain, slashed = f"{bucket}/out.zarr", f"{bucket}/out.zarr/"
    assert store_location(plain) == store_location(slashed) == plain
    opened = [output_store(u, storage_options=options) for u in (plain, slashed)]
    assert store_location(opened[0]) == store_location(opened[1]) == plain
    for pair in ([plain, slashed], opened, [plain, opened[1]]):
        with pytest.raises(ValueError, match="are the same output"):
            check_distinct(pair)
    check_distinct([plain, f"{bucket}/out.zarr2"])  # a common prefix is not the same store
    inside = zarr.create_array(output_store(f"{slashed}image", storage_options=options),
                               shape=(4, 4), dtype="f4")
    for out in (plain, opened[1]):
        with pytest.raises(ValueError, match="lies inside the output store"):
            check_apart(out, {"data": inside})
        with pytest.raises(ValueError, match="lies inside the output store"):
            check_apart(out, {"pixmap": f"{slashed}pix.zarr"})
    check_apart(plain, {"data": f"{bucket}/out.zarr2/image"})


def _quickly(call, match):
    """``call()`` raises a ValueError matching ``match`` within seconds, not minutes."""
    start = time.perf_counter()
    with pytest.raises(ValueError, match=match):
        call()
    # A hang guard, not a timing goal: botocore's defaults take 8-10 s per request.
    assert time.perf_counter() - start < 10


@pytest.mark.parametrize("what", ["output", "input"])
def test_every_unusable_url_is_one_clear_error(s3, s3_server, what):
    bucket, options = s3
    closed_port = "http://127.0.0.1:9"  # discard: nothing listens there on loopback
    no_credentials = {"endpoint_url": s3_server}

    def use(url, opts):
        if what == "output":
            return output_store(url, storage_options=opts)
        return open_path(url, what="data", storage_options=opts)

    _quickly(lambda: use(f"{bucket}/x.zarr", {**options, "endpoint_url": closed_port}),
             r"cannot use 's3://.*/x.zarr' \(endpoint http://127.0.0.1:9\): "
             r"EndpointConnectionError.*check the endpoint's host and port")
    _quickly(lambda: use("s3://no-such-bucket-here/x.zarr", options),
             r"'s3://no-such-bucket-here/x.zarr': there is no bucket 'no-such-bucket-here' "
             r"at http://127.0.0.1:\d+")
    _quickly(lambda: use(f"{bucket}/x.zarr", no_credentials),
             r"NoCredentialsError: Unable to locate credentials; give credentials")
    _quickly(lambda: use(f"{bucket}/x.zarr", {**options, "colour": "blue"}),
             r"cannot use .*TypeError: .*'colour'")
    if what == "input":
        _quickly(lambda: use(f"{bucket}/missing.zarr", options),
                 r"data: no such zarr store 's3://.*/missing.zarr'")
    # Keys under "//" start with "/": written and read, never listed (a job wrote every
    # tile, then found none).
    _quickly(lambda: use(f"{bucket}//x.zarr", options),
             rf"'{bucket}//x.zarr' has an empty name after the bucket \('//'\): write "
             rf"{bucket}/x.zarr$")




@pytest.mark.parametrize("what", ["output", "input"])
def test_credentials_the_store_refuses_are_one_clear_error(s3, monkeypatch, what):
    # The bucket's HEAD request gets a bare 403, as a prefix-only policy would (allowed
    # on): a listing tells refused credentials apart. moto checks them from now on.
    moto_settings = pytest.importorskip("moto.settings")
    bucket, options = s3
    if what == "output":
        def use():
            return output_store(f"{bucket}/x.zarr", storage_options=options)
    else:
        def use():
            return open_path(f"{bucket}/x.zarr", what="data", storage_options=options)
    # Back to any credentials before the bucket is removed (the fixture's monkeypatch
    # would undo it only after).
    with monkeypatch.context() as patched:
        patched.setattr(moto_settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
        _quickly(use, rf"cannot use '{bucket}/x.zarr' \(endpoint http://127.0.0.1:\d+\): the "
                      r"store refuses these credentials \(InvalidAccessKeyId: .*\); check the")

_DENIED = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
           b"<Message>Access Denied</Message><RequestId>1</RequestId></Error>")


@pytest.fixture
def read_only_endpoint(s3_server):
    """An endpoint in front of the S3 server that lets reads through and answers writes and
    deletes as a bucket policy that allows reading only does (403 AccessDenied)."""
    import http.client
    import http.server
    from urllib.parse import urlsplit

    upstream = urlsplit(s3_server)

    class ReadOnly(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _forward(self):
            size = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(size) if size else None
            if self.command in ("PUT", "POST", "DELETE"):
                self.send_response(403)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(_DENIED)))
                self.end_headers()
                self.wfile.write(_DENIED)
                return
            connection = http.client.HTTPConnection(upstream.hostname, upstream.port)
            connection.request(self.command, self.path, body=body,
                               headers={k: v for k, v in self.headers.items()
                                        if k.lower() != "connection"})
            reply = connection.getresponse()
            data = reply.read()
            self.send_response(reply.status)
            for name, value in reply.getheaders():
                if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(name, value)
            length = reply.getheader("Content-Length") if self.command == "HEAD" else len(data)
            self.send_header("Content-Length", str(length or 0))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            connection.close()


    for method in ("GET", "HEAD", "PUT", "POST", "DELETE"):
        setattr(ReadOnly, f"do_{method}", ReadOnly._forward)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), ReadOnly)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_output_the_credentials_may_only_read_is_one_clear_error(s3, read_only_endpoint):
    """The job's first write, its lock, is refused: a bare "PermissionError: Access Denied"
    named no store (the command line's: exit 1, after its cluster started)."""
    bucket, options = s3
    data = np.random.default_rng(0).random((40, 40), dtype=np.float32)
    pixmap = np.dstack(np.meshgrid(np.arange(30.0) + 3, np.arange(30.0) + 3))
    with pytest.raises(ValueError, match=rf"output store '{bucket}/ro.zarr' cannot be written "
                                         r"\(Access Denied\): the store refuses it"):
        tileblot.blot_to_zarr(data, pixmap, f"{bucket}/ro.zarr", progress=False,
                              storage_options={**options, "endpoint_url": read_only_endpoint})
    assert not s3fs.S3FileSystem(**options).exists(f"{bucket}/ro.zarr")


def test_a_bucket_deleted_since_this_process_probed_it_is_named(s3_server, aws_env_isolated):
    """The probe is made once per process and bucket: the job's first write then met the
    missing bucket as a bare FileNotFoundError."""
    options = {"endpoint_url": s3_server, "key": "tileblot-test", "secret": "tileblot-test"}
    fs = s3fs.S3FileSystem(**options)
    fs.mkdir("tileblot-gone")
    output_store("s3://tileblot-gone/first.zarr", storage_options=options)  # probed
    fs.rm("tileblot-gone", recursive=True)
    data = np.random.default_rng(0).random((40, 40), dtype=np.float32)
    pixmap = np.dstack(np.meshgrid(np.arange(30.0) + 3, np.arange(30.0) + 3))
    with pytest.raises(ValueError, match=r"output store 's3://tileblot-gone/o.zarr' cannot be "
                                         r"written \(.*\): its bucket or folder is gone"):
        tileblot.blot_to_zarr(data, pixmap, "s3://tileblot-gone/o.zarr", progress=False,
                              storage_options=options)


def test_an_endpoint_that_never_answers_is_one_clear_error_in_seconds(s3, monkeypatch):
    # It takes the connection and says nothing (a dead tunnel, a proxy with no backend):
    # the probe's read timeout applies, once per botocore attempt, never times s3fs's own
    # five (at the real 10 s timeout: 305 s in silence before, 22 s now).
    bucket, options = s3
    monkeypatch.setitem(_urls.PROBE_S3_CONFIG, "read_timeout", 1)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    held = []
    stop = threading.Event()

    def take():
        silent.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(silent.accept()[0])

    taker = threading.Thread(target=take, daemon=True)
    taker.start()
    endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
    try:
        start = time.perf_counter()
        with pytest.raises(ValueError, match=r"ReadTimeoutError.*check the endpoint's host "
                                             r"and port"):
            output_store(f"{bucket}/x.zarr", storage_options={**options,
                                                              "endpoint_url": endpoint})
        assert time.perf_counter() - start < 6  # 2 attempts of 1 s, not 5 x 2
    finally:
        stop.set()
        taker.join()
        for connection in held:
            connection.close()
        silent.close()


def test_a_chunk_rewritten_within_its_second_is_not_served_from_the_cache(s3):
    # S3's modification time counts whole seconds, and the stamp takes it before the
    # ETag: a chunk rewritten, same size, in the second it was written looks unchanged
    # to the stamp, and this process holds it decoded. The cache's key has the ETags.
    import tileblot
    from tileblot._io._urls import zarr_store

    bucket, options = s3
    fs = _other_connection(options)
    first = np.arange(64.0, dtype=np.float32).reshape(8, 8)
    pixmap = np.dstack(np.meshgrid(np.arange(8.0) + 0.25, np.arange(8.0) + 0.25))
    same_second = 0
    for trial in range(5):
        url = f"{bucket}/mosaic{trial}.zarr"
        opened = zarr_store(url, storage_options=options, read_only=False, what="test")
        mosaic = zarr.create_array(opened, data=first, chunks=(4, 4), compressors=None)
        blotted = tileblot.blot(url, pixmap, interp="linear", storage_options=options)
        np.testing.assert_array_equal(blotted.compute(), tileblot.blot_image(
            first, pixmap, interp="linear", precision="high"))
        key = f"{url[5:]}/c/1/0"
        then = fs.info(key)["LastModified"]
        mosaic[4:8, 0:4] = -1.0  # the same size: uncompressed
        fs.invalidate_cache()
        if fs.info(key)["LastModified"] != then:
            continue  # another second: the stamp sees it anyway
        same_second += 1
        second = first.copy()
        second[4:8, 0:4] = -1.0
        np.testing.assert_array_equal(
            tileblot.blot(url, pixmap, interp="linear", storage_options=options).compute(),
            tileblot.blot_image(second, pixmap, interp="linear", precision="high"))
    assert same_second  # the case arose: writes on loopback take milliseconds

def test_fits_images_and_their_wcs_from_s3(s3, rng):
    # The mosaic as a FITS extension, and the exposure whose WCS --wcs-from reads.
    fits = pytest.importorskip("astropy.io.fits")
    from astropy.wcs import WCS

    from tileblot._io._fits import read_wcs, source_wcs

    bucket, options = s3
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval, wcs.wcs.crpix = [150.1, 2.2], [30.5, 25.5]
    wcs.wcs.cdelt = [-1e-5, 1e-5]
    data = rng.normal(size=(50, 60)).astype(np.float32)
    hdus = fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(data, wcs.to_header(), name="SCI")])
    with s3fs.S3FileSystem(**options).open(f"{bucket[5:]}/drz.fits", "wb") as f:
        hdus.writeto(f)

    image = open_path(f"{bucket}/drz.fits[SCI]", what="data", storage_options=options)
    assert image.shape == (50, 60)
    np.testing.assert_array_equal(image[7:19, 11:40], data[7:19, 11:40])  # a section read
    exposure, shape = read_wcs(f"{bucket}/drz.fits[SCI]", what="--wcs-from",
                               storage_options=options)
    assert shape == (50, 60)
    np.testing.assert_allclose(exposure.wcs.crval, wcs.wcs.crval)
    mosaic = source_wcs(image, what="DATA")
    np.testing.assert_allclose(mosaic.pixel_to_world_values(3.0, 4.0),
                               wcs.pixel_to_world_values(3.0, 4.0))
