"""Plan edits: the structured changes a revision request turns into, checked against the plan, applied,
and compared page by page.

A ``Revision`` is a list of edits (one pydantic model per kind, unknown fields forbidden). Page numbers in
the edits refer to the plan as it was before the revision. ``check_edits`` names every edit that does
not fit the plan (a page that does not exist, an unknown character ...); ``apply_edits`` builds the new
plan by changing its inputs: a scene edit changes the page's scene, a look edit the character, a style edit
the style bible, a picture edit what the page shows. The prompts follow by composition
(``storyreel.composition``): a new look reaches every page that shows the character, a new style every
page. On a page with ``scene_sounds``, the cues its scene implied (``source="scene"``) follow its new scene
and words; the director's and the request's stay. ``diff_plans`` says what changed, page by page.

Pages keep their seeds when pages are added, removed or moved (``Page.origin``): a moved page keeps its
illustration and its clip, and the asset cache reuses them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from storyreel.composition import CODE_MOTION, illustration_prompt, scene_sfx, shown
from storyreel.errors import InputError
from storyreel.plan import Character, MusicCue, Page, Scene, SfxCue, Shot, StoryPlan
from storyreel.vocab import Camera
from storyreel.vocab import Setting as SettingName
from storyreel.vocab import TimeOfDay as TimeName
from storyreel.vocab import Weather as WeatherName


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- the edits ----------------------------------------------------------------------------------


class PageEdit(Strict):
    """An edit of one page (``page``: its number before the revision)."""

    page: int = Field(ge=1)


class SceneFields(Strict):
    """Where and when; a field left out (None) stays as it is."""

    setting: SettingName | None = None
    time_of_day: TimeName | None = None
    weather: WeatherName | None = None


class TextEdit(PageEdit):
    """New words for the narrator on one page (the picture stays as it is)."""

    op: Literal["text"] = "text"
    text: str = Field(min_length=1, description="the page's complete new text")


class SceneEdit(PageEdit, SceneFields):
    """Where and when a page happens; fields left out stay as they are."""

    op: Literal["scene"] = "scene"


class PictureEdit(PageEdit):
    """What a page's illustration shows, without the characters' looks or the style (added by the pipeline)."""

    op: Literal["picture"] = "picture"
    shows: str = Field(min_length=1)


class ShotEdit(PageEdit):
    """A page's camera move or what moves in the shot; fields left out stay as they are."""

    op: Literal["shot"] = "shot"
    camera: Camera | None = None
    motion: str | None = None


class LookEdit(Strict):
    """A character's complete new look (it reaches every page that shows the character)."""

    op: Literal["look"] = "look"
    character: str = Field(min_length=1, description="the character's name")
    look: str = Field(min_length=1)
    color: str | None = Field(None, pattern=r"^#[0-9a-fA-F]{6}$", description="new main color, #rrggbb")


class StyleEdit(Strict):
    """The style bible every illustration shares."""

    op: Literal["style"] = "style"
    style: str = Field(min_length=1)


class MusicEdit(Strict):
    """The mood (and description) of one music cue, of all of them, or of the music over some pages
    (``first_page``-``last_page``: the cues there are split so that only those pages change)."""

    op: Literal["music"] = "music"
    cue: int | None = Field(None, ge=1, description="cue number (1 = first); None: every cue")
    mood: str = Field(min_length=1)
    prompt: str = Field("", description="description for music models; empty: made from the mood")
    first_page: int | None = Field(None, ge=1, description="with last_page: only the music over these pages")
    last_page: int | None = Field(None, ge=1)


class RemoveMusicEdit(Strict):
    """No music for one cue, or for the whole film."""

    op: Literal["remove_music"] = "remove_music"
    cue: int | None = Field(None, ge=1, description="cue number; None: all music")


class AddSoundEdit(PageEdit):
    """A sound effect on a page."""

    op: Literal["add_sound"] = "add_sound"
    sound: str = Field(min_length=1, description="short name: wind, rain, waves, fire, birds, footsteps ...")
    prompt: str = ""


class RemoveSoundEdit(PageEdit):
    """Remove a page's sound effect by name, or all of them with ``sound="all"``."""

    op: Literal["remove_sound"] = "remove_sound"
    sound: str = Field(min_length=1)


class VoiceEdit(Strict):
    """The narrator's voice (``character`` empty) or a character's."""

    op: Literal["voice"] = "voice"
    character: str = Field("", description="a character's name; empty: the narrator")
    voice: str = Field(min_length=1, description="a voice name of the narration backend, e.g. en-gb+f3")


