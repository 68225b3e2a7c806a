"""The model audio backends (Kokoro narration, MusicGen music, Stable Audio effects) with tiny real models
from the architecture factory (random weights, the real classes), saved with save_pretrained / torch.save and
loaded through our backends by path; the mixer measured on their output; and the whole flow on the tiny profile
with the three model backends. (The audiocraft backends are a plugin now: tests/test_plugins.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError
from scipy import signal

from storyreel import architectures, make_film, runtime
from storyreel.dialogue import Line, speakers_on_page, split_dialogue
from storyreel.errors import BackendError
from storyreel.generators.audio import crossfade
from storyreel.generators.base import Composer, MusicRequest, Narrator, SfxRequest, SoundMaker, SpeechRequest
from storyreel.generators.mix import Placement, master, render_stem
from storyreel.generators.music_musicgen import Chunk, MusicGenComposer, plan_chunks
from storyreel.generators.narration_kokoro import KokoroNarrator, character_voices
from storyreel.generators.sfx_stable_audio import StableAudioSfx
from storyreel.media import probe, read_wav
from storyreel.plan import Character, SfxCue
from storyreel.store import RunDir

from .conftest import story_answers  # noqa: TID252

MUSIC_RATE = architectures.MUSIC_RATE  # the tiny MusicGen's codec: 16 kHz, 640 samples per code frame (25 Hz)
SFX_RATE = architectures.SFX_RATE  # the tiny Stable Audio's VAE


def db(value: float) -> float:
    return 20 * np.log10(max(value, 1e-12))


def rms(sound: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(sound, dtype=np.float64))))


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models run fastest on one thread (see storyreel.runtime.threads)."""
    with runtime.threads(1):
        yield


# --- tiny models, built once per module ---------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_musicgen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A MusicGen (T5 text encoder, EnCodec codec, 4-codebook decoder) and its processor, saved to a folder."""
    import torch
    from transformers import MusicgenForConditionalGeneration

    folder = architectures.build("musicgen", tmp_path_factory.mktemp("musicgen"))
    model = MusicgenForConditionalGeneration.from_pretrained(folder)
    assert model.audio_encoder.encode(torch.zeros(1, 1, 6400)).audio_codes.shape[2] == 4  # 4 codebooks at 0.6 kbps
    return folder


