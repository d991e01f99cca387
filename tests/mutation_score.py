"""Mutation score per module from mutmut's results in ``mutants/`` (``make mutate``).

    python -m tests.mutation_score [--survivors | --names]

One row per module (``tracker/goals/`` as one): mutants, killed, survived, no tests (no
selected test reaches the function: a survivor too), timeout, other, not yet checked, and
the score = killed ÷ checked. ``--survivors`` lists every mutant not killed, by name, for
``mutmut show NAME`` and docs/mutation.md; ``--names`` prints only their names, on one
line (``make mutate-survivors`` re-runs them after new tests).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

# mutmut 3's exit codes (mutmut/stats.py); anything else counts as "other"
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests"}
STATUS.update({c: "timeout" for c in (36, -24, 24, 152, 255)})
COLUMNS = ("killed", "survived", "no tests", "timeout", "other", "not checked")


def _module(meta: Path, root: Path) -> str:
    path = meta.relative_to(root).as_posix().removesuffix(".meta")
    return "tracker/goals/" if path.startswith("tracker/goals/") else path


def collect(root: Path) -> dict[str, dict[str, str]]:
    """Module → mutant name → status, from every ``*.meta`` file mutmut wrote."""
    out: dict[str, dict[str, str]] = {}
    for meta in sorted(root.rglob("*.py.meta")):
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        module = out.setdefault(_module(meta, root), {})
        for name, code in codes.items():
            module[name] = "not checked" if code is None else STATUS.get(code, "other")
    return out


def _not_killed(results: dict[str, dict[str, str]]) -> list[tuple[str, str]]:
    return [
        (status, name)
        for statuses in results.values()
        for name, status in statuses.items()
        if status not in ("killed", "not checked")
    ]


def main(argv: list[str]) -> int:
    """Print the per-module table (and the survivors with ``--survivors``)."""
    results = collect(Path("mutants"))
    if not results:
        print("no results in mutants/: run `make mutate` first", file=sys.stderr)
        return 1
    if "--names" in argv:
        print(" ".join(name for _, name in _not_killed(results)))
        return 0
    print(f"{'module':34} {'mutants':>7} " + " ".join(f"{c:>11}" for c in COLUMNS) + "  score")
    for module, statuses in results.items():
        counts = Counter(statuses.values())
        checked = len(statuses) - counts["not checked"]
        score = f"{100 * counts['killed'] / checked:5.1f} %" if checked else "    —"
        cells = " ".join(f"{counts[c]:>11}" for c in COLUMNS)
        print(f"{module:34} {len(statuses):>7} {cells}  {score}")
    if "--survivors" in argv:
        for status, name in _not_killed(results):
            print(f"{status:>9}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