class AddCharacterEdit(Character):
    """A new character, with a fixed look; pages show them through a cast edit (or an added page)."""

    op: Literal["add_character"] = "add_character"
    color: str = Field("#8d6e63", pattern=r"^#[0-9a-fA-F]{6}$", description="main color, #rrggbb")


class CastEdit(PageEdit):
    """Who a page shows: its complete new list of characters (by name)."""

    op: Literal["cast"] = "cast"
    characters: list[str] = Field(description="the names of everyone the page shows")


class AddPageEdit(SceneFields):
    """A new page after page ``after`` (0: before the first page); its scene, where not given, is the one of
    the page before it."""

    op: Literal["add_page"] = "add_page"
    after: int = Field(ge=0)
    text: str = Field(min_length=1)
    characters: list[str] | None = Field(None, description="None: the characters of the page before it")


class RemovePageEdit(Strict):
    op: Literal["remove_page"] = "remove_page"
    page: int = Field(ge=1)


class MovePageEdit(Strict):
    """Move a page so that it becomes page ``to`` (counted after the edits before this one)."""

    op: Literal["move_page"] = "move_page"
    page: int = Field(ge=1)
    to: int = Field(ge=1)


Edit = Annotated[
    TextEdit
    | SceneEdit
    | PictureEdit
    | ShotEdit
    | LookEdit
    | StyleEdit
    | MusicEdit
    | RemoveMusicEdit
    | AddSoundEdit
    | RemoveSoundEdit
    | VoiceEdit
    | AddCharacterEdit
    | CastEdit
    | AddPageEdit
    | RemovePageEdit
    | MovePageEdit,
    Field(discriminator="op"),
]
STRUCTURAL = ("add_page", "remove_page", "move_page")


class Revision(Strict):
    """What a revision request asks for, as edits of the plan."""

    edits: list[Edit] = Field(default_factory=list, description="the changes, in order; empty: nothing to change")
    unclear: str = Field("", description="what in the request could not be understood or done; empty: nothing")


# --- checking ---------------------------------------------------------------------------------


def pages_text(count: int) -> str:
    return f"the film has {count} page{'s' if count != 1 else ''} (1–{count})" if count > 1 else "the film has 1 page"


def check_edits(plan: StoryPlan, edits: list[Edit]) -> list[str]:
    """Problems with ``edits`` against ``plan``, one sentence each; empty when they all fit."""
    problems: list[str] = []
    count = len(plan.pages)
    names = {c.name for c in plan.characters}
    removed: set[int] = set()
    length = count

    def page_exists(number: int, what: str) -> bool:
        if not 1 <= number <= count:
            problems.append(f"{what}: page {number} does not exist; {pages_text(count)}")
            return False
        if number in removed:
            problems.append(f"{what}: page {number} is removed by an earlier edit")
            return False
        return True

    structural = any(edit.op in STRUCTURAL for edit in edits)
    for edit in edits:
        what = f"{edit.op} edit"
        if isinstance(edit, PageEdit) and not page_exists(edit.page, what):
            continue
        if isinstance(edit, MusicEdit | RemoveMusicEdit) and edit.cue is not None and edit.cue > len(plan.music):
            problems.append(f"{what}: there is no music cue {edit.cue}; the film has {len(plan.music)}")
        if isinstance(edit, AddCharacterEdit):
            if edit.name in names:
                problems.append(f"{what}: there already is a character {edit.name!r}")
            names.add(edit.name)
        elif isinstance(edit, CastEdit):
            unknown = [n for n in edit.characters if n not in names]
            if unknown:
                problems.append(f"{what}: unknown characters {unknown}; characters: {', '.join(sorted(names))}")
        elif isinstance(edit, MusicEdit) and (edit.first_page, edit.last_page) != (None, None):
            first, last = edit.first_page or edit.last_page, edit.last_page or edit.first_page
            if not 1 <= first <= last <= count:
                problems.append(f"{what}: pages {first}-{last} are not pages of the film; {pages_text(count)}")
            elif structural:
                problems.append(
                    f"{what}: music over some pages cannot be changed while pages are added, removed "
                    "or moved; ask for it in a revision of its own"
                )
            elif not plan.music:
                problems.append(f"{what}: the film has no music")
        elif isinstance(edit, RemoveSoundEdit):
            sounds = [c.sound for c in plan.pages[edit.page - 1].sfx]
            if edit.sound != "all" and edit.sound not in sounds:
                problems.append(
                    f"{what}: page {edit.page} has no sound {edit.sound!r}; its sounds: {', '.join(sounds) or 'none'}"
                )
        elif isinstance(edit, LookEdit) or (isinstance(edit, VoiceEdit) and edit.character):
            if edit.character not in names:
                problems.append(
                    f"{what}: there is no character {edit.character!r}; characters: {', '.join(sorted(names))}"
                )
        elif isinstance(edit, AddPageEdit):
            if edit.after > count:
                problems.append(f"{what}: cannot add a page after page {edit.after}; {pages_text(count)}")
            unknown = [n for n in edit.characters or [] if n not in names]
            if unknown:
                problems.append(f"{what}: unknown characters {unknown}; characters: {', '.join(sorted(names))}")
            length += 1
        elif isinstance(edit, RemovePageEdit):
            if page_exists(edit.page, what):
                removed.add(edit.page)
                length -= 1
                if length < 1:
                    problems.append(f"{what}: a film needs at least one page")
        elif isinstance(edit, MovePageEdit):
            page_exists(edit.page, what)
            if edit.to > length:
                problems.append(f"{what}: cannot move a page to position {edit.to}; the film will have {length} pages")
    return problems


