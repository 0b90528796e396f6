"""Figures from a benchmark run's raw cells, and ``bench/RESULTS.md`` from them.

    python -m bench.report bench/results/<date>.json [--md bench/RESULTS.md]   # re-render a stored run

Every figure is computed per repetition, against the fake's own figure in the same repetition (``added``),
then given as the median and min..max over the repetitions; the mesh ÷ LiteLLM ratio likewise (repetition i
of one against repetition i of the other: they ran back to back).
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["console", "render", "summarize"]

LABEL = {"chat": "chat completion (non-streaming)", "stream": "stream", "read": "authenticated read"}
# figure -> (label, unit, which way is better)
FIGURES: dict[str, tuple[str, str, str]] = {
    "rate_per_s": ("throughput", "/s", "higher"),
    "p50_added_ms": ("p50 added", "ms", "lower"),
    "p95_added_ms": ("p95 added", "ms", "lower"),
    "p99_added_ms": ("p99 added", "ms", "lower"),
    "ttft_added_p50_ms": ("time to first token added, p50", "ms", "lower"),
    "ttft_added_p95_ms": ("time to first token added, p95", "ms", "lower"),
    "tokens_per_s": ("tokens relayed", "/s", "higher"),
    "errors": ("errors", "", "lower"),
    "cpu_ms_per_request": ("CPU per request, all its processes", "ms", "lower"),
}
DIRECT = {"rate_per_s": "rate_per_s", "p50_ms": "p50_ms", "p95_ms": "p95_ms", "p99_ms": "p99_ms"}


def _stat(values: Sequence[float | None]) -> dict[str, Any] | None:
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    return {
        "median": round(statistics.median(vals), 3),
        "min": round(min(vals), 3),
        "max": round(max(vals), 3),
        "n": len(vals),
    }


def _sub(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a - b, 3)


def _cpu_total(run: dict[str, Any], groups: dict[str, str], group: str) -> float:
    return round(
        sum(v for k, v in run["cpu_ms_per_request"].items() if groups.get(k) in (group, "common")), 3
    )


def _figures(run: dict[str, Any], floor: dict[str, Any], groups: dict[str, str]) -> dict[str, float | None]:
    stream = run["workload"] == "stream"
    return {
        "rate_per_s": run["rate_per_s"],
        "p50_added_ms": _sub(run["p50_ms"], floor["p50_ms"]),
        "p95_added_ms": _sub(run["p95_ms"], floor["p95_ms"]),
        "p99_added_ms": _sub(run["p99_ms"], floor["p99_ms"]),
        "ttft_added_p50_ms": _sub(run["ttft_p50_ms"], floor["ttft_p50_ms"]) if stream else None,
        "ttft_added_p95_ms": _sub(run["ttft_p95_ms"], floor["ttft_p95_ms"]) if stream else None,
        "tokens_per_s": run["tokens_per_s"] if stream else None,
        "errors": run["errors"],
        "cpu_ms_per_request": _cpu_total(run, groups, run["target"]),
    }


def summarize(results: dict[str, Any]) -> dict[str, Any]:
    groups = results["processes"]
    cells: dict[tuple[str, int], dict[int, dict[str, dict[str, Any]]]] = {}
    for run in results["runs"]:
        cells.setdefault((run["workload"], run["concurrency"]), {}).setdefault(run["rep"], {})[
            run["target"]
        ] = run
    out: dict[str, Any] = {}
    for (workload, c), reps in cells.items():
        per_target: dict[str, dict[str, list[Any]]] = {}
        cpu_per_proc: dict[str, dict[str, list[float]]] = {}
        ratios: dict[str, list[float | None]] = {}
        for rep in sorted(reps):
            runs = reps[rep]
            floor = runs["direct"]
            figs: dict[str, dict[str, float | None]] = {}
            for target, run in runs.items():
                if target == "direct":
                    f = {
                        "rate_per_s": run["rate_per_s"],
                        "p50_ms": run["p50_ms"],
                        "p95_ms": run["p95_ms"],
                        "p99_ms": run["p99_ms"],
                        "ttft_p50_ms": run["ttft_p50_ms"],
                        "ttft_p95_ms": run["ttft_p95_ms"],
                        "tokens_per_s": run["tokens_per_s"] if workload == "stream" else None,
                        "errors": run["errors"],
                        "cpu_ms_per_request": _cpu_total(run, groups, "common"),
                    }
                else:
                    f = _figures(run, floor, groups)
                figs[target] = f
                for k, v in f.items():
                    per_target.setdefault(target, {}).setdefault(k, []).append(v)
                mine = {
                    k: v for k, v in run["cpu_ms_per_request"].items() if groups.get(k) in (target, "common")
                }
                for k, v in mine.items():
                    cpu_per_proc.setdefault(target, {}).setdefault(k, []).append(v)
            if "mesh" in figs and "litellm" in figs:
                for k in FIGURES:
                    a, b = figs["mesh"].get(k), figs["litellm"].get(k)
                    ratios.setdefault(k, []).append(None if a is None or b in (None, 0) else round(a / b, 4))
        out.setdefault(workload, {})[str(c)] = {
            "targets": {t: {k: _stat(v) for k, v in figs.items()} for t, figs in per_target.items()},
            "cpu_ms_per_request_by_process": {
                t: {k: _stat(v) for k, v in procs.items()} for t, procs in cpu_per_proc.items()
            },
            "mesh_over_litellm": {k: _stat(v) for k, v in ratios.items()} if ratios else None,
        }
    out["design_targets"] = _design_targets(results, out)
    return out


def _med(stat: dict[str, Any] | None) -> float | None:
    return None if stat is None else stat["median"]


def _design_targets(results: dict[str, Any], s: dict[str, Any]) -> list[dict[str, Any]]:
    """DESIGN.md's targets, checked against this run's medians (None when this run cannot tell)."""

    def ratio(workload: str, c: str, fig: str) -> float | None:
        r = s.get(workload, {}).get(c, {}).get("mesh_over_litellm")
        return _med(r.get(fig)) if r else None

    def mesh(workload: str, c: str, fig: str) -> float | None:
        return _med(s.get(workload, {}).get(c, {}).get("targets", {}).get("mesh", {}).get(fig))

    rss = results["rss_mib"]
    mesh_procs = [p for p, g in results["processes"].items() if g == "mesh"]
    peak = max((rss[p]["peak"] for p in mesh_procs), default=None)
    growth = [
        rss[p]["mesh_soak_end"] - rss[p]["mesh_soak_start"]
        for p in mesh_procs
        if "mesh_soak_end" in rss[p] and "mesh_soak_start" in rss[p]
    ]
    rows = [
        ("requests/s at c64 ≥ 5x LiteLLM's", ratio("chat", "64", "rate_per_s"), lambda v: v >= 5),
        ("streams/s at c64 ≥ 5x LiteLLM's", ratio("stream", "64", "rate_per_s"), lambda v: v >= 5),
        ("p99 added at c64 ≤ 1/10 of LiteLLM's", ratio("chat", "64", "p99_added_ms"), lambda v: v <= 0.1),
        ("p50 added at c1 ≤ 2 ms", mesh("chat", "1", "p50_added_ms"), lambda v: v <= 2),
        ("first token added at c1 ≤ 2 ms", mesh("stream", "1", "ttft_added_p50_ms"), lambda v: v <= 2),
        (
            "errors: none (mesh)",
            sum(r["errors"] for r in results["runs"] if r["target"] == "mesh"),
            lambda v: v == 0,
        ),
        ("every mesh process ≤ 150 MiB RSS (peak)", peak, lambda v: v <= 150),
        ("RSS flat over the soak (largest growth, MiB)", max(growth) if growth else None, lambda v: v <= 5),
        ("mesh ready < 10 s", results.get("mesh_ready_s"), lambda v: v < 10),
    ]
    return [
        {
            "target": name,
            "value": None if v is None else round(v, 3),
            "met": None if v is None else bool(ok(v)),
        }
        for name, v, ok in rows
    ]


# ---------------------------------------------------------------------------------------------- rendering


def _fmt(stat: dict[str, Any] | None, digits: int = 1) -> str:
    if stat is None:
        return "-"
    med = stat["median"]
    text = f"{med:.{digits}f}"
    if stat["n"] > 1 and stat["min"] != stat["max"]:
        text += f" ({stat['min']:.{digits}f}..{stat['max']:.{digits}f})"
    return text


def _digits(fig: str) -> int:
    return 0 if fig == "errors" else (2 if "ratio" in fig else 1)


def render(results: dict[str, Any], *, json_name: str = "") -> str:
    s = results["summary"]
    m, v = results["machine"], results["versions"]
    lite = v.get("litellm")
    off = results["offline"]
    net = f"loopback-only namespace `{off['netns']}`" if off["netns"] else "the host network (no namespace)"
    lines = [
        "# Benchmark results",
        "",
        f"Generated by `{results['command'].strip()}` on {results['date']} in {results['duration_s']:.0f} s"
        + (f"; raw figures: [`{json_name}`]({json_name})." if json_name else "."),
        "",
        f"- Machine: {m['cpu']}, {m['cpus']} CPUs, {m['memory_gib']} GiB, {m['os']}, Linux {m['kernel']}; "
        f"load average at start {m['load_average_at_start']}.",
        f"- Versions: gaia-mesh {v['gaia-mesh']} ({v['commit']}), Python {v['python']}, "
        f"grpcio {v['grpcio']}, openai {v['openai']}, aiohttp {v['aiohttp']}; "
        f"LiteLLM proxy {lite or 'not run'}"
        + (
            f" ({results['litellm_settings']['workers']} workers, "
            f"`--timeout_worker_healthcheck {results['litellm_settings']['timeout_worker_healthcheck']}`, "
            "default logging, no database, `LITELLM_LOCAL_MODEL_COST_MAP=True`, "
            "`LITELLM_TELEMETRY_DISABLED=True`)"
            if results.get("litellm_settings")
            else ""
        )
        + ".",
        f"- Network: {net}; interfaces seen {off['interfaces']}, "
        f"outside reachable: {off['outside_reachable']}.",
        f"- Load: one closed-loop aiohttp load generator; {results['reps']} interleaved repetition(s); "
        f"a fake OpenAI upstream answering {results['tokens_per_answer']} tokens with no delay; "
        f"request counts per cell {json.dumps(results['counts'])}.",
        f"- Authenticated read: {results['read_route']}.",
        f"- Ready: the mesh in {results.get('mesh_ready_s')} s"
        + (
            f", LiteLLM (all workers) in {results['litellm_ready_s']} s"
            if "litellm_ready_s" in results
            else ""
        )
        + ".",
        "",
        "Figures are medians over the repetitions, (min..max) when they differ; *added* is over the fake "
        "called directly in the same repetition; mesh ÷ LiteLLM is per repetition (higher is better for "
        "throughput and tokens/s, lower for the rest). CPU per request sums every process of that target "
        "plus the fake's and the load generator's.",
        "",
    ]
    has_lite = any(r["target"] == "litellm" for r in results["runs"])
    for workload in ("chat", "stream", "read"):
        if workload not in s:
            continue
        lines += [f"## {LABEL[workload]}", ""]
        head = "| concurrency | figure | direct to fake | mesh |" + (
            " LiteLLM | mesh ÷ LiteLLM |" if has_lite else ""
        )
        lines += [head, "|" + "---|" * (head.count("|") - 1)]
        for c, cell in s[workload].items():
            t = cell["targets"]
            for fig, (label, unit, _better) in FIGURES.items():
                if t["mesh"].get(fig) is None:
                    continue
                direct_key = {
                    "p50_added_ms": "p50_ms",
                    "p95_added_ms": "p95_ms",
                    "p99_added_ms": "p99_ms",
                    "ttft_added_p50_ms": "ttft_p50_ms",
                    "ttft_added_p95_ms": "ttft_p95_ms",
                }.get(fig, fig)
                direct = t["direct"].get(direct_key)
                dtext = _fmt(direct, _digits(fig)) + (" (itself)" if direct_key != fig and direct else "")
                name = f"{label} ({unit})" if unit else label
                row = f"| {c} | {name} | {dtext} | {_fmt(t['mesh'][fig], _digits(fig))} |"
                if has_lite:
                    ratio = (cell.get("mesh_over_litellm") or {}).get(fig)
                    row += (
                        f" {_fmt(t.get('litellm', {}).get(fig), _digits(fig))} | {_fmt(ratio, 2)}x |"
                        if fig != "errors"
                        else f" {_fmt(t.get('litellm', {}).get(fig), 0)} | |"
                    )
                lines.append(row)
        lines.append("")
        # CPU per request by process at the highest concurrency.
        top = max(s[workload], key=int)
        procs = s[workload][top]["cpu_ms_per_request_by_process"]
        names = sorted({p for t in procs.values() for p in t}, key=lambda p: (results["processes"][p], p))
        tnames = [t for t in ("direct", "mesh", "litellm") if t in procs]
        lines += [
            f"CPU ms per request by process, concurrency {top}:",
            "",
            "| process | " + " | ".join(tnames) + " |",
            "|---|" + "---|" * len(tnames),
        ]
        for p in names:
            lines.append(f"| {p} | " + " | ".join(_fmt(procs[t].get(p), 2) for t in tnames) + " |")
        lines.append("")
    rss = results["rss_mib"]
    soak = results.get("soak", {})
    lines += [
        "## Memory (RSS, MiB)",
        "",
        f"Long run: streams at concurrency {soak.get('concurrency')} for {soak.get('seconds')} s per relay "
        + "; ".join(
            f"{t}: {soak[t]['streams']} streams, {soak[t]['errors']} errors"
            for t in ("mesh", "litellm")
            if t in soak
        )
        + ".",
        "",
        "| process | target | ready | after warm-up | peak | before the long run | after it |",
        "|---|---|---|---|---|---|---|",
    ]
    for p, r in rss.items():
        g = r["group"]
        start = r.get(f"{g}_soak_start", r.get("mesh_soak_start"))
        end = r.get(f"{g}_soak_end", r.get("litellm_soak_end", r.get("mesh_soak_end")))
        cols = [r.get("ready", "-"), r.get("warm", "-"), r["peak"], start or "-", end or "-"]
        lines.append(f"| {p} | {g} | " + " | ".join(str(x) for x in cols) + " |")
    for group in ("mesh", "litellm"):
        total = sum(r["peak"] for r in rss.values() if r["group"] == group)
        if total:
            lines.append(f"\nSum of the peaks, {group}: {total:.0f} MiB.")
    lines += [
        "",
        "## DESIGN.md targets (this run's medians)",
        "",
        "| target | value | met |",
        "|---|---|---|",
    ]
    for row in s["design_targets"]:
        met = "-" if row["met"] is None else ("yes" if row["met"] else "**no**")
        lines.append(f"| {row['target']} | {'-' if row['value'] is None else row['value']} | {met} |")
    lines += [
        "",
        "Not measured by this harness: relayed tokens/s against raw grpc.aio streaming (DESIGN.md's "
        "12.2 k msg/s over 64 streams on this machine kind is the reference).",
        "",
    ]
    return "\n".join(lines)


def console(results: dict[str, Any]) -> str:
    s = results["summary"]
    out = []
    for workload in ("chat", "stream", "read"):
        for c, cell in s.get(workload, {}).items():
            parts = []
            for t, figs in cell["targets"].items():
                parts.append(f"{t} {_fmt(figs['rate_per_s'])}/s")
                if t != "direct":
                    added, cpu = _fmt(figs["p50_added_ms"]), _fmt(figs["cpu_ms_per_request"], 2)
                    parts[-1] += f" (+{added} ms p50, cpu {cpu} ms)"
            out.append(f"{workload:6} c{c:<3} " + "  ".join(parts))
    for row in s["design_targets"]:
        out.append(f"target: {row['target']}: {row['value']} -> {row['met']}")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("json", type=Path)
    parser.add_argument("--md", type=Path, default=Path(__file__).resolve().parent / "RESULTS.md")
    args = parser.parse_args()
    results = json.loads(args.json.read_text())
    results["summary"] = summarize(results)
    import os

    args.md.write_text(render(results, json_name=os.path.relpath(args.json, args.md.parent)))
    print(f"wrote {args.md}")


if __name__ == "__main__":
    main()
