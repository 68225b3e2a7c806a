"""The make-film flow: one prompt in, a film out.

Numbered steps; one task per asset; tasks pass paths and small records, never images or tensors. A task
builds its backend's request and asks the asset layer for the asset (``storyreel.assets.make``): an asset
whose spec is unchanged and whose file is intact is reused, so a re-run, a resume after Ctrl-C or a crash
redoes nothing that is done. Seeds follow ``storyreel.seeds``; where each cue plays, ``storyreel.timeline``.

Entrypoint for deployments: ``storyreel.flows.make_film.make_film``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, NamedTuple

from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel

from storyreel import assets, composition, faults, prefect_server, progress, seeds
from storyreel.assets import image_options  # noqa: F401 - moved to storyreel.assets; older imports
from storyreel.config import VIDEO_SOUND, Config, load_config, saved_config
from storyreel.dialogue import speakers_on_page
from storyreel.errors import InputError, StoryreelError
from storyreel.flows.runners import ConfiguredTaskRunner, configured_tasks
from storyreel.plan import Brief, MusicCue, Page, SfxCue, StoryPlan
from storyreel.seeds import image_seed  # noqa: F401 - moved to storyreel.seeds; older imports
from storyreel.store import (
    RunDir,
    check_run,
    clean_partials,
    copy_file,
    new_run_dir,
    read_run_file,
    write_json,
    write_text,
)
from storyreel.timeline import Segment, Timeline, build_timeline, keyframe_indices, to_srt, to_vtt

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
    flow_run: str = ""  # the flow run's name: the run folder's
    url: str | None = None  # the flow run in the Prefect UI; None on Prefect's temporary server


KINDS = ("make", "revise", "scheduled")  # the kind tags: what started the run (a revision, a schedule)


def name_run(name: str, profile: str, kind: str | None = None) -> str | None:
    """Name the current flow run ``name`` (its run folder) and tag it ``storyreel``, its kind and
    ``profile:<profile>``. The kind is ``kind``, else the one of ``KINDS`` its caller tagged it with
    (``with prefect.tags("revise")``), else ``make``. Returns the flow run's page in the Prefect UI when a
    server is configured (``PREFECT_API_URL``); None on Prefect's temporary server (it has no UI to visit)."""
    from prefect.client.orchestration import get_client
    from prefect.context import FlowRunContext, TagsContext
    from prefect.runtime import flow_run

    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        return None
    tags = {*context.flow_run.tags, *TagsContext.get().current_tags, "storyreel", f"profile:{profile}"}
    if kind or not tags & set(KINDS):
        tags.add(kind or "make")
    with get_client(sync_client=True) as client:
        client.update_flow_run(context.flow_run.id, name=name, tags=sorted(tags))
    context.flow_run.name, context.flow_run.tags = name, sorted(tags)
    return flow_run.get_flow_run_ui_url() if prefect_server.has_ui() else None


def _page_run_name(parameters: dict[str, Any]) -> str:
    """Task run names for a segment's clip: ``clip-p03``, ``transition-p03-p04``."""
    segment = parameters["segment"]
    if segment.kind == "transition":
        return f"transition-p{segment.page:02d}-p{segment.page + 1:02d}"
    return f"clip-p{segment.page:02d}"


def _segment_run_name(parameters: dict[str, Any]) -> str:
    """Task run names for a film-ready segment: ``segment-p03``, ``segment-p03-p04`` (a transition's)."""
    segment = parameters["segment"]
    if segment.kind == "transition":
        return f"segment-p{segment.page:02d}-p{segment.page + 1:02d}"
    return f"segment-p{segment.page:02d}"


# --- helpers ----------------------------------------------------------------------------------


def audio_seconds(path: Path) -> float:
    from storyreel.media import read_wav

    samples, rate = read_wav(path)
    return len(samples) / rate


def lay_out(plan: StoryPlan, spoken: list[float], config: Config, words: list | None = None) -> Timeline:
    """The film's timeline: each page of ``plan`` as long as its narration (``spoken`` seconds) plus the
    padding ``config.narration`` asks for, transitions of ``video.transition`` between pages; ``words``:
    per page, its word timings and how they were found (``assets.narration_words``), placed with it."""
    return build_timeline(
        [(page.text, seconds) for page, seconds in zip(plan.pages, spoken, strict=True)],
        fps=config.video.fps,
        lead_in=config.narration.lead_in,
        tail=config.narration.tail,
        transition=config.video.transition,
        min_page=config.narration.min_page,
        words=words,
    )


