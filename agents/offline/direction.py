"""The code-built direction: the offline model's answer to the art director's request. The style bible
from the style asked for, each page showing what its text says, a camera move cycling per seed, the sounds
its scene implies (``storyreel.composition.scene_sfx``) and music cues per run of pages that share a mood
(``storyreel.vocab.STORY_MOOD_WORDS``). Deterministic per seed."""

from __future__ import annotations

from storyreel.agents.offline.cast import seeded_index
from storyreel.composition import CODE_MOTION, scene_sfx
from storyreel.plan import Brief, Direction, DraftPage, MusicCue, PageDirection, Scene, StoryDraft
from storyreel.vocab import CAMERA_CYCLE, DEFAULT_MOOD, STORY_MOOD_WORDS


def mood_of(text: str) -> str:
    lower = text.lower()
    for mood, words in STORY_MOOD_WORDS.items():
        if any(w in lower for w in words):
            return mood
    return DEFAULT_MOOD


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


def direct_page_in_code(page: DraftPage, camera: str) -> PageDirection:
    """One page's direction: it shows what its text says, with a gentle motion and the sounds of its scene."""
    scene = Scene(setting=page.setting, time_of_day=page.time_of_day, weather=page.weather)
    sfx = scene_sfx(scene, page.text)
    return PageDirection(image_prompt=page.text, motion=CODE_MOTION, camera=camera, sfx=sfx, scene_sounds=True)


def style_bible_for(style: str) -> str:
    """The style bible written in code for a style in plain words (empty: the default style)."""
    return f"{style or 'soft watercolor picture book, warm light'}; simple shapes, gentle colors, consistent characters"
