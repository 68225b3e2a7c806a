"""The make-film flow: one prompt in, a film out.

Numbered steps; one task per asset; tasks pass paths and small records, never images or tensors. Each
task asks the run directory's manifest first (``RunDir.asset``): an asset whose spec is unchanged and
whose file is intact is reused, so a re-run, a resume after Ctrl-C or a crash redoes nothing that is done.

Entrypoint for deployments: ``storyreel.flows.make_film.make_film``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

from prefect import flow, task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner
from pydantic import BaseModel, ValidationError

from storyreel import composition, progress, registry
from storyreel.config import Config, RunSection, check_backends, explain_validation, load_config, parse_sets
from storyreel.dialogue import speakers_on_page
from storyreel.errors import ConfigError, InputError, StoryreelError
from storyreel.plan import Brief, MusicCue, Page, SfxCue, StoryPlan
from storyreel.store import RunDir, atomic_path, new_run_dir, sha256_file, write_json, write_text
from storyreel.timeline import Timeline, build_timeline, keyframe_indices, to_srt

log = logging.getLogger("storyreel.flow")

STAGES = ("plan", "images", "video", "audio", "film")
Stage = Literal["plan", "images", "video", "audio", "film"]


class FilmResult(BaseModel):
    run_dir: str
    film: str | None = None
    stage: str
    title: str
    made: int
    reused: int
    seconds: float
    profile: str


# --- helpers ----------------------------------------------------------------------------------


def derive_seed(base: int, *parts: object) -> int:
    """A stable per-asset seed: changing one page never reshuffles another page's seed."""
    digest = hashlib.sha256(":".join(map(str, (base, *parts))).encode()).hexdigest()
    return int(digest[:8], 16) % (2**31)


def image_seed(base: int, page: Page) -> int:
    """A page's illustration seed. Pages that show the same characters share one (a seed family): they
    start from the same noise, which keeps the characters' shapes and colours closer from page to page."""
    if page.characters:
        return derive_seed(base, "image", "cast", *sorted(page.characters))
    return derive_seed(base, "image", page.seed_number)


def image_options(config: Config) -> dict:
    """The image backend's options; ``image.model``, when set, is its ``model`` option."""
    return {**config.image.options, "model": config.image.model} if config.image.model else config.image.options


def make_asset(
    run: RunDir,
    kind: str,
    backend_kind: str,
    name: str,
    options: dict,
    request: BaseModel,
    upstream: dict[str, Any],
    relpath: str,
    method: str,
    critic: Any = None,
    gpu: RunSection | None = None,
) -> Path:
    """Run ``backend.method(request, tmp)`` unless the manifest holds an intact asset for the same spec.

    The spec: backend, its version and options, the request without its upstream paths, and the sha256
    of every upstream file, so a changed input (not just a changed name) invalidates the asset. With a
    ``critic`` (``storyreel.image_critic.ImageCritic``), the best of a few seeds is kept, scores in the manifest.
    With ``gpu`` (``config.run``), a GPU backend generates holding a slot of the GPU concurrency limit."""
    backend = registry.instance(backend_kind, name, options)
    generate = on_gpu(backend, getattr(backend, method), gpu)

    def digest(value: Any) -> Any:
        return [digest(v) for v in value] if isinstance(value, list) else sha256_file(Path(value))

    spec = {
        "backend": f"{backend_kind}.{name}",
        "version": getattr(backend, "version", "0"),
        "options": options,
        "request": request.model_dump(mode="json", exclude=set(upstream)),
        "upstream": {k: digest(v) for k, v in upstream.items()},
    }
    if critic is not None:
        spec["critic"] = critic.settings()
        return run.asset(kind, spec, relpath, lambda tmp: critic.best_of(generate, request, tmp))
    return run.asset(kind, spec, relpath, lambda tmp: generate(request, tmp))


