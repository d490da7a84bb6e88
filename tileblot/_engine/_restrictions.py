"""A scheduler plugin: a task placed loosely on workers that have all left runs on new ones.

tileblot places its tiles in bands with ``workers=`` and ``allow_other_workers=True``
(:mod:`._placement`). distributed (2026.7) honours ``allow_other_workers`` when it picks a
worker for a ready task, but a task that became ready while no worker was left goes to
its "no-worker" state, and when workers join again, under new addresses (a nanny's
restart after an out-of-memory kill, a batch queue's replacement), it checks them against
the restriction alone: the task never runs and the job waits forever. :class:`LooseRestrictions`
lifts such a task's restriction to workers that are all gone, just before the scheduler looks
at its waiting tasks for the worker that joined.
"""

import logging

from distributed.diagnostics.plugin import SchedulerPlugin

NAME = "tileblot-loose-restrictions"

logger = logging.getLogger(__name__)


class LooseRestrictions(SchedulerPlugin):
    """Lift the worker restriction of a loosely placed task whose workers have all left.

    Only tasks waiting for a worker ("no-worker"), placed with
    ``allow_other_workers=True``, none of whose workers is there now: what
    ``allow_other_workers`` promises them. Every other task is left alone, so
    the plugin may stay on a scheduler that other jobs share.
    """

    name = NAME
    idempotent = True  # registered by every job: the first registration stays, silently

    def add_worker(self, scheduler=None, worker=None):
        present = scheduler.workers.keys()
        for task in list(scheduler.unrunnable):
            if (task.loose_restrictions and task.worker_restrictions
                    and not task.worker_restrictions & present):
                task.worker_restrictions = None


def loosen_on(client):
    """Register :class:`LooseRestrictions` on ``client``'s scheduler, once per scheduler.

    A scheduler that cannot take it (one that cannot import tileblot) keeps
    distributed's own rule: logged, not raised, since the job can run without it.
    """
    try:
        client.register_plugin(LooseRestrictions())
    except Exception as exc:  # distributed re-raises the scheduler's error as it was
        logger.info("could not register %s on the scheduler: %s", NAME, exc)
