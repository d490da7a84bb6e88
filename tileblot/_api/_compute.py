"""Running a job's write tasks: dask's threads, or a cluster's workers, one band each."""

import contextlib
import logging

import dask

from .._engine._budget import cache_budget, task_budget
from .._engine._clients import scheduler_workers, worker_addresses
from .._engine._quiet import warn

#: What a worker process holds once it has run a tile, before any tile's memory: Python,
#: numpy, numba with the kernels, zarr, dask and distributed (measured: 189 MiB on Linux;
#: 64 MiB before its first task, which is all the scheduler can see when a job starts).
WORKER_BASELINE = 190 << 20


def compute_jobs(jobs, progress, client, tiles, labels):
    """Compute ``jobs``: a list, per plan, of one delayed per band of tile rows.

    ``tiles``, the number of tiles they write, goes to a callable ``progress``
    (the command line's report) with the futures. ``labels`` name each plan's
    output: on a cluster, a job of several exposures that fails says which
    (a note on the error).

    On a distributed cluster each band goes to a worker (see :func:`band_workers`),
    loosely (``allow_other_workers``: work stealing still balances the load,
    and a lost worker's bands run elsewhere, on workers that join later too:
    :mod:`tileblot._engine._restrictions`).
    """
    if client is not None:
        warn_small_workers(scheduler_workers(client))
        workers = worker_addresses(client)
        # A scheduler whose workers have not joined yet (a batch queue still starting them)
        # gets the bands unplaced: they wait for the first worker, as any dask job does.
        places = band_workers([len(bands) for bands in jobs], workers)
        if any(place is not None for place in places):
            from .._engine._restrictions import loosen_on

            loosen_on(client)  # or a band placed on workers that all left would never run
        futures = [client.compute(job, workers=[place], allow_other_workers=True)
                   if place is not None else client.compute(job)
                   for job, place in zip([job for bands in jobs for job in bands], places,
                                         strict=True)]
        try:
            if callable(progress):  # the command line's own report
                progress(futures, tiles)
            elif progress:
                from distributed import progress as distributed_progress

                distributed_progress(futures)
            results = client.gather(futures)
        except BaseException as exc:
            if isinstance(exc, Exception) and len(jobs) > 1:
                owners = [k for k, bands in enumerate(jobs) for _ in bands]
                failed = sorted({k for k, future in zip(owners, futures, strict=True)
                                 if future.status == "error"})
                for k in failed:
                    exc.add_note(f"exposure {k + 1} of {len(jobs)} (output {labels[k]}) failed")
            # Interrupted, or one exposure failed: its lock is about to go, and nothing the
            # cluster still computes would be recorded. A notebook keeps the traceback, and
            # with it these futures: left alone, the cluster would finish the whole job.
            # (The command line, whose report a callable progress is, closes its client
            # next, which releases them; cancelled first, an interrupted gather's task
            # would print a traceback there.)
            if not callable(progress):
                _quiet_gather_exits()
                with contextlib.suppress(Exception):
                    client.cancel(futures)
            raise
    elif progress:
        from dask.diagnostics import ProgressBar

        with ProgressBar():
            results = dask.compute(*[job for bands in jobs for job in bands])
    else:
        results = dask.compute(*[job for bands in jobs for job in bands])
    # Per plan: (tiles recorded, their pixels on the mosaic), summed over its bands.
    results, sums = list(results), []
    for bands in jobs:
        mine, results = results[: len(bands)], results[len(bands) :]
        sums.append(tuple(sum(column) for column in zip(*mine, strict=True)))
    return sums


def warn_small_workers(workers):
    """Warn of workers whose memory limit the job's budgets would take past distributed's pause.

    ``workers``: the scheduler's description of each (``scheduler_info()["workers"]``). A
    worker holds about :data:`WORKER_BASELINE` once it has run a tile, then its tasks'
    budget and its chunk cache's (see :mod:`tileblot._engine._budget`); past the fraction of
    its limit at which distributed pauses a worker (``distributed.worker.memory.pause``,
    80%) it takes no task, and a job whose workers all pause waits for good (measured:
    2 workers of 250 MB paused at 213 MiB, with no error).
    """
    pause = dask.config.get("distributed.worker.memory.pause", 0.8)
    if not pause:
        return
    small = []
    for address, worker in sorted(workers.items()):
        limit, threads = worker.get("memory_limit"), max(1, int(worker.get("nthreads") or 1))
        if not limit:
            continue
        used = max(int(worker.get("metrics", {}).get("memory") or 0), WORKER_BASELINE)
        need = used + threads * task_budget((limit, threads)) + cache_budget((limit, threads))
        if need > pause * limit:
            small.append(f"{address} (limit {limit / 2**20:.0f} MiB: about "
                         f"{need / 2**20:.0f} MiB at its peak, paused at "
                         f"{pause * limit / 2**20:.0f})")
    if small:
        warn(
            f"worker memory limit too small for this job: {', '.join(small)}. A worker holds "
            f"about {WORKER_BASELINE >> 20} MiB once it has loaded tileblot's kernels, then "
            "its tasks' and its chunk cache's budgets (each an eighth of its limit, at most); "
            f"past {pause:.0%} of its limit distributed pauses it, and a job whose workers "
            "are all paused waits for good. Give each worker more memory (370 MB at least)",
            UserWarning, stacklevel=5)  # blot_to_zarr's caller


def band_workers(counts, workers):
    """The worker each band of each plan goes to (``counts``: bands per plan), in order.

    A plan with a band per worker gives band ``k`` to worker ``k``: the bands of
    every such plan line up, so that exposures dithered over one region of the
    mosaic have its chunks decoded on one worker. A plan with fewer bands (an
    exposure with fewer tile rows than there are workers) takes the next
    workers in turn after the previous such plan's: started at worker 0 every
    time, a job of many small exposures ran all of them on worker 0 (measured:
    8 single-row exposures on 2 workers, 32 tasks on one and 9 on the other).
    ``None`` for every band when no worker has joined.
    """
    if not workers:
        return [None] * sum(counts)
    places, turn = [], 0
    for count in counts:
        start = 0
        if count < len(workers):
            start, turn = turn, turn + count
        places += [workers[(start + k) % len(workers)] for k in range(count)]
    return places


class _DropGatherExits(logging.Filter):
    """Drops asyncio's report of distributed's ``AllExit`` left in a cancelled gather.

    A gather interrupted in the main thread goes on in the client's event loop;
    once its futures are cancelled, each of its waiting tasks ends with
    ``AllExit``, distributed's own signal to stop waiting, which nothing
    retrieves: asyncio then prints each with a traceback ("Task exception was
    never retrieved"). Nothing failed that the user has not been told of.
    """

    def filter(self, record):
        exc = record.exc_info[1] if record.exc_info else None
        return type(exc).__name__ != "AllExit" or type(exc).__module__ != "distributed.client"


def _quiet_gather_exits():
    logger = logging.getLogger("asyncio")
    if not any(isinstance(f, _DropGatherExits) for f in logger.filters):
        logger.addFilter(_DropGatherExits())
