"""Narration with Kokoro-82M, a small neural TTS (Apache-2.0 code and weights), through the ``kokoro``
package's model class (``kokoro.model.KModel``).

Text becomes phonemes first: with misaki's English lexicon (the quality Kokoro was trained for; it needs
spaCy's ``en_core_web_sm``) or with espeak-ng (from ``espeakng-loader``: no download at all). ``g2p =
"auto"`` takes misaki when its spaCy model is installed, else espeak-ng. Each sentence is then spoken in a
voice: a voice is a style tensor (``voices/<name>.pt``) whose first letter gives its language and accent
(``a`` American, ``b`` British English, ``e`` Spanish, ``f`` French, ``h`` Hindi, ``i`` Italian, ``p``
Brazilian Portuguese) and second its gender, e.g. ``af_heart``, ``bm_george``.

Quoted dialogue can take the voice of the character who speaks it (``storyreel.dialogue``): the request's
``speakers`` maps the characters named on the page to their voices; a character with no voice of their
own gets the next one from ``character_voices``, in the order the characters are listed.

Output: 24 kHz mono WAV, sentences joined with even pauses, a little silence kept at the ends. The model
predicts how long each phoneme lasts; ``speak`` returns from that when each word is said (its word timings,
``storyreel.timings``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from storyreel import runtime
from storyreel.dialogue import split_dialogue
from storyreel.errors import BackendError
from storyreel.generators.base import Backend, SpeechRequest
from storyreel.media import write_wav
from storyreel.timings import fit, spread, words_of

DEFAULT_MODEL = "hexgrad/Kokoro-82M"
SAMPLE_RATE = 24000
MAX_PHONEMES = 510  # the model's context, less its two boundary tokens
LANGUAGES = {"a": "en-us", "b": "en-gb", "e": "es", "f": "fr-fr", "h": "hi", "i": "it", "p": "pt-br"}
WEIGHTS = {"hexgrad/Kokoro-82M": "kokoro-v1_0.pth"}
SPACY_MODEL = "en_core_web_sm"
SETTING = "narration.options.model"


@dataclass
class _Loaded:
    """What stays in memory: the model and the voices and phonemizers used so far."""

    model: Any
    folder: Path | None  # a local model folder, or None for a Hugging Face id
    voices: dict[str, Any] = field(default_factory=dict)
    g2p: dict[str, Any] = field(default_factory=dict)


class KokoroNarrator(Backend):
    """Kokoro-82M neural TTS (Apache-2.0), voices per narrator and character.

    Speaks text with Kokoro, in one voice for the narrator and others for the characters' lines."""

    name: ClassVar[str] = "kokoro"
    version: ClassVar[str] = "1"
    requires: ClassVar[tuple[str, ...]] = ("torch", "kokoro", "misaki")  # importable modules it needs
    uses_gpu: ClassVar[bool] = True

    class Options(runtime.ModelOptions):
        auto_dtype: ClassVar[str] = "float32"  # small (82M), and its vocoder's iSTFT wants full precision

        model: str = Field(DEFAULT_MODEL, description="Hugging Face id, local folder (config.json, *.pth, voices/) "
                           "or tiny:kokoro")  # fmt: skip
        weights: str = Field("", description="weights file in the model; empty: the known name for the model")
        voice: str = Field("af_heart", description="the narrator's voice, when the request names none")
        character_voices: list[str] = Field(
            default_factory=lambda: ["am_puck", "bf_emma", "am_fenrir", "af_bella", "bm_fable", "af_nicole"],
            description="voices given in turn to characters with no voice of their own",
        )
        g2p: Literal["auto", "misaki", "espeak"] = Field("auto", description="text to phonemes for English")
        speed: float = Field(1.0, gt=0.3, le=3.0, description="multiplied by the request's rate")
        pause: float = Field(0.35, ge=0, le=3, description="seconds of silence between sentences and lines")
        edge_silence: float = Field(0.05, ge=0, le=1, description="seconds of silence kept at each end")

    def speak(self, request: SpeechRequest, out: Path) -> dict:
        """Write ``request.text`` spoken to ``out``: the narration in ``request.voice`` (or the configured
        voice), quoted lines of ``request.speakers`` in their voices. ``request.seed`` fixes the result.
        Returns the word timings, ``{"timing": "kokoro", "words": [Word, ...]}``, from the durations the
        model predicted for each phoneme."""
        o = self.options
        # 1. check inputs: who says what, and in which voice
        narrator = request.voice or o.voice
        voices = character_voices(request.speakers, o.character_voices)
        lines = [
            (sentence, (voices.get(line.speaker) if line.speaker else None) or narrator)
            for line in split_dialogue(request.text, list(voices))
            for sentence in _sentences(line.text)
        ]
        if not lines:
            raise BackendError(f"nothing to say in {request.text[:80]!r}")
        for voice in {voice for _, voice in lines}:
            _language(voice)

        # 2. speak each sentence in its voice (phonemes, then the model)
        spoken: list[tuple[int, np.ndarray, list[tuple[int, int]]]] = []  # sentence, samples, its words' spans
        advice = "close other programs using the GPU, or set narration.options.device=cpu (Kokoro is small)"
        with runtime.pipeline(self, self._load) as loaded, runtime.out_of_memory(f"speaking with {o.model}", advice):
            for index, (sentence, voice) in enumerate(lines):
                pack = self._voice(loaded, voice)
                for phonemes in _fit(self._phonemes(loaded, sentence, _language(voice))):
                    runtime.seed(request.seed + index)
                    said = loaded.model(phonemes, pack[len(phonemes) - 1], o.speed * request.rate, return_output=True)
                    raw = said.audio.float().cpu().numpy()
                    samples, cut = _trim(raw)
                    spans = _word_spans(loaded.model.vocab, phonemes, said.pred_dur, len(raw))
                    spans = [(min(max(0, a - cut), samples.size), min(max(0, b - cut), samples.size)) for a, b in spans]
                    spoken.append((index, samples, spans))

        # 3. join with even pauses, keep a little silence at the ends, write; time each sentence's words
        gap = np.zeros(round(o.pause * SAMPLE_RATE), np.float32)
        edge = np.zeros(round(o.edge_silence * SAMPLE_RATE), np.float32)
        parts: list[np.ndarray] = [edge]
        heard: dict[int, list[tuple[float, float]]] = {}
        at = len(edge)
        for index, samples, spans in (s for s in spoken if s[1].size):
            if len(parts) > 1:
                parts.append(gap)
                at += len(gap)
            heard.setdefault(index, []).extend(((at + a) / SAMPLE_RATE, (at + b) / SAMPLE_RATE) for a, b in spans)
            parts.append(samples)
            at += len(samples)
        audio = np.concatenate([*parts, edge])
        write_wav(out, audio, SAMPLE_RATE)
        timed = [t for index, spans in heard.items() if spans for t in spread(words_of(lines[index][0]), spans)]
        words = fit(request.text, timed, len(audio) / SAMPLE_RATE)
        return {"timing": "kokoro", "words": [w.model_dump() for w in words]}

    # --- loading ----------------------------------------------------------------------------------

    def _load(self) -> _Loaded:
        """Kokoro's model from a local folder or the Hugging Face Hub (called once, under the pipeline lock)."""
        from kokoro.model import KModel
        from loguru import logger

        logger.disable("kokoro")  # it logs every utterance's phonemes at debug level to stderr
        o = self.options
        device, dtype = runtime.placement(o)
        model = runtime.resolve(o.model, SETTING, "narration", o.local_files_only)
        with runtime.loading(model, SETTING, "narration"):
            if model.local:
                folder = Path(model.source)
                config = folder / "config.json"
                weights = folder / o.weights if o.weights else _only(folder.glob("*.pth"), folder)
                if not config.is_file():
                    raise BackendError(f"{folder} has no config.json: it is not a Kokoro model folder")
                kmodel = KModel(repo_id=o.model, config=str(config), model=str(weights))
                return _Loaded(kmodel.to(device, dtype).eval(), folder)
            from huggingface_hub import hf_hub_download

            name = o.weights or WEIGHTS.get(o.model)
            if not name:
                raise BackendError(f"which weights file of {o.model!r}? set the kokoro option 'weights' (a .pth)")
            config = hf_hub_download(o.model, "config.json", **model.kwargs())
            kmodel = KModel(repo_id=o.model, config=config, model=hf_hub_download(o.model, name, **model.kwargs()))
        return _Loaded(kmodel.to(device, dtype).eval(), None)

    def _voice(self, loaded: _Loaded, voice: str) -> Any:
        """The style pack of ``voice`` (510 x 1 x 256), loaded once."""
        import torch

        if voice not in loaded.voices:
            if loaded.folder is not None:
                path = loaded.folder / "voices" / f"{voice}.pt"
                if not path.is_file():
                    known = sorted(p.stem for p in (loaded.folder / "voices").glob("*.pt"))
                    raise BackendError(f"Kokoro has no voice {voice!r} in {loaded.folder}; voices: {', '.join(known)}")
            else:
                from huggingface_hub import hf_hub_download

                offline = {"local_files_only": True} if runtime.hub_offline() or not runtime.hub_reachable() else {}
                with runtime.loading(self.options.model, SETTING, f"narration voice {voice!r} of the"):
                    path = Path(hf_hub_download(self.options.model, f"voices/{voice}.pt", **offline))
            loaded.voices[voice] = torch.load(path, weights_only=True).to(loaded.model.device)
        return loaded.voices[voice]

    def _phonemes(self, loaded: _Loaded, text: str, language: str) -> str:
        """Phonemes of ``text`` in Kokoro's alphabet."""
        if language not in loaded.g2p:
            loaded.g2p[language] = _phonemizer(language, self.options.g2p)
        phonemes, _tokens = loaded.g2p[language](text)
        return phonemes.strip()


