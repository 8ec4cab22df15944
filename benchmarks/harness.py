"""Timing, peak memory and machine facts shared by the benchmark groups.

A group describes each contender as a :class:`Contender` (the timed call, plus what must happen
outside the timed region); :func:`time_alternating` times them A B C A B C … so drift on a shared
machine hits all of them, and :func:`peak_memory` measures one in a fresh process.
"""

from __future__ import annotations

import gc
import importlib.metadata
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import THREAD_VARIABLES, THREADS

MiB = 1 << 20
#: Entries written per block by :func:`random_normal`: a few MiB at a time, never the whole array.
_FILL_BLOCK = 1 << 20


def _nothing() -> None:
    return None


@dataclass
class Contender:
    """One way of doing a group's work.

    run: the timed call; returns its outputs (e.g. (loss, gradient)), which are dropped before
    the next call. reset: untimed, before every call (re-fill a buffer an in-place call
    overwrote, drop a stale .grad). prepare: untimed, once, before the first call (compile
    ahead of time); its duration is reported with the warm-up.
    """

    label: str
    run: Callable[[], Any]
    reset: Callable[[], None] = _nothing
    prepare: Callable[[], None] = _nothing


def _seconds(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds of every thread of this process, fn's result)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def summary(samples: list[float]) -> dict:
    """Median, min and max of samples, and the samples themselves."""
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples),
            "runs": list(samples)}


def time_alternating(contenders: dict[str, Contender], runs: int,
                     on_last: Callable[[str, Any], None] | None = None,
                     log: Callable[[str], None] = print) -> dict[str, dict]:
    """Time each contender ``runs`` times, alternating A B C A B C …

    Every contender is first prepared and called once (the warm-up, timed apart). One that
    raises there — a framework not installed, an option this lossgrad does not have yet — is
    reported with its error and left out. ``on_last(key, outputs)`` sees each contender's outputs
    of the last round (untimed), e.g. to check them against a reference.

    Returns per key: label, seconds (median, min, max, runs), cpu_use (CPU seconds per wall
    second over the timed runs: 2 means both cores busy), prepare_s (None for a contender with
    nothing to prepare), first_call_s; or label and error.
    """
    results: dict[str, dict] = {}
    ready: dict[str, Contender] = {}
    for key, c in contenders.items():
        try:
            prepare_s, _, _ = _seconds(c.prepare)
            c.reset()
            first_s, _, out = _seconds(c.run)
            del out
        except Exception as exc:  # any failure here (ImportError, TypeError, …): unavailable
            results[key] = {"label": c.label, "error": f"{type(exc).__name__}: {exc}"}
            log(f"  {c.label}: unavailable ({results[key]['error']})")
            continue
        results[key] = {"label": c.label, "first_call_s": first_s,
                        "prepare_s": None if c.prepare is _nothing else prepare_s}
        ready[key] = c
    walls: dict[str, list[float]] = {key: [] for key in ready}
    cpus: dict[str, list[float]] = {key: [] for key in ready}
    # No collection inside a timed call: one pass over the heap of an interpreter holding
    # PyTorch and JAX takes longer than a small call. Outputs die by reference counting.
    gc.collect()
    gc.disable()
    try:
        for i in range(runs):
            for key, c in ready.items():
                c.reset()
                wall, cpu, out = _seconds(c.run)
                walls[key].append(wall)
                cpus[key].append(cpu)
                if on_last is not None and i == runs - 1:
                    on_last(key, out)
                del out
    finally:
        gc.enable()
    for key in ready:
        results[key]["seconds"] = summary(walls[key])
        results[key]["cpu_use"] = sum(cpus[key]) / sum(walls[key])
        log(f"  {ready[key].label}: median {1e3 * results[key]['seconds']['median']:.1f} ms")
    return results


# -------------------------------------------------------------------------------------------------
# inputs


def random_normal(shape: tuple[int, ...], dtype=np.float32, seed: int = 0) -> np.ndarray:
    """Standard normal entries, written block by block into a fresh array: no temporary the
    size of the array, so the process's peak RSS is the inputs' own size when timing starts."""
    out = np.empty(shape, dtype)
    flat = out.reshape(-1)
    rng = np.random.default_rng(seed)
    for start in range(0, flat.size, _FILL_BLOCK):
        rng.standard_normal(out=flat[start:start + _FILL_BLOCK], dtype=dtype)
    return out


