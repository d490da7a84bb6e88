"""Shared fixtures: a seeded random generator, never global seeding; the built docs; a real
S3-compatible server on loopback for the object-store tests."""

import logging
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.fixture
def rng(request):
    """A ``numpy.random.Generator`` seeded from the test's name, so that every test draws
    its own reproducible stream and adding a test never changes another's data."""
    seed = sum(ord(c) * (i + 1) for i, c in enumerate(request.node.name))
    return np.random.default_rng(seed)


@pytest.fixture(scope="session")
def built_docs(tmp_path_factory):
    """The Sphinx site built once (``-W``): ``(completed process, root)``.

    The HTML is under ``root / "html"``; myst-nb executes the notebook during the
    build and leaves the executed copy under ``root / "jupyter_execute"``, which
    the notebook test reads: the notebook runs once per test session, not twice.
    """
    root = tmp_path_factory.mktemp("docs")
    command = [
        sys.executable, "-m", "sphinx",
        "-W", "--keep-going", "-b", "html",
        "-d", str(root / "doctrees"),
        str(DOCS), str(root / "html"),
    ]
    # The notebook starts a local cluster: minutes on a loaded machine, not seconds.
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    return result, root


# Nothing of a developer's own AWS set-up may reach the S3 tests (nor the tests a real
# account): no credentials, profiles or config files, no instance-metadata lookups.
_AWS_ENV_CLEARED = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                    "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
                    "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_DEFAULT_REGION",
                    "AWS_REGION")
AWS_ENV_ISOLATED = {"AWS_CONFIG_FILE": "/nonexistent/tileblot-test-aws-config",
                    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/tileblot-test-aws-credentials",
                    "AWS_EC2_METADATA_DISABLED": "true"}


@pytest.fixture(scope="session")
def s3_server():
    """A real S3-compatible server (moto's server mode) on a free port of 127.0.0.1.

    Started once per session (about a second), stopped at its end. It needs no
    network beyond loopback; any credentials are accepted.
    """
    pytest.importorskip("s3fs")
    server_module = pytest.importorskip("moto.server")
    werkzeug = logging.getLogger("werkzeug")
    level = werkzeug.level
    werkzeug.setLevel(logging.ERROR)  # not one log line per request
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        werkzeug.setLevel(level)


@pytest.fixture
def aws_env_isolated(monkeypatch):
    """This test's environment without any AWS set-up (restored afterwards)."""
    for name in _AWS_ENV_CLEARED:
        monkeypatch.delenv(name, raising=False)
    for name, value in AWS_ENV_ISOLATED.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def s3(s3_server, aws_env_isolated):
    """A fresh bucket on the server: ``(bucket_url, storage_options)``.

    The dummy credentials and the endpoint travel in ``storage_options`` only (as a
    user would pass them), never in the environment: whatever reaches the server,
    a worker process included, got there through tileblot.
    """
    import s3fs

    options = {"endpoint_url": s3_server, "key": "tileblot-test", "secret": "tileblot-test"}
    bucket = f"tileblot-{uuid.uuid4().hex[:12]}"
    fs = s3fs.S3FileSystem(**options)  # one instance (and session) for every test
    fs.mkdir(bucket)
    yield f"s3://{bucket}", options
    fs.rm(bucket, recursive=True)
