"""The read-along book: book.epub (EPUB 3 with media overlays) and book/index.html, made from a real run's
pages (the sketch profile's task bodies: espeak narration, preview illustrations), checked against the
timeline, after a revision of one page, through ``storyreel book``, and in headless Chromium."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import time
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from typer.testing import CliRunner

from storyreel.book import book_of, current_sources, make_book, narrator_of
from storyreel.cli import app
from storyreel.config import load_config
from storyreel.flows.make_film import illustrate, lay_out, narrate
from storyreel.plan import Brief, Character, Page, Scene, StoryPlan
from storyreel.store import RunDir, write_json, write_text
from storyreel.timings import words_of

SEED = 3
TEXTS = [
    "Pip the little dragon lived in a cave by the sea.",
    'At night the cave was dark. "I am not afraid," said Pip, and held the lantern tight.',
    "Then the moon came out, round and bright, and Pip smiled.",
]
SMIL = "{http://www.w3.org/ns/SMIL}"
XHTML = "{http://www.w3.org/1999/xhtml}"


@pytest.fixture(scope="module")
def config():
    return load_config("sketch", [], environ={})[0]


def pages_of(run: Path, plan: StoryPlan, config) -> tuple[list, list[str], list[str]]:
    """Narrate and illustrate every page (the flow's task bodies); lay the timeline out; keep the run's files."""
    spoken = [narrate.fn(str(run), page, config, SEED) for page in plan.pages]
    pictures = [illustrate.fn(str(run), plan, page, config) for page in plan.pages]
    from storyreel import assets

    store = RunDir(run)
    words = [assets.narration_words(store, Path(p), page.text) for (p, _), page in zip(spoken, plan.pages, strict=True)]
    timeline = lay_out(plan, [s for _, s in spoken], config, words)
    write_text(run / "plan.json", plan.model_dump_json(indent=2))
    write_json(run / "timeline.json", timeline.model_dump(mode="json"))
    return timeline, pictures, [p for p, _ in spoken]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory, config):
    run = tmp_path_factory.mktemp("run")
    write_json(run / "config.json", config.model_dump(mode="json"))
    plan = StoryPlan(
        title="Pip & the Dark",
        brief=Brief(prompt="A little dragon", pages=len(TEXTS), seed=SEED),
        characters=[Character(name="Pip", look="a small green dragon with round eyes", species="dragon")],
        style_bible="soft watercolor",
        pages=[
            Page(number=i, text=text, characters=["Pip"], scene=Scene(setting=setting, time_of_day=when))
            for i, (text, setting, when) in enumerate(
                zip(TEXTS, ["beach", "cave", "beach"], ["day", "night", "night"], strict=True), start=1
            )
        ],
    )
    timeline, pictures, narration = pages_of(run, plan, config)
    store = RunDir(run)
    book = book_of(store, plan, timeline, list(zip(map(Path, pictures), map(Path, narration), strict=True)))
    epub, html = make_book(store, book)
    return run, plan, timeline, epub, html


def members(epub: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(epub) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def seconds(clock: str) -> float:
    h, m, s = clock.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def test_the_epub_has_a_cover_pages_audio_and_overlays(made) -> None:
    run, plan, _, epub, _ = made
    files = members(epub)
    with zipfile.ZipFile(epub) as zf:
        first = zf.infolist()[0]
    assert (first.filename, first.compress_type) == ("mimetype", zipfile.ZIP_STORED)
    assert files["mimetype"] == b"application/epub+zip"
    opf = files["EPUB/package.opf"].decode()
    assert "<dc:title>Pip &amp; the Dark</dc:title>" in opf and "<dc:language>en</dc:language>" in opf
    assert 'properties="cover-image"' in opf and "media:duration" in opf and "storyreel" in opf
    for n in range(1, len(TEXTS) + 1):
        assert files[f"EPUB/audio/p{n:02d}.m4a"][4:8] == b"ftyp"  # AAC in MP4, a core media type
        assert files[f"EPUB/images/p{n:02d}.png"].startswith(b"\x89PNG")
        page = ElementTree.fromstring(files[f"EPUB/p{n:02d}.xhtml"])
        alt = page.find(f".//{XHTML}img").get("alt")
        assert plan.pages[n - 1].scene.setting.replace("_", " ") in alt  # alt text from the page's scene
        spans = page.findall(f".//{XHTML}span")
        assert [s.text for s in spans] == words_of(TEXTS[n - 1])  # every word, in reading order
    assert (run / "book.epub").read_bytes() == epub.read_bytes()


def test_overlays_agree_with_the_timeline_within_a_frame(made) -> None:
    _, _, timeline, epub, _ = made
    files = members(epub)
    frame = 1 / timeline.fps
    for cue in timeline.narration:
        smil = ElementTree.fromstring(files[f"EPUB/p{cue.page:02d}.smil"])
        pars = smil.findall(f".//{SMIL}par")
        assert len(pars) == len(cue.words)
        previous = 0.0
        for par, word in zip(pars, cue.words, strict=True):
            audio = par.find(f"{SMIL}audio")
            begin, end = seconds(audio.get("clipBegin")), seconds(audio.get("clipEnd"))
            assert audio.get("src") == f"audio/p{cue.page:02d}.m4a"
            assert par.find(f"{SMIL}text").get("src").startswith(f"p{cue.page:02d}.xhtml#p{cue.page:02d}w")
            assert abs(cue.start + begin - word.start) <= frame and abs(cue.start + end - word.end) <= frame
            assert previous <= begin < end
            previous = begin


def test_a_revision_of_page_2_changes_page_2_and_nothing_else(made, config, tmp_path: Path) -> None:
    run, plan, _, epub, _ = made
    before = members(epub)
    revised = plan.model_copy(
        update={
            "version": plan.version + 1,
            "pages": [
                p.model_copy(update={"text": "At night the cave was dark, and Pip sang a song."})
                if p.number == 2
                else p
                for p in plan.pages
            ],
        }
    )
    timeline, pictures, narration = pages_of(run, revised, config)
    store = RunDir(run)
    book = book_of(store, revised, timeline, list(zip(map(Path, pictures), map(Path, narration), strict=True)))
    after = members(make_book(store, book)[0])
    changed = {name for name in before if before[name] != after.get(name)}
    assert set(after) == set(before)
    page_2 = {"EPUB/p02.smil", "EPUB/p02.xhtml", "EPUB/audio/p02.m4a"}
    # page 2's overlay, text and audio (its picture too, where it is drawn from the text); the package says
    # page 2's new length, the book's, and when it was changed
    assert page_2 | {"EPUB/package.opf"} <= changed <= page_2 | {"EPUB/package.opf", "EPUB/images/p02.png"}
    lines = zip(
        before["EPUB/package.opf"].decode().splitlines(), after["EPUB/package.opf"].decode().splitlines(), strict=True
    )
    for old, _ in ((a, b) for a, b in lines if a != b):
        assert "p02-overlay" in old or "dcterms:modified" in old or ("media:duration" in old and "refines" not in old)
    assert b"sang" in after["EPUB/p02.xhtml"]
    # and back: the first version's book is the same bytes again (cached, nothing rebuilt)
    timeline, pictures, narration = pages_of(run, plan, config)
    store.reset_stats()
    book = book_of(store, plan, timeline, list(zip(map(Path, pictures), map(Path, narration), strict=True)))
    assert members(make_book(store, book)[0]) == before
    assert {e.which for e in store.events() if e.kind.startswith("book")} == {"reused"}


def test_storyreel_book_rebuilds_from_the_run_and_says_what_is_missing(made, tmp_path: Path) -> None:
    run, plan, *_ = made
    runner = CliRunner()
    result = runner.invoke(app, ["book", str(run), "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown == {"epub": str(run / "book.epub"), "html": str(run / "book" / "index.html"), "pages": len(TEXTS)}
    found = current_sources(RunDir(run), plan)
    assert [n.name for _, n in found] == [Path(p).name for p in json_narration(run, plan)]
    listed = json.loads(runner.invoke(app, ["show", str(run), "--json"]).stdout)
    assert listed["book"] == {"epub": str(run / "book.epub"), "html": str(run / "book" / "index.html")}
    # a run whose narration of page 3 is gone: one line naming it, nothing generated
    broken = tmp_path / "broken"
    shutil.copytree(run, broken)
    for path in broken.glob("pages/p03/narration-*.wav"):
        path.unlink()
    result = runner.invoke(app, ["book", str(broken)])
    assert result.exit_code == 2 and "page 3's narration" in result.output
    assert not list(broken.glob("pages/p03/narration-*.wav"))
    assert narrator_of(plan, load_config("sketch", [], environ={})[0]).startswith("espeak")


def json_narration(run: Path, plan: StoryPlan) -> list[str]:
    """The narration files of the plan's pages, by their texts in the manifest."""
    records = json.loads((run / "manifest.json").read_text())["assets"].values()
    newest = sorted((r for r in records if r["kind"] == "narration"), key=lambda r: -r["created"])
    return [next(r["path"] for r in newest if r["spec"]["request"]["text"] == p.text) for p in plan.pages]


# --- the HTML book in a real browser ---------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    "--disable-audio-output",  # a fake audio sink: the media clock runs with no sound card
    "--window-size=900,760",
    "--remote-debugging-pipe",
]


