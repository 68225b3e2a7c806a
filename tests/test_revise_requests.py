"""The kinds of change a reader asks for, on both paths: a scripted chat model answers with structured edits,
the offline model with its rules, or with page rewrites when the rules do not know the request.

These tests are fast: the offline model's loader fails if it is called (rules-only requests must not load
the model), and the rewrite checks run on a scripted completion model. Real loads of the bundled model are
in test_revise_offline.py (slow)."""

from __future__ import annotations

import pytest
from langchain_core.language_models.fake import FakeListLLM

from storyreel.agents.art_director import build_plan
from storyreel.agents.llm import ScriptedChatModel
from storyreel.agents.offline import OfflineModel
from storyreel.agents.offline.rules import parse_request
from storyreel.agents.reviser import understand_request
from storyreel.config import LLMSection
from storyreel.edits import AddCharacterEdit, CastEdit, MusicEdit, TextEdit, apply_edits, diff_plans
from storyreel.errors import InputError
from storyreel.plan import Brief, Direction, StoryDraft, StoryPlan

from .conftest import notes_of, story_answers  # noqa: TID252

PAGES = 6  # Pip on every page, Olo on the even ones; one music cue, calm, over pages 1-6


def plan_of(pages: int = PAGES) -> StoryPlan:
    draft, _, direction = story_answers(pages=pages)
    brief = Brief(prompt="A little dragon", pages=pages)
    return build_plan(brief, StoryDraft.model_validate(draft), Direction.model_validate(direction))


def no_model() -> OfflineModel:
    """The offline model, for requests that must not load it: its loader fails the test."""

    def load():
        raise AssertionError("the offline model was loaded for a request the rules read")

    return OfflineModel(load)


def writing(*answers: str) -> OfflineModel:
    """The offline model with a scripted completion model in place of the bundled one (its answers in order)."""
    return OfflineModel.of(FakeListLLM(responses=list(answers)))


SETTINGS = LLMSection(retries=2)
DIALOGUE = 'Page 3 of the story: Pip takes a brave step. "I am not afraid," said Pip.'
HAPPIER = "Pip laughed and danced in the warm light, happy at last."
LONGER = "Pip takes a brave step into the forest, and then another."
MEETS = "Pip met a tiny mouse called Bo, who squeaked hello."


# --- each kind of change, through a scripted chat model and through the offline model -------------------