@pytest.fixture(scope="module")
def tiny_kokoro(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Kokoro model folder: config.json, a .pth of the real KModel at small text sizes, three voices."""
    return architectures.build("kokoro", tmp_path_factory.mktemp("kokoro"))


@pytest.fixture(scope="module")
def tiny_stable_audio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A StableAudioPipeline (DiT, Oobleck VAE, T5, projection, cosine DPM scheduler) saved to a folder.
    It writes at most 0.5 s per call (128 latents x 8 samples at 2048 Hz), so longer cues take several."""
    return architectures.build("stable-audio", tmp_path_factory.mktemp("stable-audio"))


def musicgen(folder: Path, **options: object) -> MusicGenComposer:
    return MusicGenComposer(MusicGenComposer.Options(model=str(folder), **options))


def kokoro(folder: Path, **options: object) -> KokoroNarrator:
    return KokoroNarrator(KokoroNarrator.Options(model=str(folder), g2p="espeak", **options))


def stable_audio(folder: Path, **options: object) -> StableAudioSfx:
    return StableAudioSfx(StableAudioSfx.Options(model=str(folder), steps=3, **options))


# --- narration: Kokoro ----------------------------------------------------------------------------


def test_kokoro_speaks_mono_24k_deterministically(tmp_path: Path, tiny_kokoro: Path) -> None:
    narrator = kokoro(tiny_kokoro)
    assert isinstance(narrator, Narrator) and narrator.uses_gpu
    text = "A small dragon lived by the sea. It was shy."
    narrator.speak(SpeechRequest(text=text, seed=1), tmp_path / "a")
    narrator.speak(SpeechRequest(text=text, seed=1), tmp_path / "b")
    narrator.speak(SpeechRequest(text=text, seed=1, voice="bf_emma"), tmp_path / "c")
    a, rate = read_wav(tmp_path / "a")
    assert rate == 24000 and a.shape[1] == 1
    assert 0.5 < a.shape[0] / rate < 20.0 and db(rms(a)) > -40
    pause = round(0.35 * rate)  # two sentences: a pause of silence between them
    silent = np.convolve((np.abs(a[:, 0]) < 1e-6).astype(float), np.ones(pause), "valid")
    assert silent.max() == pause
    assert np.array_equal(a, read_wav(tmp_path / "b")[0])  # the same seed: the same file
    assert not np.array_equal(a, read_wav(tmp_path / "c")[0][: a.shape[0]])  # another voice


def test_kokoro_word_timings_follow_its_phoneme_durations(tmp_path: Path, tiny_kokoro: Path) -> None:
    from storyreel.timings import Word, words_of

    text = 'The little dragon counted 42 stars. "Wow!" said Mia, and she smiled.'
    said = kokoro(tiny_kokoro).speak(SpeechRequest(text=text, seed=1, speakers={"Mia": ""}), tmp_path / "a")
    samples, rate = read_wav(tmp_path / "a")
    words = [Word.model_validate(w) for w in said["words"]]
    assert said["timing"] == "kokoro" and [w.text for w in words] == words_of(text)  # every word, in order
    for before, after in zip(words, words[1:], strict=False):
        assert before.start <= before.end <= after.start  # monotonic
    assert words[0].start >= 0 and words[-1].end <= samples.shape[0] / rate  # inside the narration
    pause = next(i for i, w in enumerate(words) if w.text == '"Wow!"')  # the pause between two lines
    assert words[pause].start - words[pause - 1].end >= 0.3


def test_kokoro_gives_characters_their_voices(tmp_path: Path, tiny_kokoro: Path) -> None:
    narrator = kokoro(tiny_kokoro)
    text = '"Who is it?" asked Pip.'
    narrator.speak(SpeechRequest(text=text, seed=3), tmp_path / "narrator")
    narrator.speak(SpeechRequest(text=text, seed=3, speakers={"Pip": "am_puck"}), tmp_path / "pip")
    narrator.speak(SpeechRequest(text=text, seed=3, speakers={"Pip": ""}), tmp_path / "pool")  # first of the pool
    alone, _ = read_wav(tmp_path / "narrator")
    voiced, _ = read_wav(tmp_path / "pip")
    assert not np.array_equal(alone, voiced)
    assert np.array_equal(voiced, read_wav(tmp_path / "pool")[0])  # am_puck is the pool's first voice
    assert character_voices({"Pip": "", "Olo": "bf_emma", "Mo": ""}, ["am_puck", "af_bella"]) == {
        "Pip": "am_puck",
        "Olo": "bf_emma",
        "Mo": "af_bella",
    }


def test_kokoro_errors_say_what_to_do(tmp_path: Path, tiny_kokoro: Path) -> None:
    with pytest.raises(BackendError, match="voices: af_heart, am_puck, bf_emma"):
        kokoro(tiny_kokoro).speak(SpeechRequest(text="Hello.", voice="af_nobody"), tmp_path / "x")
    with pytest.raises(BackendError, match="first letter gives the language"):
        kokoro(tiny_kokoro).speak(SpeechRequest(text="Hello.", voice="en-us"), tmp_path / "x")
    with pytest.raises(BackendError, match="narration model folder .* does not exist"):
        kokoro(tmp_path / "no" / "such" / "folder").speak(SpeechRequest(text="Hello."), tmp_path / "x")
    with pytest.raises(ValidationError):
        KokoroNarrator.Options(volume=2)


def test_dialogue_is_split_and_attributed() -> None:
    names = ["Pip", "Olo"]
    assert split_dialogue('"Hello!" said Pip. Olo blinked.', names) == [
        Line("Hello!", "Pip"),
        Line("said Pip. Olo blinked."),
    ]
    assert split_dialogue("Olo whispered, “Look up.” The stars came out.", names) == [
        Line("Olo whispered"),
        Line("Look up.", "Olo"),
        Line("The stars came out."),
    ]
    assert split_dialogue('"Hush," she said.', names) == [Line("Hush"), Line("she said.")]  # nobody named
    assert split_dialogue("No quotes at all, Pip.", names) == [Line("No quotes at all, Pip.")]
    cast = [Character(name="Pip", look="a dragon", voice="am_puck"), Character(name="Olo", look="an owl")]
    assert speakers_on_page('"Hi," said Pip.', cast) == {"Pip": "am_puck"}
    assert speakers_on_page("Pip and Olo slept.", cast) == {}  # no dialogue: the request stays as before


# --- music: MusicGen ------------------------------------------------------------------------------


def test_plan_chunks_covers_the_cue() -> None:
    assert plan_chunks(20.0, 30.0, 10.0) == [Chunk(0.0, 20.0)]
    assert plan_chunks(70.0, 30.0, 10.0) == [Chunk(0.0, 30.0), Chunk(10.0, 20.0), Chunk(10.0, 20.0)]
    chunks = plan_chunks(1.5, 0.6, 0.2)
    assert len(chunks) == 4 and sum(c.new for c in chunks) == pytest.approx(1.5)
    with pytest.raises(ValueError, match="shorter than the window"):
        plan_chunks(5.0, 1.0, 1.0)


def test_crossfade_of_two_takes_of_one_moment_is_seamless() -> None:
    t = np.arange(4000) / 1000
    tone = np.sin(2 * np.pi * 3 * t)[:, None]
    joined = crossfade(tone[:2500], tone[2000:], 500)  # both takes hold samples 2000-2500
    assert joined.shape == tone.shape and np.abs(joined - tone).max() < 1e-9
    other = np.sin(2 * np.pi * 3 * t + 1.0)[:, None]  # a different take: no jump, just a glide
    glued = crossfade(tone[:2500], other[2000:], 500)
    assert np.abs(np.diff(glued[:, 0])).max() < 1.5 * np.abs(np.diff(tone[:, 0])).max()


def test_musicgen_short_cue(tmp_path: Path, tiny_musicgen: Path) -> None:
    composer = musicgen(tiny_musicgen)
    assert isinstance(composer, Composer) and composer.uses_gpu
    for seed, name in ((1, "a"), (1, "b"), (2, "c")):
        composer.compose(MusicRequest(mood="calm", prompt="a lullaby", duration=1.3, seed=seed), tmp_path / name)
    a, rate = read_wav(tmp_path / "a")
    assert rate == MUSIC_RATE and a.shape == (round(1.3 * MUSIC_RATE), 1)
    assert db(np.abs(a).max()) == pytest.approx(-8.0, abs=0.1)  # peak-normalised like the synth's cues
    assert np.abs(a[:5]).max() < 1e-3 and np.abs(a[-5:]).max() < 1e-3  # faded
    assert np.array_equal(a, read_wav(tmp_path / "b")[0])
    assert not np.array_equal(a, read_wav(tmp_path / "c")[0])


def test_musicgen_long_cue_is_continued_in_chunks(
    tmp_path: Path, tiny_musicgen: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from transformers import MusicgenForConditionalGeneration

    calls: list[dict] = []
    real_generate = MusicgenForConditionalGeneration.generate

    def spy(self, *args, **kwargs):  # the real generate, counted
        calls.append({k: v for k, v in kwargs.items() if k in ("decoder_input_ids", "max_new_tokens")})
        return real_generate(self, *args, **kwargs)

    monkeypatch.setattr(MusicgenForConditionalGeneration, "generate", spy)
    composer = musicgen(tiny_musicgen, window=0.6, context=0.2, crossfade=0.05, fade=0.0)
    composer.compose(MusicRequest(mood="playful", duration=1.5, seed=4), tmp_path / "long")
    music, rate = read_wav(tmp_path / "long")
    assert music.shape == (round(1.5 * rate), 1)
    assert len(calls) == 4  # 0.6 s, then three continuations of 0.4 + 0.4 + 0.1 s
    assert "decoder_input_ids" not in calls[0]
    for call in calls[1:]:  # each continuation starts from the last 0.2 s: 5 code frames of 4 codebooks
        assert tuple(call["decoder_input_ids"].shape) == (4, 5)
    # the seams (0.6, 1.0 and 1.4 s) glide: no step there larger than the music's own largest steps
    steps = np.abs(np.diff(music[:, 0]))
    for seam in (0.6, 1.0, 1.4):
        around = steps[round((seam - 0.06) * rate) : round((seam + 0.01) * rate)]
        assert around.max() <= np.percentile(steps, 99.9)


def test_musicgen_stereo_and_melody_checkpoints_continue_too(tmp_path: Path) -> None:
    """The -stereo-* models interleave two channels' codebooks; -melody is its own class. Both load by the
    same option and continue past their window."""
    import torch
    from transformers import (
        EncodecConfig,
        MusicgenConfig,
        MusicgenDecoderConfig,
        MusicgenForConditionalGeneration,
        MusicgenMelodyConfig,
        MusicgenMelodyDecoderConfig,
        MusicgenMelodyForConditionalGeneration,
        T5Config,
        T5TokenizerFast,
    )

    text = T5Config(d_model=16, d_ff=4, num_layers=1, num_heads=4).to_dict()
    codec = EncodecConfig(
        hidden_size=99, compress=1, num_filters=4, codebook_size=64, codebook_dim=99,
        sampling_rate=MUSIC_RATE, upsampling_ratios=[8, 5, 4, 4], target_bandwidths=[0.6],
    ).to_dict()  # fmt: skip
    sizes = dict(vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=4, ffn_dim=4)
    tokens = dict(pad_token_id=64, bos_token_id=64, decoder_start_token_id=64)
    stereo = MusicgenForConditionalGeneration(
        MusicgenConfig(
            text_encoder=text,
            audio_encoder=codec,
            decoder=MusicgenDecoderConfig(**sizes, **tokens, num_codebooks=8, audio_channels=2).to_dict(),
        )
    )
    melody = MusicgenMelodyForConditionalGeneration(
        MusicgenMelodyConfig(
            text_encoder=text,
            audio_encoder=codec,
            decoder=MusicgenMelodyDecoderConfig(**sizes, **tokens, num_codebooks=4).to_dict(),
            num_chroma=12,
            chroma_length=10,
        )
    )
    for name, model, channels in (("stereo", stereo, 2), ("melody", melody, 1)):
        with torch.no_grad():
            for layer in model.audio_encoder.quantizer.layers:
                layer.codebook.embed.normal_()
        model.save_pretrained(tmp_path / name)
        T5TokenizerFast().save_pretrained(tmp_path / name)
        composer = musicgen(tmp_path / name, window=0.6, context=0.2, crossfade=0.05)
        composer.compose(MusicRequest(mood="calm", duration=1.0, seed=1), tmp_path / f"{name}.wav")
        music, rate = read_wav(tmp_path / f"{name}.wav")
        assert rate == MUSIC_RATE and music.shape == (MUSIC_RATE, channels), name
    runtime.release()


def test_musicgen_errors(tmp_path: Path, tiny_musicgen: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    request = MusicRequest(mood="calm", duration=1.0)
    with pytest.raises(BackendError, match="music model folder .* does not exist"):
        musicgen(tmp_path / "missing" / "folder").compose(request, tmp_path / "x")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # no internet here: fail at once
    with pytest.raises(BackendError, match="music model 'no-such-org/no-such-musicgen' is not in the Hugging Face"):
        MusicGenComposer(MusicGenComposer.Options(model="no-such-org/no-such-musicgen")).compose(
            request, tmp_path / "x"
        )
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BackendError, match="holds no model"):
        musicgen(empty).compose(request, tmp_path / "x")
    with pytest.raises(ValidationError, match="shorter than window"):
        MusicGenComposer.Options(window=10, context=10)
    runtime.release()


# --- sound effects: Stable Audio ------------------------------------------------------------------


def test_stable_audio_makes_any_cue_at_its_exact_length(tmp_path: Path, tiny_stable_audio: Path) -> None:
    maker = stable_audio(tiny_stable_audio, crossfade=0.05)
    assert isinstance(maker, SoundMaker) and maker.uses_gpu
    for name, duration, seed in (("short", 0.3, 1), ("again", 0.3, 1), ("long", 1.7, 1)):  # 1.7 s: four takes
        cue = SfxCue(sound="kazoo-solo", prompt="a kazoo solo in a tiled bathroom")  # the synth cannot
        maker.make(SfxRequest(cue=cue, duration=duration, seed=seed), tmp_path / name)
    short, rate = read_wav(tmp_path / "short")
    long, _ = read_wav(tmp_path / "long")
    assert rate == SFX_RATE and short.shape == (round(0.3 * SFX_RATE), 2)
    assert long.shape == (round(1.7 * SFX_RATE), 2)
    assert db(np.abs(long).max()) == pytest.approx(-1.0, abs=0.1)
    assert np.array_equal(short, read_wav(tmp_path / "again")[0])
    with pytest.raises(BackendError, match="could not load the sound-effect model"):
        stable_audio(tiny_stable_audio.parent).make(SfxRequest(cue=cue, duration=0.3), tmp_path / "x")
    runtime.release()


def test_storyreel_backends_lists_the_audio_models() -> None:
    from typer.testing import CliRunner

    from storyreel.cli import app

    result = CliRunner().invoke(app, ["backends", "--json"])
    rows = {(r["kind"], r["name"]): r for r in json.loads(result.output)["backends"]}
    for key in (("narration", "kokoro"), ("music", "musicgen"), ("sfx", "stable-audio")):
        row = rows[key]
        assert row["installed"], row  # ready also needs its weights and a GPU here: said when they are not
        assert row["ready"] or row["advice"], row
        if row["weights"] == "not cached":
            assert f"hf download {row['model']}" in row["advice"], row


# --- the mixer on model output --------------------------------------------------------------------


def test_mixer_ducks_model_music_under_model_speech(tmp_path: Path, tiny_kokoro: Path, tiny_musicgen: Path) -> None:
    kokoro(tiny_kokoro).speak(SpeechRequest(text="The little dragon looked at the moon.", seed=1), tmp_path / "line")
    musicgen(tiny_musicgen, fade=0.0).compose(MusicRequest(mood="calm", duration=7.0, seed=1), tmp_path / "music")
    runtime.release()
    speech_start, speech_seconds = 2.0, read_wav(tmp_path / "line")[0].shape[0] / 24000
    duration = speech_start + speech_seconds + 3.0
    rate = 48000
    render_stem([Placement(path=tmp_path / "line", start=speech_start)], duration, tmp_path / "voice")
    render_stem([Placement(path=tmp_path / "music", start=0.0)], duration, tmp_path / "music-stem")

    # the music's part of the master: (voice + ducked music) minus the voice alone, each undone of its gain
    settings = {"fade": 0.0, "target_lufs": -16.0, "true_peak_db": -1.5}
    with_music = master(tmp_path / "voice", tmp_path / "music-stem", None, tmp_path / "mix", **settings)
    alone = master(tmp_path / "voice", None, None, tmp_path / "voice-only", **settings)
    assert with_music.limited_db == 0.0 and alone.limited_db == 0.0  # linear: the subtraction is exact
    mix = read_wav(tmp_path / "mix")[0].astype(np.float64)
    voice = read_wav(tmp_path / "voice-only")[0].astype(np.float64)
    music_part = mix / 10 ** (with_music.gain_db / 20) - voice / 10 ** (alone.gain_db / 20)
    bed = read_wav(tmp_path / "music-stem")[0].astype(np.float64)

    def gain(start: float, end: float) -> float:  # how far the music sits under its stem, in dB
        span = slice(round(start * rate), round(end * rate))
        return db(rms(music_part[span])) - db(rms(bed[span]))

    during = gain(speech_start + 0.2, speech_start + speech_seconds - 0.1)
    gaps = min(gain(0.2, speech_start - 0.4), gain(speech_start + speech_seconds + 1.5, duration - 0.1))
    assert gaps - during >= 10.0
    assert during == pytest.approx(-8.0 - 14.0, abs=1.5)  # music gain and the duck depth, defaults

    import pyloudnorm

    assert abs(pyloudnorm.Meter(rate).integrated_loudness(mix) + 16.0) <= 1.0
    assert db(np.abs(signal.resample_poly(mix, 4, 1, axis=0)).max()) <= -1.5 + 0.02


# --- the whole flow with the three model backends ---------------------------------------------------


@pytest.fixture(scope="module")
def model_film(
    tmp_path_factory: pytest.TempPathFactory, tiny_kokoro: Path, tiny_musicgen: Path, tiny_stable_audio: Path
):
    answers = tmp_path_factory.mktemp("llm") / "answers.json"
    script = story_answers(pages=2)
    script[0]["pages"][1]["text"] = '"Who is there?" asked Pip. Olo hooted softly.'
    answers.write_text(json.dumps(script))
    settings = [
        f"llm.model=scripted:{answers}",
        "narration.backend=kokoro",
        f"narration.options.model={tiny_kokoro}",
        "narration.options.g2p=espeak",
        "music.backend=musicgen",
        f"music.options.model={tiny_musicgen}",
        "sfx.backend=stable-audio",
        f"sfx.options.model={tiny_stable_audio}",
        "sfx.options.steps=2",
    ]
    out = tmp_path_factory.mktemp("runs")
    result = make_film(
        prompt="A little dragon who is afraid of the dark", profile="sketch", settings=settings, out=str(out)
    )
    runtime.release()
    return result


def test_the_flow_makes_a_film_with_the_three_model_tracks(model_film) -> None:
    run = Path(model_film.run_dir)
    config = json.loads((run / "config.json").read_text())
    assert (config["narration"]["backend"], config["music"]["backend"], config["sfx"]["backend"]) == (
        "kokoro",
        "musicgen",
        "stable-audio",
    )
    narration = sorted(run.glob("pages/p0*/narration-*.wav"))
    music = sorted(run.glob("music/cue*.wav"))
    sfx = sorted(run.glob("pages/p0*/sfx-*.wav"))
    assert len(narration) == 2 and len(music) == 1 and len(sfx) == 4  # every cue made, "kazoo-solo" too
    assert read_wav(narration[0])[1] == 24000 and read_wav(music[0])[1] == MUSIC_RATE
    assert read_wav(sfx[0])[1] == SFX_RATE
    for track in ("narration", "music", "sfx", "mix"):
        stem, rate = read_wav(next(run.glob(f"audio/{track}-*.wav")))
        assert rate == 48000 and db(rms(stem)) > -60, track  # each track is there and not silent

    info = probe(run / "film.mp4")
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert (video["codec_name"], audio["codec_name"], video["width"]) == ("h264", "aac", 128)
    assert abs(float(audio["duration"]) - float(video["duration"])) <= 1 / 24 + 0.05


def test_a_music_change_remixes_without_redoing_the_other_tracks(model_film) -> None:
    run = Path(model_film.run_dir)
    stems = {t: sorted(run.glob(f"audio/{t}-*.wav")) for t in ("narration", "music", "sfx")}
    again = make_film(run=str(run), settings=["music.options.peak_db=-10.0"])
    runtime.release()
    made = sorted(RunDir(run).stats()["made"])
    assert made == ["film", "mix", "music", "stem-music"], made
    assert again.reused > 10
    assert sorted(run.glob("audio/narration-*.wav")) == stems["narration"]
    assert sorted(run.glob("audio/sfx-*.wav")) == stems["sfx"]
    assert len(sorted(run.glob("audio/music-*.wav"))) == len(stems["music"]) + 1
