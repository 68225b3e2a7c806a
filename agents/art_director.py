"""The art director: style bible, per-page image and motion prompts, camera moves, sound and music cues.

Chat models answer with a structured ``Direction``; for base models the direction is built in code
from the draft's scenes. Either way ``build_plan`` writes the final prompts, and it is code, not the
LLM, that repeats each character's look verbatim in every prompt that shows them.
"""

from __future__ import annotations

from langchain_core.language_models import BaseLanguageModel
from langchain_core.messages import HumanMessage, SystemMessage

from storyreel.agents import prompts
from storyreel.agents.llm import ask_structured, is_completion_model
from storyreel.agents.writer import seeded_index
from storyreel.config import LLMSection
from storyreel.plan import (
    Brief,
    Direction,
    DraftPage,
    Keyframe,
    MusicCue,
    Page,
    PageDirection,
    Scene,
    SfxCue,
    Shot,
    StoryDraft,
    StoryPlan,
)

CAMERA_CYCLE = ("zoom_in", "pan_right", "parallax", "zoom_out", "pan_left", "tilt_up")
MOOD_WORDS = {
    "tense": ("afraid", "scared", "fear", "dark", "storm", "danger", "lost", "alone", "cried", "worried"),
    "triumphant": ("brave", "proud", "won", "cheer", "hooray", "did it", "victory"),
    "playful": ("play", "laugh", "jump", "game", "fun", "giggle", "dance", "splash"),
    "mysterious": ("strange", "secret", "magic", "hidden", "glow", "whisper", "mystery"),
    "sad": ("sad", "tears", "miss", "goodbye"),
    "calm": ("sleep", "dream", "quiet", "warm", "home", "hug", "smile", "friend"),
}


def direct(llm: BaseLanguageModel, brief: Brief, draft: StoryDraft, settings: LLMSection) -> Direction:
    """Direct the story: a ``Direction`` with one entry per page."""
    if is_completion_model(llm):
        return direct_in_code(brief, draft)
    messages = [
        SystemMessage(prompts.ART_DIRECTOR_SYSTEM.format(pages=len(draft.pages), cameras=prompts.CAMERAS_TEXT)),
        HumanMessage(f"Visual style asked for: {brief.style or 'any'}\n\nStory:\n{draft.model_dump_json(indent=1)}"),
    ]

    def check(direction: Direction) -> list[str]:
        problems = []
        if len(direction.pages) != len(draft.pages):
            problems.append(f"give exactly {len(draft.pages)} page entries, not {len(direction.pages)}")
        for cue in direction.music:
            if cue.last_page > len(draft.pages):
                problems.append(
                    f"music cue '{cue.mood}' ends on page {cue.last_page}; the story has {len(draft.pages)}"
                )
        return problems

    return ask_structured(llm, Direction, messages, settings.retries, check=check, what="direction")


def sfx_for(page: DraftPage) -> list[SfxCue]:
    """Sound cues that a page's scene implies."""
    cues: list[SfxCue] = []
    text = page.text.lower()
    if page.weather in ("rain", "storm"):
        cues.append(SfxCue(sound="rain", prompt="steady gentle rain", gain_db=-24))
    if page.weather == "storm":
        cues.append(SfxCue(sound="thunder", prompt="distant rolling thunder", offset=1.0, gain_db=-20))
    if page.weather == "wind":
        cues.append(SfxCue(sound="wind", prompt="soft wind through the trees", gain_db=-24))
    if page.setting in ("beach", "sea"):
        cues.append(SfxCue(sound="waves", prompt="waves on the shore", gain_db=-24))
    if any(w in text for w in ("fire", "campfire", "flame")):
        cues.append(SfxCue(sound="fire", prompt="crackling campfire", gain_db=-22))
    if page.time_of_day == "night" and page.setting not in ("room", "cave", "sea"):
        cues.append(SfxCue(sound="crickets", prompt="crickets at night", gain_db=-28))
    elif page.setting in ("forest", "meadow", "garden") and page.time_of_day in ("day", "dawn"):
        cues.append(SfxCue(sound="birds", prompt="birds singing", gain_db=-28))
    if any(w in text for w in ("magic", "sparkle", "glow", "wish")):
        cues.append(SfxCue(sound="magic", prompt="soft magical chime", gain_db=-22))
    return cues


def mood_of(text: str) -> str:
    lower = text.lower()
    for mood, words in MOOD_WORDS.items():
        if any(w in lower for w in words):
            return mood
    return "gentle"


def direct_in_code(brief: Brief, draft: StoryDraft) -> Direction:
    """A direction from the draft's scenes and words: the base-model path, deterministic per seed."""
    start = seeded_index(brief.seed, "camera", modulo=len(CAMERA_CYCLE))
    pages = []
    for index, page in enumerate(draft.pages):
        pages.append(direct_page_in_code(page, CAMERA_CYCLE[(start + index) % len(CAMERA_CYCLE)]))
    # Music: a cue per run of pages that share a mood (the opening and the ending set the tone).
    moods = [mood_of(p.text) for p in draft.pages]
    music: list[MusicCue] = []
    for number, mood in enumerate(moods, start=1):
        if music and music[-1].mood == mood:
            music[-1] = music[-1].model_copy(update={"last_page": number})
        else:
            music.append(
                MusicCue(mood=mood, prompt=f"{mood} children's film score", first_page=number, last_page=number)
            )
    return Direction(style_bible=style_bible_for(brief.style), pages=pages, music=music)