# (request, the chat model's edits, the offline model's completions (none: rules only), a check of the new plan)
KINDS = [
    (
        "dialogue added to a page",
        'On page 3, have Pip say "I am not afraid"',
        [{"op": "text", "page": 3, "text": DIALOGUE}],
        ['," said Pip.'],  # the page goes on with the words the request quotes, the model from there
        lambda old, new: new.pages[2].text == DIALOGUE and new.pages[2].characters == ["Pip"],
    ),
    (
        "a new character on one page",
        "on page 3, have Pip say hello to an owl called Hoo",
        [
            {"op": "add_character", "name": "Hoo", "look": "a small brown owl", "species": "owl"},
            {"op": "cast", "page": 3, "characters": ["Pip", "Hoo"]},
            {"op": "text", "page": 3, "text": 'Pip met Hoo the owl. "Hello!" said Pip.'},
        ],
        [', Hoo!" said Pip to an owl called Hoo.'],
        lambda old, new: (
            [p.characters for p in new.pages]
            == [["Pip"], ["Pip", "Olo"], ["Pip", "Hoo"]] + [p.characters for p in old.pages[3:]]
            and "Hoo" in new.pages[2].text
            and "hello" in new.pages[2].text.lower()
            and new.character("Hoo").species == "owl"
        ),
    ),
    (
        "a page made shorter",
        "make page 2 shorter",
        [{"op": "text", "page": 2, "text": "Pip stepped."}],
        ["Page 2 of the story: Pip takes a brave step, slowly.", "Pip stepped ahead."],  # the first: not shorter
        lambda old, new: len(new.pages[1].text.split()) < len(old.pages[1].text.split()),
    ),
    (
        "a page made longer",
        "make page 2 longer",
        [{"op": "text", "page": 2, "text": LONGER}],
        [LONGER],
        lambda old, new: len(new.pages[1].text.split()) > len(old.pages[1].text.split()),
    ),
    (
        "a page made happier",
        "make page 4 happier",
        [{"op": "text", "page": 4, "text": HAPPIER}],
        ["Page 4 of the story: Pip takes a brave step.", HAPPIER],  # the first is the old text again
        lambda old, new: new.pages[3].text == HAPPIER,
    ),
    (
        "a page made sadder",
        "page 5 should be sadder",
        [{"op": "text", "page": 5, "text": "Pip sat alone and cried."}],
        ["Pip sat alone in the dark and cried a little."],
        lambda old, new: "cried" in new.pages[4].text and new.pages[:4] == old.pages[:4],
    ),
    (
        "a page added after another with a described event",
        "add a page after page 2 where Pip meets a mouse called Bo",
        [
            {"op": "add_character", "name": "Bo", "look": "a tiny grey mouse", "species": "mouse"},
            {"op": "add_page", "after": 2, "text": MEETS, "characters": ["Pip", "Bo"]},
        ],
        [MEETS],
        lambda old, new: (
            len(new.pages) == PAGES + 1
            and new.pages[2].text == MEETS
            and new.pages[2].characters[-1] == "Bo"
            and [p.seed_number for p in new.pages] == [1, 2, 7, 3, 4, 5, 6]
        ),
    ),
    (
        "the ending changed",
        "change the ending so that Pip flies home",
        [{"op": "text", "page": 6, "text": "Pip spread his wings and flew all the way home."}],
        ["Pip spread his wings and flew all the way home."],
        lambda old, new: "flew" in new.pages[5].text and new.pages[:5] == old.pages[:5],
    ),
    (
        "a character's look",
        "make the owl blue",
        [{"op": "look", "character": "Olo", "look": "a round blue owl with big amber eyes", "color": "#1e88e5"}],
        None,
        lambda old, new: new.character("Olo").look == "a round blue owl with big amber eyes",
    ),
    (
        "the style",
        "use a crayon drawing style",
        [{"op": "style", "style": "crayon drawing; simple shapes, gentle colors, consistent characters"}],
        None,
        lambda old, new: new.style_bible.startswith("crayon drawing"),
    ),
    (
        "the music's mood over some pages",
        "make the music on pages 3-4 sadder",
        [{"op": "music", "mood": "sad", "first_page": 3, "last_page": 4}],
        None,
        lambda old, new: (
            [(c.mood, c.first_page, c.last_page) for c in new.music] == [("calm", 1, 2), ("sad", 3, 4), ("calm", 5, 6)]
        ),
    ),
    (
        "a sound on a page",
        "add rain sounds to page 2",
        [{"op": "add_sound", "page": 2, "sound": "rain"}],
        None,
        lambda old, new: [c.sound for c in new.pages[1].sfx][-1] == "rain" and new.pages[2:] == old.pages[2:],
    ),
    (
        "a narrator's voice",
        "a British narrator, please",
        [{"op": "voice", "voice": "en-gb"}],
        None,
        lambda old, new: new.narrator_voice == "en-gb",
    ),
]


@pytest.mark.parametrize(("kind", "request_text", "edits", "completions", "check"), KINDS, ids=[k[0] for k in KINDS])
def test_each_kind_of_change_with_a_chat_model(kind, request_text, edits, completions, check):
    plan = plan_of()
    llm = ScriptedChatModel.from_answers([{"edits": edits}])
    revision = understand_request(llm, request_text, plan, SETTINGS)
    revised = apply_edits(plan, revision.edits)
    assert check(plan, revised), diff_plans(plan, revised)
    assert request_text in llm.prompts[0][-1].content


@pytest.mark.parametrize(("kind", "request_text", "edits", "completions", "check"), KINDS, ids=[k[0] for k in KINDS])
def test_each_kind_of_change_with_the_offline_model(kind, request_text, edits, completions, check):
    plan = plan_of()
    model = no_model() if completions is None else writing(*completions)
    revision = understand_request(model, request_text, plan, SETTINGS)
    revised = apply_edits(plan, revision.edits)
    assert check(plan, revised), diff_plans(plan, revised)
    lines = diff_plans(plan, revised)
    assert lines  # what it understood, page by page


# --- the offline model's rewrites: checked, bounded, and refused when they fall short -------------------