def on_gpu(backend: Any, method: Callable[..., Any], gpu: RunSection | None) -> Callable[..., Any]:
    """``method`` run holding a slot of the Prefect global concurrency limit ``gpu.gpu_limit`` when the backend
    says it uses the GPU (``uses_gpu = True``): GPU generations run one at a time per GPU, across threads,
    processes and machines that share the Prefect server, while CPU work goes on beside them."""
    if gpu is None or not gpu.gpu_limit or not getattr(backend, "uses_gpu", False):
        return method

    def guarded(*args: Any, **kwargs: Any) -> Any:
        with gpu_slot(gpu.gpu_limit, gpu.gpu_slots):
            return method(*args, **kwargs)

    return guarded


@contextlib.contextmanager
def gpu_slot(name: str, slots: int) -> Iterator[None]:
    """Hold one slot of the global concurrency limit ``name``, made with ``slots`` slots if it does not exist
    (a limit that does not exist blocks nothing; an existing one keeps the size it was given)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.concurrency.sync import concurrency
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            with contextlib.suppress(ObjectAlreadyExists):  # another flow made it meanwhile
                client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=slots))
    with concurrency(name, occupy=1, strict=True):
        yield


def audio_seconds(path: Path) -> float:
    from storyreel.media import read_wav

    samples, rate = read_wav(path)
    return len(samples) / rate


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


# --- tasks --------------------------------------------------------------------------------------


def _transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry only errors that may pass (network, server); a StoryreelError will not."""
    try:
        state.result()
    except StoryreelError:
        return False
    except Exception:  # noqa: BLE001 - anything else may be transient (connection reset, 5xx)
        return True
    return False


# The agents' tasks (plan_story here, understand-request in revise): a model server may fail for a moment,
# so errors that may pass are retried; nothing is cached (the plan files are the record).
AGENT_TASK: dict[str, Any] = {
    "cache_policy": NO_CACHE,
    "persist_result": False,
    "retries": 2,
    "retry_delay_seconds": 2,
    "retry_condition_fn": _transient,
}


@task(name="write-story", **AGENT_TASK)
def plan_story(run_path: str, brief: Brief, config: Config) -> StoryPlan:
    """Writer, critic <-> reviser, art director; the plan is saved before anything is generated."""
    from storyreel.agents.art_director import build_plan, direct
    from storyreel.agents.providers import agent_model
    from storyreel.agents.reviser import refine
    from storyreel.agents.writer import write_story
    from storyreel.composition import story_markdown

    run = Path(run_path)
    existing = run / "plan.json"
    if existing.exists():
        plan = StoryPlan.load(existing)
        progress.note(f"using the plan in {existing} (v{plan.version})")
        return plan
    progress.start("story", 3)
    llm = agent_model(config.llm, seed=brief.seed)
    draft = write_story(llm, brief, config.llm)
    progress.advance("story", "written")
    draft, reviews = refine(llm, brief, draft, config.llm)
    progress.advance("story", f"reviewed ({len(reviews)} round(s))")
    direction = direct(llm, brief, draft, config.llm)
    plan = build_plan(brief, draft, direction)
    progress.advance("story", "directed")
    write_json(run / "plans" / f"plan.v{plan.version}.json", plan.model_dump(mode="json"))
    write_text(run / "story.md", story_markdown(plan))
    write_text(existing, plan.model_dump_json(indent=2))
    return plan


@task(name="narrate", cache_policy=NO_CACHE, persist_result=False)
def narrate(
    run_path: str, page: Page, config: Config, seed: int, voice: str = "", speakers: dict[str, str] | None = None
) -> tuple[str, float]:
    """Speak a page; ``speakers`` (character -> voice) lets backends that can give quoted lines their own voices."""
    from storyreel.generators.base import SpeechRequest

    run = RunDir(Path(run_path))
    request = SpeechRequest(
        text=page.text,
        voice=voice or config.narration.voice,  # the plan's narrator voice (a revision may set it), else the config's
        rate=config.narration.rate,
        seed=derive_seed(seed, "narration", page.seed_number),
        speakers=speakers or {},
    )
    path = make_asset(
        run,
        "narration",
        "narration",
        config.narration.backend,
        config.narration.options,
        request,
        {},
        f"pages/p{page.number:02d}/narration-{{key}}.wav",
        "speak",
        gpu=config.run,
    )
    progress.advance("narration", f"page {page.number}")
    return str(path), audio_seconds(path)