def character_voices(speakers: dict[str, str], pool: list[str]) -> dict[str, str]:
    """Each speaker's voice: their own, else the next voice of ``pool`` in the order they come."""
    free = iter(pool * (len(speakers) // max(len(pool), 1) + 1))
    return {name: voice or next(free, "") for name, voice in speakers.items()}


def _language(voice: str) -> str:
    language = LANGUAGES.get(voice[:1])
    if language is None or len(voice) < 3 or voice[2] != "_":
        raise BackendError(
            f"{voice!r} is not a Kokoro voice name: its first letter gives the language "
            f"({', '.join(f'{k}={v}' for k, v in LANGUAGES.items())}), then f or m, then _name: e.g. af_heart"
        )
    return language


def _phonemizer(language: str, choice: str) -> Any:
    """misaki's English G2P (needs spaCy's small English model) or espeak-ng through misaki."""
    from misaki import espeak

    english = language in ("en-us", "en-gb")
    if english and choice != "espeak":
        import spacy.util

        if spacy.util.is_package(SPACY_MODEL):
            from misaki import en

            british = language == "en-gb"
            return en.G2P(trf=False, british=british, fallback=espeak.EspeakFallback(british=british), unk="")
        if choice == "misaki":
            raise BackendError(
                f"the misaki phonemizer needs spaCy's {SPACY_MODEL}: python -m spacy download {SPACY_MODEL} "
                "(or set the kokoro option g2p = 'espeak')"
            )
    return espeak.EspeakG2P(language=language)


def _sentences(text: str) -> list[str]:
    text = " ".join(text.split())
    return [s for s in re.split(r"(?<=[.!?…])\s+", text) if re.search(r"\w", s)]


def _fit(phonemes: str) -> list[str]:
    """Phonemes in pieces the model takes (at most MAX_PHONEMES), cut at a pause or a space."""
    if len(phonemes) <= MAX_PHONEMES:
        return [phonemes] if phonemes else []
    cut = max(phonemes.rfind(mark, 0, MAX_PHONEMES) for mark in (", ", "; ", " "))
    cut = cut + 1 if cut > 0 else MAX_PHONEMES
    return [phonemes[:cut].strip(), *_fit(phonemes[cut:].strip())]


def _word_spans(vocab: dict[str, int], phonemes: str, durations: Any, samples: int) -> list[tuple[int, int]]:
    """Where each space-separated phoneme word of ``phonemes`` is said, in samples of the model's ``samples``
    long output: ``durations`` are the model's predicted frames per token (a start token, the phonemes it
    knows, an end token), and the audio is those frames laid end to end."""
    frames = [int(d) for d in durations.reshape(-1).tolist()]
    per_frame = samples / max(1, sum(frames))
    spans, start, at, token = [], None, frames[0] if frames else 0, 1
    for char in phonemes + " ":
        if char == " ":
            if start is not None:
                spans.append((round(start * per_frame), round(at * per_frame)))
            start = None
        if char not in vocab or token >= len(frames) - 1:
            continue
        if char != " " and start is None:
            start = at
        at += frames[token]
        token += 1
    return spans


def _trim(samples: np.ndarray, threshold_db: float = -40.0) -> tuple[np.ndarray, int]:
    """Cut the near-silence before the first and after the last loud sample; also returns how many
    samples were cut at the start."""
    peak = float(np.abs(samples).max()) if samples.size else 0.0
    if peak == 0.0:
        return samples[:0], 0
    loud = np.flatnonzero(np.abs(samples) > peak * 10 ** (threshold_db / 20))
    return samples[loud[0] : loud[-1] + 1].astype(np.float32), int(loud[0])


def _only(paths: Any, folder: Path) -> Path:
    found = sorted(paths)
    if len(found) != 1:
        names = ", ".join(p.name for p in found) or "none"
        raise BackendError(f"{folder}: expected one .pth weights file, found {names}; set the kokoro option 'weights'")
    return found[0]
