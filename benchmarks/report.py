"""The report: goals P1–P7 judged from the raw results, Markdown tables and figures.

Everything here reads the results dictionary (the JSON the run saves) and nothing else, so the
report can be rewritten from a saved results.json (``python -m benchmarks --report-only``).
"""

from __future__ import annotations

from pathlib import Path

from .harness import MiB

NOTES = Path(__file__).with_name("notes.md")
#: The figures' folder, next to the report (docs/benchmarks.md → docs/benchmarks/).
FIGURE_DIR = "benchmarks"
FIGURES = {"ce_time": "ce_time_vs_V.png", "ce_memory": "ce_memory_vs_N.png"}
#: P4's allowance for what is not an N×V array (the per-row values, the interpreter's own
#: allocations): "≈ 0" in place is at most this fraction of one N×V array, and the fused kernel
#: may use one array plus as much.
SLACK = 0.05
#: P7's tolerances (issue #5's goals).
LOSS_RTOL, GRAD_TOL = 1e-6, 1e-6


# -------------------------------------------------------------------------------------------------
# reading results


def _timed(group: dict, key: str) -> dict | None:
    """The timing entry of one contender of a group's results, or None when it was not timed."""
    t = group.get("timings", {}).get(key)
    return t if t and "seconds" in t else None


def _timing(results: dict, group: str, key: str) -> dict | None:
    """The timing entry of one contender, or None when the group or the contender did not run."""
    return _timed(results.get("groups", {}).get(group, {}), key)


def _median(results: dict, group: str, key: str) -> float | None:
    t = _timing(results, group, key)
    return None if t is None else t["seconds"]["median"]


def _ce_memory(results: dict, key: str) -> int | None:
    """Extra peak bytes of a CE contender at the main N."""
    ce = results.get("groups", {}).get("ce", {})
    mem = ce.get("memory_vs_N", {})
    values = mem.get("extra_bytes", {}).get(key)
    n = ce.get("size", {}).get("N")
    if not values or n not in mem.get("N", []):
        return None
    return values[mem["N"].index(n)]


def _linear_working(results: dict, key: str) -> int | None:
    """Extra peak bytes of a linear contender beyond its returned gradients."""
    linear = results.get("groups", {}).get("linear", {})
    extra = linear.get("memory", {}).get(key, {}).get("extra_bytes")
    if extra is None:
        return None
    return extra - sum(linear["gradient_bytes"].values())


# -------------------------------------------------------------------------------------------------
# goals


def _goal(ident: str, measure: str, goal: str, value: str | None, met: bool | None) -> dict:
    return {"id": ident, "measure": measure, "goal": goal,
            "value": "not measured" if value is None else value, "met": met}


def _speedup_goal(results, ident, peer, peer_name, target) -> dict:
    fused, inplace, theirs = (_median(results, "ce", k) for k in ("fused", "fused_inplace", peer))
    measure = f"fused softmax CE forward + backward vs {peer_name}"
    if fused is None or theirs is None:
        return _goal(ident, measure, f"≥ {target}× faster", None, None)
    value = f"{theirs / fused:.2f}× ({_s(fused)} vs {_s(theirs)})"
    if inplace is not None:
        value += f"; in place {theirs / inplace:.2f}×"
    return _goal(ident, measure, f"≥ {target}× faster", value, theirs / fused >= target)


def _bandwidth_goal(results) -> dict:
    measure = "fused CE achieved bytes 2·N·V·4 / time vs 2-thread copy"
    goal = "≥ 30% (moonshot ≥ 60%)"
    ce = _timing(results, "ce", "fused")
    copy = _timing(results, "copy", "2 threads")
    if ce is None or copy is None:
        return _goal("P3", measure, goal, None, None)
    share = ce["bandwidth_GBps"] / copy["bandwidth_GBps"]
    value = f"{100 * share:.0f}% ({ce['bandwidth_GBps']:.1f} of {copy['bandwidth_GBps']:.1f} GB/s)"
    inplace = _timing(results, "ce", "fused_inplace")
    if inplace is not None:
        value += f"; in place {100 * inplace['bandwidth_GBps'] / copy['bandwidth_GBps']:.0f}%"
    return _goal("P3", measure, goal, value, share >= 0.30)