@task(name="illustrate", cache_policy=NO_CACHE, persist_result=False)
def illustrate(run_path: str, plan: StoryPlan, page: Page, config: Config, user_image: str | None = None) -> str:
    from storyreel.generators.base import ImageRequest
    from storyreel.image_critic import ImageCritic
    from storyreel.page_images import fit_page_image

    run = RunDir(Path(run_path))
    relpath = f"pages/p{page.number:02d}/image-{{key}}.png"
    if user_image:  # the user's own picture is this page's illustration (--page-image)
        w, h, source = config.image.width, config.image.height, Path(user_image)
        if not source.is_file():
            raise InputError(f"page {page.number}'s picture {source} is gone: put it back to make this run")
        spec = {"user_image": sha256_file(source), "width": w, "height": h}
        path = run.asset("image", spec, relpath, lambda tmp: fit_page_image(source, w, h, tmp))
        progress.advance("images", f"page {page.number} (your picture)")
        return str(path)
    request = ImageRequest(
        prompt=composition.illustration_prompt(plan, page),
        negative_prompt=config.image.negative_prompt,
        width=config.image.width,
        height=config.image.height,
        seed=image_seed(plan.brief.seed, page),
        scene=page.scene,
        characters=[plan.character(n).model_copy(update={"voice": ""}) for n in page.characters],  # voices: not drawn
        style=plan.style_bible,
        reference_images=[Path(p) for p in plan.brief.reference_images],
    )
    upstream = {"reference_images": list(request.reference_images)} if request.reference_images else {}
    path = make_asset(
        run,
        "image",
        "image",
        config.image.backend,
        image_options(config),
        request,
        upstream,
        relpath,
        "generate",
        critic=ImageCritic.from_config(config.image),
        gpu=config.run,
    )
    progress.advance("images", f"page {page.number}")
    return str(path)


@task(name="keyframes", cache_policy=NO_CACHE, persist_result=False)
def make_keyframes(run_path: str, page: Page, image: str, frames: int, config: Config, seed: int) -> list[str]:
    from storyreel.generators.base import KeyframeRequest

    run = RunDir(Path(run_path))
    indices = keyframe_indices(frames, config.video.keyframe_spacing)
    request = KeyframeRequest(
        image=Path(image),
        prompt=composition.keyframe_prompt(page),
        camera=page.shot.camera,
        indices=indices,
        fps=config.video.fps,
        width=config.video.width,
        height=config.video.height,
        seed=derive_seed(seed, "keyframes", page.seed_number),
    )
    folder = make_asset(
        run,
        "keyframes",
        "keyframes",
        config.video.backend,
        config.video.options,
        request,
        {"image": Path(image)},
        f"pages/p{page.number:02d}/keyframes-{{key}}",
        "keyframes",
        gpu=config.run,
    )
    files = sorted(str(p) for p in folder.glob("k*.png"))
    if len(files) != len(indices):
        raise StoryreelError(f"page {page.number}: the keyframe backend wrote {len(files)} of {len(indices)} keyframes")
    progress.advance("keyframes", f"page {page.number}")
    return files


@task(name="interpolate", cache_policy=NO_CACHE, persist_result=False)
def interpolate(
    run_path: str,
    label: str,
    keyframes: list[str],
    indices: list[int],
    frames: int,
    prompt: str,
    config: Config,
    seed: int,
    relpath: str,
) -> str:
    from storyreel.generators.base import InterpolationRequest

    run = RunDir(Path(run_path))
    name, options = interpolation_backend(config)
    request = InterpolationRequest(
        keyframes=[Path(k) for k in keyframes],
        indices=indices,
        num_frames=frames,
        fps=config.video.fps,
        width=config.video.width,
        height=config.video.height,
        prompt=prompt,
        seed=derive_seed(seed, "clip", label),
    )
    path = make_asset(
        run,
        "clip",
        "interpolation",
        name,
        options,
        request,
        {"keyframes": request.keyframes},
        relpath,
        "interpolate",
        gpu=config.run,
    )
    progress.advance("clips", label)
    return str(path)


