"""Composition: the prompts and the story text made from the plan's inputs, in one place.

The plan records what each page shows (in the director's words), its scene, its characters, its shot and
its cues; the prompts the models get are composed from those when an asset is made:

- the illustration prompt: the style bible, what the page shows and where, then each character shown with
  their look, verbatim (a page's hand-written ``prompt`` is used as it is);
- the keyframe prompt and the motion prompt, for the video models;
- the story as markdown (``story.md`` and the Prefect artifact).

So a look edit reaches every page that shows the character, a style edit every page and a scene edit its
page, with no prompt taken apart. ``scene_sfx`` (the sound cues a scene implies: each setting's ambience,
``AMBIENT``, at a level about 12 dB under the narration, ``SOUND_DB``) lives here too: the code-built
direction, the edits and the plan migration use the same cues.
"""

from __future__ import annotations

import re

from storyreel.plan import Page, Scene, SfxCue, StoryPlan

CODE_MOTION = "gentle camera move; leaves, water and clouds drift softly"  # the code-built direction's motion


def where_phrase(scene: Scene) -> str:
    """Where a page happens, as the illustration prompt says it."""
    return f"in the {scene.setting} at {scene.time_of_day}, {scene.weather} weather"


def cast_phrase(names: list[str]) -> str:
    """Who a page shows, as the illustration prompt says it."""
    return ", ".join(names) or "the landscape"


def looks_phrase(looks: list[tuple[str, str]]) -> str:
    """Each character shown with their look, verbatim: "Pip: a small green dragon. Olo: …"."""
    return " ".join(f"{name}: {look}." for name, look in looks)


def join_prompt(style_bible: str, shows: str, looks: list[tuple[str, str]]) -> str:
    """The style bible, what the picture shows, then each character's look (``looks``: (name, look) in
    the page's order)."""
    return " ".join(part for part in (style_bible + ".", shows.rstrip(".") + ".", looks_phrase(looks)) if part)


def page_looks(plan: StoryPlan, page: Page) -> list[tuple[str, str]]:
    known = {c.name: c.look for c in plan.characters}
    return [(name, known[name]) for name in page.characters if name in known]


def shown(page: Page) -> str:
    """What the page shows, in the director's words (its text when the director said nothing else)."""
    return page.shows or page.text


def illustration_prompt(plan: StoryPlan, page: Page) -> str:
    """The prompt of a page's illustration: its hand-written ``prompt``, or the style bible + who is shown
    where + what the page shows + every look verbatim."""
    if page.prompt:
        return page.prompt
    what = f"{cast_phrase(page.characters)} {where_phrase(page.scene)}: {shown(page)}"
    return join_prompt(plan.style_bible, what, page_looks(plan, page))


def keyframe_prompt(page: Page) -> str:
    """The prompt of a page's keyframes (the video model starts from the illustration): what moves in the
    shot, else what the page shows."""
    return page.shot.motion or page.prompt or shown(page)


def motion_prompt(page: Page) -> str:
    """The prompt of the frames between a page's keyframes: what moves in the shot."""
    return page.shot.motion


def split_v1_prompt(prompt: str, style_bible: str, looks: list[tuple[str, str]]) -> str | None:
    """What a schema-1 composed prompt showed (between the style bible and the looks); None when the prompt
    was not composed (written by hand). Used only by the plan migration (``storyreel.plan.migrate_v1``)."""
    head = style_bible + ". "
    cast = looks_phrase(looks)
    tail = f" {cast}" if cast else ""
    if not (prompt.startswith(head) and prompt.endswith(tail)):
        return None
    shows = prompt[len(head) : len(prompt) - len(tail)]
    return shows if shows.endswith(".") and len(shows) > 1 else None


# The sound of each setting, and what a sound-effect model is asked for. Green places sound of birds by day and
# crickets at night; a room is quiet unless its words say otherwise.
AMBIENT: dict[str, tuple[str, str]] = {
    "beach": ("waves", "waves on the shore"), "sea": ("waves", "waves on the open sea"),
    "mountain": ("wind", "wind over the mountains"), "sky": ("wind", "wind high in the sky"),
    "cave": ("stream", "water dripping in a cave"), "castle": ("fire", "torches crackling in a stone hall"),
    "city": ("footsteps", "footsteps on a busy street"), "underwater": ("underwater", "bubbles under the sea"),
    "shop": ("shop", "a little shop, its door bell and customers"), "library": ("library", "a quiet library, pages"
    " turning"), "school": ("school", "a school bell and children playing"), "snowfield": ("snow", "cold wind over"
    " the snow"), "desert": ("desert", "dry wind over the dunes"), "space": ("space", "the hum of outer space"),
}  # fmt: skip
GREEN = ("forest", "meadow", "garden", "village")
# Each sound's level in the mix, dB: about 12 dB under the narration. Measured on the synthesized effects
# (peak -1 dBFS; RMS between about -13 (space) and -27 dBFS (fire)) against espeak's speech (about -20.5 dBFS
# RMS while it speaks), so that each sits 10-14 dB under the voice. A sound not listed gets DEFAULT_SOUND_DB.
SOUND_DB: dict[str, float] = {
    "wind": -16, "rain": -13, "waves": -15, "fire": -6, "birds": -11, "footsteps": -4, "thunder": -12,
    "storm": -12, "stream": -15, "crickets": -11, "magic": -12, "heartbeat": -16, "underwater": -15, "shop": -14,
    "library": -12, "school": -13, "snow": -11, "desert": -17, "space": -19,
}  # fmt: skip
DEFAULT_SOUND_DB = -14.0