def _memory_goal(results) -> dict:
    measure = "extra peak memory of the fused CE (at N, V of P1)"
    goal = f"≤ one N×V array; in place ≈ 0 (allowance: {SLACK:.0%} of one array)"
    fused, inplace = _ce_memory(results, "fused"), _ce_memory(results, "fused_inplace")
    array = results.get("groups", {}).get("ce", {}).get("array_bytes")
    if fused is None or inplace is None or array is None:
        return _goal("P4", measure, goal, None, None)
    value = f"{_mib(fused)} and in place {_mib(inplace)} (one N×V array: {_mib(array)})"
    return _goal("P4", measure, goal, value,
                 fused <= (1 + SLACK) * array and inplace <= SLACK * array)


def _linear_goal(results) -> dict:
    measure = "fused linear + CE: working memory (extra peak beyond the returned gradients); time"
    goal = "≤ 256 MiB; ≤ 1.15× the materialised version"
    working = _linear_working(results, "fused")
    ours, theirs = _median(results, "linear", "fused"), _median(results, "linear", "materialised")
    if working is None or ours is None or theirs is None:
        return _goal("P5", measure, goal, None, None)
    value = f"{_mib(working)}; {ours / theirs:.2f}× ({_s(ours)} vs {_s(theirs)})"
    return _goal("P5", measure, goal, value, working <= 256 * MiB and ours <= 1.15 * theirs)


def _lenet_goal(results) -> dict:
    measure = "LeNet-5 training images/s vs PyTorch"
    goal = "≥ 0.5× (moonshot: parity)"
    ours, theirs = _timing(results, "lenet", "lossgrad"), _timing(results, "lenet", "torch")
    if ours is None or theirs is None:
        return _goal("P6", measure, goal, None, None)
    a, b = ours["images_per_s"]["median"], theirs["images_per_s"]["median"]
    value = f"{a / b:.2f}× ({a:,.0f} vs {b:,.0f} images/s)"
    return _goal("P6", measure, goal, value, a / b >= 0.5)


def _correctness_goal(results) -> dict:
    measure = "fp32 fused CE against a float64 reference"
    goal = f"loss within {LOSS_RTOL:g} relative; gradient within {GRAD_TOL:g}·max|g|"
    checks = results.get("groups", {}).get("ce", {}).get("correctness", {})
    found = {k: checks[k] for k in ("fused", "fused_inplace") if k in checks}
    if len(found) < 2:
        return _goal("P7", measure, goal, None, None)
    value = "; ".join(f"{_LABEL[k]}: loss {c['loss_rel_err']:.1e}, gradient "
                      f"{c['grad_err_over_max']:.1e}" for k, c in found.items())
    met = all(c["loss_rel_err"] <= LOSS_RTOL and c["grad_err_over_max"] <= GRAD_TOL
              for c in found.values())
    return _goal("P7", measure, goal, value, met)


_LABEL = {"fused": "fused", "fused_inplace": "in place"}


def goals(results: dict) -> list[dict]:
    """P1–P7 with the measured value and whether each is met (None: not measured, or a quick
    run, whose sizes are not the goals' own)."""
    found = [_speedup_goal(results, "P1", "torch", "PyTorch eager", 5),
             _speedup_goal(results, "P2", "jax", "JAX jit", 2),
             _bandwidth_goal(results), _memory_goal(results), _linear_goal(results),
             _lenet_goal(results), _correctness_goal(results)]
    if results["quick"]:
        for goal in found:
            goal["met"] = None
    return found


# -------------------------------------------------------------------------------------------------
# formatting


def _s(seconds: float) -> str:
    return f"{seconds:.3g} s" if seconds >= 1 else f"{1e3 * seconds:.3g} ms"


def _mib(nbytes: int | None) -> str:
    return "—" if nbytes is None else f"{nbytes / MiB:,.1f} MiB"


def _table(header: list[str], rows: list[list[str]]) -> str:
    def line(cells):
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    return "\n".join([line(header), "|" + "---|" * len(header), *map(line, rows)])


