"""Narration with espeak-ng: offline, CPU only, about 10 ms per sentence.

The library and its voice data come from the ``espeakng-loader`` wheel and are driven through ctypes,
so no system package is needed. espeak-ng keeps its whole state in C globals, and some of it (the pitch
"flutter" position, the echo buffer, libc's ``rand()`` for breath noise) carries over from one utterance
to the next: the same text spoken twice in one process comes out a few milliseconds different. A
narration must be a pure function of its request (its file is cached under the hash of that request), so
each ``speak`` loads a private copy of the library afresh, speaks, and unloads it. Loading costs about a
millisecond; a module-level lock serialises all of it, because the flow runs tasks in threads.

While it synthesises, espeak-ng reports an event as each word begins (its character position in the text
and the sample it starts at): ``speak`` returns those as the narration's word timings
(``storyreel.timings``).
"""

from __future__ import annotations

import atexit
import ctypes
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

import numpy as np
from pydantic import Field

from storyreel.errors import BackendError
from storyreel.generators.base import Backend, BackendOptions, SpeechRequest
from storyreel.media import write_wav
from storyreel.timings import fit, words_of

# espeak-ng's C API (speak_lib.h): the few constants we use.
AUDIO_OUTPUT_SYNCHRONOUS = 2  # samples arrive in our thread, inside espeak_Synth; no worker thread
POS_CHARACTER = 1
CHARS_UTF8 = 1
PARAM_RATE = 1
PARAM_PITCH = 3
EE_OK = 0
EVENT_LIST_TERMINATED, EVENT_WORD = 0, 1  # espeak_EVENT_TYPE
MIN_WPM, MAX_WPM = 80, 450  # espeak's own range for espeakRATE

SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class _Event(ctypes.Structure):
    """espeak_EVENT: what espeak reports beside the audio (we read word starts)."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # 1-based, in characters
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # milliseconds
        ("sample", ctypes.c_int),  # samples from the start of the utterance
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


class _Voice(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_char_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_LOCK = threading.Lock()  # espeak-ng (and libc's rand) are process-global: one utterance at a time
_private_library: Path | None = None  # our own copy of libespeak-ng, so dlclose really unloads it


class EspeakNarrator(Backend):
    """espeak-ng voice, offline.

    Speaks text with espeak-ng. Output: 22050 Hz mono WAV, silence at the ends trimmed to ~50 ms."""

    name: ClassVar[str] = "espeak"
    version: ClassVar[str] = "1"
    requires: ClassVar[tuple[str, ...]] = ("espeakng_loader",)  # importable modules it needs

    class Options(BackendOptions):
        voice: str = Field("en-us", description="espeak-ng voice, optionally with a variant: 'en-gb+f3'")
        words_per_minute: int = Field(150, ge=MIN_WPM, le=MAX_WPM, description="a calm reading pace")
        pitch: int = Field(50, ge=0, le=99, description="espeak's 0-99 scale; 50 is the voice's own")
        sentence_gap: float = Field(0.35, ge=0, le=3, description="seconds of silence between sentences")
        edge_silence: float = Field(0.05, ge=0, le=1, description="seconds of silence kept at each end")

    def speak(self, request: SpeechRequest, out: Path) -> dict:
        """Write ``request.text`` spoken by ``request.voice`` (or the configured voice) to ``out``, and
        return its word timings: ``{"timing": "espeak", "words": [Word, ...]}`` from espeak's word events.

        ``request.rate`` multiplies ``words_per_minute``; ``request.seed`` seeds the breath noise some
        variants add. Raises ``BackendError`` for an unknown voice or a rate outside espeak's range.
        """
        import espeakng_loader

        # 1. check inputs
        voice = request.voice or self.options.voice
        wpm = round(self.options.words_per_minute * request.rate)
        if not MIN_WPM <= wpm <= MAX_WPM:
            raise BackendError(
                f"espeak speaks {MIN_WPM}-{MAX_WPM} words per minute; rate {request.rate} x "
                f"{self.options.words_per_minute} asks for {wpm}"
            )
        sentences = _sentences(request.text)
        data_path = espeakng_loader.get_data_path()

        # 2. speak each sentence, in a fresh instance of the library
        with _LOCK, _espeak(data_path) as (lib, chunks, events):
            _set_voice(lib, voice, data_path)
            lib.espeak_SetParameter(PARAM_RATE, wpm, 0)
            lib.espeak_SetParameter(PARAM_PITCH, self.options.pitch, 0)
            _seed(lib, request.seed)
            rate = lib.espeak_ng_GetSampleRate()
            spoken = []
            for sentence in sentences:
                chunks.clear()
                events.clear()
                text = sentence.encode("utf-8") + b"\0"
                status = lib.espeak_Synth(text, len(text), 0, POS_CHARACTER, 0, CHARS_UTF8, None, None)
                if status != EE_OK:
                    raise BackendError(f"espeak-ng failed (error {status}) on: {sentence[:80]!r}")
                lib.espeak_Synchronize()
                samples = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
                trimmed, cut = _trim(samples.astype(np.float32) / 32768.0)
                spoken.append((sentence, trimmed, [(position, sample - cut) for position, sample in events]))

        # 3. join with even gaps, keep a little silence at the ends, write; each word starts where espeak said
        gap = np.zeros(round(self.options.sentence_gap * rate), np.float32)
        edge = np.zeros(round(self.options.edge_silence * rate), np.float32)
        parts: list[np.ndarray] = [edge]
        timed: list[tuple[str, float, float]] = []
        at = len(edge)
        for sentence, samples, starts in (s for s in spoken if s[1].size):
            if len(parts) > 1:
                parts.append(gap)
                at += len(gap)
            timed += _timed_words(sentence, starts, at, at + len(samples), rate)
            parts.append(samples)
            at += len(samples)
        audio = np.concatenate([*parts, edge])
        write_wav(out, audio, rate)
        words = fit(request.text, timed, len(audio) / rate)
        return {"timing": "espeak", "words": [w.model_dump() for w in words]}


def _timed_words(
    sentence: str, starts: list[tuple[int, int]], begin: int, end: int, rate: int
) -> list[tuple[str, float, float]]:
    """The words of ``sentence`` (spoken from sample ``begin`` to ``end`` of the narration) with their
    times: each starts at the first word event inside it (``starts``: character position, sample from the
    sentence's first voiced sample) and ends where the next one starts, the last at the sentence's end."""
    spans, position = [], 0
    for word in words_of(sentence):
        first = sentence.index(word.split()[0], position)
        position = first + len(word)
        spans.append((word, first, position))
    begun: list[tuple[str, int]] = []
    for word, first, last in spans:
        inside = [sample for pos, sample in starts if first <= pos - 1 < last]
        if inside:
            begun.append((word, begin + min(max(0, min(inside)), end - begin)))
    timed = []
    for i, (word, sample) in enumerate(begun):
        following = begun[i + 1][1] if i + 1 < len(begun) else end
        timed.append((word, sample / rate, max(sample, following) / rate))
    return timed


def _sentences(text: str) -> list[str]:
    """Split narration into sentences, so the pause between them is ours, not espeak's."""
    text = " ".join(text.replace("\0", " ").split())
    return [s for s in re.split(r"(?<=[.!?…])\s+", text) if s] or [text]


def _trim(samples: np.ndarray, threshold_db: float = -40.0) -> tuple[np.ndarray, int]:
    """Cut the silence before the first and after the last sample within ``threshold_db`` of the peak;
    also returns how many samples were cut at the start."""
    peak = float(np.abs(samples).max()) if samples.size else 0.0
    if peak == 0.0:
        return samples[:0], 0
    loud = np.flatnonzero(np.abs(samples) > peak * 10 ** (threshold_db / 20))
    return samples[loud[0] : loud[-1] + 1], int(loud[0])


@contextmanager
def _espeak(data_path: str) -> Iterator[tuple[ctypes.CDLL, list[np.ndarray], list[tuple[int, int]]]]:
    """A freshly loaded, initialised espeak-ng whose audio lands in the yielded list of chunks, and the
    start of each word it speaks (character position, sample) in the yielded list of word starts."""
    import _ctypes

    lib = ctypes.CDLL(str(_library_copy()), mode=os.RTLD_LOCAL)
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_Synth.argtypes = [
        ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
        ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
    ]  # fmt: skip
    lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
    lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
    lib.espeak_SetVoiceByProperties.argtypes = [ctypes.POINTER(_Voice)]
    lib.espeak_GetCurrentVoice.restype = ctypes.POINTER(_Voice)

    chunks: list[np.ndarray] = []
    words: list[tuple[int, int]] = []

    def collect(wav: ctypes._Pointer, count: int, events: int) -> int:
        if wav and count > 0:
            chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        if events:
            event = ctypes.cast(events, ctypes.POINTER(_Event))
            index = 0
            while event[index].type != EVENT_LIST_TERMINATED:
                if event[index].type == EVENT_WORD:
                    words.append((event[index].text_position, event[index].sample))
                index += 1
        return 0  # 0: go on synthesising

    callback = SynthCallback(collect)  # kept referenced until the library is unloaded
    if lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path.encode(), 0) <= 0:
        _ctypes.dlclose(lib._handle)
        raise BackendError(f"espeak-ng could not load its data from {data_path}; reinstall espeakng-loader")
    lib.espeak_SetSynthCallback(callback)
    try:
        yield lib, chunks, words
    finally:
        lib.espeak_Terminate()
        _ctypes.dlclose(lib._handle)  # the next load starts from espeak's initial state again