def where_phrase(setting: str, time_of_day: str, weather: str) -> str:
    """How an illustration prompt written in code says where a page happens."""
    return f"in the {setting} at {time_of_day}, {weather} weather"


def direct_page_in_code(page: DraftPage, camera: str) -> PageDirection:
    """One page's direction from its scene and words (the base-model path, and pages a revision adds)."""
    shown = ", ".join(page.characters) or "the landscape"
    return PageDirection(
        image_prompt=f"{shown} {where_phrase(page.setting, page.time_of_day, page.weather)}: {page.text}",
        motion="gentle camera move; leaves, water and clouds drift softly",
        camera=camera,
        sfx=sfx_for(page),
    )


def style_bible_for(style: str) -> str:
    """The style bible written in code for a style in plain words (empty: the default style)."""
    return f"{style or 'soft watercolor picture book, warm light'}; simple shapes, gentle colors, consistent characters"


def compose_image_prompt(style_bible: str, shows: str, looks: list[tuple[str, str]]) -> str:
    """The full illustration prompt: the style bible, what the picture shows, then each character shown
    with their look, verbatim. ``looks`` is (name, look) per character, in the page's order."""
    cast = " ".join(f"{name}: {look}." for name, look in looks)
    return " ".join(part for part in (style_bible + ".", shows.rstrip(".") + ".", cast) if part)


def shows_of(image_prompt: str, style_bible: str, looks: list[tuple[str, str]]) -> str | None:
    """What a prompt made by ``compose_image_prompt`` shows, without the style and the looks; None when
    the prompt was not made that way (written by hand), so it cannot be rebuilt."""
    head = style_bible + ". "
    cast = " ".join(f"{name}: {look}." for name, look in looks)
    tail = f" {cast}" if cast else ""
    if not (image_prompt.startswith(head) and image_prompt.endswith(tail)):
        return None
    shows = image_prompt[len(head) : len(image_prompt) - len(tail)]
    return shows if shows.endswith(".") and len(shows) > 1 else None


def shot_keyframes(image_prompt: str, motion: str, camera: str) -> list[Keyframe]:
    """The keyframe prompts of a page's shot: its start, and its motion."""
    return [
        Keyframe(prompt=f"{image_prompt} Start of the shot.", camera=camera),
        Keyframe(prompt=f"{image_prompt} {motion}".strip(), camera=camera),
    ]


def build_plan(brief: Brief, draft: StoryDraft, direction: Direction, version: int = 1) -> StoryPlan:
    """Merge the draft and the direction into the plan; every prompt that shows a character carries its
    look verbatim, and every illustration the style bible."""
    looks = {c.name: c.look for c in draft.characters}
    pages = []
    for number, (page, directed) in enumerate(zip(draft.pages, direction.pages, strict=True), start=1):
        shown = [n for n in page.characters if n in looks]
        image_prompt = compose_image_prompt(
            direction.style_bible, directed.image_prompt, [(name, looks[name]) for name in shown]
        )
        keyframes = shot_keyframes(image_prompt, directed.motion, directed.camera)
        pages.append(
            Page(
                number=number,
                text=page.text,
                scene=Scene(setting=page.setting, time_of_day=page.time_of_day, weather=page.weather),
                characters=shown,
                image_prompt=image_prompt,
                shot=Shot(motion=directed.motion, camera=directed.camera, keyframes=keyframes),
                sfx=directed.sfx,
            )
        )
    music = direction.music or [
        MusicCue(mood="gentle", prompt="gentle children's film score", first_page=1, last_page=len(pages))
    ]
    return StoryPlan(
        version=version,
        title=draft.title,
        brief=brief,
        characters=draft.characters,
        style_bible=direction.style_bible,
        pages=pages,
        music=music,
    )


def story_markdown(plan: StoryPlan) -> str:
    """The story as markdown, for ``story.md`` and the Prefect artifact."""
    lines = [
        f"# {plan.title}",
        "",
        f"*{plan.brief.prompt}* — plan v{plan.version}, seed {plan.brief.seed}",
        "",
    ]
    if plan.characters:
        lines += ["## Characters", ""] + [f"- **{c.name}** ({c.species}): {c.look}" for c in plan.characters] + [""]
    lines += ["## Pages", ""]
    for page in plan.pages:
        s = page.scene
        sounds = ", ".join(c.sound for c in page.sfx) or "none"
        lines += [
            f"### Page {page.number}",
            "",
            page.text,
            "",
            f"- scene: {s.setting}, {s.time_of_day}, {s.weather}; camera: {page.shot.camera}; sounds: {sounds}",
            f"- image prompt: {page.image_prompt}",
            "",
        ]
    lines += ["## Music", ""] + [f"- pages {m.first_page}–{m.last_page}: {m.mood}" for m in plan.music]
    return "\n".join(lines) + "\n"