def _times(t: dict) -> list[str]:
    s = t["seconds"]
    return [_s(s["median"]), _s(s["min"]), _s(s["max"])]


def _ratio(numerator: float | None, denominator: float | None) -> str:
    return "—" if numerator is None or denominator is None else f"{numerator / denominator:.2f}×"


def _percent(part: float, whole: float | None) -> str:
    return "—" if whole is None else f"{100 * part / whole:.0f}%"


def _unavailable(timings: dict) -> list[str]:
    return [f"- {t['label']}: not measured — {t['error']}" for t in timings.values()
            if "error" in t]


def verdict(flag: bool | None) -> str:
    """A goal's verdict as the report prints it."""
    return {True: "met", False: "**not met**", None: "—"}[flag]


# -------------------------------------------------------------------------------------------------
# sections


def _header(results: dict) -> str:
    m, v = results["machine"], results["versions"]
    installed = ", ".join(f"{name} {version}" for name, version in v.items() if version)
    missing = [name for name, version in v.items() if not version]
    blas = "; ".join(f"{b['internal_api']} {b['version']} ({b['architecture']}, "
                     f"{b['num_threads']} threads)" for b in results.get("blas", []))
    mode = ("a quick run: small sizes, a smoke check, not the goals' sizes" if results["quick"]
            else "a full run")
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `{results['command']}` on {results['date']} ({mode}), from the",
        "repository root. Do not edit this file: edit `benchmarks/` (the section on the fused",
        "kernel is `benchmarks/notes.md`) and rerun the command, or",
        "`python -m benchmarks --report-only` to rewrite it from `docs/benchmarks/results.json`.",
        "",
        f"- **Machine:** {m['cpu_model']}, {m['cpus']} CPUs "
        f"({', '.join(m['cpu_flags']) or 'no AVX'}), "
        f"{(m['memory_bytes'] or 0) / 2**30:.0f} GiB; {m['platform']}",
        f"- **Transparent huge pages:** `{m['transparent_hugepage']}`",
        f"- **Load average when the run started:** "
        f"{', '.join(f'{x:.2f}' for x in m['load_average'])} (1, 5, 15 min)",
        f"- **lossgrad revision:** {results.get('revision') or 'unknown'}",
        f"- **Versions:** Python {m['python']}, {installed}"
        + (f" (not installed: {', '.join(missing)})" if missing else ""),
        f"- **BLAS:** {blas or 'unknown'}",
        "- **Threads:** " + ", ".join(f"{k}={val}" for k, val in m["threads"].items())
        + "; `torch.set_num_threads(2)`; XLA at its default (its CPU use is in the tables)",
    ]
    return "\n".join(lines)


def _notes() -> str:
    return "## How the fused kernel works, and why this tool\n\n" + NOTES.read_text().strip()


def _goals_section(results: dict) -> str:
    rows = [[g["id"], g["measure"], g["goal"], g["value"], verdict(g["met"])]
            for g in results["goals"]]
    intro = ("A quick run: the sizes are not the goals' own, so no goal is judged.\n\n"
             if results["quick"] else "")
    return "## Goals\n\n" + intro + _table(["#", "measure", "goal", "measured", ""], rows)


def _copy_section(group: dict) -> str:
    rows = [[t["label"], *_times(t), f"{t['bandwidth_GBps']:.1f} GB/s", f"{t['cpu_use']:.2f}"]
            for t in group["timings"].values() if "seconds" in t]
    return "\n".join([
        f"## {group['title']}", "",
        f"{group['size']['bytes'] // MiB} MiB copied; bandwidth = 2 × bytes (reads + writes) / "
        f"median time; {group['runs']} runs alternated.", "",
        _table(["contender", "median", "min", "max", "bandwidth", "CPU use"], rows),
        *_unavailable(group["timings"])])