def _transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry only errors that may pass (network, server); a StoryreelError will not."""
    try:
        state.result()
    except StoryreelError:
        return False
    except Exception:  # noqa: BLE001 - anything else may be transient (connection reset, 5xx)
        return True
    return False


def agent_task(name: str) -> Callable[[Callable[..., Any]], Any]:
    """A task that asks an LLM agent: never cached by Prefect, retried twice on errors that may pass."""
    return task(
        name=name,
        task_run_name=name,  # one run per flow run: its name needs no suffix
        cache_policy=NO_CACHE,
        persist_result=False,
        retries=2,
        retry_delay_seconds=2,
        retry_condition_fn=_transient,
    )


# --- tasks --------------------------------------------------------------------------------------


@agent_task("write-story")
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
    progress.start("story", brief.pages + 2)  # a tick per page written, then the review and the direction
    llm = agent_model(config.llm, seed=brief.seed)
    draft = write_story(llm, brief, config.llm)  # the offline writer ticks each page as it writes it
    progress.catch_up("story", brief.pages, "page {n} written")  # a chat model writes all at once
    draft, reviews = refine(llm, brief, draft, config.llm)
    progress.advance("story", f"reviewed ({len(reviews)} round(s))")
    direction = direct(llm, brief, draft, config.llm)
    plan = build_plan(brief, draft, direction)
    progress.advance("story", "directed")
    write_json(run / "plans" / f"plan.v{plan.version}.json", plan.model_dump(mode="json"))
    write_text(run / "story.md", story_markdown(plan))
    write_text(existing, plan.model_dump_json(indent=2))
    return plan


@task(name="narrate", task_run_name="narrate-p{page.number:02d}", cache_policy=NO_CACHE, persist_result=False)
def narrate(
    run_path: str, page: Page, config: Config, seed: int, voice: str = "", speakers: dict[str, str] | None = None
) -> tuple[str, float]:
    """Speak a page; ``speakers`` (character -> voice) lets backends that can give quoted lines their own voices.
    Returns the narration's path and its length in seconds."""
    from storyreel.generators.base import SpeechRequest

    request = SpeechRequest(
        text=page.text,
        voice=voice or config.narration.voice,  # the plan's narrator voice (a revision may set it), else the config's
        rate=config.narration.rate,
        seed=seeds.narration_seed(seed, page),
        speakers=speakers or {},
    )
    relpath = f"pages/p{page.number:02d}/narration-{{key}}.wav"
    path = assets.make(RunDir(Path(run_path)), config, "narration", request, relpath, page=page.number)
    progress.advance("narration", f"page {page.number}")
    return str(path), audio_seconds(path)


@task(name="illustrate", task_run_name="illustrate-p{page.number:02d}", cache_policy=NO_CACHE, persist_result=False)
def illustrate(run_path: str, plan: StoryPlan, page: Page, config: Config, user_image: str | None = None) -> str:
    """A page's illustration: made by the image backend, or the user's own picture (``user_image``) fitted."""
    from storyreel.generators.base import ImageRequest

    run = RunDir(Path(run_path))
    relpath = f"pages/p{page.number:02d}/image-{{key}}.png"
    if user_image:  # the user's own picture is this page's illustration (--page-image)
        source = Path(user_image)
        if not source.is_file():
            raise InputError(f"page {page.number}'s picture {source} is gone: put it back to make this run")
        path = assets.user_picture(run, source, config.image.width, config.image.height, relpath, page.number)
        progress.advance("images", f"page {page.number} (your picture)")
        return str(path)
    request = ImageRequest(
        prompt=composition.illustration_prompt(plan, page),
        negative_prompt=config.image.negative_prompt,
        width=config.image.width,
        height=config.image.height,
        seed=seeds.image_seed(plan.brief.seed, page),
        scene=page.scene,
        characters=[plan.character(n).model_copy(update={"voice": ""}) for n in page.characters],  # voices: not drawn
        style=plan.style_bible,
        reference_images=[Path(p) for p in plan.brief.reference_images],
    )
    path = assets.make(run, config, "image", request, relpath, page=page.number)
    progress.advance("images", f"page {page.number}")
    return str(path)