@task(name="compose-music", cache_policy=NO_CACHE, persist_result=False)
def compose_music(run_path: str, index: int, cue: MusicCue, duration: float, config: Config, seed: int) -> str:
    from storyreel.generators.base import MusicRequest

    run = RunDir(Path(run_path))
    request = MusicRequest(
        mood=cue.mood, prompt=cue.prompt, duration=round(duration, 3), seed=derive_seed(seed, "music", index)
    )
    path = make_asset(
        run,
        "music",
        "music",
        config.music.backend,
        config.music.options,
        request,
        {},
        f"music/cue{index:02d}-{{key}}.wav",
        "compose",
        gpu=config.run,
    )
    progress.advance("music", f"cue {index}")
    return str(path)


@task(name="sound-effect", cache_policy=NO_CACHE, persist_result=False)
def make_sfx(
    run_path: str, page: int, index: int, cue: SfxCue, duration: float, config: Config, seed: int, seed_page: int = 0
) -> str | None:
    from storyreel.generators.base import SfxRequest, UnsupportedCue

    run = RunDir(Path(run_path))
    request = SfxRequest(cue=cue, duration=round(duration, 3), seed=derive_seed(seed, "sfx", seed_page or page, index))
    try:
        path = make_asset(
            run,
            "sfx",
            "sfx",
            config.sfx.backend,
            config.sfx.options,
            request,
            {},
            f"pages/p{page:02d}/sfx-{index}-{{key}}.wav",
            "make",
            gpu=config.run,
        )
    except UnsupportedCue as exc:
        log.info("page %d: sound '%s' left out: %s", page, cue.sound, exc)
        path = None
    progress.advance("sounds", f"page {page}")
    return str(path) if path else None


@task(name="mix", cache_policy=NO_CACHE, persist_result=False)
def mix_audio(
    run_path: str, narration: list[dict], music: list[dict], sfx: list[dict], duration: float, config: Config
) -> str:
    """Render one stem per track (kept in the run dir), then master them into the final mix."""
    from storyreel.generators.mix import Placement, master, render_stem

    run = RunDir(Path(run_path))

    def stem(name: str, items: list[dict]) -> Path | None:
        if not items:
            return None
        placements = [Placement.model_validate(i) for i in items]
        spec = {
            "placements": [p.model_dump(mode="json", exclude={"path"}) for p in placements],
            "inputs": [sha256_file(p.path) for p in placements],
            "duration": round(duration, 4),
        }
        return run.asset(
            f"stem-{name}",
            spec,
            f"audio/{name}-{{key}}.wav",
            lambda tmp: render_stem(placements, duration, tmp),
        )

    stems = {name: stem(name, items) for name, items in (("narration", narration), ("music", music), ("sfx", sfx))}
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
    path = run.asset(
        "mix",
        spec,
        "audio/mix-{key}.wav",
        lambda tmp: master(stems["narration"], stems["music"], stems["sfx"], tmp, **params),
    )
    progress.advance("mix", "mastered")
    return str(path)