def test_a_new_character_joins_the_cast_with_a_look_built_like_the_heros():
    plan = plan_of()
    revision = understand_request(
        writing(', owl!" said Pip, and an owl flew down to the branch.'),
        "On page 3, have Pip say hello to an owl",
        plan,
        SETTINGS,
    )
    added = next(e for e in revision.edits if isinstance(e, AddCharacterEdit))
    assert added.species == "owl" and added.name == "Owl"
    assert "owl with big round eyes" in added.look  # the offline writer's look builder
    revised = apply_edits(plan, revision.edits)
    assert revised.pages[2].characters == ["Pip", "Owl"]
    assert revised.pages[2].text.startswith(plan.pages[2].text)  # added to the page: what was there stays
    assert [p.characters for p in revised.pages if p.number != 3] == [p.characters for p in plan.pages if p.number != 3]
    assert "page 3: text" in "\n".join(diff_plans(plan, revised))
    assert "Owl: new character" in "\n".join(diff_plans(plan, revised))


def test_a_rewrite_that_falls_short_in_every_try_is_refused_and_nothing_changes():
    plan = plan_of()
    old = plan.pages[1].text
    model = writing(old, "", "Pip.", old, "never used")
    with pytest.raises(
        InputError, match=r"page 2: the offline model wrote no text .* in 4 tries .*nothing was changed"
    ):
        understand_request(model, "make page 2 happier", plan, SETTINGS)
    assert plan.pages[1].text == old
    sad = writing(*[old] * 4)
    with pytest.raises(InputError, match="the old text again"):
        understand_request(sad, "make page 2 sadder", plan, SETTINGS)  # no line of its own words to compose


def test_a_line_the_model_never_writes_is_composed_from_the_requests_own_words():
    """When every try falls short of a line the request spells out, the page gets that line, as the
    request words it; the progress says so."""
    plan = plan_of()
    never = FakeListLLM(responses=['!" said Pip, and walked on alone.'] * 4 + ["not asked for"])  # never the owl
    found = []
    notes = notes_of(
        lambda: found.append(
            understand_request(OfflineModel.of(never), "On page 3, have Pip say hello to an owl", plan, SETTINGS)
        )
    )
    revision = found[0]
    assert never.i == 4  # 4 tries and no more
    revised = apply_edits(plan, revision.edits)
    assert revised.pages[2].text == f'{plan.pages[2].text} "Hello, Owl," said Pip.'
    assert revised.pages[2].characters == ["Pip", "Owl"]
    assert len(notes) == 1 and notes[0].startswith("page 3: the offline model's 4 tries fell short")
    added = apply_edits(
        plan,
        understand_request(
            writing(*["Pip walked on."] * 4),
            "add a page after page 1 where Pip meets a little mouse called Bo",
            plan,
            SETTINGS,
        ).edits,
    )
    assert added.pages[1].text == "Pip met a little mouse called Bo." and added.pages[1].characters[-1] == "Bo"


def test_a_page_the_model_never_shortens_gets_its_own_words_shortened():
    """ "Make page 2 shorter": when every try falls short, the page keeps its own first clause; said so."""
    from storyreel.agents.offline.rewrite import shortened

    plan = plan_of()
    long_page = plan.pages[1].model_copy(update={"text": "Pip climbed the highest hill and looked at the moon."})
    plan = plan.model_copy(update={"pages": [plan.pages[0], long_page, *plan.pages[2:]]})
    copies = FakeListLLM(responses=[" " + long_page.text] * 4 + ["not asked for"])  # the base model copies it
    found = []
    shorten = OfflineModel.of(copies)
    notes = notes_of(lambda: found.append(understand_request(shorten, "make page 2 shorter", plan, SETTINGS)))
    revision = found[0]
    assert copies.i == 4 and apply_edits(plan, revision.edits).pages[1].text == "Pip climbed the highest hill."
    assert len(notes) == 1 and "its own words, shortened" in notes[0]
    assert shortened("Fox ran. Then she hid under the big tree.") == "Fox ran."
    assert shortened("Pip, the squid, swam home to her cave, and slept.") == "Pip, the squid, swam home to her cave."
    assert shortened("A very short page.") == ""  # nothing shorter in its own words: refused as before


