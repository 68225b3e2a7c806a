"""Shared fixtures: a Prefect test harness once per session, quiet libraries, scripted LLM answers."""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "240")
HARNESS_STARTUP_TIMEOUT = 300  # seconds: six test runs at once on two cores start the server in about a minute
os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
for name in [n for n in os.environ if n.startswith("STORYREEL_") and n != "STORYREEL_CACHE"]:
    del os.environ[name]  # a developer's own settings must not change what the tests see


@pytest.fixture(scope="session", autouse=True)
def prefect_home(tmp_path_factory: pytest.TempPathFactory):
    """A throwaway PREFECT_HOME and one Prefect server for the whole session."""
    home = tmp_path_factory.mktemp("prefect-home")
    os.environ["PREFECT_HOME"] = str(home)
    from prefect.testing.utilities import prefect_test_harness

    from storyreel import prefect_server

    prefect_server.install()  # the harness's server too: its own session, and it dies with pytest (no orphan)
    with prefect_test_harness(server_startup_timeout=HARNESS_STARTUP_TIMEOUT):
        yield home


def notes_of(run) -> list[str]:
    """What ``run()`` said in the progress (a line the request's words make, when the model fell short)."""
    from storyreel import progress

    kept: list[str] = []

    class Notes:
        def start(self, stage: str, total: int) -> None: ...
        def advance(self, stage: str, detail: str = "") -> None: ...
        def note(self, message: str) -> None:
            kept.append(message)

    previous = progress.use(Notes())
    try:
        run()
    finally:
        progress.use(previous)
    return kept


def story_answers(pages: int = 2, approved: bool = True) -> list[dict]:
    """Scripted answers for the writer, the critic and the art director, in the order they are asked."""
    scenes = [("forest", "day", "wind"), ("beach", "night", "clear"), ("cave", "dusk", "rain")]
    draft = {
        "title": "Pip and the Dark",
        "characters": [
            {
                "name": "Pip",
                "look": "a small green dragon with a yellow belly and tiny wings",
                "species": "dragon",
                "color": "#4caf50",
                "voice": "",
            },
            {
                "name": "Olo",
                "look": "a round grey owl with big amber eyes",
                "species": "owl",
                "color": "#9e9e9e",
                "voice": "",
            },
        ],
        "pages": [
            {
                "text": f"Page {i} of the story: Pip takes a brave step.",
                "setting": scenes[(i - 1) % 3][0],
                "time_of_day": scenes[(i - 1) % 3][1],
                "weather": scenes[(i - 1) % 3][2],
                "characters": ["Pip"] if i % 2 else ["Pip", "Olo"],
            }
            for i in range(1, pages + 1)
        ],
    }
    critique = {"approved": approved, "score": 8, "problems": []}
    direction = {
        "style_bible": "soft watercolor, warm light",
        "pages": [
            {
                "image_prompt": f"scene {i}",
                "motion": "leaves drift",
                "camera": "zoom_in",
                "sfx": [{"sound": "wind", "prompt": "soft wind"}, {"sound": "kazoo-solo", "prompt": "unknown"}],
            }
            for i in range(1, pages + 1)
        ],
        "music": [{"mood": "calm", "prompt": "calm", "first_page": 1, "last_page": pages}],
    }
    return [draft, critique, direction]


@pytest.fixture
def scripted(tmp_path: Path):
    """Write scripted answers to a file; returns a function giving the ``llm.model`` setting for them."""

    def make(answers: list) -> str:
        path = tmp_path / f"answers-{len(list(tmp_path.glob('answers-*')))}.json"
        path.write_text(json.dumps(answers), encoding="utf-8")
        return f"llm.model=scripted:{path}"

    return make


# --- counting backend calls: every call a backend makes, with the page (or transition) it is for -------------


class Counted:
    """A backend whose calls of its kind's method (``storyreel.registry.KINDS``) are recorded as
    (kind, where): the page folder (``p03``), the transition (``t02-03``) or the folder of what it made
    (``films``, ``music``). A call that raises makes nothing and is not counted."""

    def __init__(self, inner, kind: str, calls: list[tuple[str, str]]):
        from storyreel.registry import KINDS

        self._inner, self._kind, self._calls = inner, kind, calls
        self._method = KINDS[kind]

    def __getattr__(self, name: str):
        attr = getattr(self._inner, name)
        if name != self._method or not callable(attr):
            return attr

        def call(*args, **kwargs):
            result = attr(*args, **kwargs)
            # the file the call is about: what it writes (request, out), or for the critic the image it scores
            out = Path(args[0] if self._kind == "critic" else args[1])
            where = re.search(r"t\d\d-\d\d", out.name) if out.parent.name == "transitions" else None
            self._calls.append((self._kind, where.group() if where else out.parent.name))
            return result

        return call


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """The backend calls of the test, as (kind, where), in the order they were made."""
    from storyreel import registry

    real = registry.instance
    found: list[tuple[str, str]] = []
    monkeypatch.setattr(
        registry, "instance", lambda kind, name, options=None: Counted(real(kind, name, options), kind, found)
    )
    return found


def by_kind(calls: list[tuple[str, str]]) -> dict[str, list[str]]:
    """The calls grouped by kind: kind -> the sorted places."""
    kinds: dict[str, list[str]] = defaultdict(list)
    for kind, where in calls:
        kinds[kind].append(where)
    return {k: sorted(v) for k, v in kinds.items()}


@pytest.fixture
def run(base_run: Path, tmp_path: Path) -> Path:
    """A fresh copy, for each test, of the film a test module makes once as its ``base_run`` fixture."""
    import shutil

    copy = tmp_path / base_run.name
    shutil.copytree(base_run, copy, symlinks=True)
    return copy