@task(name="keyframes", task_run_name="keyframes-p{page.number:02d}", cache_policy=NO_CACHE, persist_result=False)
def make_keyframes(run_path: str, page: Page, image: str, frames: int, config: Config, seed: int) -> list[str]:
    """A page's sparse keyframes (``k*.png`` in a folder), the first derived from its illustration."""
    from storyreel.generators.base import KeyframeRequest

    indices = keyframe_indices(frames, config.video.keyframe_spacing)
    request = KeyframeRequest(
        image=Path(image),
        prompt=composition.keyframe_prompt(page),
        camera=page.shot.camera,
        indices=indices,
        fps=config.video.fps,
        width=config.video.width,
        height=config.video.height,
        seed=seeds.keyframes_seed(seed, page),
    )
    relpath = f"pages/p{page.number:02d}/keyframes-{{key}}"
    folder = assets.make(RunDir(Path(run_path)), config, "keyframes", request, relpath, page=page.number)
    files = sorted(str(p) for p in folder.glob("k*.png"))
    if len(files) != len(indices):
        raise StoryreelError(f"page {page.number}: the keyframe backend wrote {len(files)} of {len(indices)} keyframes")
    progress.advance("keyframes", f"page {page.number}")
    return files


@task(name="interpolate", task_run_name=_page_run_name, cache_policy=NO_CACHE, persist_result=False)
def interpolate(
    run_path: str,
    segment: Segment,
    label: str,
    keyframes: list[str],
    indices: list[int],
    prompt: str,
    config: Config,
    seed: int,
) -> str:
    """The clip of a timeline segment (a page, or the transition that leaves it): the frames between its
    keyframes. ``label`` (``seeds.clip_label``) names it for its seed and the progress display. A
    transition's keyframes are the last frame of the page it leaves and the first of the next: its clip is
    the frames strictly between them (``indices`` ``[0, segment.frames + 1]``), so no frame shows twice at a
    join and the segment keeps its frame count."""
    from storyreel.generators.base import InterpolationRequest

    request = InterpolationRequest(
        keyframes=[Path(k) for k in keyframes],
        indices=indices,
        inner=segment.kind == "transition",
        num_frames=segment.frames,
        fps=config.video.fps,
        width=config.video.width,
        height=config.video.height,
        prompt=prompt,
        seed=seeds.clip_seed(seed, label),
    )
    n = segment.page
    transition = segment.kind == "transition"
    relpath = f"transitions/t{n:02d}-{n + 1:02d}-{{key}}.mp4" if transition else f"pages/p{n:02d}/clip-{{key}}.mp4"
    path = assets.make(RunDir(Path(run_path)), config, "clip", request, relpath, page=n, transition=transition)
    progress.advance("clips", label)
    return str(path)


@task(name="compose-music", task_run_name="music-cue{index:02d}", cache_policy=NO_CACHE, persist_result=False)
def compose_music(run_path: str, index: int, cue: MusicCue, duration: float, config: Config, seed: int) -> str:
    """Music cue number ``index`` (1-based), ``duration`` seconds long."""
    from storyreel.generators.base import MusicRequest

    request = MusicRequest(
        mood=cue.mood, prompt=cue.prompt, duration=round(duration, 3), seed=seeds.music_seed(seed, index)
    )
    path = assets.make(RunDir(Path(run_path)), config, "music", request, f"music/cue{index:02d}-{{key}}.wav")
    progress.advance("music", f"cue {index}")
    return str(path)


