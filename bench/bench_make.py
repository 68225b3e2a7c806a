"""Time ``storyreel make`` as a user runs it: a fixed prompt and seed, 6 pages, the preview profile, warm.

"Warm" means the offline model's fast-loading copy exists (``storyreel prepare``) and the operating system's
file cache holds the libraries and weights: a warm-up ``storyreel make … --pages 1 --until plan`` runs before
the clock. The timed command is a fresh process, so its wall time includes what a user waits for: Python's
imports, Prefect's temporary server starting, the model loading, the story, every asset and the film.

The per-stage times come from the run's own progress lines (``HH:MM:SS stage i/n: …`` on stderr, one-second
resolution): a stage runs from its first line to its last; stages overlap (narration beside the
illustrations, music and sounds beside the segments), so they do not add up to the wall time. Also printed:
the CPU seconds of the command, and the machine's load average before and after (the goal, 45 s, is for 2
idle cores; on a busy machine the CPU seconds say more than the wall time).

Run: ``python bench/bench_make.py [--pages N] [--seed S] [--keep DIR]``; ``make bench`` runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

PROMPT = "A curious squid opens a library at the bottom of the ocean"
GOAL_S = 45.0
LINE = re.compile(r"^(\d\d):(\d\d):(\d\d) (.*)$")
STEP = re.compile(r"^([a-z]+) (\d+)/(\d+): (.*)$")
START = re.compile(r"^([a-z]+): (\d+) step\(s\)$")
NOTES = {  # the notes that report a time: Prefect's start, the model's load (beside it, or waited for)
    "Prefect's temporary server": re.compile(r"Prefect: ready in ([\d.]+) s"),
    "offline model load, beside it": re.compile(r"offline model: loaded in ([\d.]+) s \(beside"),
    "offline model load, waited for": re.compile(r"offline model: loaded in ([\d.]+) s$"),
}


def storyreel() -> str:
    """The storyreel command next to this Python (the venv's), else the one on PATH."""
    here = Path(sys.executable).with_name("storyreel")
    return str(here) if here.exists() else "storyreel"


def stage_times(stderr: str) -> tuple[dict[str, float], dict[str, float], list[float]]:
    """(seconds per stage, seconds the notes report, seconds of each page written) from progress lines."""
    first: dict[str, float] = {}
    last: dict[str, float] = {}
    notes: dict[str, float] = {}
    pages: list[float] = []
    day = 0.0
    previous = -1.0
    for raw in stderr.splitlines():
        m = LINE.match(raw.strip())
        if not m:
            continue
        h, mi, s, text = int(m[1]), int(m[2]), int(m[3]), m[4]
        at = h * 3600 + mi * 60 + s + day
        if at < previous:  # past midnight
            day += 86400
            at += 86400
        previous = at
        for name, pattern in NOTES.items():
            if found := pattern.search(text):
                notes[name] = float(found[1])
        if started := START.match(text):
            first.setdefault(started[1], at)
        elif step := STEP.match(text):
            first.setdefault(step[1], at)
            if step[1] == "story" and step[4].endswith("written"):
                pages.append(at)
            last[step[1]] = at
    stages = {stage: last.get(stage, first[stage]) - first[stage] for stage in first}
    writing = [b - a for a, b in zip([first.get("story", 0.0), *pages], pages, strict=False)]
    return stages, notes, writing


def run(
    args: list[str], env: dict[str, str], must_pass: bool = True
) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """Run a command; (result, wall seconds, CPU seconds of it and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if result.returncode != 0 and must_pass:
        sys.exit(f"{' '.join(args[:3])} … failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return result, wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=6, help="pages of the film (default 6)")
    parser.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    parser.add_argument("--keep", default="", help="keep the run directory under this folder (default: a temp dir)")
    parser.add_argument("--no-warm-up", action="store_true", help="skip the warm-up (the caches are warm already)")
    args = parser.parse_args()
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)  # the temporary server, as a first-time user has it

    with tempfile.TemporaryDirectory(prefix="bench-make-") as tmp:
        out = args.keep or tmp
        common = ["--seed", str(args.seed), "--profile", "preview", "--out", out, "--json"]
        # 1. warm-up: the model's copy, the file cache, Python's bytecode (its one page need not pass the
        #    writer's checks: a warm-up that gives up after its tries has warmed as much)
        if not args.no_warm_up:
            run([storyreel(), "make", PROMPT, "--pages", "1", "--until", "plan", *common], env, must_pass=False)
        # 2. the timed film
        load_before = os.getloadavg()[0]
        result, wall, cpu = run([storyreel(), "make", PROMPT, "--pages", str(args.pages), *common], env)
        load_after = os.getloadavg()[0]
        film = json.loads(result.stdout)
        stages, notes, writing = stage_times(result.stderr)

    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"storyreel make, {args.pages} pages, seed {args.seed}, preview profile, warm — {date}")
    print(f"machine: {os.cpu_count()} cores, load average {load_before:.1f} before, {load_after:.1f} after")
    verdict = "met" if wall <= GOAL_S else "not met"
    print(f"wall {wall:6.1f} s  (goal {GOAL_S:.0f} s on 2 idle cores: {verdict}); CPU {cpu:6.1f} s")
    print(f"made {film['made']} assets; film {film['film']}")
    for name, seconds in notes.items():
        print(f"  {name:<30} {seconds:6.1f} s")
    if writing:
        each = ", ".join(f"{s:.0f}" for s in writing)
        print(f"  {'pages written':<30} {sum(writing):6.1f} s  ({sum(writing) / len(writing):.1f} s a page: {each})")
    for stage, seconds in stages.items():
        print(f"  {stage:<30} {seconds:6.1f} s")


if __name__ == "__main__":
    main()
