"""Timing for the benchmark commands: ours and a baseline doing the same work, run
alternately in one process so both see the same load on a shared, noisy machine."""

import statistics
import time


def interleaved_medians(runs: int, ours, baseline) -> tuple[float, float]:
    """Median seconds of each over ``runs`` alternating calls (call both once first to warm
    caches, connections and fonts)."""
    ours_times, baseline_times = [], []
    for _ in range(runs):
        ours_times.append(timed(ours))
        baseline_times.append(timed(baseline))
    return statistics.median(ours_times), statistics.median(baseline_times)


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start
