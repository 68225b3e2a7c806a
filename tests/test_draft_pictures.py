"""Issue 14, the picture side of the offline draft: the new settings and their ambient sounds, every species
drawn as itself, the style drawn, and a character's new look recolouring that character only."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from storyreel.generators.base import ImageRequest, SfxRequest
from storyreel.generators.drawing.canvas import Look, Painter
from storyreel.generators.drawing.characters import HUMANS, SPECIES, _sprite, main_colour, species_drawing
from storyreel.generators.drawing.settings import SETTING_PAINTERS
from storyreel.generators.drawing.styles import STYLES, style_of
from storyreel.generators.preview_image import PreviewIllustrator, _paint_weather, _scenery_words
from storyreel.generators.sfx_synth import RECIPES, SynthSfx, effects_for
from storyreel.media import read_wav
from storyreel.plan import SETTINGS, Character, Scene, SfxCue
from storyreel.vocab import SPECIES as SPECIES_WORDS

NEW_SETTINGS = ("underwater", "shop", "library", "school", "snowfield", "desert", "space")
# the sound each new setting's ambience is made with (the art director's sfx_for names it)
SETTING_SOUNDS = {
    "underwater": "underwater", "shop": "shop", "library": "library", "school": "school",
    "snowfield": "snow", "desert": "desert", "space": "space",
}  # fmt: skip
# the species words the writer knows (agents/writer.py SPECIES), plus the squid of the issue
VOCABULARY = (
    "dragon", "fox", "rabbit", "bunny", "bear", "cat", "kitten", "dog", "puppy", "bird", "owl", "duck",
    "penguin", "fish", "whale", "turtle", "frog", "mouse", "elephant", "lion", "tiger", "monkey", "pig",
    "unicorn", "horse", "pony", "robot", "girl", "boy", "child", "princess", "prince", "knight", "wizard",
    "witch", "giant", "troll", "squirrel", "hedgehog", "deer", "wolf", "octopus", "snail", "bee", "ladybug",
    "squid",
)  # fmt: skip
PIP = Character(name="Pip", look="a small green dragon", species="dragon", color="#4caf50")
MIA = Character(name="Mia", look="a girl in a red coat", species="girl", color="#d9534f")


def render(tmp_path: Path, name: str, width: int = 160, height: int = 90, **fields: object) -> np.ndarray:
    request = {"prompt": "Pip and Mia on a page", "width": width, "height": height, "seed": 5, **fields}
    out = tmp_path / name
    PreviewIllustrator().generate(ImageRequest(**request), out)
    return np.asarray(Image.open(out).convert("RGB"), dtype=np.int16)


def mad(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean())


# --- settings ------------------------------------------------------------------------------------


def test_the_new_settings_are_in_the_plan_and_painted() -> None:
    assert set(NEW_SETTINGS) <= set(SETTINGS)
    assert set(SETTINGS) == set(SETTING_PAINTERS)


def test_each_new_setting_renders_at_720p_deterministically(tmp_path: Path) -> None:
    for setting in NEW_SETTINGS:
        fields = {"scene": Scene(setting=setting), "characters": [PIP, MIA]}
        first = tmp_path / f"{setting}-1.png"
        second = tmp_path / f"{setting}-2.png"
        for out in (first, second):
            PreviewIllustrator().generate(ImageRequest(prompt="a page", width=1280, height=720, **fields), out)
        assert first.read_bytes() == second.read_bytes(), f"{setting} is not deterministic"
        with Image.open(first) as image:
            assert image.size == (1280, 720)
            assert np.asarray(image).std() > 20, f"{setting} came out flat"


def test_every_setting_has_its_own_layout(tmp_path: Path) -> None:
    # without characters and in plain daylight, any two settings' pictures differ clearly
    pictures = {s: render(tmp_path, f"{s}.png", scene=Scene(setting=s), characters=[]) for s in SETTINGS}
    for a, b in itertools.combinations(SETTINGS, 2):
        if a in NEW_SETTINGS or b in NEW_SETTINGS:
            assert mad(pictures[a], pictures[b]) > 12, f"{a} and {b} look alike"


def test_under_the_sea_and_in_space_no_weather_falls() -> None:
    for setting, weather in itertools.product(("underwater", "space", "meadow"), ("rain", "snow", "fog", "storm")):
        scene = Scene(setting=setting, weather=weather)
        canvas = Image.new("RGB", (160, 90), (0, 0, 0))
        p = Painter(canvas, Look.of(scene), np.random.default_rng(0))
        stage = SETTING_PAINTERS[setting](p)
        before = np.asarray(canvas).copy()
        _paint_weather(p, scene, stage)
        changed = np.abs(np.asarray(canvas).astype(int) - before).sum()
        assert (changed == 0) == (setting != "meadow"), f"{weather} {setting}"


@pytest.mark.parametrize("setting", NEW_SETTINGS)
def test_each_new_setting_has_its_own_ambient_sound(tmp_path: Path, setting: str) -> None:
    sound = SETTING_SOUNDS[setting]
    assert sound in RECIPES and effects_for(sound) == [sound]
    out = tmp_path / f"{sound}.wav"
    SynthSfx().make(SfxRequest(cue=SfxCue(sound=sound), duration=3.0, seed=1), out)
    samples, _ = read_wav(out)
    assert samples.shape[0] == 3 * 48000 and np.sqrt((samples**2).mean()) > 0.01  # audible, not silence


def test_the_ambiences_sound_different() -> None:
    def spectrum(name: str) -> np.ndarray:
        sound = RECIPES[name](np.random.default_rng(0), 48000 * 2).mean(axis=1)
        bands = np.abs(np.fft.rfft(sound))[:48000].reshape(-1, 100).sum(axis=1)[:160]  # 50 Hz bands to 8 kHz
        return bands / bands.sum()

    spectra = {name: spectrum(name) for name in sorted(set(SETTING_SOUNDS.values()))}
    for a, b in itertools.combinations(spectra, 2):
        assert np.abs(spectra[a] - spectra[b]).sum() > 0.3, f"{a} and {b} sound alike"


# --- species -------------------------------------------------------------------------------------


def silhouette(species: str, colour: str = "#e07030") -> np.ndarray:
    """The drawing's mask, cropped to its bounding box and scaled to 48x48."""
    sprite = _sprite(Character(name="X", look="x", species=species, color=colour), 120, 2)
    alpha = sprite.image.getchannel("A")
    return np.asarray(alpha.crop(alpha.getbbox()).resize((48, 48)), np.float32) > 127


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def test_every_vocabulary_species_has_a_drawing_of_its_own() -> None:
    for word in (*VOCABULARY, *SPECIES_WORDS):
        assert species_drawing(word)[0] != "creature", f"{word} is drawn as an unknown creature"
    # a species is drawn as itself, or as the same animal younger (a puppy is a dog) or as a human
    young = {"bunny": "rabbit", "kitten": "cat", "puppy": "dog", "pony": "horse", "hen": "chicken"}
    for word in SPECIES_WORDS:
        assert species_drawing(word)[0] in (word, young.get(word)) or species_drawing(word)[0] in HUMANS, word
    animals = sorted({species_drawing(w)[0] for w in SPECIES_WORDS} - HUMANS | {"creature"})
    assert len(animals) >= 69  # every animal and made-up being of the vocabulary (68), and the creature
    masks = {kind: silhouette(kind) for kind in animals}
    for a, b in itertools.combinations(animals, 2):
        assert iou(masks[a], masks[b]) < 0.85, f"{a} and {b} share a silhouette"


