"""Fixtures shared by the command-line tests."""

import pytest
from distributed import LocalCluster


@pytest.fixture(scope="module")
def scheduler():
    """Address of a one-worker process cluster, shared by one test module's tests."""
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=":0") as cluster:
        yield cluster.scheduler_address
