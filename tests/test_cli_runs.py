"""The CLI a user and a script expect, and the Prefect runs it leaves: flags, help, JSON shapes, ``config`` with
the source of each value, progress lines off a terminal, and (asked of the test server with Prefect's Python
client) the flow run's name and tags, task runs named with their page, storyreel's log lines and the made/reused
column of the assets table."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storyreel.cli import JSON_KEYS, app

from .conftest import story_answers  # noqa: TID252

runner = CliRunner()
WIDE = {"COLUMNS": "200", "TERMINAL_WIDTH": "200"}  # help lines unwrapped, so a default is on one line
STAMP = re.compile(r"^\d\d:\d\d:\d\d ")


def _run(*args: str, env: dict[str, str] | None = None):
    result = runner.invoke(app, list(args), env=env, prog_name="storyreel")
    return result, result.output


# --- flags and help -------------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(flag):
    from importlib.metadata import version

    result, text = _run(flag)
    assert result.exit_code == 0 and text.strip() == f"storyreel {version('storyreel')}"


def test_short_help_and_completion():
    for args in (["-h"], ["make", "-h"], ["config", "-h"]):
        result, text = _run(*args)
        assert result.exit_code == 0 and "Usage:" in text, args
    result, text = _run("--help")
    assert "--install-completion" in text and "--show-completion" in text
    result, text = _run("--show-completion", "bash")
    assert result.exit_code == 0 and "_STORYREEL_COMPLETE" in text and "complete" in text


COMMANDS = ["make", "show", "book", "backends", "config", "prepare", "revise", "history", "revert", "deploy", "serve"]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_clean_type_names(command):
    result, text = _run(command, "--help", env=WIDE)
    assert result.exit_code == 0, text
    for leaked in ("<bool>", "<str>", "<int>", "<path>", "list[", "<float>"):
        assert leaked not in text, (command, leaked)


def test_help_shows_the_defaults():
    _, text = _run("make", "--help", env=WIDE)
    assert "[default: film]" in text  # --until: a real default
    assert "[default: (story.pages: 6)]" in text  # --pages: from the config, named as such
    assert "[default: ($STORYREEL_PROFILE or auto)]" in text
    assert "[default: (run.out: runs)]" in text
    assert "SECTION.KEY=VALUE" in text and "N=FILE" in text
    _, text = _run("deploy", "--help", env=WIDE)
    assert "[default: next]" in text and "[default: storyreel]" in text and "[default: (UTC)]" in text


# --- config and its sources -----------------------------------------------------------------------


def test_config_names_the_source_of_each_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "storyreel.toml").write_text("[video]\nwidth = 96\n[narration]\nrate = 1.2\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    env = {"STORYREEL_VIDEO__FPS": "30", "STORYREEL_NARRATION__RATE": "1.5"}
    result, text = _run("config", "--profile", "sketch", "--set", "image.width=64", "--json", env=env)
    assert result.exit_code == 0, text
    data = json.loads(text)
    assert set(data) == set(JSON_KEYS["config"]) and data["profile"] == "sketch"
    rows = {r["key"]: (r["value"], r["source"]) for r in data["settings"]}
    assert rows["profile"][0] == "sketch" and rows["profile"][1].startswith("--profile")
    assert rows["image.width"] == (64, "--set")
    assert rows["video.fps"] == (30, "env STORYREEL_VIDEO__FPS")
    assert rows["narration.rate"] == (1.5, "env STORYREEL_NARRATION__RATE")  # the variable beats the file
    assert rows["video.width"] == (96, str(tmp_path / "storyreel.toml"))
    assert rows["story.pages"] == (2, "profile sketch")
    assert rows["story.seed"] == (0, "default")
    assert {r["key"] for r in data["settings"]} >= {"run.out", "assemble.fade", "music.enabled"}
    # the same as a table for people
    result, text = _run("config", "--profile", "sketch", "--set", "image.width=64", env={**env, **WIDE})
    line = next(x for x in text.splitlines() if x.startswith("video.fps "))
    assert "30" in line and "env STORYREEL_VIDEO__FPS" in line


def test_config_profile_from_the_environment():
    result, text = _run("config", "--json", env={"STORYREEL_PROFILE": "sketch"})
    rows = {r["key"]: r for r in json.loads(text)["settings"]}
    assert rows["profile"]["value"] == "sketch" and rows["profile"]["source"].startswith("env STORYREEL_PROFILE")


@pytest.mark.parametrize(
    ("env", "args", "message"),
    [
        ({"STORYREEL_VIDEO__NOSUCH": "1"}, ["config", "--profile", "sketch"], "STORYREEL_VIDEO__NOSUCH"),
        ({"STORYREEL_NOSECTION__FPS": "1"}, ["config", "--profile", "sketch"], "STORYREEL_NOSECTION__FPS"),
        ({"STORYREEL_VIDEO__NOSUCH": "1"}, ["make", "a fox", "--profile", "sketch"], "STORYREEL_VIDEO__NOSUCH"),
        ({}, ["config", "--profile", "sketch", "--set", "video.nosuch=1"], "--set video.nosuch"),
    ],
)
def test_an_unknown_setting_names_where_it_was_set(env, args, message):
    result, text = _run(*args, env=env)
    assert result.exit_code == 2 and message in text and "unknown" in text and "Traceback" not in text
    assert len([line for line in text.splitlines() if line.strip()]) == 1


def test_an_unknown_setting_in_storyreel_toml_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "storyreel.toml").write_text("[video]\nspeed = 2\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result, text = _run("config", "--profile", "sketch")
    assert result.exit_code == 2 and "storyreel.toml" in text and "'video.speed'" in text


# --- progress: the offline writer ticks each page -------------------------------------------------


def test_the_offline_writer_ticks_each_page_as_it_writes_it():
    from langchain_core.language_models import FakeListLLM

    from storyreel import progress
    from storyreel.agents.offline.writer import write_story_few_shot
    from storyreel.plan import Brief

    stream = io.StringIO()
    previous = progress.use(progress.PlainReporter(stream))
    try:
        progress.start("story", 5)
        pages = ["The fox looks up at the moon.", "She climbs the tallest hill at night.", "The moon smiles down."]
        write_story_few_shot(FakeListLLM(responses=pages), Brief(prompt="A fox who loves the moon", pages=3))
        progress.catch_up("story", 3, "page {n} written")  # nothing left to catch up: the writer ticked them
    finally:
        progress.use(previous)
    lines = stream.getvalue().splitlines()
    assert all(STAMP.match(line) for line in lines)
    assert [line[9:] for line in lines] == [
        "story: 5 step(s)",
        "story 1/5: page 1 written",
        "story 2/5: page 2 written",
        "story 3/5: page 3 written",
    ]


def test_progress_lines_arrive_while_a_film_is_made(tmp_path: Path, scripted):
    """A real ``storyreel make`` process with stderr on a pipe: plain timestamped lines, read as they come,
    Prefect's start said before the first flow line, a tick per page of the story, and the wall time."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env |= {"PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120"}
    command = [sys.executable, "-m", "storyreel.cli", "make", "A fox who loves the moon", "--profile", "sketch"]
    command += ["--set", scripted(story_answers(pages=2)), "--out", str(tmp_path / "runs"), "--json"]
    started = time.perf_counter()
    process = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
    live = []  # (line, the process still running when it was read)
    assert process.stderr is not None
    for line in process.stderr:
        live.append((line.rstrip("\n"), process.poll() is None))
    stdout = process.stdout.read() if process.stdout else ""
    assert process.wait(timeout=300) == 0, "\n".join(line for line, _ in live)
    wall = time.perf_counter() - started
    lines = [line for line, _ in live]
    assert lines and all(STAMP.match(line) for line in lines), lines
    assert "\x1b[" not in "".join(lines) and "━" not in "".join(lines)  # no bars, no colors
    texts = [line[9:] for line in lines]
    assert texts[0].startswith("Prefect: a temporary local server, started beside the imports")
    assert re.fullmatch(r"Prefect: ready in \d+\.\d s", texts[1]), texts[:3]
    assert "story 1/4: page 1 written" in texts and "story 2/4: page 2 written" in texts
    assert any(t.startswith("run directory: ") for t in texts)
    assert any(re.fullmatch(r"images 2/2: page \d", t) for t in texts) and "film 1/1: assembled" in texts, texts
    story = texts.index("story 1/4: page 1 written")
    assert all(running for _, running in live[: story + 1])  # read while the film was still being made
    result = json.loads(stdout)
    assert set(result) == set(JSON_KEYS["make"]) and Path(result["film"]).is_file()
    assert result["url"] is None  # the temporary server has no UI to visit
    ready = float(re.search(r"ready in (\d+\.\d)", texts[1]).group(1))
    assert ready <= result["seconds"] <= wall + 0.5  # the command's wall time, Prefect's start included
    assert "Traceback" not in "\n".join(lines) and "Error logging" not in "\n".join(lines)