@task(name="sound-effect", task_run_name="sfx-p{page:02d}-{index}", cache_policy=NO_CACHE, persist_result=False)
def make_sfx(
    run_path: str, page: int, index: int, cue: SfxCue, duration: float, config: Config, seed: int, seed_page: int = 0
) -> str | None:
    """Sound cue number ``index`` of page ``page``, ``duration`` seconds long; None when the backend cannot
    make that sound (it is left out of the film). ``seed_page``: the page's origin number, for its seed."""
    from storyreel.generators.base import SfxRequest, UnsupportedCue

    request = SfxRequest(cue=cue, duration=round(duration, 3), seed=seeds.sfx_seed(seed, seed_page or page, index))
    relpath = f"pages/p{page:02d}/sfx-{index}-{{key}}.wav"
    try:
        path: Path | None = assets.make(RunDir(Path(run_path)), config, "sfx", request, relpath, page=page)
    except UnsupportedCue as exc:
        log.info("page %d: sound '%s' left out: %s", page, cue.sound, exc)
        path = None
    progress.advance("sounds", f"page {page}")
    return str(path) if path else None


@task(name="page-sound", task_run_name="sound-p{page:02d}", cache_policy=NO_CACHE, persist_result=False)
def page_sound(run_path: str, clip: str, page: int, seconds: float) -> str | None:
    """Page ``page``'s sound from its clip (``sfx.backend = "video"``); None when the clip has no sound."""
    path = assets.page_sound(RunDir(Path(run_path)), Path(clip), page, seconds)
    return str(path) if path else None


@task(name="mix", task_run_name="mix", cache_policy=NO_CACHE, persist_result=False)
def mix_audio(
    run_path: str, narration: list[dict], music: list[dict], sfx: list[dict], duration: float, config: Config
) -> str:
    """Render one stem per track (kept in the run dir), then master them into the final mix. Each item of a
    track is a placement: ``{"path", "start"[, "gain_db"]}``."""
    run = RunDir(Path(run_path))
    tracks = {"narration": narration, "music": music, "sfx": sfx}
    stems = {name: assets.stem(run, name, items, duration) for name, items in tracks.items()}
    path = assets.master_mix(run, stems, config)
    progress.advance("mix", "mastered")
    return str(path)


def segment_subtitles(timeline: Timeline, segment: Segment) -> list[dict]:
    """The narration cues shown during ``segment``, cut to it, in seconds from its first frame (rounded to
    the millisecond, as in the .srt)."""
    start, end = segment.start_frame / timeline.fps, (segment.start_frame + segment.frames) / timeline.fps
    shown = [c for c in timeline.narration if c.start < end and c.end > start]
    return [
        {"start": round(max(c.start, start) - start, 3), "end": round(min(c.end, end) - start, 3), "text": c.text}
        for c in shown
    ]


@task(name="encode-segment", task_run_name=_segment_run_name, cache_policy=NO_CACHE, persist_result=False)
def encode_segment(run_path: str, segment: Segment, clip: str, timeline: Timeline, config: Config) -> str:
    """A timeline segment's clip as a film-ready segment: encoded once with the film's settings, faded where it
    opens or closes the film, its subtitles burned in when ``assemble.burn_subtitles`` is on. Keyed by its clip,
    its place, its subtitles and the encoder settings, not by where it starts: pages after a longer page keep
    their segments."""
    from storyreel.generators.base import SegmentRequest

    first, last = segment == timeline.segments[0], segment == timeline.segments[-1]
    request = SegmentRequest(
        clip=Path(clip),
        fps=timeline.fps,
        width=config.video.width,
        height=config.video.height,
        frames=segment.frames,
        fade_in=config.assemble.fade if first else 0.0,
        fade_out=config.assemble.fade if last else 0.0,
        subtitles=segment_subtitles(timeline, segment) if config.assemble.burn_subtitles else [],
    )
    n = segment.page
    transition = segment.kind == "transition"
    where = f"transitions/segment-t{n:02d}-{n + 1:02d}-{{key}}.mp4"
    relpath = where if transition else f"pages/p{n:02d}/segment-{{key}}.mp4"
    path = assets.make(RunDir(Path(run_path)), config, "segment", request, relpath, page=n, transition=transition)
    progress.advance("segments", f"transition {n}-{n + 1}" if transition else f"page {n}")
    return str(path)


