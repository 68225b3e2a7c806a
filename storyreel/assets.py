"""The asset layer: one call builds an asset's spec and gets the asset from the manifest, or makes it.

A task of the make-film flow builds a request (what to make) and hands it here with the config and where
the asset goes; ``make`` picks the backend the config names for that kind of asset, builds the spec and
asks the run directory (``RunDir.asset``) for it. The spec is everything that decides the asset's content:

- the backend (``kind.name``), its ``version`` and its options,
- the request, without the files it points to,
- the sha256 of every file the request points to (its upstream assets), so a changed input, not just a
  changed name, invalidates the asset,
- the image critic's settings, when a critic picks the best of a few seeds.

An asset whose spec is unchanged and whose file is intact is reused; a missing or corrupt one is made
again. Each asset also says which page it belongs to (``page``, ``transition``), recorded in the manifest.

The same layer holds the assets no backend makes: the user's own picture as a page's illustration
(``user_picture``), the audio stems and the master mix (``stem``, ``master_mix``). A generation on the GPU
holds a slot of the Prefect GPU concurrency limit while it runs (``storyreel.runtime.on_gpu``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from storyreel import registry, runtime
from storyreel.config import Config
from storyreel.store import RunDir, sha256_file


@dataclass(frozen=True)
class Maker:
    """The backend that makes one kind of asset: its registry kind and name, its options, its one method."""

    kind: str
    name: str
    options: dict[str, Any]
    method: str


def image_options(config: Config) -> dict:
    """The image backend's options; ``image.model``, when set, is its ``model`` option."""
    return {**config.image.options, "model": config.image.model} if config.image.model else config.image.options


def interpolation_backend(config: Config) -> tuple[str, dict]:
    """The interpolation backend and its options. When it is the keyframe backend itself and both take the
    same options (one model for both stages: ltx, wan), ``video.options`` apply to it too, with
    ``video.interpolation_options`` on top."""
    name = config.video.interpolation or config.video.backend
    options = config.video.interpolation_options
    if name == config.video.backend:
        shared = getattr(registry.load("keyframes", name), "Options", None)
        if shared is not None and shared is getattr(registry.load("interpolation", name), "Options", None):
            options = {**config.video.options, **options}
    return name, options


def assembly_options(config: Config) -> tuple[dict, dict]:
    """``assemble.options`` split between the segment encoder (the keys its ``Options`` knows: the video
    settings every segment shares) and the assembler (the rest, checked by its own ``Options``). Segments
    are keyed by their own settings only, so changing the film's audio bitrate re-encodes no segment."""
    options = config.assemble.options
    encoder = getattr(registry.load("segment", config.assemble.backend), "Options", None)
    known = set(encoder.model_fields) if encoder is not None else set()
    return {k: v for k, v in options.items() if k in known}, {k: v for k, v in options.items() if k not in known}


def maker(config: Config, kind: str) -> Maker:
    """The backend ``config`` names for assets of ``kind``: narration, image, keyframes, clip, music, sfx,
    segment (a page clip or transition encoded for the film) or film (the segments joined, with the mix)."""
    if kind == "narration":
        return Maker("narration", config.narration.backend, config.narration.options, "speak")
    if kind == "image":
        return Maker("image", config.image.backend, image_options(config), "generate")
    if kind == "keyframes":
        return Maker("keyframes", config.video.backend, config.video.options, "keyframes")
    if kind == "clip":
        return Maker("interpolation", *interpolation_backend(config), "interpolate")
    if kind == "music":
        return Maker("music", config.music.backend, config.music.options, "compose")
    if kind == "sfx":
        return Maker("sfx", config.sfx.backend, config.sfx.options, "make")
    if kind == "segment":
        return Maker("segment", config.assemble.backend, assembly_options(config)[0], "encode")
    if kind == "film":
        return Maker("assemble", config.assemble.backend, assembly_options(config)[1], "assemble")
    raise ValueError(f"no backend makes assets of kind {kind!r}")


def upstream_files(request: BaseModel) -> dict[str, Path | list[Path]]:
    """The files a request points to (a path, or a non-empty list of paths): the asset's upstream inputs."""
    found: dict[str, Path | list[Path]] = {}
    for name in type(request).model_fields:
        value = getattr(request, name)
        if isinstance(value, Path) or (isinstance(value, list) and value and all(isinstance(v, Path) for v in value)):
            found[name] = value
    return found


def _digest(value: Path | list[Path]) -> str | list[str]:
    return [sha256_file(Path(v)) for v in value] if isinstance(value, list) else sha256_file(Path(value))


