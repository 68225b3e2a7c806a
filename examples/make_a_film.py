"""Make a film through the Python API.

Run it from the repository after `make install` (or any `pip install -e .`):

    .venv/bin/python examples/make_a_film.py "A fox who wants to catch the moon"

storyreel's entry point is one Prefect flow, `make_film`. Calling it runs the flow on Prefect's
temporary local server (or on the server in PREFECT_API_URL), so the run, its tasks and artifacts
(the story, the asset table, progress) show in the Prefect UI when one is running.
"""

from __future__ import annotations

import sys

from storyreel import make_film
from storyreel.config import load_config

# 1. Resolve a config. Profiles: "preview" (CPU, offline), "gpu", "sketch" (seconds), "tiny" (real model
#    classes at tiny sizes); "auto" picks gpu or preview. Any setting can be overridden with
#    "section.key=value", as with --set on the CLI.
config, why = load_config("preview", ["story.pages=4", "video.transition=1.0"])
print(why)

# 2. Make the film. `until` can stop after "plan", "images", "video" or "audio": handy for iterating
#    on the story before spending time on pictures.
prompt = sys.argv[1] if len(sys.argv) > 1 else "A fox who wants to catch the moon"
result = make_film(prompt=prompt, seed=7, config=config, out="runs")
print(f"{result.title}: {result.film}")

# 3. Resume or re-run: nothing whose inputs are unchanged is made again. Delete a file in the run
#    directory and only that asset (and what depends on it) is regenerated.
again = make_film(run=result.run_dir)
print(f"re-run: made {again.made}, reused {again.reused}")