def _clean_stale_copies() -> None:
    """Remove the library copies of processes that were killed (their atexit never ran): each folder is named
    after its process (``storyreel-espeak-<pid>-…``); one of an older name, after a day."""
    import time

    for folder in Path(tempfile.gettempdir()).glob("storyreel-espeak-*"):
        pid = folder.name.removeprefix("storyreel-espeak-").split("-")[0]
        try:
            if pid.isdigit():
                if int(pid) == os.getpid():
                    continue
                try:
                    os.kill(int(pid), 0)
                    continue  # still running
                except ProcessLookupError:
                    pass
                except PermissionError:
                    continue  # another user's process
            elif time.time() - folder.stat().st_mtime < 86400:
                continue
            if folder.is_dir() and not folder.is_symlink() and folder.stat().st_uid == os.getuid():
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


def _library_copy() -> Path:
    """Our private copy of libespeak-ng (made once per process). Another user of espeakng-loader in
    this process (a phonemizer, say) keeps the original loaded, and unloading ours must not touch it."""
    global _private_library
    if _private_library is None:
        import espeakng_loader

        _clean_stale_copies()
        folder = Path(tempfile.mkdtemp(prefix=f"storyreel-espeak-{os.getpid()}-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _private_library = Path(shutil.copy2(espeakng_loader.get_library_path(), folder / "libespeak-ng.so"))
    return _private_library


def _set_voice(lib: ctypes.CDLL, voice: str, data_path: str) -> None:
    """Select ``voice``: a voice name ("en-us") or a language ("en-gb"), optionally with a variant
    ("en-gb+f3"). Raise a BackendError that names voices that exist when there is no such voice."""
    name, _, variant = voice.partition("+")
    variants = Path(data_path) / "voices" / "!v"
    found = bool(name) and (lib.espeak_SetVoiceByName(name.encode()) == EE_OK or _set_language(lib, name))
    # espeak ignores an unknown variant silently; a typo should not pass unnoticed
    unknown_variant = bool(variant) and not (variants / variant).is_file()
    if not found or unknown_variant:
        names = _voice_names(lib)
        english = [n for n in names if n.startswith("en")]
        others = [n for n in names if not n.startswith("en")][:12]
        hint = f"variant {variant!r} is unknown; " if found else ""
        raise BackendError(
            f"espeak-ng has no voice {voice!r}: {hint}use one of {', '.join(english + others)} ... "
            f"({len(names)} in all) or a language code such as 'en-gb', optionally with a variant "
            f"such as '+f3' or '+m2' (variants: {', '.join(sorted(p.name for p in variants.iterdir())[:10])} ...)"
        )
    if variant:
        identifier = lib.espeak_GetCurrentVoice().contents.identifier
        lib.espeak_SetVoiceByName(identifier + b"+" + variant.encode())


def _set_language(lib: ctypes.CDLL, language: str) -> bool:
    """Select the best voice for a language code such as "en-gb" or "fr-fr"."""
    return lib.espeak_SetVoiceByProperties(ctypes.byref(_Voice(languages=language.encode()))) == EE_OK


def _voice_names(lib: ctypes.CDLL) -> list[str]:
    """Names espeak_SetVoiceByName accepts: the last part of each voice's identifier, lowercased."""
    voices = lib.espeak_ListVoices(None)
    names, index = [], 0
    while voices[index]:
        names.append(voices[index].contents.identifier.decode().rsplit("/", 1)[-1].lower())
        index += 1
    return sorted(set(names))


def _seed(lib: ctypes.CDLL, seed: int) -> None:
    """Seed both random sources espeak draws from (its own, and libc's for breath noise)."""
    if hasattr(lib, "espeak_ng_SetRandSeed"):
        lib.espeak_ng_SetRandSeed(ctypes.c_long(seed))
    if os.name == "posix":
        ctypes.CDLL(None).srand(ctypes.c_uint(seed & 0xFFFFFFFF))
