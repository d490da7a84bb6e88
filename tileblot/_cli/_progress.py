"""Progress of a job on a cluster: distributed's live bar in a terminal, plain lines in a log.

distributed's text bar redraws one line with carriage returns ten times a second: right in a
terminal, and in a batch log 400 updates on one 27 KB line for a 45 s job. Where standard
output is not a terminal, :class:`LineProgress` prints a line instead every
:data:`EVERY_PERCENT` percent or :data:`EVERY_SECONDS` seconds, whichever comes first, with
the tiles done, the rate and the time left.
"""

import sys
import time

from distributed.diagnostics.progressbar import TextProgressBar

EVERY_PERCENT = 5
EVERY_SECONDS = 30.0


def _duration(seconds):
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class LineProgress(TextProgressBar):
    """distributed's progress of ``keys``, as a plain line every few percent or seconds.

    The scheduler reports the tasks done among all the job's tasks (reading pixmaps, blotting,
    writing); the tiles done are that fraction of ``tiles``.
    """

    def __init__(self, keys, tiles, echo, **kwargs):
        self.tiles = tiles
        self.echo = echo
        self._shown = (-EVERY_PERCENT, time.monotonic())
        super().__init__(keys, interval="500ms", **kwargs)

    def _draw_bar(self, remaining, all, **kwargs):
        fraction = 1.0 - remaining / all if all else 1.0
        percent = int(100 * fraction)
        now = time.monotonic()
        last_percent, last_time = self._shown
        if last_percent >= 100:  # the final line is out
            return
        due = percent >= last_percent + EVERY_PERCENT or now >= last_time + EVERY_SECONDS
        if not (due or fraction >= 1.0):
            return
        self._shown = (100 if fraction >= 1.0 else percent, now)
        done = int(fraction * self.tiles)
        elapsed = max(self.elapsed, 1e-9)
        rate = done / elapsed
        # The share of the tiles the line names (that of the tasks read "0 of 1 tiles (50%)").
        shown = int(100 * done / self.tiles) if self.tiles else 100
        line = f"progress: {done} of {self.tiles} tiles ({shown}%), {rate:.1f} tiles/s"
        if 0 < done < self.tiles:
            line += f", about {_duration((self.tiles - done) / rate)} left"
        elif done == self.tiles:
            line += f", {_duration(elapsed)} in all"
        self.echo(line)

    def _draw_stop(self, **kwargs):
        pass


def progress_reporter(echo, *, show=True, stream=None):
    """``report(futures, tiles)``: the live bar or :class:`LineProgress` (if ``show``).

    The job calls it with its futures and the number of tiles it computes (known
    only once a resume with ``--verify`` has decoded the tiles already written);
    ``report.tiles`` keeps that number for the final line.
    """
    stream = sys.stdout if stream is None else stream

    def report(futures, tiles):
        report.tiles = tiles
        if not show:
            return
        if stream.isatty():
            TextProgressBar(futures)
        else:
            LineProgress(futures, tiles, echo)

    report.tiles = 0
    return report
