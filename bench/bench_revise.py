"""Time revisions against the full preview film they revise, in one run.

Makes a ``--pages``-page film with the ``preview`` profile as a user would (the bundled offline model writes
the story; 1280x720, 24 fps), then times, on the same run directory:

  (a) a one-page narration revision: page 3 says a new line (read by the offline model's rules, so the
      model is not loaded);
  (b) a page rewrite that gives a new character a line on page 4 (also a rules edit of the page's text; on
      this branch the character is spoken and subtitled but does not join the cast: the plain-words
      rewrite that adds characters is built on another branch);

and prints each time with what it made and reused, and its ratio to the full film (goals: 0.15 and 0.2).
The first flow of a process starts Prefect's temporary server (~13 s); a warm-up flow pays that before the
clock starts. Run: ``python bench/bench_revise.py [--pages N] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # before prefect: no telemetry from a benchmark

from prefect import flow  # noqa: E402

from storyreel.flows.make_film import make_film  # noqa: E402
from storyreel.flows.revise import revise_film  # noqa: E402
from storyreel.media import probe  # noqa: E402
from storyreel.timeline import Timeline  # noqa: E402

PROMPT = "A little dragon who is afraid of the dark"
NARRATION = 'page 3 should say "The little dragon counted the stars until the dark felt soft and kind."'
NEW_CHARACTER = 'page 4 should say "A sleepy owl landed on the branch and hooted, “Hello, little dragon!”"'


@flow(name="bench-warm-up")
def warm_up() -> None:
    """Nothing: the first flow of a process starts Prefect's temporary server."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=6, help="pages of the film (default 6)")
    parser.add_argument("--out", default="", help="keep the run directory here (default: a temp dir)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-revise-") as tmp:
        out = args.out or tmp
        warm_up()

        # 1. the full preview film, as `storyreel make` makes it
        started = time.perf_counter()
        film = make_film(prompt=PROMPT, pages=args.pages, profile="preview", out=out)
        full_s = time.perf_counter() - started
        run = film.run_dir
        print(f"full preview film: {full_s:6.1f} s  ({film.made} assets made)  {run}")
        describe(Path(run))

        # 2. the revisions, each on the film the one before left
        for label, request, goal in (
            ("one-page narration revision", NARRATION, 0.15),
            ("page rewrite, a new character's line", NEW_CHARACTER, 0.2),
        ):
            started = time.perf_counter()
            revised = revise_film(run, request, settings=["llm.model=offline"])
            seconds = time.perf_counter() - started
            if not revised.changed:
                raise SystemExit(f"the revision {request!r} changed nothing: {revised.message}")
            print(f"{label}: {seconds:6.1f} s  ({revised.made} made, {revised.reused} reused)")
            describe(Path(run))
            print(f"ratio {label} / full film: {seconds / full_s:.3f}  (goal <= {goal})")
        print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")


def describe(run: Path) -> None:
    """The film's frames against its timeline's."""
    timeline = Timeline.model_validate_json((run / "timeline.json").read_text(encoding="utf-8"))
    video = next(s for s in probe(run / "film.mp4")["streams"] if s["codec_type"] == "video")
    print(f"  film.mp4: {video['nb_frames']} frames, the timeline {timeline.total_frames} ({timeline.duration:.2f} s)")


if __name__ == "__main__":
    main()
