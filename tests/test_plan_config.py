"""The plan model, the timeline and the config layers."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from storyreel.config import Config, env_overrides, load_config, resolve_profile
from storyreel.errors import ConfigError
from storyreel.plan import Brief, Character, MusicCue, Page, StoryPlan
from storyreel.timeline import build_timeline, keyframe_indices, to_srt


def _plan(**changes) -> dict:
    data = {
        "title": "T",
        "brief": {"prompt": "a fox"},
        "characters": [{"name": "Fern", "look": "a red fox"}],
        "pages": [{"number": 1, "text": "Fern runs.", "characters": ["Fern"]}],
    }
    data.update(changes)
    return data


def test_plan_round_trips_and_forbids_unknown_fields():
    plan = StoryPlan.model_validate(_plan())
    assert StoryPlan.model_validate_json(plan.model_dump_json()) == plan
    with pytest.raises(ValidationError, match="Extra inputs"):
        StoryPlan.model_validate(_plan(mood="happy"))
    with pytest.raises(ValidationError):
        Character(name="x", look="y", colour="#ffffff")


def test_plan_checks_page_numbers_characters_and_music():
    with pytest.raises(ValidationError, match="numbered"):
        StoryPlan.model_validate(_plan(pages=[{"number": 2, "text": "x"}]))
    with pytest.raises(ValidationError, match="unknown characters"):
        StoryPlan.model_validate(_plan(pages=[{"number": 1, "text": "x", "characters": ["Bob"]}]))
    with pytest.raises(ValidationError, match="runs to page 3"):
        StoryPlan.model_validate(_plan(music=[{"mood": "calm", "first_page": 1, "last_page": 3}]))
    with pytest.raises(ValidationError, match="before it starts"):
        MusicCue(mood="calm", first_page=2, last_page=1)
    assert Page(number=1, text="x").scene.setting == "meadow"


@pytest.mark.parametrize("prompt", ["", "   ", "\n\t"])
def test_brief_refuses_blank_prompts(prompt):
    with pytest.raises(ValidationError, match="prompt"):
        Brief(prompt=prompt)


@pytest.mark.parametrize("pages", [0, 25])
def test_brief_page_bounds(pages):
    with pytest.raises(ValidationError):
        Brief(prompt="a fox", pages=pages)


def test_timeline_from_narration_lengths():
    t = build_timeline([("one", 2.0), ("two", 0.5)], fps=24, lead_in=0.5, tail=0.5, transition=0.5, min_page=2.0)
    kinds = [(s.kind, s.page, s.start_frame, s.frames) for s in t.segments]
    assert kinds == [("page", 1, 0, 72), ("transition", 1, 72, 12), ("page", 2, 84, 48)]
    assert t.total_frames == 132 and t.duration == pytest.approx(5.5)
    assert t.narration[1].start == pytest.approx(84 / 24 + 0.5)
    assert t.span(1, 1) == (0.0, 84 / 24)
    srt = to_srt(t)
    assert srt.count("-->") == 2 and "00:00:00,500 --> 00:00:02,500" in srt


def test_keyframe_indices_are_sparse_and_cover_the_clip():
    assert keyframe_indices(17, 8) == [0, 8, 16]
    idx = keyframe_indices(100, 8)
    assert idx[0] == 0 and idx[-1] == 99 and all(0 < b - a <= 8 for a, b in zip(idx, idx[1:], strict=False))
    with pytest.raises(ValueError):
        keyframe_indices(1, 8)


def test_auto_profile_says_what_it_picked_and_why():
    name, why = resolve_profile("auto")
    assert name in ("gpu", "preview") and why.startswith("auto:")
    with pytest.raises(ConfigError, match="unknown profile 'fast'"):
        resolve_profile("fast")


def test_config_layers_in_order(tmp_path: Path):
    (tmp_path / "storyreel.toml").write_text("[video]\nfps = 30\nkeyframe_spacing = 4\n[story]\npages = 5\n")
    env = {"STORYREEL_VIDEO__FPS": "25", "STORYREEL_MUSIC__ENABLED": "false"}
    config, note = load_config("sketch", ["video.fps=12"], environ=env, cwd=tmp_path)
    assert "sketch" in note
    assert config.video.fps == 12  # --set beats the environment
    assert config.video.keyframe_spacing == 4  # the file beats the profile
    assert config.story.pages == 5
    assert config.music.enabled is False  # the environment beats the profile
    assert config.video.width == 128  # from the sketch profile
    assert Config().video.width == 1280  # the defaults


def test_config_errors_name_the_key(tmp_path: Path):
    with pytest.raises(ConfigError, match="unknown setting 'video.fsp'.*keys in \\[video\\]"):
        load_config("sketch", ["video.fsp=3"], environ={}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="unknown section 'vidoe'"):
        load_config("sketch", ["vidoe.fps=3"], environ={}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="video.fps"):
        load_config("sketch", ["video.fps=fast"], environ={}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="section.key=value"):
        load_config("sketch", ["fps"], environ={}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="unknown image backend 'nope'"):
        load_config("sketch", ["image.backend=nope"], environ={}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="environment variable STORYREEL_NOPE__X"):
        env_overrides({"STORYREEL_NOPE__X": "1"})
    (tmp_path / "storyreel.toml").write_text("[video\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config("sketch", [], environ={}, cwd=tmp_path)


def test_every_profile_loads(tmp_path: Path):
    for name in ("preview", "sketch", "tiny", "gpu"):
        config, _ = load_config(name, [], environ={}, cwd=tmp_path)
        assert config.profile == name