def test_a_squid_has_arms_and_an_unknown_species_is_a_generic_creature() -> None:
    assert species_drawing("squid")[0] == "squid" and species_drawing("octopuses")[0] == "octopus"
    assert species_drawing("zorblax")[0] == "creature" and species_drawing("space wombat")[0] == "creature"
    squid = silhouette("squid")
    # the arms: at the bottom of the drawing the mask is broken into many separate strands
    strands = ndimage.label(squid[-6])[1]
    assert strands >= 4
    assert ndimage.label(silhouette("creature")[-6])[1] <= 2  # the creature stands on two feet
    for kind in SPECIES:  # and the creature is like no animal
        if kind != "creature":
            assert iou(silhouette("creature"), silhouette(kind)) < 0.85, kind


def test_two_characters_on_a_page_are_both_drawn_facing_each_other(tmp_path: Path) -> None:
    duck = Character(name="Dot", look="a duck", species="duck", color="#fdd835")
    both = [duck, duck.model_copy(update={"name": "Dan"})]
    fields = {"width": 480, "height": 270, "prompt": "a page"}
    figures = np.abs(render(tmp_path, "two.png", characters=both, **fields) - render(tmp_path, "none.png", **fields))
    labels, count = ndimage.label(figures.sum(axis=2) > 40)
    sizes = ndimage.sum(np.ones_like(labels), labels, range(1, count + 1))
    big = [i + 1 for i in np.argsort(sizes)[::-1][:2]]
    assert len(big) == 2 and sizes[big[1] - 1] > 500, "both characters are drawn"
    left, right = sorted(big, key=lambda k: ndimage.center_of_mass(labels == k)[1])
    drawn = silhouette("duck", "#fdd835")  # drawn facing right: its bill on the right

    def mask(k: int) -> np.ndarray:
        region = Image.fromarray((labels == k).astype(np.uint8) * 255)
        return np.asarray(region.crop(region.getbbox()).resize((48, 48)), np.float32) > 127

    assert iou(mask(left), drawn) > iou(mask(left), drawn[:, ::-1])  # the left one faces right
    assert iou(mask(right), drawn[:, ::-1]) > iou(mask(right), drawn)  # the right one faces left


# --- styles --------------------------------------------------------------------------------------


def test_style_words_pick_a_style() -> None:
    assert style_of("") == "watercolour"
    assert style_of("soft watercolor picture book, warm light; simple shapes, gentle colors") == "watercolour"
    assert style_of("use a crayon drawing style") == "crayon"
    assert style_of("a pencil sketch") == "pencil"
    assert style_of("paper cut-out collage") == "cutout"
    assert style_of("flat vector art") == "vector"
    assert style_of("night-light pastel, sleepy") == "pastel"
    assert style_of("pastel crayons") == "pastel"  # the style named first wins