# --- applying ---------------------------------------------------------------------------------


@dataclass
class _Slot:
    """A page while edits are applied: its inputs, and where it came from."""

    page: Page
    was: int | None  # its number in the plan before the edits; None for an added page
    seed: int  # its seed number


def apply_edits(plan: StoryPlan, edits: list[Edit]) -> StoryPlan:
    """The plan with ``edits`` applied (its ``version`` unchanged: the caller numbers versions).

    Raises:
        InputError: an edit does not fit the plan (the message names each problem); nothing is changed.
    """
    problems = check_edits(plan, edits)
    if problems:
        raise InputError("; ".join(problems))
    # 1. working copies: characters, style, and one slot per page that remembers where it came from
    characters = {c.name: c.model_copy() for c in plan.characters}
    style = plan.style_bible
    narrator = plan.narrator_voice
    cues = dict(enumerate(plan.music))  # by their index in the plan, so that they follow their pages
    slots = [_Slot(page=page.model_copy(deep=True), was=page.number, seed=page.seed_number) for page in plan.pages]
    by_number = {slot.was: slot for slot in slots}
    next_seed = max(slot.seed for slot in slots) + 1

    # 2. the edits, in order, on the plan's inputs; page numbers name pages as they were before the revision
    for edit in edits:
        if isinstance(edit, PageEdit):
            page = by_number[edit.page].page
        if isinstance(edit, TextEdit):
            page.text = " ".join(edit.text.split())
        elif isinstance(edit, SceneEdit):
            old = page.scene
            page.scene = Scene(
                setting=edit.setting or old.setting,
                time_of_day=edit.time_of_day or old.time_of_day,
                weather=edit.weather or old.weather,
            )
        elif isinstance(edit, PictureEdit):
            page.shows, page.prompt = edit.shows, ""
        elif isinstance(edit, ShotEdit):
            page.shot.camera = edit.camera or page.shot.camera
            page.shot.motion = page.shot.motion if edit.motion is None else edit.motion
        elif isinstance(edit, LookEdit):
            update = {"look": edit.look} | ({"color": edit.color} if edit.color else {})
            characters[edit.character] = characters[edit.character].model_copy(update=update)
        elif isinstance(edit, StyleEdit):
            style = edit.style
        elif isinstance(edit, MusicEdit) and (edit.first_page, edit.last_page) != (None, None):
            first, last = edit.first_page or edit.last_page, edit.last_page or edit.first_page
            cues = dict(enumerate(_music_over(list(cues.values()), first, last, edit.mood, edit.prompt)))
        elif isinstance(edit, MusicEdit):
            for index, cue in cues.items():
                if edit.cue in (None, index + 1) and (cue.mood != edit.mood or edit.prompt):
                    prompt = edit.prompt or f"{edit.mood} children's film score"
                    cues[index] = cue.model_copy(update={"mood": edit.mood, "prompt": prompt})
        elif isinstance(edit, RemoveMusicEdit):
            cues = {index: cue for index, cue in cues.items() if edit.cue not in (None, index + 1)}
        elif isinstance(edit, AddSoundEdit):
            page.sfx.append(SfxCue(sound=edit.sound, prompt=edit.prompt or edit.sound, gain_db=-24, source="request"))
        elif isinstance(edit, RemoveSoundEdit):
            page.sfx = [] if edit.sound == "all" else [c for c in page.sfx if c.sound != edit.sound]
            page.scene_sounds = False  # the reader chose the page's sounds: they no longer follow its scene
        elif isinstance(edit, AddCharacterEdit):
            characters[edit.name] = Character(**edit.model_dump(exclude={"op"}))
        elif isinstance(edit, CastEdit):
            page.characters = list(dict.fromkeys(edit.characters))
        elif isinstance(edit, VoiceEdit):
            if edit.character:
                characters[edit.character] = characters[edit.character].model_copy(update={"voice": edit.voice})
            else:
                narrator = edit.voice
        elif isinstance(edit, AddPageEdit):
            slots.insert(_position_after(slots, edit.after, by_number), _new_slot(edit, slots, by_number, next_seed))
            next_seed += 1
        elif isinstance(edit, RemovePageEdit):
            slots.remove(by_number[edit.page])
        elif isinstance(edit, MovePageEdit):
            slot = by_number[edit.page]
            slots.remove(slot)
            slots.insert(edit.to - 1, slot)
        # the sounds a page's scene and words implied follow them (a scene edit at the beach: waves)
        if isinstance(edit, TextEdit | SceneEdit) and page.scene_sounds:
            others = [c for c in page.sfx if c.source != "scene"]
            page.sfx = scene_sfx(page.scene, page.text) + others

    # 3. number the pages and map the music onto them
    pages = [
        slot.page.model_copy(update={"number": number, "origin": slot.seed if slot.seed != number else None})
        for number, slot in enumerate(slots, start=1)
    ]
    structural = any(edit.op in STRUCTURAL for edit in edits)
    music = _remap_music(plan, cues, slots) if structural else [cues[i] for i in sorted(cues)]
    # the user's own pictures stay with their pages
    pictures = {
        number: plan.brief.page_images[s.was] for number, s in enumerate(slots, 1) if s.was in plan.brief.page_images
    }
    data = plan.model_dump(mode="json") | {
        "brief": plan.brief.model_dump(mode="json") | {"page_images": pictures},
        "characters": [c.model_dump(mode="json") for c in characters.values()],
        "style_bible": style,
        "narrator_voice": narrator,
        "pages": [p.model_dump(mode="json") for p in pages],
        "music": [c.model_dump(mode="json") for c in music],
    }
    try:
        return StoryPlan.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"the revised plan is not valid: {exc.errors()[0]['msg']}") from None