def _ce_section(results: dict, group: dict) -> str:
    n, v = group["size"]["N"], group["size"]["V"]
    copy = _timing(results, "copy", "2 threads")
    torch, jax = _median(results, "ce", "torch"), _median(results, "ce", "jax")
    timed = [(key, t) for key, t in group["timings"].items() if "seconds" in t]
    copy_bw = None if copy is None else copy["bandwidth_GBps"]
    speed = [[t["label"], *_times(t), _ratio(torch, t["seconds"]["median"]),
              _ratio(jax, t["seconds"]["median"]), f"{t['bandwidth_GBps']:.1f} GB/s",
              _percent(t["bandwidth_GBps"], copy_bw), f"{t['cpu_use']:.2f}"] for key, t in timed]
    checks = group.get("correctness", {})
    quality = [[t["label"], _mib(_ce_memory(results, key)),
                f"{checks[key]['loss_rel_err']:.1e}" if key in checks else "—",
                f"{checks[key]['grad_err_over_max']:.1e}" if key in checks else "—"]
               for key, t in timed]
    return "\n".join([
        f"## {group['title']}", "",
        f"N = {n} rows, V = {v} classes ({_mib(group['array_bytes'])} of logits); "
        f"{group['runs']} runs alternated. Speed-up = the peer's median / this median; "
        "bandwidth = 2·N·V·4 bytes (read the logits, write the gradient) / median, and its "
        "share of the 2-thread copy bandwidth; CPU use = CPU seconds per wall second while "
        "timed.", "",
        _table(["contender", "median", "min", "max", "vs PyTorch", "vs JAX", "bandwidth",
                "of copy", "CPU use"], speed), "",
        "Extra peak memory (fresh process, see Method) and P7's errors against float64 (the loss's "
        "relative error; the gradient's largest error over max|g|):", "",
        _table(["contender", "extra peak memory", "loss error", "gradient error"], quality),
        *_unavailable(group["timings"]), "",
        f"![time against V]({FIGURE_DIR}/{FIGURES['ce_time']})",
        f"![memory against N]({FIGURE_DIR}/{FIGURES['ce_memory']})"])


def _linear_section(group: dict) -> str:
    size = group["size"]
    grads = sum(group["gradient_bytes"].values())
    materialised = _timed(group, "materialised")
    base = None if materialised is None else materialised["seconds"]["median"]
    rows = []
    for key in dict.fromkeys([*group["timings"], *group["memory"]]):
        t, m = _timed(group, key), group["memory"].get(key, {})
        if "error" in group["timings"].get(key, {}):
            continue
        extra = m.get("extra_bytes")
        rows.append([(t or m).get("label", key),
                     *(_times(t) if t else ["not timed"] * 3),
                     _ratio(t["seconds"]["median"], base) if t else "—",
                     _mib(extra), _mib(None if extra is None else extra - grads)])
    agreement = group.get("agreement", {})
    agree = ("Fused against materialised (last timed run): loss "
             f"{agreement['loss_rel_diff']:.1e} relative, gradient of hidden "
             f"{agreement['grad_hidden_diff_over_max']:.1e} and of weight "
             f"{agreement['grad_weight_diff_over_max']:.1e} of their max|g|."
             if agreement else "")
    return "\n".join([
        f"## {group['title']}", "",
        f"N = {size['N']}, H = {size['H']}, V = {size['V']}: the logits alone are "
        f"{_mib(group['logits_bytes'])}. {group['runs']} runs alternated (one call is three "
        "N×H×V products; see Method for the run count). Time ratio = median / the materialised "
        "median. Extra peak memory = the peak RSS of a fresh process during one call minus its "
        "RSS with the inputs allocated; it includes the returned gradients, "
        f"{_mib(grads)} (hidden {_mib(group['gradient_bytes']['hidden'])}, weight "
        f"{_mib(group['gradient_bytes']['weight'])}), which every contender must return. Working "
        "memory = extra peak memory − the gradients (P5's measure).", "",
        _table(["contender", "median", "min", "max", "vs materialised", "extra peak memory",
                "working memory"], rows),
        *_unavailable(group["timings"]), "", agree]).rstrip()