@task(name="assemble", task_run_name="assemble", cache_policy=NO_CACHE, persist_result=False)
def assemble(run_path: str, segments: list[str], audio: str, timeline: Timeline, config: Config) -> str:
    """The film: the segments in timeline order joined as they are, with the mix; ``film.mp4`` is the current one."""
    from storyreel.generators.base import AssembleRequest

    run = RunDir(Path(run_path))
    request = AssembleRequest(
        segments=[Path(s) for s in segments],
        audio=Path(audio),
        fps=timeline.fps,
        width=config.video.width,
        height=config.video.height,
        frames=timeline.total_frames,
    )
    path = assets.make(run, config, "film", request, "films/film-{key}.mp4")
    final = run.path / "film.mp4"
    copy_file(path, final)  # a copy of its own, written atomically: no half file, and films/ stays intact
    progress.advance("film", "assembled")
    return str(final)


@task(name="book", task_run_name="book", cache_policy=NO_CACHE, persist_result=False)
def make_book(
    run_path: str, plan: StoryPlan, timeline: Timeline, illustrations: list[str], narration: list[str], config: Config
) -> str:
    """The read-along book (``storyreel.book``): book.epub and book/index.html from the pages' illustrations,
    narration and word timings; reused when none of them changed."""
    from storyreel import book

    run = RunDir(Path(run_path))
    sources = [(Path(i), Path(n)) for i, n in zip(illustrations, narration, strict=True)]
    made = book.book_of(run, plan, timeline, sources, book.narrator_of(plan, config), config.book.language)
    epub, _ = book.make_book(run, made)
    progress.advance("book", "book.epub, book/index.html")
    return str(epub)


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
        check_run(run_dir)
        if page_images:
            raise InputError("page images are for a new run: a resumed run keeps the pictures it was made with")
        if config is None:
            config = saved_config(run_dir, settings)
        note = f"resuming {run_dir} (profile {config.profile})"
        plan_file = run_dir / "plan.json"
        if plan_file.exists() or plan_file.is_symlink():
            from storyreel.versions import load_plan_file

            brief = load_plan_file(plan_file).brief
        else:
            brief = read_run_file(run_dir / "brief.json", Brief.model_validate_json, "a storyreel brief")
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
    from storyreel import limits
    from storyreel.page_images import check_page_images, check_picture, copy_page_images

    limits.check_text(prompt, "the prompt", limits.MAX_PROMPT)
    if style is not None:
        limits.check_text(style, "the style", limits.MAX_STYLE)
    if seed is not None:
        limits.check_seed(seed)
    references = [str(check_picture(i, "reference image")) for i in images or []]
    check_page_images(page_images or {}, pages)  # all checked before the run directory is made
    from storyreel import preflight

    preflight.check(config)  # the LLM's server, the GPU, the models: before a run folder is made
    run_dir = new_run_dir(Path(out or config.run.out), prompt).resolve()
    brief = Brief(
        prompt=prompt,
        pages=pages,
        style=config.story.style if style is None else style,
        seed=config.story.seed if seed is None else seed,
        reference_images=references,
        page_images=copy_page_images(run_dir, page_images or {}, pages),  # the run keeps its own copies
    )
    return run_dir, brief, config, note


