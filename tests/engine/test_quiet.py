"""Warnings silenced by one thread at a time: overlapping blocks leave the filters as they were."""

import threading
import warnings

from tileblot._engine._quiet import warn, warnings_ignored


def test_blocks_of_two_threads_never_overlap_so_the_filters_come_back():
    # The order that breaks catch_warnings: A enters, B enters, A leaves, B leaves, and B puts
    # back the filters it found, A's "ignore" among them, for good. Here B cannot enter
    # until A has left (A waits a moment for it, then leaves).
    filters = list(warnings.filters)
    b_in, a_out = threading.Event(), threading.Event()
    entered_while_a_inside = []

    def a():
        with warnings_ignored():
            entered_while_a_inside.append(b_in.wait(0.5))
        a_out.set()

    def b():
        with warnings_ignored():
            b_in.set()
            a_out.wait(5)

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    threads[0].start()
    threads[1].start()
    for thread in threads:
        thread.join(10)
    assert entered_while_a_inside == [False]
    assert warnings.filters == filters


def test_a_block_ignores_its_category_only_inside():
    with warnings_ignored(DeprecationWarning), warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always", UserWarning)
        warnings.warn("dropped", DeprecationWarning, stacklevel=1)
        warnings.warn("kept", UserWarning, stacklevel=1)
    assert [str(w.message) for w in seen] == ["kept"]


def test_tileblots_own_warning_waits_for_another_threads_silenced_block():
    """A job's warning on one thread, while another job's thread reads a WCS with every
    warning silenced: it was dropped (one warning of twelve lost, two jobs on two threads).
    It now comes once the block ends, still from its caller's line."""
    inside, warned = threading.Event(), threading.Event()

    def silenced():
        with warnings_ignored():
            inside.set()
            warned.wait(0.5)  # long enough for the warning to be sent, were it not held

    def job():
        inside.wait(5)
        warn("the exposure misses the mosaic", UserWarning)
        warned.set()

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        threads = [threading.Thread(target=silenced), threading.Thread(target=job)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    assert [str(w.message) for w in seen] == ["the exposure misses the mosaic"]
    assert seen[0].filename == __file__
