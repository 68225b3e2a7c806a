"""Property-based fuzz (hypothesis) of what a user hands storyreel: settings, page images, prompts, requests,
and run files. Every case either works or fails with storyreel's own one-line error: never a traceback,
never a hang, nothing written outside the out folder (issue 11). The CLI runs in-process and only with
arguments that fail before Prefect starts (the out folder cannot be written), so hundreds of cases stay fast."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from storyreel.agents.offline.rules import check_page_numbers, normalize_request, page_refs, parse_request
from storyreel.cli import app
from storyreel.config import load_config, saved_config
from storyreel.errors import StoryreelError
from storyreel.limits import MAX_PROMPT, check_text
from storyreel.page_images import parse_page_images
from storyreel.plan import Brief, Character, Page, StoryPlan
from storyreel.store import RunDir
from storyreel.versions import current_plan, load_history

FUZZ = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
runner = CliRunner()

# Text a user might type, and text that is hostile: markup, control characters, lone surrogates (a command
# line that is not UTF-8), digits of other scripts, very long runs.
hostile = st.sampled_from(
    [
        "[/]",
        "[bold]",
        "[red]x[/red]",
        "\x00",
        "\udcff",
        "٣",
        "²",
        "９",
        "page 99999999999999999999",
        "pages 2-999999",
        "-1",
        "1e309",
        "NaN",
        "Infinity",
        "~nobody/x.png",
        "../../etc/passwd",
        "{",
        "[[[[",
        "=",
        ".",
        "",
    ]
)
text = st.one_of(st.text(max_size=60), hostile, st.lists(hostile, max_size=4).map(" ".join))
keys = st.sampled_from(
    [
        "story.seed",
        "story.pages",
        "story.style",
        "video.fps",
        "video.width",
        "narration.min_page",
        "narration.rate",
        "music.gain_db",
        "run.max_workers",
        "image.options.steps",
        "llm.temperature",
        "nope.key",
        "video",
        "a.b.c",
    ]
)
values = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    text,
)
sets = st.lists(st.one_of(st.tuples(keys, values).map("=".join), text), max_size=3)


def plan_data() -> dict:
    plan = StoryPlan(
        title="A fox",
        brief=Brief(prompt="A fox", pages=2),
        characters=[Character(name="Fox", look="a red fox")],
        pages=[Page(number=n, text=f"Page {n}.", shows=f"the fox, scene {n}") for n in (1, 2)],
    )
    return plan.model_dump(mode="json")


def mutated(data: object, draw: st.DrawFn) -> object:
    """``data`` with one value somewhere replaced by something of another kind."""
    if isinstance(data, dict) and data and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(data)))
        return {**data, key: mutated(data[key], draw)}
    if isinstance(data, list) and data and draw(st.booleans()):
        index = draw(st.integers(0, len(data) - 1))
        return [*data[:index], mutated(data[index], draw), *data[index + 1 :]]
    json_values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
        max_leaves=6,
    )
    return draw(json_values)


@st.composite
def damaged_json(draw: st.DrawFn, good: dict) -> bytes:
    how = draw(st.sampled_from(["mutate", "truncate", "bytes"]))
    raw = json.dumps(good).encode()
    if how == "mutate":
        return json.dumps(mutated(good, draw)).encode()
    if how == "truncate":
        return raw[: draw(st.integers(0, len(raw) - 1))]
    return draw(st.binary(max_size=200))


# --- parsers and validators --------------------------------------------------------------------------------


@FUZZ
@given(sets)
def test_settings_are_taken_or_refused_with_a_line(items: list[str]):
    try:
        load_config("sketch", items, environ={})
    except StoryreelError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 800


@FUZZ
@given(st.lists(st.one_of(text, st.tuples(text, text).map("=".join)), max_size=3))
def test_page_image_items_are_parsed_or_refused_with_a_line(items: list[str]):
    try:
        found = parse_page_images(items)
    except StoryreelError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 400
    else:
        assert all(isinstance(n, int) and 0 <= n < 10_000 for n in found)


@FUZZ
@given(st.one_of(text, st.text(min_size=MAX_PROMPT - 5, max_size=MAX_PROMPT + 5)))
def test_prompts_are_checked_and_never_echoed_whole(prompt: str):
    try:
        assert check_text(prompt, "the prompt", MAX_PROMPT) == prompt
    except StoryreelError as exc:
        assert len(str(exc)) < 300


@FUZZ
@given(text)
def test_the_revision_parser_edits_or_refuses(request_text: str):
    plan = StoryPlan.model_validate(plan_data())
    try:
        line = normalize_request(request_text, len(plan.pages))
        check_page_numbers(line, plan)
        revision = parse_request(line, plan)
    except StoryreelError as exc:
        assert len(str(exc)) < 1200
    else:
        assert all(getattr(e, "page", 1) is None or 1 <= getattr(e, "page", 1) <= 3 for e in revision.edits)
    assert all(isinstance(n, int) for n in page_refs(request_text))


# --- the run's files: a plan, config, manifest and history, damaged every way -----------------------------


@pytest.fixture(scope="module")
def good_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("run")
    (run / "plan.json").write_text(json.dumps(plan_data()))
    config, _ = load_config("sketch", [], environ={})
    (run / "config.json").write_text(config.model_dump_json())
    return run


@pytest.mark.slow  # about a minute and a half here: each case validates a config against the registry
@FUZZ
@given(st.data())
def test_damaged_run_files_load_or_are_refused_with_a_line(good_run: Path, data: st.DataObject):
    name = data.draw(st.sampled_from(["plan.json", "config.json", "manifest.json", "history.json"]))
    good = {
        "plan.json": plan_data(),
        "config.json": json.loads((good_run / "config.json").read_text()),
        "manifest.json": {"assets": {}},
        "history.json": {"versions": [], "reverts": []},
    }[name]
    saved = {p: (good_run / p).read_bytes() for p in ("plan.json", "config.json")}
    try:
        (good_run / name).write_bytes(data.draw(damaged_json(good)))
        for load in (current_plan, saved_config, lambda r: RunDir(r).manifest(), load_history):
            try:
                load(good_run)
            except StoryreelError as exc:
                assert "\n" not in str(exc) and len(str(exc)) < 600
    finally:
        for p, content in saved.items():
            (good_run / p).write_bytes(content)
        for p in ("manifest.json", "history.json"):
            (good_run / p).unlink(missing_ok=True)


# --- the command line, in process: hostile arguments, one line, exit 2, nothing written ---------------------


def _no_traceback(result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    prompt=text,
    pages=st.one_of(st.none(), st.integers(-(2**40), 2**40)),
    seed=st.one_of(st.none(), st.integers(-(2**70), 2**70)),
    style=st.one_of(st.none(), text),
    profile=st.one_of(st.none(), st.sampled_from(["", "sketch", "preview", "nope", "[/]"])),
    items=sets,
    until=st.sampled_from(["film", "plan", "bogus"]),
)
def test_make_with_hostile_arguments_fails_fast_with_one_line(
    tmp_path: Path, prompt, pages, seed, style, profile, items, until
):
    blocked = tmp_path / "blocked"  # a file where the out folder should be: every make stops before Prefect
    blocked.write_text("")
    args = ["make", prompt, "--out", str(blocked / "runs"), "--until", until]
    for flag, value in (("--pages", pages), ("--seed", seed), ("--style", style), ("--profile", profile)):
        if value is not None:
            args += [flag, str(value)]
    for item in items:
        args += ["--set", item]
    before = sorted(p.name for p in tmp_path.iterdir())
    result = runner.invoke(app, args)
    _no_traceback(result)
    assert result.exit_code == 2, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    command=st.sampled_from(["show", "history", "revert", "revise", "make"]),
    where=st.sampled_from(["missing", "empty", "file", "markup"]),
    extra=st.lists(text, max_size=2),
)
def test_run_commands_on_what_is_not_a_run_fail_with_one_line(tmp_path: Path, command, where, extra):
    target = {
        "missing": tmp_path / "nowhere",
        "empty": tmp_path / "empty",
        "file": tmp_path / "a-file",
        "markup": tmp_path / "[bold]run[red]",
    }[where]
    if where in ("empty", "markup"):
        target.mkdir(exist_ok=True)
    elif where == "file":
        target.write_text("x")
    args = {
        "show": ["show", str(target)],
        "history": ["history", str(target)],
        "revert": ["revert", str(target), "1"],
        "revise": ["revise", str(target), *extra[:1]],
        "make": ["make", "--run", str(target)],
    }[command]
    result = runner.invoke(app, args)
    _no_traceback(result)
    assert result.exit_code == 2, result.output
    assert not (target / "plan.json").exists() and not (target / "manifest.json").exists()


def test_hostile_text_is_never_read_as_markup(tmp_path: Path):
    for prompt in ("[/]", "[bold", "a [red]fox[/red] [/]"):
        result = runner.invoke(app, ["make", prompt, "--pages", "99", "--out", str(tmp_path)])
        _no_traceback(result)
        assert result.exit_code == 2 and "--pages must be between 1 and 24" in result.output