def make(
    run: RunDir,
    config: Config,
    kind: str,
    request: BaseModel,
    relpath: str,
    page: int | None = None,
    transition: bool = False,
) -> Path:
    """The asset of ``kind`` for ``request``: from the manifest when its spec is unchanged and its file
    intact, else made by the backend ``config`` names for ``kind`` (see ``maker``).

    Args:
        run: the run directory.
        config: the run's config: the backend, its options, the image critic, the GPU limit.
        kind: narration, image, keyframes, clip, music, sfx, segment or film.
        request: the backend's request; the files it points to are hashed into the spec by content.
        relpath: where the asset goes in the run dir, ``{key}`` standing for its key.
        page: the page it belongs to (a transition: the page it leaves); None: the whole film.
        transition: the asset is the transition from ``page`` to the next page.

    With ``image.critic`` on, an illustration is the best of a few seeds by CLIP score (scores kept in the
    manifest). A backend that uses the GPU generates holding a slot of ``run.gpu_limit``.
    """
    chosen = maker(config, kind)
    backend = registry.instance(chosen.kind, chosen.name, chosen.options)
    generate = runtime.on_gpu(backend, getattr(backend, chosen.method), config.run)
    upstream = upstream_files(request)
    spec = {
        "backend": f"{chosen.kind}.{chosen.name}",
        "version": getattr(backend, "version", "0"),
        "options": chosen.options,
        "request": request.model_dump(mode="json", exclude=set(upstream)),
        "upstream": {name: _digest(value) for name, value in upstream.items()},
    }
    critic = None
    if kind == "image":
        from storyreel.image_critic import ImageCritic

        critic = ImageCritic.from_config(config.image)
    if critic is not None:
        spec["critic"] = critic.settings()
        return run.asset(kind, spec, relpath, lambda tmp: critic.best_of(generate, request, tmp), page, transition)
    if kind == "narration":  # its word timings are kept with it: the backend's, else estimated from the audio
        from storyreel.timings import narration_meta

        def speak(tmp: Path) -> dict:
            return narration_meta(generate(request, tmp), request.text, tmp)

        return run.asset(kind, spec, relpath, speak, page, transition)
    return run.asset(kind, spec, relpath, lambda tmp: generate(request, tmp), page, transition)


def narration_words(run: RunDir, path: Path, text: str) -> tuple[list, str]:
    """The word timings of the narration asset at ``path`` (``storyreel.timings.Word`` list) and how they
    were found (espeak, kokoro, estimate), from its manifest record; an asset recorded before timings were
    kept gets the estimate from its audio."""
    from storyreel.timings import page_words

    where = run.relative(path)
    record = next((r for r in run.manifest().values() if r.path == where), None)
    return page_words(record.meta if record else None, text, path)


def user_picture(run: RunDir, source: Path, width: int, height: int, relpath: str, page: int) -> Path:
    """The user's own picture as page ``page``'s illustration, fitted to ``width`` x ``height``; keyed by
    the picture's content, so a changed drawing (not just a renamed one) is picked up."""
    from storyreel.page_images import fit_page_image

    spec = {"user_image": sha256_file(source), "width": width, "height": height}
    return run.asset("image", spec, relpath, lambda tmp: fit_page_image(source, width, height, tmp), page)


def page_sound(run: RunDir, clip: Path, page: int, seconds: float) -> Path | None:
    """Page ``page``'s sound: the sound track its video model made with its clip (``sfx.backend = "video"``),
    exactly ``seconds`` long, kept in ``audio/``; None when the clip has none. Keyed by the clip's content."""
    from storyreel.generators.video_ltx2 import clip_sound, has_sound

    if not has_sound(clip):
        return None
    spec = {"clip": sha256_file(clip), "seconds": round(seconds, 4)}

    def produce(tmp: Path) -> None:
        clip_sound(clip, tmp, seconds)

    return run.asset("page-sound", spec, f"audio/p{page:02d}-sound-{{key}}.wav", produce, page)


def stem(run: RunDir, name: str, items: list[dict[str, Any]], duration: float) -> Path | None:
    """The ``name`` track (narration, music, sfx) as one stem of ``duration`` seconds: each item a
    ``Placement`` (path, start, gain) of one sound; None when there is nothing on the track.

    Keyed by the placements and the content of their sounds: a revision re-renders only the stems whose
    sounds or places changed (a new line on page 3 redoes the narration stem; the music and sound stems
    are reused while the timeline keeps its length)."""
    from storyreel.generators.mix import Placement, render_stem

    if not items:
        return None
    placements = [Placement.model_validate(i) for i in items]
    spec = {
        "placements": [p.model_dump(mode="json", exclude={"path"}) for p in placements],
        "inputs": [sha256_file(p.path) for p in placements],
        "duration": round(duration, 4),
    }
    return run.asset(
        f"stem-{name}", spec, f"audio/{name}-{{key}}.wav", lambda tmp: render_stem(placements, duration, tmp)
    )


def master_mix(run: RunDir, stems: dict[str, Path | None], config: Config) -> Path:
    """The film's audio: the narration, music and sfx stems mastered together (music ducked under the
    narration, loudness to ``assemble.target_lufs``) with the levels of ``config``."""
    from storyreel.generators.mix import master

    a = config.assemble
    params = {
        "duck_db": config.music.duck_db,
        "music_gain_db": config.music.gain_db,
        "sfx_gain_db": config.sfx.gain_db,
        "target_lufs": a.target_lufs,
        "true_peak_db": a.true_peak_db,
        "fade": a.fade,
    }
    spec = {"stems": {k: sha256_file(v) if v else None for k, v in stems.items()}, "params": params}

    def produce(tmp: Path) -> None:
        master(stems["narration"], stems["music"], stems["sfx"], tmp, **params)

    return run.asset("mix", spec, "audio/mix-{key}.wav", produce)
