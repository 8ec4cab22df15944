"""Memory copy bandwidth with NumPy on one and two threads: the yardstick of P3.

Bytes moved count the reads and the writes (2 × the buffer), as the goals do. Two threads each
copy one half; NumPy releases the GIL inside ``copyto``, so they run at once.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np

from ..harness import MiB, Contender, time_alternating

TITLE = "Memory copy bandwidth (NumPy)"
SIZES = {"quick": {"bytes": 64 * MiB}, "full": {"bytes": 512 * MiB}}
RUNS = {"quick": 7, "full": 9}


def inputs(size: dict) -> dict:
    """Source and destination, both written once so no page is first touched while timed."""
    count = size["bytes"] // 4
    return {"src": np.full(count, 1.0, np.float32), "dst": np.zeros(count, np.float32)}


def one_thread(inp: dict) -> Contender:
    return Contender("NumPy copyto, 1 thread", lambda: np.copyto(inp["dst"], inp["src"]))


def two_threads(inp: dict) -> Contender:
    src, dst = inp["src"], inp["dst"]
    half = src.size // 2
    pool = ThreadPoolExecutor(2)  # started here, outside the timed region

    def run():
        wait([pool.submit(np.copyto, dst[:half], src[:half]),
              pool.submit(np.copyto, dst[half:], src[half:])])

    return Contender("NumPy copyto, 2 threads (one half each)", run)


CONTENDERS = {"1 thread": one_thread, "2 threads": two_threads}


def run(size: dict, runs: int, log) -> dict:
    """Time both copies; bandwidth = 2 × bytes / median time."""
    log(f"copy: {size['bytes'] // MiB} MiB")
    inp = inputs(size)
    timings = time_alternating({k: make(inp) for k, make in CONTENDERS.items()}, runs, log=log)
    for t in timings.values():
        if "seconds" in t:
            t["bandwidth_GBps"] = 2 * size["bytes"] / t["seconds"]["median"] / 1e9
    return {"size": size, "timings": timings}