@task(name="assemble", cache_policy=NO_CACHE, persist_result=False)
def assemble(run_path: str, clips: list[str], audio: str, timeline: Timeline, config: Config) -> str:
    from storyreel.generators.base import AssembleRequest

    run = RunDir(Path(run_path))
    request = AssembleRequest(
        clips=[Path(c) for c in clips],
        audio=Path(audio),
        subtitles=run.path / "subtitles.srt",
        fps=timeline.fps,
        width=config.video.width,
        height=config.video.height,
        duration=timeline.duration,
        fade=config.assemble.fade,
        burn_subtitles=config.assemble.burn_subtitles,
    )
    upstream: dict[str, Any] = {
        "clips": list(request.clips),
        "audio": request.audio,
        "subtitles": request.subtitles,
    }
    path = make_asset(
        run,
        "film",
        "assemble",
        config.assemble.backend,
        config.assemble.options,
        request,
        upstream,
        "films/film-{key}.mp4",
        "assemble",
    )
    final = run.path / "film.mp4"
    with atomic_path(final) as tmp:  # film.mp4 is a hard link to the current version: no copy, no half file
        try:
            os.link(path, tmp)
        except OSError:
            import shutil

            shutil.copyfile(path, tmp)
    progress.advance("film", "assembled")
    return str(final)


# --- the flow -----------------------------------------------------------------------------------


def prepare(
    prompt: str,
    pages: int | None,
    style: str | None,
    seed: int | None,
    profile: str | None,
    settings: list[str] | None,
    out: str | None,
    run: str | None,
    images: list[str] | None,
    config: Config | None,
    page_images: dict[int, str] | None = None,
) -> tuple[Path, Brief, Config, str]:
    """Resolve the run directory, the brief and the config, and check the input. A resumed run keeps
    the brief of its plan and the config it was made with (``--set`` still applies on top)."""
    if run:
        run_dir = Path(run)
        if not (run_dir / "config.json").exists():
            raise InputError(f"{run_dir} is not a storyreel run directory (no config.json)")
        if page_images:
            raise InputError("page images are for a new run: a resumed run keeps the pictures it was made with")
        if config is None:
            saved = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
            merged = _deep_merge(saved, parse_sets(settings or []))
            try:
                config = Config.model_validate(merged)
            except ValidationError as exc:
                raise ConfigError(explain_validation(exc)) from None
            check_backends(config)
        note = f"resuming {run_dir} (profile {config.profile})"
        plan_file = run_dir / "plan.json"
        if plan_file.exists():
            brief = StoryPlan.load(plan_file).brief
        else:
            brief = Brief.model_validate_json((run_dir / "brief.json").read_text(encoding="utf-8"))
        return run_dir.resolve(), brief, config, note
    if config is None:
        config, note = load_config(profile, settings)
    else:
        note = f"profile {config.profile} (given)"
    if not prompt or not prompt.strip():
        raise InputError(
            'the prompt is empty: say what the story is about, e.g. "A little dragon who is afraid of the dark"'
        )
    pages = config.story.pages if pages is None else pages
    if not 1 <= pages <= 24:
        raise InputError(f"pages must be between 1 and 24, got {pages}")
    for image in images or []:
        if not Path(image).is_file():
            raise InputError(f"reference image {image} does not exist")
    from storyreel.page_images import check_page_images

    page_images = check_page_images(page_images or {}, pages)
    brief = Brief(
        prompt=prompt,
        pages=pages,
        style=config.story.style if style is None else style,
        seed=config.story.seed if seed is None else seed,
        reference_images=[str(Path(i).resolve()) for i in images or []],
        page_images=page_images,
    )
    run_dir = new_run_dir(Path(out or config.run.out), brief.prompt)
    return run_dir.resolve(), brief, config, note


