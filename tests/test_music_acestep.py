"""The ACE-Step composer on a tiny real AceStepPipeline from the architecture factory (random weights, no download),
saved and loaded back by path: one call per cue, exactly the cue's length, deterministic per seed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from storyreel import architectures, runtime
from storyreel.errors import BackendError
from storyreel.generators.base import MusicRequest
from storyreel.generators.music_acestep import AceStepComposer
from storyreel.media import read_wav


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    with runtime.threads(1):
        yield


@pytest.fixture(scope="session")
def tiny_ace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return architectures.build("ace-step", tmp_path_factory.mktemp("models") / "tiny-ace-step")


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    from diffusers import AceStepPipeline

    seen: list[dict] = []
    real = AceStepPipeline.__call__

    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(AceStepPipeline, "__call__", call)
    return seen


def composer(model: Path, **options: Any) -> AceStepComposer:
    return AceStepComposer(AceStepComposer.Options(model=str(model), steps=2, max_text_length=32, **options))


def test_one_call_per_cue_exactly_its_length(tiny_ace, calls, tmp_path):
    music = composer(tiny_ace)
    request = MusicRequest(mood="calm", prompt="a lullaby on a music box", duration=3.217, seed=4)
    music.compose(request, tmp_path / "cue.wav")
    (call,) = calls
    assert call["audio_duration"] == pytest.approx(3.217) and call["num_inference_steps"] == 2
    assert "a lullaby on a music box" in call["prompt"] and music.options.style in call["prompt"]
    samples, rate = read_wav(tmp_path / "cue.wav")
    assert rate == architectures.ACE_RATE and samples.shape == (round(3.217 * rate), 2)
    assert np.abs(samples).max() > 0.1  # peak-normalised music, not silence


def test_deterministic_per_seed(tiny_ace, tmp_path):
    music = composer(tiny_ace)

    def cue(seed: int, name: str) -> np.ndarray:
        music.compose(MusicRequest(mood="happy", duration=1.5, seed=seed), tmp_path / name)
        return read_wav(tmp_path / name)[0]

    a, b, c = cue(1, "a.wav"), cue(1, "b.wav"), cue(2, "c.wav")
    assert np.array_equal(a, b)
    assert np.abs(a - c).mean() > 1e-3


def test_a_folder_of_another_pipeline_is_a_clear_error(tmp_path):
    (tmp_path / "model_index.json").write_text('{"_class_name": "StableAudioPipeline"}')
    with pytest.raises(BackendError, match="holds a StableAudioPipeline; this backend loads AceStepPipeline"):
        composer(tmp_path).compose(MusicRequest(mood="calm", duration=1.0), tmp_path / "x.wav")