def test_a_new_character_is_shown_on_every_page_that_names_them_on_both_paths():
    plan = plan_of()
    watching = plan.pages[4].model_copy(update={"text": "Far away, a little mouse was watching."})
    plan = plan.model_copy(update={"pages": [*plan.pages[:4], watching, plan.pages[5]]})
    chat = ScriptedChatModel.from_answers(
        [
            {
                "edits": [
                    {"op": "add_character", "name": "Bo", "look": "a tiny grey mouse", "species": "mouse"},
                    {"op": "add_page", "after": 2, "text": MEETS, "characters": ["Pip", "Bo"]},
                    {"op": "text", "page": 4, "text": "Pip and Bo walked on together."},
                ]
            }
        ]
    )
    offline = writing(MEETS)
    request = "add a page after page 2 where Pip meets a mouse called Bo"
    # the new page 3, and old page 5 (now 6), whose text speaks of a mouse; with the chat model, also old page 4
    # (now 5), whose new text names Bo
    expected = [
        (chat, {3: ["Pip", "Bo"], 5: ["Pip", "Olo", "Bo"], 6: ["Pip", "Bo"]}),
        (offline, {3: ["Pip", "Olo", "Bo"], 6: ["Pip", "Bo"]}),  # the new page shows who page 2 showed, and Bo
    ]
    for model, pages in expected:
        revised = apply_edits(plan, understand_request(model, request, plan, SETTINGS).edits)
        assert {p.number: p.characters for p in revised.pages if "Bo" in p.characters} == pages
    # a page that speaks of an owl is not Hoo's when there already is an owl (Olo): by name only
    hoo = ScriptedChatModel.from_answers(
        [{"edits": [{"op": "add_character", "name": "Hoo", "look": "a small brown owl", "species": "owl"}]}]
    )
    revised = apply_edits(plan, understand_request(hoo, "add an owl called Hoo", plan, SETTINGS).edits)
    assert all("Hoo" not in p.characters for p in revised.pages)


def test_what_names_no_page_is_refused_with_examples_and_the_model_is_not_loaded():
    with pytest.raises(
        InputError, match=r"could not understand 'sing it like a pirate'.*make the dragon green.*on page 2"
    ):
        understand_request(no_model(), "make the owl blue, and sing it like a pirate", plan_of(), SETTINGS)
    with pytest.raises(InputError, match="could not understand"):
        parse_request("on page 2, have Pip say hello", plan_of())  # the rules alone do not write pages


@pytest.mark.parametrize("request_text", ["On page 9, have Pip say hello to an owl", "make page 9 sadder"])
def test_page_9_of_a_6_page_film_is_refused_on_both_paths(request_text: str):
    plan = plan_of()
    for model in (no_model(), ScriptedChatModel.from_answers([])):
        with pytest.raises(
            InputError, match=r"page 9 does not exist: the film has 6 pages \(1–6\); nothing was changed"
        ):
            understand_request(model, request_text, plan, SETTINGS)


def test_rules_and_rewrites_in_one_request():
    plan = plan_of()
    revision = understand_request(
        writing("Pip laughed all the way home, happy and warm."),
        "make the owl blue, and make the ending happier",
        plan,
        SETTINGS,
    )
    assert [e.op for e in revision.edits] == ["look", "text"]
    assert revision.edits[1] == TextEdit(page=6, text="Pip laughed all the way home, happy and warm.")


def test_music_over_some_pages_splits_its_cue_and_joins_alike_neighbours():
    plan = plan_of()
    sad = apply_edits(plan, [MusicEdit(mood="sad", first_page=2, last_page=6)])
    assert [(c.mood, c.first_page, c.last_page) for c in sad.music] == [("calm", 1, 1), ("sad", 2, 6)]
    back = apply_edits(sad, [MusicEdit(mood="calm", prompt="calm", first_page=2, last_page=6)])
    assert [(c.mood, c.first_page, c.last_page) for c in back.music] == [("calm", 1, 6)]
    with pytest.raises(InputError, match="pages 5-9 are not pages of the film"):
        apply_edits(plan, [MusicEdit(mood="sad", first_page=5, last_page=9)])


def test_a_cast_edit_names_only_characters_there_are():
    plan = plan_of()
    with pytest.raises(InputError, match=r"unknown characters \['Zed'\]"):
        apply_edits(plan, [CastEdit(page=1, characters=["Pip", "Zed"])])
    with pytest.raises(InputError, match="there already is a character 'Olo'"):
        apply_edits(plan, [AddCharacterEdit(name="Olo", look="an owl")])
