"""One config merge: a fresh run, a resumed run and a run's saved config layer settings the same way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storyreel.config import load_config, merge, saved_config
from storyreel.flows.make_film import prepare
from storyreel.plan import Brief

FILE = """
[image]
backend = "diffusers"
options = { steps = 2, guidance = 1.5, lora = { scale = 0.5, name = "ink" } }

[video]
interpolation_options = { strength = 0.3 }
"""


def test_tables_merge_key_by_key_and_options_go_with_their_backend():
    base = {"image": {"backend": "diffusers", "options": {"steps": 2, "lora": {"scale": 0.5, "name": "ink"}}}}
    assert merge(base, {"image": {"options": {"lora": {"scale": 0.8}}}}) == {
        "image": {"backend": "diffusers", "options": {"steps": 2, "lora": {"scale": 0.8, "name": "ink"}}}
    }
    assert merge(base, {"image": {"backend": "diffusers", "width": 64}})["image"]["options"]["steps"] == 2  # same one
    assert "options" not in merge(base, {"image": {"backend": "preview"}})["image"]  # another backend: afresh
    assert merge(base, {"image": {"backend": "preview", "options": {"detail": 2}}})["image"]["options"] == {"detail": 2}
    # the interpolation options belong to video.interpolation, or to video.backend while that is empty
    video = {"video": {"backend": "ltx", "options": {"steps": 8}, "interpolation_options": {"strength": 0.3}}}
    assert merge(video, {"video": {"interpolation": "ltx"}})["video"]["interpolation_options"] == {"strength": 0.3}
    switched = merge(video, {"video": {"backend": "wan"}})["video"]
    assert "options" not in switched and "interpolation_options" not in switched
    kept = merge({"video": {**video["video"], "interpolation": "ltx"}}, {"video": {"backend": "wan"}})["video"]
    assert kept["interpolation_options"] == {"strength": 0.3} and "options" not in kept
    # a backend named below with its default name is no change (music.backend defaults to synth)
    assert merge({"music": {"options": {"x": 1}}}, {"music": {"backend": "synth"}})["music"]["options"] == {"x": 1}


@pytest.mark.parametrize(
    "sets",
    [
        [],
        ["image.options.steps=4"],
        ["image.options.lora.scale=0.9", "video.fps=12"],
        ["image.backend=preview"],
        ["image.backend=preview", "image.options.detail=2"],
        ["video.interpolation=preview", "video.interpolation_options.strength=0.5"],
        ['video.interpolation_options={"blend": 1}'],
    ],
)
def test_a_fresh_a_resumed_and_a_saved_config_agree(tmp_path: Path, sets: list[str]):
    file = tmp_path / "storyreel.toml"
    file.write_text(FILE, encoding="utf-8")
    made, _ = load_config("sketch", [], config_file=file, environ={})
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(made.model_dump(mode="json")), encoding="utf-8")
    (run / "brief.json").write_text(Brief(prompt="A fox", pages=2).model_dump_json(), encoding="utf-8")

    fresh, _ = load_config("sketch", sets, config_file=file, environ={})  # the same layers, in one go
    saved = saved_config(run, sets)  # the CLI and the runners on a resumed run
    _, _, resumed, _ = prepare("", None, None, None, None, sets, None, str(run), None, None)  # make-film --run
    assert fresh == saved == resumed
    if sets == ["image.options.steps=4"]:
        assert fresh.image.options == {"steps": 4, "guidance": 1.5, "lora": {"scale": 0.5, "name": "ink"}}
    if sets == ["image.backend=preview"]:
        assert fresh.image.options == {}