def random_labels(rows: int, classes: int, seed: int = 1) -> np.ndarray:
    """Integer labels in [0, classes), int64."""
    return np.random.default_rng(seed).integers(0, classes, rows)


# -------------------------------------------------------------------------------------------------
# peak memory


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark to the current RSS; False where the kernel refuses (then
    the inputs' own allocation, free of temporaries, sets the baseline)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def _peak_rss_bytes() -> int:
    """The peak RSS of this process: VmHWM where /proc has it, else ru_maxrss.

    ru_maxrss also keeps the peak of the process before its exec — for a child forked by a big
    process (a benchmark holding gigabytes) that is the parent's size, which would hide the
    child's own peak; VmHWM is this program's alone.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def measure_peak(contender: Contender) -> dict:
    """The extra peak RSS of one call, in this process: prepare, reset, baseline, run, peak.

    Called in a fresh process whose inputs already exist (see :func:`peak_memory`). The
    outputs of the call are alive at the second reading, so they are part of the delta.
    """
    contender.prepare()
    contender.reset()
    gc.collect()
    reset = _reset_peak_rss()
    baseline = _peak_rss_bytes()
    out = contender.run()
    peak = _peak_rss_bytes()
    del out
    return {"label": contender.label, "extra_bytes": peak - baseline, "baseline_bytes": baseline,
            "peak_reset": reset}


def peak_memories(jobs: list[tuple[str, str, dict]], log: Callable[[str], None] = print
                  ) -> list[dict]:
    """:func:`peak_memory` of each (group, key, size), two processes at a time: each process
    measures its own RSS, so they do not disturb each other's numbers."""
    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(lambda job: peak_memory(*job, log=log), jobs))


def peak_memory(group: str, key: str, size: dict, log: Callable[[str], None] = print) -> dict:
    """:func:`measure_peak` of one contender of ``group`` at ``size``, in a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "memory.json"
        cmd = [sys.executable, "-m", "benchmarks.child", "memory", group, key,
               "--size", json.dumps(size), "--json", str(path)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0 or not path.exists():
            tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            log(f"  memory {group}/{key} {size}: failed ({tail})")
            return {"error": tail}
        return json.loads(path.read_text())


# -------------------------------------------------------------------------------------------------
# the machine


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _cpu_flags() -> list[str]:
    """The SIMD extensions that matter for exp throughput and BLAS, as /proc/cpuinfo lists them."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines()
                  if line.startswith("flags")), [])
    return [f for f in ("avx2", "fma", "avx512f", "avx512bw", "avx512vl") if f in flags]


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return "unknown"


def _memory_total() -> int | None:
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return None


def machine() -> dict:
    """CPU model, cores, memory, transparent huge pages, load and the thread settings."""
    return {
        "cpu_model": _cpu_model(),
        "cpu_flags": _cpu_flags(),
        "cpus": os.cpu_count(),
        "memory_bytes": _memory_total(),
        "transparent_hugepage": _read("/sys/kernel/mm/transparent_hugepage/enabled"),
        "load_average": list(os.getloadavg()),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "threads": {name: os.environ.get(name) for name in THREAD_VARIABLES},
    }


#: Distributions whose versions the report records (those missing are recorded as None).
DISTRIBUTIONS = ("lossgrad", "numpy", "scipy", "torch", "jax", "jaxlib", "optax", "matplotlib")


def versions() -> dict:
    """Installed versions, read from the package metadata (nothing is imported)."""
    found = {}
    for name in DISTRIBUTIONS:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def revision(root: Path) -> str | None:
    """The checkout's commit, "+ local changes" when the tree differs from it; None outside git."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                                capture_output=True, text=True, check=True).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                 cwd=root, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + (" + local changes" if changed.strip() else "")


def blas() -> list[dict]:
    """NumPy's BLAS as threadpoolctl sees it: library, version, CPU kernel and thread count."""
    from threadpoolctl import threadpool_info

    return [{k: info.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
            for info in threadpool_info() if info.get("user_api") == "blas"]
