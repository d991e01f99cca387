"""``make bench``: run every benchmark here, one after another, then print one table of
their figures: what was measured, the in-run baseline, the ratio and the target, with
each miss marked. Exits 1 when a target is missed or a benchmark fails.

Each benchmark prints its own report as it goes, and one ``BENCH {json}`` line per
figure (``_common.result``); this collects those lines. Run a benchmark alone for its
options (sizes, store URL, repeats).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
COLUMNS = ("benchmark", "figure", "baseline (same run)", "ratio", "target", "")


def scripts() -> list[Path]:
    """Every benchmark script, by name (helpers start with ``_``)."""
    return sorted(p for p in HERE.glob("[!_]*.py") if p.name != Path(__file__).name)


def run(script: Path) -> tuple[list[dict[str, Any]], int, float]:
    """Run one benchmark, echoing its report; its BENCH rows, exit code and duration."""
    print(f"== {script.name}", flush=True)
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    with subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=HERE
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("BENCH "):
                rows.append(json.loads(line[len("BENCH ") :]))
            else:
                print(f"   {line}", end="", flush=True)
    return rows, process.returncode, time.perf_counter() - started


def table(rows: list[dict[str, Any]]) -> str:
    """The figures as an aligned text table."""
    cells = [
        (
            r["name"],
            r["figure"],
            r["baseline"],
            f"{r['ratio']:.2%}" if r.get("percent") else f"{r['ratio']:.2f}",
            r["target"],
            "ok" if r["met"] else "MISS",
        )
        for r in rows
    ]
    widths = [max(len(str(c[i])) for c in [COLUMNS, *cells]) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in [COLUMNS, *cells]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> int:
    """Run them all; 1 if any failed or missed its target."""
    rows: list[dict[str, Any]] = []
    failed: list[str] = []
    for script in scripts():
        found, code, seconds = run(script)
        print(f"   ({script.name}: {seconds:.0f} s, exit {code})", flush=True)
        rows += found
        if code != 0:
            failed.append(script.name)
    print()
    print(table(rows))
    misses = [r["name"] for r in rows if not r["met"]]
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    if misses:
        print(f"\nmissed targets: {', '.join(misses)}")
    return 1 if failed or misses else 0


if __name__ == "__main__":
    sys.exit(main())