def _lenet_section(group: dict) -> str:
    torch = _timed(group, "torch")
    base = None if torch is None else torch["images_per_s"]["median"]
    rows = [[t["label"], *_times(t),
             f"{t['images_per_s']['median']:,.0f} ({t['images_per_s']['min']:,.0f}–"
             f"{t['images_per_s']['max']:,.0f})", _ratio(t["images_per_s"]["median"], base),
             f"{t['last_loss']:.4f}", f"{t['cpu_use']:.2f}"]
            for t in group["timings"].values() if "seconds" in t]
    size = group["size"]
    return "\n".join([
        f"## {group['title']}", "",
        f"One run = {size['steps']} training steps on a batch of {size['batch']} (zero grads, "
        "forward, cross-entropy, backward, SGD step); images/s = batch × steps / run time; "
        f"{group['runs']} runs alternated. Both models start from the same weights and train on "
        "the same batch, so their last losses should agree.", "",
        _table(["contender", "median", "min", "max", "images/s (min–max)", "vs PyTorch",
                "last loss", "CPU use"], rows),
        *_unavailable(group["timings"])])


def _generic_section(group: dict) -> str:
    """A group without a section of its own: its size and its timing table (with bandwidth
    where the group computed one)."""
    timed = [t for t in group["timings"].values() if "seconds" in t]
    bandwidth = any("bandwidth_GBps" in t for t in timed)
    rows = [[t["label"], *_times(t),
             *([f"{t['bandwidth_GBps']:.1f} GB/s" if "bandwidth_GBps" in t else "—"]
               if bandwidth else []), f"{t['cpu_use']:.2f}"] for t in timed]
    size = ", ".join(f"{k} = {v}" for k, v in group.get("size", {}).items())
    return "\n".join([
        f"## {group['title']}", "", f"{size}; {group['runs']} runs alternated.", "",
        _table(["contender", "median", "min", "max", *(["bandwidth"] if bandwidth else []),
                "CPU use"], rows),
        *_unavailable(group["timings"])])


def _warmup_section(results: dict) -> str:
    rows = []
    for group in results["groups"].values():
        for t in group.get("timings", {}).values():
            if "seconds" in t:
                prepare = "—" if t["prepare_s"] is None else _s(t["prepare_s"])
                rows.append([group["title"].split(" (")[0], t["label"], prepare,
                             _s(t["first_call_s"]), _s(t["seconds"]["median"])])
    return "\n".join([
        "## Warm-up and compile time (excluded from the timings above)", "",
        "Prepare = ahead-of-time compilation (JAX's `jit(...).lower(...).compile()`), else "
        "nothing; first call = the first call after it (one-time costs: JIT, caches, first page "
        "faults). CE rows are at the main size.", "",
        _table(["group", "contender", "prepare", "first call", "median call"], rows)])


def _run_counts(results: dict) -> str:
    """Which groups timed how many runs, and why the linear group times fewer."""
    groups = results["groups"]
    counts = ", ".join(f"{name} {g['runs']}" for name, g in groups.items() if "runs" in g)
    text = f"- Timed runs per contender: {counts}."
    linear = groups.get("linear", {})
    if linear.get("runs", 7) < 7:
        untimed = [m.get("label", key) for key, m in linear.get("memory", {}).items()
                   if key not in linear["timings"]]
        flop = 6 * linear["size"]["N"] * linear["size"]["H"] * linear["size"]["V"]
        text += (" One linear + CE call at this size is three N×H×V products (about "
                 f"{flop / 1e12:.1f} TFLOP), close to a minute on this machine, so that group "
                 "times fewer runs"
                 + (f" and measures the memory only of {', '.join(untimed)}" if untimed else "")
                 + ".")
    return text