def with_page_images(plan: StoryPlan, pictures: dict[int, str]) -> StoryPlan:
    """The plan with the user's own pictures (page number -> file) as those pages' illustrations."""
    for number in pictures:
        if not 1 <= number <= len(plan.pages):
            raise InputError(
                f"page image for page {number}: page {number} does not exist; {pages_text(len(plan.pages))}"
            )
    brief = plan.brief.model_copy(update={"page_images": {**plan.brief.page_images, **pictures}})
    return plan.model_copy(update={"brief": brief})


def _position_after(slots: list[_Slot], after: int, by_number: dict[int | None, _Slot]) -> int:
    """Where a page added after page ``after`` (as numbered before the revision) goes in ``slots``."""
    if after == 0:
        return 0
    anchor = by_number[after]
    if anchor in slots:
        return slots.index(anchor) + 1
    # the page it follows was removed: after the nearest earlier page still there
    earlier = [by_number[n] for n in range(after - 1, 0, -1) if by_number[n] in slots]
    return slots.index(earlier[0]) + 1 if earlier else 0


def _new_slot(edit: AddPageEdit, slots: list[_Slot], by_number: dict[int | None, _Slot], seed: int) -> _Slot:
    """A page written from an add-page edit, directed as the code-built direction does: it shows what its
    text says, with the scene's sounds and the camera of the page before it."""
    before = by_number.get(edit.after) or (slots[0] if slots else None)
    scene = before.page.scene if before else Scene()
    scene = Scene(
        setting=edit.setting or scene.setting,
        time_of_day=edit.time_of_day or scene.time_of_day,
        weather=edit.weather or scene.weather,
    )
    text = " ".join(edit.text.split())
    page = Page(
        number=1,
        text=text,
        scene=scene,
        characters=list(edit.characters if edit.characters is not None else (before.page.characters if before else [])),
        shows=text,
        shot=Shot(motion=CODE_MOTION, camera=before.page.shot.camera if before else "zoom_in"),
        sfx=scene_sfx(scene, text),
        scene_sounds=True,
    )
    return _Slot(page=page, was=None, seed=seed)