def _deep_merge(base: dict, top: dict) -> dict:
    out = dict(base)
    for key, value in top.items():
        out[key] = _deep_merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@flow(
    name="make-film",
    task_runner=ThreadPoolTaskRunner(max_workers=2),
    persist_result=False,
    validate_parameters=True,
    log_prints=False,
)
def make_film(
    prompt: str = "",
    pages: int | None = None,
    style: str | None = None,
    seed: int | None = None,
    profile: str | None = None,
    settings: list[str] | None = None,
    out: str | None = None,
    run: str | None = None,
    until: Stage = "film",
    images: list[str] | None = None,
    config: Config | None = None,
    page_images: dict[int, str] | None = None,
) -> FilmResult:
    """Make a film from a prompt (or resume the run in ``run``).

    Args:
        prompt: the story idea.
        pages: number of pages (1-24); default from the config (6).
        style: visual style; default from the config.
        seed: base seed; every asset derives its own.
        profile: auto (default), preview, tiny or gpu.
        settings: ``section.key=value`` overrides.
        out: folder for new run directories (default ``runs``).
        run: an existing run directory to resume: nothing that is done is redone.
        until: stop after this stage: plan, images, video, audio or film.
        images: reference images for the characters (used by backends that take them).
        config: a resolved config; overrides profile and settings.
        page_images: page number -> your own picture, used as that page's illustration and animated.
    """
    started = time.perf_counter()
    run_dir, brief, config, note = prepare(
        prompt, pages, style, seed, profile, settings, out, run, images, config, page_images
    )
    store = RunDir(run_dir)
    progress.note(f"{note}\nrun directory: {run_dir}")
    with store.locked():
        store.reset_stats()
        write_json(run_dir / "config.json", config.model_dump(mode="json"))
        if not (run_dir / "brief.json").exists():
            write_json(run_dir / "brief.json", brief.model_dump(mode="json"))
        steps = STAGES.index(until) + 1
        tracker = create_progress_artifact(progress=0.0, description=f"{brief.prompt} -> {run_dir.name}")

        def stage_done(stage: str) -> None:
            update_progress_artifact(tracker, progress=100.0 * (STAGES.index(stage) + 1) / steps)

        # 1. Story: writer, critic <-> reviser, art director -> plan.json
        plan = plan_story(str(run_dir), brief, config)
        create_markdown_artifact(
            markdown=(run_dir / "story.md").read_text(encoding="utf-8"), key="story", description=plan.title
        )
        stage_done("plan")
        if until == "plan":
            return _result(store, run_dir, None, until, plan, started, config)
        seed = plan.brief.seed

        # 2. Narration: its length decides each page's duration
        progress.start("narration", len(plan.pages))
        spoken = [
            narrate.submit(
                str(run_dir), page, config, seed, plan.narrator_voice, speakers_on_page(page.text, plan.characters)
            )
            for page in plan.pages
        ]

        # 3. Illustrations, one per page (overlaps the narration)
        progress.start("images", len(plan.pages))
        yours = plan.brief.page_images  # the user's own pictures stand in for some pages' illustrations
        images_f = [illustrate.submit(str(run_dir), plan, page, config, yours.get(page.number)) for page in plan.pages]
        narration = [f.result() for f in spoken]
        illustrations = [f.result() for f in images_f]
        if config.image.critic:
            from storyreel.image_critic import score_rows

            scores = score_rows(store, dict(enumerate(illustrations, start=1)))
            if scores:
                create_table_artifact(table=scores, key="image-scores", description="CLIP score of each illustration")

        # 4. Timeline and subtitles, in whole frames
        timeline = build_timeline(
            [(page.text, seconds) for page, (_, seconds) in zip(plan.pages, narration, strict=True)],
            fps=config.video.fps,
            lead_in=config.narration.lead_in,
            tail=config.narration.tail,
            transition=config.video.transition,
            min_page=config.narration.min_page,
        )
        write_json(run_dir / "timeline.json", timeline.model_dump(mode="json"))
        write_text(run_dir / "subtitles.srt", to_srt(timeline))
        stage_done("images")
        if until == "images":
            return _result(store, run_dir, None, until, plan, started, config)

        # 5. Sparse keyframes per page, then the frames between them, then page-to-page transitions
        progress.start("keyframes", len(plan.pages))
        kf_f = [
            make_keyframes.submit(str(run_dir), page, image, timeline.page(page.number).frames, config, seed)
            for page, image in zip(plan.pages, illustrations, strict=True)
        ]
        keyframes = [f.result() for f in kf_f]
        transitions = [s for s in timeline.segments if s.kind == "transition"]
        progress.start("clips", len(plan.pages) + len(transitions))
        clip_f: dict[tuple[str, int], Any] = {}
        for page, frames_k in zip(plan.pages, keyframes, strict=True):
            frames = timeline.page(page.number).frames
            indices = keyframe_indices(frames, config.video.keyframe_spacing)
            clip_f[("page", page.number)] = interpolate.submit(
                str(run_dir),
                f"page {page.seed_number}",  # seeds follow the page's origin: a moved page keeps its clip
                frames_k,
                indices,
                frames,
                composition.motion_prompt(page),
                config,
                seed,
                f"pages/p{page.number:02d}/clip-{{key}}.mp4",
            )
        for seg in transitions:
            ends = [keyframes[seg.page - 1][-1], keyframes[seg.page][0]]
            clip_f[("transition", seg.page)] = interpolate.submit(
                str(run_dir),
                f"transition {plan.pages[seg.page - 1].seed_number}-{plan.pages[seg.page].seed_number}",
                ends,
                [0, seg.frames - 1],
                seg.frames,
                "",
                config,
                seed,
                f"transitions/t{seg.page:02d}-{seg.page + 1:02d}-{{key}}.mp4",
            )
        clips = [clip_f[(s.kind, s.page)].result() for s in timeline.segments]
        stage_done("video")
        if until == "video":
            return _result(store, run_dir, None, until, plan, started, config)

        # 6. Music per cue and sound effects per page cue, placed on the timeline
        music_f, sfx_f = [], []
        if config.music.enabled:
            progress.start("music", len(plan.music))
            for index, cue in enumerate(plan.music, start=1):
                start, end = timeline.span(cue.first_page, cue.last_page)
                music_f.append((start, compose_music.submit(str(run_dir), index, cue, end - start, config, seed)))
        if config.sfx.enabled:
            progress.start("sounds", sum(len(p.sfx) for p in plan.pages))
            for page in plan.pages:
                page_start, page_len = timeline.page_start(page.number), timeline.page_duration(page.number)
                for index, cue in enumerate(page.sfx, start=1):
                    if cue.offset >= page_len - 0.1:
                        continue
                    length = min(cue.duration or page_len, page_len - cue.offset)
                    sfx_f.append(
                        (
                            page_start + cue.offset,
                            cue.gain_db,
                            make_sfx.submit(
                                str(run_dir), page.number, index, cue, length, config, seed, page.seed_number
                            ),
                        )
                    )

        # 7. Mix: narration on its cues, music ducked under it, sounds at their levels
        voice = [
            {"path": path, "start": cue.start} for (path, _), cue in zip(narration, timeline.narration, strict=True)
        ]
        music = [{"path": f.result(), "start": start} for start, f in music_f]
        sounds = [{"path": p, "start": start, "gain_db": gain} for start, gain, f in sfx_f if (p := f.result())]
        progress.start("mix", 1)
        audio = mix_audio(str(run_dir), voice, music, sounds, timeline.duration, config)
        stage_done("audio")
        if until == "audio":
            return _result(store, run_dir, None, until, plan, started, config)

        # 8. Assembly: clips + mix (+ subtitles) -> film.mp4
        progress.start("film", 1)
        film = assemble(str(run_dir), clips, audio, timeline, config)
        stage_done("film")
        return _result(store, run_dir, film, until, plan, started, config)


def _result(
    store: RunDir,
    run_dir: Path,
    film: str | None,
    stage: str,
    plan: StoryPlan,
    started: float,
    config: Config,
) -> FilmResult:
    manifest = store.manifest()
    rows = [{"kind": r.kind, "path": r.path, "seconds": r.seconds, "key": k} for k, r in manifest.items()]
    if rows:
        create_table_artifact(table=rows, key="assets", description=f"assets of {run_dir.name}")
    stats = store.stats()
    return FilmResult(
        run_dir=str(run_dir),
        film=film,
        stage=stage,
        title=plan.title,
        made=len(stats["made"]),
        reused=len(stats["reused"]),
        seconds=round(time.perf_counter() - started, 1),
        profile=config.profile,
    )