def _method_section(results: dict) -> str:
    durations = ", ".join(f"{name} {g.get('duration_s', 0):.0f} s"
                          for name, g in results["groups"].items())
    peak_reset = results.get("groups", {}).get("ce", {}).get("memory_vs_N", {}).get("peak_reset")
    reset_note = ("the peak mark was reset through /proc/self/clear_refs just before the call"
                  if peak_reset is not False else
                  "the kernel refused to reset the peak mark, so the inputs' allocation (free of "
                  "temporaries) set the baseline")
    return "\n".join([
        "## Method", "",
        "- float32 everywhere; two threads for every library (the environment variables above, "
        "`torch.set_num_threads(2)`, lossgrad's `LOSSGRAD_NUM_THREADS=2`); XLA keeps its default "
        "thread pool.",
        "- Each group runs in its own process. Inputs are allocated (block by block, without a "
        "temporary of their size) before any timing. Every contender is called once first "
        "(the warm-up, reported above); then the contenders run alternated, A B C … A B C …, so "
        "drift on this shared machine hits all of them; the tables give the median, min and "
        "max.",
        _run_counts(results),
        "- Extra peak memory: a fresh process allocates the inputs, builds the contender "
        f"(and compiles it, for JAX), then {reset_note}; the number is the peak RSS during one "
        "call (VmHWM) minus the RSS before it. The call's outputs are alive at the end, so the "
        "returned gradient counts. It is measured in a fresh process because a peak mark never "
        "goes down in a process that has held more.",
        "- P7's reference is plain NumPy in float64 on the same float32 logits, computed 256 "
        "rows at a time.",
        f"- Wall time of each group in this run: {durations}."])


def markdown(results: dict) -> str:
    """The whole report."""
    groups = results["groups"]
    parts = [_header(results), _notes(), _goals_section(results)]
    builders = {"copy": _copy_section, "ce": lambda g: _ce_section(results, g),
                "linear": _linear_section, "lenet": _lenet_section}
    for name, group in groups.items():
        parts.append(f"## {group['title']}\n\nnot measured: {group['error']}" if "error" in group
                     else builders.get(name, _generic_section)(group))
    parts += [_warmup_section(results), _method_section(results)]
    return "\n\n".join(parts) + "\n"


# -------------------------------------------------------------------------------------------------
# figures


def figures(results: dict, folder: Path) -> list[Path]:
    """The CE figures (time against V, memory against N) as PNGs in folder; those written."""
    ce = results["groups"].get("ce")
    if ce is None or "error" in ce:
        return []
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    labels = {key: t["label"] for key, t in ce["timings"].items()}
    written = []
    curve = ce["time_vs_V"]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for key, medians in curve["median_s"].items():
        points = [(v, 1e3 * s) for v, s in zip(curve["V"], medians) if s is not None]
        if points:
            ax.plot(*zip(*points), label=labels[key], **_style(key, ce["timings"]))
    ax.set(xscale="log", yscale="log", xlabel="V (classes)", ylabel="median time (ms)",
           title=f"Softmax CE forward + backward, N = {curve['N']}, float32")
    ax.set_xticks(curve["V"], [str(v) for v in curve["V"]])
    ax.minorticks_off()
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    written.append(_save(fig, folder / FIGURES["ce_time"]))
    memory = ce["memory_vs_N"]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for key, values in memory["extra_bytes"].items():
        points = [(n, b / MiB) for n, b in zip(memory["N"], values) if b is not None]
        if points:
            ax.plot(*zip(*points), label=labels[key], **_style(key, ce["timings"]))
    ax.plot(memory["N"], [n * memory["V"] * 4 / MiB for n in memory["N"]], color="0.8",
            linewidth=6, zorder=0, label="one N×V float32 array")
    ax.set(xlabel="N (rows)", ylabel="extra peak memory (MiB)",
           title=f"Softmax CE forward + backward, V = {memory['V']}, float32")
    ax.set_xticks(memory["N"], [str(n) for n in memory["N"]])
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    written.append(_save(fig, folder / FIGURES["ce_memory"]))
    return written


def _style(key: str, timings: dict) -> dict:
    """Hollow markers, a different shape and a smaller size for each contender, so curves that
    coincide (several peers hold exactly one N×V array) stay visible inside each other."""
    i = list(timings).index(key)
    return {"marker": "osD^vP"[i % 6], "markersize": 12 - 1.5 * i, "fillstyle": "none",
            "linewidth": 1.2}


def _save(fig, path: Path) -> Path:
    from matplotlib import pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    # No timestamp in the file, so an unchanged figure rewrites the same bytes.
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return path