def _music_over(cues: list[MusicCue], first: int, last: int, mood: str, prompt: str) -> list[MusicCue]:
    """The cues with the music over pages ``first``-``last`` in ``mood``: a cue reaching outside the span is
    split, the pieces inside it take the mood; neighbouring cues that end up alike become one."""
    prompt = prompt or f"{mood} children's film score"
    pieces: list[MusicCue] = []
    for cue in cues:
        before, inside = (
            (cue.first_page, min(cue.last_page, first - 1)),
            (max(cue.first_page, first), min(cue.last_page, last)),
        )
        spans = [before, inside, (max(cue.first_page, last + 1), cue.last_page)]
        for index, (a, b) in enumerate(spans):
            if a <= b:
                update = {"first_page": a, "last_page": b} | ({"mood": mood, "prompt": prompt} if index == 1 else {})
                pieces.append(cue.model_copy(update=update))
    merged: list[MusicCue] = []
    for cue in pieces:
        before = merged[-1] if merged else None
        if before and (before.mood, before.prompt) == (cue.mood, cue.prompt) and before.last_page + 1 == cue.first_page:
            merged[-1] = before.model_copy(update={"last_page": cue.last_page})
        else:
            merged.append(cue)
    return merged


def _remap_music(plan: StoryPlan, cues: dict[int, MusicCue], slots: list[_Slot]) -> list[MusicCue]:
    """Music cues over the new page order: each page keeps the cue it had (an added page takes the cue of
    the page before it, or after it at the start); neighbouring pages under one cue share one cue."""
    cue_of: dict[int, int] = {}
    for index, cue in enumerate(plan.music):
        for number in range(cue.first_page, cue.last_page + 1):
            cue_of.setdefault(number, index)
    owners = [cue_of.get(slot.was) if slot.was else None for slot in slots]
    for i in range(len(owners)):  # added pages: the cue before them
        if slots[i].was is None and i > 0:
            owners[i] = owners[i - 1]
    for i in reversed(range(len(owners))):  # an added first page: the cue after it
        if slots[i].was is None and owners[i] is None and i + 1 < len(owners):
            owners[i] = owners[i + 1]
    result: list[MusicCue] = []
    previous: int | None = None
    for number, owner in enumerate(owners, start=1):
        if owner is not None and owner in cues:
            if owner == previous:
                result[-1] = result[-1].model_copy(update={"last_page": number})
            else:
                result.append(cues[owner].model_copy(update={"first_page": number, "last_page": number}))
        previous = owner if owner in cues else None
    return result


# --- what changed ---------------------------------------------------------------------------


def _quote(text: str, limit: int = 160) -> str:
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return f"“{text}”"


def _voice(voice: str) -> str:
    return voice or "the default"


def _changed_fields(prefix: str, fields: tuple, old: BaseModel, new: BaseModel) -> list[str]:
    """ "<prefix><label>: <old> → <new>" for each (label, field, shown as) whose value changed."""
    changed = [(label, show, getattr(old, name), getattr(new, name)) for label, name, show in fields]
    return [f"{prefix}{label}: {show(a)} → {show(b)}" for label, show, a, b in changed if a != b]


def _pairs(old: list, new: list, key: Any) -> list[tuple[Any, Any]]:
    """(the old item or None, the new item) for each new item, matched by ``key``."""
    before = {key(item): item for item in old}
    return [(before.get(key(item)), item) for item in new]