def test_styles_render_visibly_differently(tmp_path: Path) -> None:
    words = {"watercolour": "", "crayon": "crayon", "pencil": "pencil sketch", "cutout": "paper cut-out",
             "vector": "flat vector", "pastel": "night-light pastel"}  # fmt: skip
    assert set(words) == set(STYLES)
    scene = Scene(setting="room")
    pictures = {k: render(tmp_path, f"{k}.png", style=w, scene=scene, characters=[PIP, MIA]) for k, w in words.items()}
    for a, b in itertools.combinations(STYLES, 2):
        assert mad(pictures[a], pictures[b]) > 4, f"{a} and {b} look alike"
    # the default style is the page as it was painted before styles existed: watercolour names change nothing
    again = render(tmp_path, "wc.png", style="soft watercolor picture book", scene=scene, characters=[PIP, MIA])
    assert np.array_equal(again, pictures["watercolour"])
    assert pictures["pencil"].std(axis=2).mean() < 0.5 * pictures["watercolour"].std(axis=2).mean()  # greyish


# --- a character's colour is that character's only -----------------------------------------------


@pytest.mark.parametrize(
    "change",
    [{"look": "a small red dragon"}, {"look": "a small dragon", "color": "#e53935"}],
    ids=["look words", "colour"],
)
def test_a_new_look_recolours_that_character_only(tmp_path: Path, change: dict[str, str]) -> None:
    style = "soft watercolor picture book, warm light; simple shapes, gentle colors, consistent characters"
    green = PIP if "color" not in change else PIP.model_copy(update={"look": "a small dragon"})
    red = PIP.model_copy(update=change)
    mia = MIA

    def page(pip: Character, name: str, characters: bool = True) -> np.ndarray:
        prompt = f"{style}. Pip and Mia in the room at night: they read. Pip: {pip.look}. Mia: {mia.look}."
        cast = [pip, mia] if characters else []
        if not characters:  # the same page without the characters: the prompt without their looks
            prompt = prompt.replace(pip.look, "").replace(mia.look, "")
        scene = Scene(setting="room", time_of_day="night")
        return render(tmp_path, name, 320, 180, prompt=prompt, style=style, scene=scene, characters=cast)

    before, after, bare = page(green, "green.png"), page(red, "red.png"), page(green, "bare.png", False)
    changed = np.abs(before - after).sum(axis=2) > 0
    assert changed.sum() > 200, "the dragon was recoloured"
    # Pip's bounding box: the figure on the page nearest the changed pixels
    figures, _ = ndimage.label(np.abs(before - bare).sum(axis=2) > 30)
    ys, xs = np.nonzero(changed)
    pip = np.bincount(figures[ys, xs][figures[ys, xs] > 0]).argmax()
    top, left = np.argwhere(figures == pip).min(axis=0)
    bottom, right = np.argwhere(figures == pip).max(axis=0)
    assert ys.min() >= top - 2 and ys.max() <= bottom + 2 and xs.min() >= left - 2 and xs.max() <= right + 2
    assert right - left < 0.4 * 320  # a character, not the whole picture


def test_the_scenery_ignores_the_style_and_the_looks_in_the_prompt() -> None:
    one = ImageRequest(prompt="crayon style. Pip reads. Pip: a green dragon.", width=8, height=8, style="crayon style",
                       characters=[PIP.model_copy(update={"look": "a green dragon"})])  # fmt: skip
    two = ImageRequest(prompt="pencil. Pip reads. Pip: a red dragon.", width=8, height=8, style="pencil",
                       characters=[PIP.model_copy(update={"look": "a red dragon"})])  # fmt: skip
    assert _scenery_words(one) == _scenery_words(two)
    other_page = one.model_copy(update={"prompt": "crayon style. Pip sleeps. Pip: a green dragon."})
    assert _scenery_words(other_page) != _scenery_words(one)


def test_the_colour_a_look_gives_the_character_itself() -> None:
    def colour(look: str, species: str, color: str = "#123456") -> str:
        return main_colour(Character(name="X", look=look, species=species, color=color))

    assert colour("a small green dragon with golden wings", "dragon") == "#4caf50"
    assert colour("a curious purple squid", "squid") == "#8e24aa"
    assert colour("a girl in a red coat", "girl") == "#123456"  # the coat is red, not the girl
    assert colour("a tall dragon", "dragon") == "#123456"


def test_the_default_page_is_painted_as_before(tmp_path: Path) -> None:
    # watercolour, looks that give no colour of their own: the page of backend version 1, byte for byte
    # (the digest of a render made before issue 14's changes)
    import hashlib

    scene = Scene(setting="room", time_of_day="dusk")
    out = tmp_path / "room.png"
    request = ImageRequest(prompt="Pip and Mia play", width=320, height=180, seed=4, scene=scene, characters=[PIP, MIA])
    PreviewIllustrator().generate(request, out)
    assert hashlib.md5(out.read_bytes()).hexdigest() == "ba0da32aa40a92058fd4ad40045776e4"