# the words that bring a page's fire or magic sound: whole words, so that a firefly, fireworks or a wishbone
# bring none
FIRE_WORDS = frozenset(("fire", "fires", "campfire", "campfires", "bonfire", "bonfires", "fireplace", "fireside",
                        "firelight", "flame", "flames", "flaming"))  # fmt: skip
MAGIC_WORDS = frozenset(("magic", "magical", "magically", "magician", "sparkle", "sparkles", "sparkled", "sparkling",
                         "sparkly", "glow", "glows", "glowed", "glowing", "wish", "wishes", "wished",
                         "wishing"))  # fmt: skip


def scene_sfx(scene: Scene, text: str) -> list[SfxCue]:
    """The sound cues a page's scene and words imply (``source="scene"``: they follow scene edits): the
    weather's, the setting's own ambience (``AMBIENT``; birds or crickets in green places) and the sounds its
    words name (``FIRE_WORDS``, ``MAGIC_WORDS``), each at its level (``SOUND_DB``), to the end of the page."""
    cues: list[SfxCue] = []

    def cue(sound: str, prompt: str, offset: float = 0.0) -> None:
        if all(c.sound != sound for c in cues):
            gain = SOUND_DB.get(sound, DEFAULT_SOUND_DB)
            cues.append(SfxCue(sound=sound, prompt=prompt, offset=offset, gain_db=gain, source="scene"))

    if scene.weather in ("rain", "storm"):
        cue("rain", "steady gentle rain")
    if scene.weather == "storm":
        cue("thunder", "distant rolling thunder", offset=1.0)
    if scene.weather == "wind":
        cue("wind", "soft wind through the trees")
    if scene.setting in GREEN:
        if scene.time_of_day == "night":
            cue("crickets", "crickets at night")
        else:
            cue("birds", "birds singing")
    elif scene.setting in AMBIENT:
        cue(*AMBIENT[scene.setting])
    words = set(re.findall(r"[a-z]+", text.lower()))
    if words & FIRE_WORDS:
        cue("fire", "crackling campfire")
    if words & MAGIC_WORDS:
        cue("magic", "soft magical chime")
    return cues


def scene_sfx_v1(scene: Scene, text: str) -> list[SfxCue]:
    """The sound cues schema-1 code gave a scene (the plan migration tells by them whether a v1 page's sounds
    followed its scene)."""
    cues: list[SfxCue] = []
    lower = text.lower()

    def cue(sound: str, prompt: str, gain_db: float, offset: float = 0.0) -> None:
        cues.append(SfxCue(sound=sound, prompt=prompt, offset=offset, gain_db=gain_db, source="scene"))

    if scene.weather in ("rain", "storm"):
        cue("rain", "steady gentle rain", -24)
    if scene.weather == "storm":
        cue("thunder", "distant rolling thunder", -20, offset=1.0)
    if scene.weather == "wind":
        cue("wind", "soft wind through the trees", -24)
    if scene.setting in ("beach", "sea"):
        cue("waves", "waves on the shore", -24)
    if any(w in lower for w in ("fire", "campfire", "flame")):
        cue("fire", "crackling campfire", -22)
    if scene.time_of_day == "night" and scene.setting not in ("room", "cave", "sea"):
        cue("crickets", "crickets at night", -28)
    elif scene.setting in ("forest", "meadow", "garden") and scene.time_of_day in ("day", "dawn"):
        cue("birds", "birds singing", -28)
    if any(w in lower for w in ("magic", "sparkle", "glow", "wish")):
        cue("magic", "soft magical chime", -22)
    return cues


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
            f"- image prompt: {illustration_prompt(plan, page)}",
            "",
        ]
    lines += ["## Music", ""] + [f"- pages {m.first_page}–{m.last_page}: {m.mood}" for m in plan.music]
    return "\n".join(lines) + "\n"
