"""Per-process CPU and memory of everything the benchmark runs (psutil).

A metered *process* has a name, a root pid and a group (the target it belongs to: ``mesh``, ``litellm``, or
``common`` for the fake upstream and the load generator, which every target uses). With ``family``, its CPU
includes its live descendants' (PostgreSQL's backends); its RSS is always the root's own (descendants share
pages with it, summing would count them twice). LiteLLM's workers are metered one by one, as processes of
their own (``discover_children``).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import psutil

__all__ = ["Meter", "Proc"]


@dataclass
class Proc:
    name: str
    pid: int
    group: str
    family: bool = False
    handle: psutil.Process | None = None
    peak_mib: float = 0.0
    samples: list[float] = field(default_factory=list)
    marks: dict[str, float] = field(default_factory=dict)

    def proc(self) -> psutil.Process:
        if self.handle is None:
            self.handle = psutil.Process(self.pid)
        return self.handle


class Meter:
    def __init__(self) -> None:
        self.procs: dict[str, Proc] = {}

    def add(self, name: str, pid: int, group: str, *, family: bool = False) -> None:
        self.procs[name] = Proc(name, pid, group, family)

    def discover_children(self, name: str, *, prefix: str, skip: tuple[str, ...] = ()) -> list[str]:
        """Meter each direct child of ``name`` as ``<prefix> <n>`` (children whose command line contains one
        of ``skip`` are left in the parent's account); the names added."""
        root = self.procs[name]
        added = []
        kids = sorted(root.proc().children(), key=lambda p: p.pid)
        n = 0
        for kid in kids:
            with contextlib.suppress(psutil.Error):
                if any(s in " ".join(kid.cmdline()) for s in skip):
                    continue
                n += 1
                child = f"{prefix} {n}"
                self.procs[child] = Proc(child, kid.pid, root.group, handle=kid)
                added.append(child)
        return added

    def cpu(self) -> dict[str, float]:
        """User + system CPU seconds used so far by each process (and, with ``family``, its descendants;
        a worker metered on its own is not counted again in its parent)."""
        own = {p.pid for p in self.procs.values()}
        used: dict[str, float] = {}
        for p in self.procs.values():
            with contextlib.suppress(psutil.Error):
                proc = p.proc()
                members = [proc]
                if p.family:
                    members += [c for c in proc.children(recursive=True) if c.pid not in own]
                total = 0.0
                for m in members:
                    with contextlib.suppress(psutil.Error):
                        t = m.cpu_times()
                        total += t.user + t.system
                used[p.name] = total
        return used

    def sample(self) -> None:
        for p in self.procs.values():
            with contextlib.suppress(psutil.Error):
                mib = p.proc().memory_info().rss / 2**20
                p.peak_mib = max(p.peak_mib, mib)
                p.samples.append(round(mib, 1))

    def mark(self, label: str) -> None:
        """Record each process's RSS now under ``label`` (e.g. ``ready``, ``soak_start``, ``soak_end``)."""
        for p in self.procs.values():
            with contextlib.suppress(psutil.Error):
                mib = p.proc().memory_info().rss / 2**20
                p.peak_mib = max(p.peak_mib, mib)
                p.marks[label] = round(mib, 1)

    async def run(self, stop: asyncio.Event, every: float) -> None:
        while not stop.is_set():
            self.sample()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)

    def rss_summary(self) -> dict[str, dict[str, object]]:
        return {
            p.name: {"group": p.group, "peak": round(p.peak_mib, 1), **p.marks} for p in self.procs.values()
        }

    def groups(self) -> dict[str, str]:
        return {p.name: p.group for p in self.procs.values()}