def diff_plans(old: StoryPlan, new: StoryPlan) -> list[str]:
    """What changed from ``old`` to ``new``, as readable lines: the whole film first, then page by page.
    Pages are matched by their seeds, so a moved page reads as moved, not as rewritten. Empty: no change."""
    lines: list[str] = []
    # 1. the whole film: title, style, voices, characters, music
    film = (("title", "title", _quote), ("style", "style_bible", _quote), ("narrator voice", "narrator_voice", _voice))
    lines += _changed_fields("", film, old, new)
    fields = (("look", "look", _quote), ("color", "color", str), ("voice", "voice", _voice))
    for was, character in _pairs(old.characters, new.characters, lambda c: c.name):
        name = character.name
        new_one = [f"{name}: new character: {_quote(character.look)}"]
        lines += new_one if was is None else _changed_fields(f"{name}'s ", fields, was, character)
    names = {c.name for c in new.characters}
    lines += [f"{c.name}: removed" for c in old.characters if c.name not in names]
    if old.music != new.music:
        lines += _music_lines(old.music, new.music)

    # 2. page by page
    for was_page, page in _pairs(old.pages, new.pages, lambda p: p.seed_number):
        if was_page is None:
            lines.append(f"page {page.number}: new page: {_quote(page.text)}")
            continue
        changes = _page_changes(old, was_page, new, page)
        picture = new.brief.page_images.get(page.number)
        if picture != old.brief.page_images.get(was_page.number):
            changes.append(f"illustration: your picture {Path(picture).name}" if picture else "illustration: generated")
        if changes:
            lines.append(f"page {page.number}: " + "; ".join(changes))
    kept = {p.seed_number for p in new.pages}
    lines += [f"page {p.number} removed: {_quote(p.text)}" for p in old.pages if p.seed_number not in kept]
    return lines


def _music_lines(old: list[MusicCue], new: list[MusicCue]) -> list[str]:
    def span(cue: MusicCue) -> str:
        first, last = cue.first_page, cue.last_page
        return f"page {first}" if first == last else f"pages {first}–{last}"

    def name(index: int, cue: MusicCue) -> str:
        return f"music cue {index} ({span(cue)})"

    lines = []
    for index in range(1, max(len(old), len(new)) + 1):
        a = old[index - 1] if index <= len(old) else None
        b = new[index - 1] if index <= len(new) else None
        if a == b:
            continue
        if b is None:
            lines.append(f"{name(index, a)}: removed ({a.mood})")
        elif a is None:
            lines.append(f"{name(index, b)}: new, {b.mood}")
        else:
            parts = []
            if a.mood != b.mood:
                parts.append(f"mood {a.mood} → {b.mood}")
            if (a.first_page, a.last_page) != (b.first_page, b.last_page):
                parts.append(f"was {span(a)}")
            if a.prompt != b.prompt and a.mood == b.mood:
                parts.append(f"description {_quote(a.prompt)} → {_quote(b.prompt)}")
            lines.append(f"{name(index, b)}: {', '.join(parts) or 'changed'}")
    return lines


def _page_changes(old_plan: StoryPlan, old: Page, new_plan: StoryPlan, new: Page) -> list[str]:
    changes = []
    if old.number != new.number:
        changes.append(f"was page {old.number}")
    if old.text != new.text:
        changes.append(f"text {_quote(old.text)} → {_quote(new.text)}")
    if old.scene != new.scene:
        a, b = old.scene, new.scene
        changes.append(f"scene {a.setting}, {a.time_of_day}, {a.weather} → {b.setting}, {b.time_of_day}, {b.weather}")
    if old.characters != new.characters:
        changes.append(f"shows {', '.join(old.characters) or 'nobody'} → {', '.join(new.characters) or 'nobody'}")
    if shown(old) != shown(new) and not old.prompt and not new.prompt:
        changes.append(f"picture {_quote(shown(old))} → {_quote(shown(new))}")
    elif old.prompt != new.prompt:
        changes.append("illustration prompt rewritten" if new.prompt else "illustration prompt composed")
    elif illustration_prompt(old_plan, old) != illustration_prompt(new_plan, new):
        old_looks = {c.name: c.look for c in old_plan.characters}
        new_looks = {c.name: c.look for c in new_plan.characters}
        why = [f"{n}'s look" for n in new.characters if old_looks.get(n) != new_looks.get(n)]
        why += ["the style"] if old_plan.style_bible != new_plan.style_bible else []
        if why:  # a new scene or cast is named above
            changes.append(f"illustration prompt ({', '.join(why)})")
    if old.shot.camera != new.shot.camera:
        changes.append(f"camera {old.shot.camera} → {new.shot.camera}")
    if old.shot.motion != new.shot.motion:
        changes.append(f"motion {_quote(old.shot.motion)} → {_quote(new.shot.motion)}")
    if old.sfx != new.sfx:
        a = ", ".join(c.sound for c in old.sfx) or "none"
        b = ", ".join(c.sound for c in new.sfx) or "none"
        changes.append(f"sounds {a} → {b}" if a != b else "sound cues adjusted")
    return changes