# --- JSON shapes and the Prefect runs, against the test server ------------------------------------


def _flow_runs(name: str):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        return client.read_flow_runs(
            flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name])), sort=FlowRunSort.START_TIME_ASC
        )


def _task_run_names(flow_run_id) -> set[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
    return {r.name for r in runs}


def _log_lines(flow_run_id) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    with get_client(sync_client=True) as client:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
    return [log.message for log in logs if log.level >= 20]


def _assets_table(flow_run_id) -> list[dict]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=["assets"]), flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])
            )
        )
    assert len(found) == 1
    data = found[0].data
    return json.loads(data) if isinstance(data, str) else data


def _wait_for(check, what: str, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            assert found, f"no {what} within {timeout} s"
            return found
        time.sleep(0.5)


def test_a_film_by_json_and_its_prefect_runs(tmp_path: Path, scripted):
    model = scripted(story_answers(pages=2))
    result, text = _run(
        "make", "A fox who loves the moon", "--profile", "sketch", "--set", model, "--out", str(tmp_path)
    )
    assert result.exit_code == 0, text
    run = Path(next(x for x in text.splitlines() if x.startswith("run directory: ")).split(": ", 1)[1])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d-a-fox-who-loves-the-moon-[0-9a-f]{6}", run.name)
    ui = next(x for x in text.splitlines() if x.startswith("Prefect UI: ")).split(": ", 1)[1]

    # the flow run: named after the run folder, tagged with its kind and profile
    (first,) = _flow_runs(run.name)
    assert {"storyreel", "make", "profile:sketch"} <= set(first.tags), first.tags
    assert ui.endswith(f"/flow-runs/flow-run/{first.id}")
    names = _task_run_names(first.id)
    expected = {"narrate-p01", "narrate-p02", "illustrate-p01", "illustrate-p02", "keyframes-p01", "keyframes-p02"}
    expected |= {
        "clip-p01",
        "clip-p02",
        "transition-p01-p02",
        "music-cue01",
        "sfx-p01-1",
        "write-story",
        "mix",
        "assemble",
    }
    assert expected <= names, sorted(names)
    lines = _wait_for(
        lambda: [m for m in _log_lines(first.id) if m.startswith("film: ")] and _log_lines(first.id), "logs"
    )
    assert any(m.startswith(f"run folder: {run}") for m in lines), lines
    for stage in ("plan", "images", "video", "audio", "film"):
        assert any(re.match(rf"{stage}: made \d+, reused 0", m) for m in lines), (stage, lines)
    assert f"film: {run / 'film.mp4'}" in lines
    rows = _assets_table(first.id)
    assert rows and {r["this run"] for r in rows} == {"made"}
    assert {"kind", "path", "this run", "seconds", "key"} <= set(rows[0])

    # resume with --json: the same name, everything reused, and the JSON object's keys
    result, text = _run("make", "--run", str(run), "--json")
    assert result.exit_code == 0, text
    made = json.loads(result.stdout)  # progress lines went to stderr
    assert set(made) == set(JSON_KEYS["make"])
    assert made["made"] == 0 and made["reused"] == len(rows) and made["flow_run"] == run.name
    assert made["film"] == str(run / "film.mp4") and made["stage"] == "film" and made["profile"] == "sketch"
    assert made["run_dir"] == str(run) and made["title"] == "Pip and the Dark"
    assert isinstance(made["seconds"], float) and made["url"] and made["url"].startswith("http")
    second = _flow_runs(run.name)[-1]
    assert second.id != first.id and {"make", "profile:sketch"} <= set(second.tags)
    assert {r["this run"] for r in _assets_table(second.id)} == {"reused"}
    lines = _wait_for(
        lambda: [m for m in _log_lines(second.id) if m.startswith("film: ")] and _log_lines(second.id), "logs"
    )
    assert any(re.match(r"images: made 0, reused \d+", m) for m in lines), lines

    # show and history as JSON
    result, text = _run("show", str(run), "--json")
    shown = json.loads(text)
    assert set(shown) == set(JSON_KEYS["show"]) and shown["title"] == "Pip and the Dark"
    assert [p["number"] for p in shown["pages"]] == [1, 2] and shown["film"] == str(run / "film.mp4")
    assert shown["assets"]["image"] == 2 and shown["characters"][0]["name"] == "Pip"
    result, text = _run("history", str(run), "--json")
    found = json.loads(text)
    assert set(found) == set(JSON_KEYS["history"]) and found["current"] == 1
    assert found["versions"][0]["action"] == "make" and found["versions"][0]["version"] == 1
    assert set(found["versions"][0]) == {"version", "action", "request", "date", "based_on", "film", "changes"}


def test_backends_json_is_one_object():
    result, text = _run("backends", "--json")
    data = json.loads(text)
    assert set(data) == set(JSON_KEYS["backends"]) and data["backends"]
    old = {"kind", "name", "ready", "missing", "install", "summary", "origin"}  # none removed, a few added
    assert set(data["backends"][0]) == old | {"installed", "model", "weights", "device", "advice"}


def test_revise_and_scheduled_runs_are_tagged(tmp_path: Path, scripted):
    """A revision's runs carry ``revise``; a film from the list deployment's flow carries ``scheduled``."""
    from storyreel.flows.deployments import film_from_list

    model = scripted(story_answers(pages=2))
    result = film_from_list(prompts=["A fox who loves the moon"], profile="sketch", settings=[model], out=str(tmp_path))
    run = Path(result.run_dir)
    (film,) = _flow_runs(run.name)
    assert {"scheduled", "profile:sketch", "storyreel"} <= set(film.tags) and "make" not in film.tags
    listed = _flow_runs("prompts-prompt1of1")[-1]  # the list's own run: named after the list and its pick
    assert listed.id != film.id and {"scheduled", "profile:sketch"} <= set(listed.tags)

    from storyreel.flows.revise import revise_film

    assert revise_film(str(run), "make Pip blue", settings=["llm.model=offline"]).changed
    (revision,) = _flow_runs(f"{run.name}-revise")
    assert {"revise", "profile:sketch"} <= set(revision.tags)
    remade = _flow_runs(run.name)[-1]
    assert remade.id != film.id and "revise" in remade.tags and "make" not in remade.tags