@flow(
    name="make-film",
    task_runner=ConfiguredTaskRunner(),  # the runner run.task_runner asks for, once the config is known
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
        profile: auto (default), preview, sketch, tiny or gpu.
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
    faults.working_on(run_dir)  # for the interrupt line and an error's log file
    store = RunDir(run_dir)
    url = name_run(run_dir.name, config.profile)
    progress.note(f"{note}\nrun directory: {run_dir}" + (f"\nPrefect UI: {url}" if url else ""))
    logger = get_run_logger()
    logger.info("run folder: %s (%s)", run_dir, note)
    with store.locked(), configured_tasks(config):  # tasks run where run.task_runner says
        clean_partials(run_dir)  # what killed runs left half-written
        store.reset_stats()
        write_json(run_dir / "config.json", config.model_dump(mode="json"))
        if not (run_dir / "brief.json").exists():
            write_json(run_dir / "brief.json", brief.model_dump(mode="json"))
        steps = STAGES.index(until) + 1
        tracker = create_progress_artifact(progress=0.0, description=f"{brief.prompt} -> {run_dir.name}")

        logged = 0  # asset events already logged

        def stage_done(stage: str) -> None:
            nonlocal logged
            update_progress_artifact(tracker, progress=100.0 * (STAGES.index(stage) + 1) / steps)
            events = store.events()
            made = [e.kind for e in events[logged:] if e.which == "made"]
            reused = [e.kind for e in events[logged:] if e.which == "reused"]
            logged = len(events)
            logger.info("%s: made %d, reused %d (%s)", stage, len(made), len(reused), _kinds(made, reused))

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

        # 4. Timeline and captions, in whole frames, each page's words placed on it
        words = [
            assets.narration_words(store, Path(path), page.text)
            for (path, _), page in zip(narration, plan.pages, strict=True)
        ]
        timeline = lay_out(plan, [seconds for _, seconds in narration], config, words)
        write_json(run_dir / "timeline.json", timeline.model_dump(mode="json"))
        write_text(run_dir / "subtitles.srt", to_srt(timeline))
        write_text(run_dir / "captions.vtt", to_vtt(timeline))

        # 5. The read-along book: the pages, their narration and the same word timings (all it needs is here)
        if config.book.enabled:
            progress.start("book", 1)
            make_book(str(run_dir), plan, timeline, illustrations, [path for path, _ in narration], config)
        stage_done("images")
        if until == "images":
            return _result(store, run_dir, None, until, plan, started, config)

        # 6. Sparse keyframes per page, then the frames between them, then page-to-page transitions: each
        #    clip is submitted as soon as the keyframes it needs are made
        progress.start("keyframes", len(plan.pages))
        kf_f = [
            make_keyframes.submit(str(run_dir), page, image, timeline.page(page.number).frames, config, seed)
            for page, image in zip(plan.pages, illustrations, strict=True)
        ]
        transitions = {s.page: s for s in timeline.segments if s.kind == "transition"}
        progress.start("clips", len(plan.pages) + len(transitions))
        keyframes: list[list[str]] = []
        clip_f: dict[tuple[str, int], Any] = {}
        for page, made_kf in zip(plan.pages, kf_f, strict=True):
            keyframes.append(made_kf.result())
            segment = timeline.page(page.number)
            clip_f[("page", page.number)] = interpolate.submit(
                str(run_dir),
                segment,
                seeds.clip_label(page),  # seeds follow the page's origin: a moved page keeps its clip
                keyframes[-1],
                keyframe_indices(segment.frames, config.video.keyframe_spacing),
                composition.motion_prompt(page),
                config,
                seed,
            )
            if (seg := transitions.get(page.number - 1)) is not None:  # the way in from the page before
                ends = [keyframes[-2][-1], keyframes[-1][0]]
                label = seeds.clip_label(plan.pages[seg.page - 1], page)
                clip_f[("transition", seg.page)] = interpolate.submit(
                    str(run_dir), seg, label, ends, [0, seg.frames + 1], "", config, seed
                )
        audio_f = _submit_audio(run_dir, plan, timeline, config, seed) if until != "video" else _Audio([], [])

        # 7. Each clip encoded once as a film segment (fades and subtitles inside) as soon as it is made,
        #    beside the other clips and the audio; a page's own sound taken from its clip (sfx.backend = video)
        from prefect.futures import as_completed

        key_of = {f: key for key, f in clip_f.items()}
        segment_f: dict[tuple[str, int], Any] = {}
        sound_f: dict[int, Any] = {}  # page -> its sound from its clip
        video_sound = config.sfx.enabled and config.sfx.backend == VIDEO_SOUND and until != "video"
        if until == "film":
            progress.start("segments", len(timeline.segments))
        for done in as_completed(list(clip_f.values())):
            kind, n = key = key_of[done]
            clip = done.result()
            seg = timeline.page(n) if kind == "page" else transitions[n]
            if until == "film":
                segment_f[key] = encode_segment.submit(str(run_dir), seg, clip, timeline, config)
            if video_sound and kind == "page":
                sound_f[n] = page_sound.submit(str(run_dir), clip, n, timeline.page_duration(n))
        audio_f.sounds.extend((timeline.page_start(n), 0.0, sound_f[n]) for n in sorted(sound_f))
        stage_done("video")
        if until == "video":
            return _result(store, run_dir, None, until, plan, started, config)

        # 8-9. Music per cue and sound effects per page cue (submitted with the clips, above), placed on the
        #      timeline; the mix: narration on its cues, music ducked under it, sounds at their levels
        voice = [
            {"path": path, "start": cue.start} for (path, _), cue in zip(narration, timeline.narration, strict=True)
        ]
        music = [{"path": f.result(), "start": start} for start, f in audio_f.music]
        sounds = [
            {"path": p, "start": start, "gain_db": gain} for start, gain, f in audio_f.sounds if (p := f.result())
        ]
        progress.start("mix", 1)
        audio = mix_audio(str(run_dir), voice, music, sounds, timeline.duration, config)
        stage_done("audio")
        if until == "audio":
            return _result(store, run_dir, None, until, plan, started, config)

        # 10. Assembly: the segments joined as they are, with the mix -> film.mp4
        segments = [segment_f[(s.kind, s.page)].result() for s in timeline.segments]
        progress.start("film", 1)
        film = assemble(str(run_dir), segments, audio, timeline, config)
        from storyreel.versions import mark_film

        mark_film(run_dir, plan.version)  # film.mp4 is this version's, as the manifest recorded it
        stage_done("film")
        return _result(store, run_dir, film, until, plan, started, config)


class _Audio(NamedTuple):
    """The music and sound tasks of a film, submitted: (start, future) per music cue; (start, gain, future)
    per sound (whose result is None for a sound the backend cannot make)."""

    music: list[tuple[float, Any]]
    sounds: list[tuple[float, float, Any]]


def _submit_audio(run_dir: Path, plan: StoryPlan, timeline: Timeline, config: Config, seed: int) -> _Audio:
    """Submit the music cues and the sound effects (not a clip's own sound: that waits for its clip); they
    need only the timeline, so they run beside the clips."""
    audio = _Audio([], [])
    if config.music.enabled:
        progress.start("music", len(plan.music))
        for index, cue in enumerate(plan.music, start=1):
            span = timeline.music_span(cue.first_page, cue.last_page)
            audio.music.append(
                (span.start, compose_music.submit(str(run_dir), index, cue, span.duration, config, seed))
            )
    if config.sfx.enabled and config.sfx.backend != VIDEO_SOUND:
        progress.start("sounds", sum(len(p.sfx) for p in plan.pages))
        for page in plan.pages:
            for index, cue in enumerate(page.sfx, start=1):
                if (span := timeline.sound_span(page.number, cue.offset, cue.duration)) is None:
                    continue
                made = make_sfx.submit(
                    str(run_dir), page.number, index, cue, span.duration, config, seed, page.seed_number
                )
                audio.sounds.append((span.start, cue.gain_db, made))
    return audio


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
    this_run = {e.path: e.which for e in store.events()}  # made or reused by this run; else kept from before
    rows = [
        {"kind": r.kind, "path": r.path, "this run": this_run.get(r.path, "kept"), "seconds": r.seconds, "key": k}
        for k, r in manifest.items()
    ]
    if rows:
        create_table_artifact(table=rows, key="assets", description=f"assets of {run_dir.name}")
    stats = store.stats()
    from prefect.runtime import flow_run

    if film:
        get_run_logger().info("film: %s", film)
    return FilmResult(
        run_dir=str(run_dir),
        film=film,
        stage=stage,
        title=plan.title,
        made=len(stats["made"]),
        reused=len(stats["reused"]),
        seconds=round(time.perf_counter() - started, 1),
        profile=config.profile,
        flow_run=flow_run.get_name() or "",
        url=_ui_url(),
    )


def _ui_url() -> str | None:
    from prefect.runtime import flow_run

    return flow_run.get_flow_run_ui_url() if prefect_server.has_ui() else None


def _kinds(made: list[str], reused: list[str]) -> str:
    """'made 2 image; reused 1 narration' -> the kinds of a stage's assets, for its log line."""
    from collections import Counter

    parts = [
        f"{which} " + ", ".join(f"{n} {k}" for k, n in Counter(kinds).items())
        for which, kinds in (("made", made), ("reused", reused))
        if kinds
    ]
    return "; ".join(parts) or "nothing to do"