class Browser:
    """Headless Chromium driven through the DevTools protocol over its pipe (fds 3 and 4)."""

    def __init__(self, url: str, profile: Path) -> None:
        ours_in, theirs_out = os.pipe()  # it writes replies on fd 4
        theirs_in, ours_out = os.pipe()  # it reads commands on fd 3
        low_in, low_out = fcntl.fcntl(theirs_in, fcntl.F_DUPFD, 20), fcntl.fcntl(theirs_out, fcntl.F_DUPFD, 20)

        def pipes() -> None:
            os.dup2(low_in, 3)
            os.dup2(low_out, 4)

        self.process = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", url],
            preexec_fn=pipes,  # noqa: PLW1509 - only dup2, before exec
            pass_fds=(3, 4),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for fd in (theirs_in, theirs_out, low_in, low_out):
            os.close(fd)
        self.reader, self.writer = os.fdopen(ours_in, "rb"), os.fdopen(ours_out, "wb")
        self.next_id, self.buffer, self.session = 0, b"", None
        page = None
        for _ in range(100):
            targets = self.send("Target.getTargets")["targetInfos"]
            page = next((t["targetId"] for t in targets if t["type"] == "page"), None)
            if page:
                break
            time.sleep(0.1)
        self.session = self.send("Target.attachToTarget", targetId=page, flatten=True)["sessionId"]

    def send(self, method: str, **params: object) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if self.session:
            message["sessionId"] = self.session
        self.writer.write(json.dumps(message).encode() + b"\0")
        self.writer.flush()
        while True:
            while b"\0" not in self.buffer:
                chunk = os.read(self.reader.fileno(), 1 << 16)
                if not chunk:
                    raise RuntimeError("chromium closed its DevTools pipe")
                self.buffer += chunk
            raw, self.buffer = self.buffer.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def js(self, expression: str) -> object:
        return self.send("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def close(self) -> None:
        with contextlib.suppress(RuntimeError):  # it may close the pipe before it answers
            self.send("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.reader.close()
        self.writer.close()


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)")
def test_the_html_book_reads_along_in_chromium(made, tmp_path: Path) -> None:
    run, plan, timeline, _, html = made
    assert not re.search(r"(src|href)=\"https?:", html.read_text())  # nothing from the network
    browser = Browser(html.as_uri() + "#page-1", tmp_path / "profile")
    try:
        for _ in range(100):
            if browser.js("document.readyState === 'complete' && document.documentElement.className === 'js'"):
                break
            time.sleep(0.1)
        assert browser.js("document.querySelector('.page.current').id") == "page-1"
        assert browser.js("document.getElementById('next').click(); document.querySelector('.page.current').id") == (
            "page-2"
        )
        assert browser.js("location.hash") == "#page-2"
        assert browser.js("document.getElementById('prev').click(); document.querySelector('.page.current').id") == (
            "page-1"
        )
        assert browser.js("document.getElementById('prev').disabled") is True
        browser.js("document.getElementById('play').click()")
        seen: list[str] = []
        for _ in range(200):  # until the page has been read (its audio ended) or 20 s
            now = browser.js("document.body.getAttribute('data-reading') || ''")
            if now and (not seen or seen[-1] != now):
                seen.append(now)
            if seen and browser.js("document.getElementById('play').textContent.indexOf('Play') >= 0"):
                break
            time.sleep(0.1)
        page_one = [f"p01w{i + 1:03d}" for i in range(len(timeline.narration[0].words))]
        assert len(seen) >= 3, seen  # the highlighted word changed over time
        assert seen == sorted(seen) and set(seen) <= set(page_one)  # in reading order, on the page read
        heard = (browser.js("document.body.getAttribute('data-heard')") or "").split()
        assert heard == sorted(heard) and heard[-1] == page_one[-1]  # read to the end
        shot = browser.send("Page.captureScreenshot", format="png")["data"]
        assert len(shot) > 1000
    finally:
        browser.close()
