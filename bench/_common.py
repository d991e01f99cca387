"""Helpers shared by the connector benchmarks (run as scripts: ``python bench/x.py``).

Each benchmark runs every measured sync in a child process of its own script, so the
child's peak memory is its own and the in-process sandbox does not share its CPU time.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def cpu_seconds() -> float:
    """User + system CPU time of this process (steadier than wall time on a shared host)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    """This process's peak RSS since exec: ``VmHWM`` (``ru_maxrss`` would include the
    forking parent's pages, the sandbox's among them)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(script: str, token_env: str, token: str, *args: str) -> dict[str, Any]:
    """Run ``script --child ARGS`` with the token in ``token_env``; parse its JSON line."""
    env = {**os.environ, token_env: token}
    done = subprocess.run(
        [sys.executable, script, "--child", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"child {args[0]} failed:\n{done.stderr}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def print_memory(figures: dict[str, Any], peaks: dict[int, float], size: int) -> None:
    """Record and print one size's peak RSS."""
    peaks[size] = figures["max_rss_mb"]
    print(
        f"memory        {figures['deals']:,} deals: peak RSS {peaks[size]:,.0f} MB "
        f"({figures['records'] / figures['seconds']:,.0f} records/s)"
    )


def result(
    name: str,
    figure: str,
    baseline: str,
    ratio: float,
    target: float,
    *,
    higher_is_better: bool = False,
    percent: bool = False,
) -> None:
    """One figure for ``make bench``'s table, as a ``BENCH {json}`` line: what was
    measured, the in-run baseline it is compared with, their ratio and the target."""
    met = ratio >= target if higher_is_better else ratio <= target
    row = {
        "name": name,
        "figure": figure,
        "baseline": baseline,
        "ratio": round(ratio, 4),
        "target": f"{'≥' if higher_is_better else '≤'} {f'{target:.0%}' if percent else f'{target:g}'}",
        "percent": percent,
        "met": met,
    }
    print("BENCH " + json.dumps(row, ensure_ascii=False), flush=True)


def bearer_session(token_env: str) -> Any:
    """A ``requests`` session sending the token in ``token_env`` (the bare loops' client)."""
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {os.environ[token_env]}"
    return session


def print_memory_ratio(
    peaks: dict[int, float], name: str = "peak RSS", unit: str = "deals"
) -> None:
    """The largest size's peak over the smallest's (target ≤ 1.25); sizes count ``unit``."""
    if len(peaks) < 2:
        return
    small, large = peaks[min(peaks)], peaks[max(peaks)]
    print(
        f"memory ratio  {max(peaks):,} vs {min(peaks):,} {unit}: {large / small:.2f} "
        f"({'OK' if large / small <= 1.25 else 'ABOVE TARGET'}, target ≤ 1.25)"
    )
    result(
        name,
        f"{large:,.0f} MB at {max(peaks):,}",
        f"{small:,.0f} MB at {min(peaks):,}",
        large / small,
        1.25,
    )


@dataclass
class Rounds:
    """Alternating runs of a baseline and a sync, and what the benchmarks report of them."""

    bares: list[dict[str, Any]]
    syncs: list[dict[str, Any]]

    @property
    def bare(self) -> dict[str, Any]:
        """The fastest baseline run."""
        return min(self.bares, key=lambda f: f["seconds"])

    @property
    def sync(self) -> dict[str, Any]:
        """The fastest sync run."""
        return min(self.syncs, key=lambda f: f["seconds"])

    @property
    def ratios(self) -> str:
        """Every round's sync/bare ratio, as text."""
        pairs = zip(self.bares, self.syncs, strict=True)
        return ", ".join(f"{s['seconds'] / b['seconds']:.2f}" for b, s in pairs)


def alternate_rounds(
    bare: Callable[[int], dict[str, Any]], sync: Callable[[int], dict[str, Any]], repeat: int
) -> Rounds:
    """Run ``repeat`` rounds of the baseline, then the sync (each given the round's number).

    The machine is shared, so the fastest run of each is the one least disturbed by other
    load; alternating exposes both to the same drift.
    """
    rounds = Rounds([], [])
    for n in range(max(repeat, 1)):
        rounds.bares.append(bare(n))
        rounds.syncs.append(sync(n))
    return rounds
