"""The read-along picture book beside the film: ``book.epub`` (EPUB 3 with media overlays) and ``book/``
(a self-contained HTML book), both made from the run's illustrations, narration and timeline.

Every word of a page is a ``<span>``; its stretch of the page's narration comes from the word timings on
the timeline (``storyreel.timings``), so the words light up in the e-reader, in the browser and in the
captions at the same moments. Nothing is generated here: the book is put together from assets that exist,
as an asset of its own (kind ``book``, keyed by its text, timings and the content of its pictures and
sounds), so it is rebuilt only when one of them changed. Standard library only (zipfile, xml escaping),
and ffmpeg to give the EPUB its audio in AAC (EPUB's core audio types are MP3 and AAC; WAV is not one).

Public: ``Book``/``BookPage`` (what goes in), ``book_of`` (a Book from a run's plan, timeline and assets),
``current_sources`` (the current illustration and narration of each page, from the manifest),
``write_epub``, ``write_html``, and ``make_book`` (both, as cached assets, linked as book.epub and book/).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import uuid
import zipfile
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from storyreel import __version__
from storyreel.config import Config
from storyreel.errors import InputError
from storyreel.plan import Page, StoryPlan
from storyreel.store import RunDir, atomic_path, copy_file, sha256_file
from storyreel.timeline import Timeline
from storyreel.timings import Word

BOOK_VERSION = "1"  # bump when the book's files change for the same inputs
ACTIVE_CLASS = "read-aloud-active"  # the class e-readers give the word being read (media:active-class)
ZIP_TIME = (2000, 1, 1, 0, 0, 0)  # every entry's timestamp: the same inputs give the same bytes


class BookPage(BaseModel):
    """One page: its text, the words of it with their times (seconds from the start of ``audio``), the
    illustration's alt text, and its files."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    number: int
    text: str
    alt: str
    image: Path
    audio: Path
    duration: float  # seconds of ``audio``
    words: list[Word]


class Book(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str
    language: str = "en"
    narrator: str = ""
    identifier: str  # urn:uuid:..., the same for every version of a run's book
    modified: str  # CCYY-MM-DDThh:mm:ssZ: when its newest input was made
    pages: list[BookPage]

    @property
    def duration(self) -> float:
        return sum(p.duration for p in self.pages)


# --- from a run -------------------------------------------------------------------------------


def alt_text(plan: StoryPlan, page: Page) -> str:
    """The illustration described for a reader who cannot see it: who is in it, where and when (from the
    page's scene), and what it shows."""
    scene = page.scene
    who = " and ".join(page.characters) if page.characters else "A picture"
    where = f"{who} in the {scene.setting.replace('_', ' ')}, {scene.time_of_day.replace('_', ' ')}"
    if scene.weather != "clear":
        where += f", {scene.weather.replace('_', ' ')}"
    shows = page.shows.strip().rstrip(".")
    return f"{where}: {shows}." if shows else f"{where}."


def current_sources(run: RunDir, plan: StoryPlan) -> list[tuple[Path, Path]]:
    """Each page's current illustration and narration, found in the manifest (the newest intact asset of
    the page whose spec says this page's text, and for the picture this page's prompt). Raises InputError
    naming the page when one is missing: the book is made from what exists, never regenerated."""
    from storyreel import composition

    records = sorted(run.manifest().values(), key=lambda r: r.created, reverse=True)
    sources = []
    for page in plan.pages:
        prompt = composition.illustration_prompt(plan, page)
        said = [r for r in records if r.kind == "narration" and r.spec.get("request", {}).get("text") == page.text]
        drawn = [
            r
            for r in records
            if r.kind == "image" and (r.spec.get("request", {}).get("prompt") == prompt or "user_image" in r.spec)
        ]
        narration, picture = _newest(run, said, page.number), _newest(run, drawn, page.number)
        for what, found in (("narration", narration), ("illustration", picture)):
            if found is None:
                raise InputError(
                    f"page {page.number}'s {what} is not in {run.path} (or its file changed): "
                    f"make it first with storyreel make --run {run.path}"
                )
        sources.append((picture, narration))
    return sources


def _newest(run: RunDir, records: list, page: int) -> Path | None:
    """The file of the first of ``records`` that belongs to ``page`` and is intact."""
    for record in records:
        if record.page == page and not record.transition and (path := run.lookup(record.key)) is not None:
            return path
    return None


def book_of(
    run: RunDir,
    plan: StoryPlan,
    timeline: Timeline,
    sources: list[tuple[Path, Path]],
    narrator: str = "",
    language: str = "en",
) -> Book:
    """The book of ``plan``: each page's text, its word times from ``timeline`` (made relative to its
    narration again; a timeline without word times, from an older run, gets the estimate), its
    illustration and narration (``sources``, per page)."""
    from storyreel.assets import narration_words
    from storyreel.media import read_wav

    if [c.text for c in timeline.narration] != [p.text for p in plan.pages]:
        raise InputError(f"the timeline of {run.path} is older than its plan: run storyreel make --run {run.path}")
    pages, newest = [], 0.0
    made = {r.path: r.created for r in run.manifest().values()}
    for page, cue, (image, audio) in zip(plan.pages, timeline.narration, sources, strict=True):
        samples, rate = read_wav(audio)
        duration = round(len(samples) / rate, 3)
        if cue.words:
            words = [
                Word(text=w.text, start=round(w.start - cue.start, 3), end=round(w.end - cue.start, 3))
                for w in cue.words
            ]
        else:
            words = narration_words(run, audio, page.text)[0]
        pages.append(
            BookPage(
                number=page.number,
                text=page.text,
                alt=alt_text(plan, page),
                image=image,
                audio=audio,
                duration=duration,
                words=words,
            )
        )
        newest = max(newest, made.get(run.relative(image), 0.0), made.get(run.relative(audio), 0.0))
    return Book(
        title=plan.title,
        language=language,
        narrator=narrator,
        identifier=f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'storyreel:' + run.path.name)}",
        modified=datetime.fromtimestamp(newest or 0, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        pages=pages,
    )


def make_book(run: RunDir, book: Book) -> tuple[Path, Path]:
    """``book.epub`` and ``book/index.html`` in the run directory, each a cached asset (``books/``) keyed by
    the book's text, times and files: a book whose inputs are unchanged is reused, not rebuilt. Returns
    their paths."""
    spec = {
        "version": BOOK_VERSION,
        "book": book.model_dump(mode="json", exclude={"pages": {"__all__": {"image", "audio"}}}),
        "files": [[sha256_file(p.image), sha256_file(p.audio)] for p in book.pages],
    }
    epub = run.asset("book", spec, "books/book-{key}.epub", lambda tmp: write_epub(book, tmp))
    copy_file(epub, run.path / "book.epub")
    html = run.asset("book-html", spec, "books/html-{key}", lambda tmp: write_html(book, tmp))
    with atomic_path(run.path / "book") as tmp:  # book/ is a copy of the current one (hard links: no space)
        shutil.copytree(html, tmp, copy_function=_link)
    return run.path / "book.epub", run.path / "book" / "index.html"


def _link(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


# --- EPUB 3 -----------------------------------------------------------------------------------


def clock(seconds: float) -> str:
    """A SMIL clock value, h:mm:ss.mmm."""
    ms = round(seconds * 1000)
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    return f"{h}:{m:02d}:{ms // 1000:02d}.{ms % 1000:03d}"


def word_id(page: int, index: int) -> str:
    return f"p{page:02d}w{index + 1:03d}"


def clips(page: BookPage) -> list[tuple[str, float, float]]:
    """Each word's id and its stretch of the page's audio (at least a millisecond long)."""
    out = []
    for index, word in enumerate(page.words):
        start = min(word.start, max(0.0, page.duration - 0.001))
        out.append((word_id(page.number, index), start, max(word.end, start + 0.001)))
    return out


def write_epub(book: Book, out: Path) -> None:
    """``book`` as an EPUB 3 file at ``out``: a cover, one reflowable page per story page with its
    illustration and text, the page's narration in AAC, a SMIL media overlay per page tying each word to
    its stretch of the audio, the navigation document, and the metadata (title, language, duration,
    narrator, the tool, accessibility)."""
    files: dict[str, bytes] = {}
    pages = book.pages
    with tempfile.TemporaryDirectory(prefix="storyreel-book-") as tmp:
        for page in pages:
            m4a = Path(tmp) / f"p{page.number:02d}.m4a"
            _to_aac(page.audio, m4a)
            files[f"EPUB/audio/p{page.number:02d}.m4a"] = m4a.read_bytes()
    for page in pages:
        name = f"p{page.number:02d}"
        files[f"EPUB/images/{name}.png"] = page.image.read_bytes()
        files[f"EPUB/{name}.xhtml"] = _page_xhtml(book, page).encode()
        files[f"EPUB/{name}.smil"] = _overlay(page).encode()
    files["EPUB/cover.xhtml"] = _cover_xhtml(book).encode()
    files["EPUB/nav.xhtml"] = _nav(book).encode()
    files["EPUB/style.css"] = EPUB_CSS.encode()
    files["EPUB/package.opf"] = _package(book).encode()
    files["META-INF/container.xml"] = CONTAINER.encode()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype", ZIP_TIME), "application/epub+zip", zipfile.ZIP_STORED)
        for name in sorted(files):
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED if name.endswith((".png", ".m4a")) else zipfile.ZIP_DEFLATED
            zf.writestr(info, files[name])


def _to_aac(wav: Path, out: Path) -> None:
    from storyreel.media import ffmpeg_exe

    command = [ffmpeg_exe(), "-nostdin", "-v", "error", "-y", "-i", str(wav), "-map_metadata", "-1"]
    command += ["-c:a", "aac", "-b:a", "96k", "-fflags", "+bitexact", "-flags:a", "+bitexact", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise InputError(f"ffmpeg could not encode {wav} for the book: {done.stderr.strip()[-300:]}")


CONTAINER = """<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles>
    <rootfile full-path="EPUB/package.opf" media-type="application/oebps-package+xml"/>
  </rootfiles>
</container>
"""

EPUB_CSS = f"""body {{ margin: 0.5em; font-family: serif; }}
figure {{ margin: 0 0 1em 0; text-align: center; }}
img {{ max-width: 100%; max-height: 70vh; }}
p.text {{ font-size: 1.4em; line-height: 1.5; }}
h1 {{ text-align: center; }}
.{ACTIVE_CLASS} {{ background-color: #ffe58a; color: #000; }}
"""


def _xhtml(book: Book, title: str, body: str) -> str:
    lang = escape(book.language)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html>\n'
        f'<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" '
        f'xml:lang="{lang}" lang="{lang}">\n<head>\n<meta charset="utf-8"/>\n<title>{escape(title)}</title>\n'
        '<link rel="stylesheet" type="text/css" href="style.css"/>\n</head>\n'
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def _spans(page: BookPage) -> str:
    return " ".join(
        f'<span id="{word_id(page.number, i)}">{escape(w.text, quote=False)}</span>' for i, w in enumerate(page.words)
    )


def _page_xhtml(book: Book, page: BookPage) -> str:
    name = f"p{page.number:02d}"
    body = (
        f'<section epub:type="chapter" id="{name}" aria-label="Page {page.number}">\n'
        f'<figure><img src="images/{name}.png" alt="{escape(page.alt)}"/></figure>\n'
        f'<p class="text" id="{name}-text">{_spans(page)}</p>\n</section>'
    )
    return _xhtml(book, f"{book.title}: page {page.number}", body)


def _cover_xhtml(book: Book) -> str:
    first = book.pages[0]
    body = (
        f'<section epub:type="cover" id="cover">\n<h1>{escape(book.title)}</h1>\n'
        f'<figure><img src="images/p{first.number:02d}.png" alt="Cover: {escape(first.alt)}"/></figure>\n</section>'
    )
    return _xhtml(book, book.title, body)


def _nav(book: Book) -> str:
    items = "\n".join(f'<li><a href="p{p.number:02d}.xhtml">Page {p.number}</a></li>' for p in book.pages)
    body = (
        f'<nav epub:type="toc" id="toc">\n<h1>{escape(book.title)}</h1>\n<ol>\n'
        f'<li><a href="cover.xhtml">Cover</a></li>\n{items}\n</ol>\n</nav>\n'
        '<nav epub:type="landmarks" id="landmarks" hidden="hidden">\n<h2>Landmarks</h2>\n<ol>\n'
        '<li><a epub:type="cover" href="cover.xhtml">Cover</a></li>\n'
        f'<li><a epub:type="bodymatter" href="p{book.pages[0].number:02d}.xhtml">The story</a></li>\n</ol>\n</nav>'
    )
    return _xhtml(book, book.title, body)


def _overlay(page: BookPage) -> str:
    name = f"p{page.number:02d}"
    pars = "\n".join(
        f'<par id="{wid}-par"><text src="{name}.xhtml#{wid}"/>'
        f'<audio src="audio/{name}.m4a" clipBegin="{clock(start)}" clipEnd="{clock(end)}"/></par>'
        for wid, start, end in clips(page)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<smil xmlns="http://www.w3.org/ns/SMIL" xmlns:epub="http://www.idpf.org/2007/ops" version="3.0">\n'
        f'<body>\n<seq id="{name}-seq" epub:textref="{name}.xhtml#{name}-text">\n{pars}\n</seq>\n</body>\n</smil>\n'
    )


def _package(book: Book) -> str:
    meta = [
        f'<dc:identifier id="book-id">{escape(book.identifier)}</dc:identifier>',
        f"<dc:title>{escape(book.title)}</dc:title>",
        f"<dc:language>{escape(book.language)}</dc:language>",
        f'<dc:contributor id="tool">storyreel {__version__}</dc:contributor>',
        '<meta refines="#tool" property="role" scheme="marc:relators">bkp</meta>',
        f'<meta property="dcterms:modified">{book.modified}</meta>',
        f'<meta property="media:duration">{clock(sum(round(p.duration, 3) for p in book.pages))}</meta>',
        *(
            f'<meta property="media:duration" refines="#p{p.number:02d}-overlay">{clock(p.duration)}</meta>'
            for p in book.pages
        ),
        f'<meta property="media:active-class">{ACTIVE_CLASS}</meta>',
        *(['<meta property="media:narrator">' + escape(book.narrator) + "</meta>"] if book.narrator else []),
        '<meta property="schema:accessMode">textual</meta>',
        '<meta property="schema:accessMode">visual</meta>',
        '<meta property="schema:accessMode">auditory</meta>',
        '<meta property="schema:accessModeSufficient">textual</meta>',
        '<meta property="schema:accessibilityFeature">alternativeText</meta>',
        '<meta property="schema:accessibilityFeature">synchronizedAudioText</meta>',
        '<meta property="schema:accessibilityFeature">readingOrder</meta>',
        '<meta property="schema:accessibilityFeature">tableOfContents</meta>',
        '<meta property="schema:accessibilityHazard">none</meta>',
        '<meta property="schema:accessibilitySummary">Every illustration has a text description; the '
        "narration is synchronised with the text, word by word.</meta>",
    ]
    items = [
        '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>',
        '<item id="css" href="style.css" media-type="text/css"/>',
        '<item id="cover" href="cover.xhtml" media-type="application/xhtml+xml"/>',
    ]
    spine = ['<itemref idref="cover"/>']
    for i, p in enumerate(book.pages):
        name = f"p{p.number:02d}"
        cover = ' properties="cover-image"' if i == 0 else ""
        items += [
            f'<item id="{name}" href="{name}.xhtml" media-type="application/xhtml+xml" '
            f'media-overlay="{name}-overlay"/>',
            f'<item id="{name}-overlay" href="{name}.smil" media-type="application/smil+xml"/>',
            f'<item id="{name}-image" href="images/{name}.png" media-type="image/png"{cover}/>',
            f'<item id="{name}-audio" href="audio/{name}.m4a" media-type="audio/mp4"/>',
        ]
        spine.append(f'<itemref idref="{name}"/>')
    nl = "\n    "
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="book-id" '
        f'xml:lang="{escape(book.language)}">\n'
        f'  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">\n    {nl.join(meta)}\n  </metadata>\n'
        f"  <manifest>\n    {nl.join(items)}\n  </manifest>\n"
        f"  <spine>\n    {nl.join(spine)}\n  </spine>\n</package>\n"
    )


# --- the HTML book ----------------------------------------------------------------------------


def write_html(book: Book, out: Path) -> None:
    """``book`` as a folder ``out``: ``index.html`` (the pages, page turns, a play button per page and
    the word being read highlighted, all inline: no network), ``images/`` and ``audio/`` beside it.
    ``index.html#page-3`` opens page 3; ``?autoplay`` reads the book aloud from there, turning the pages."""
    (out / "images").mkdir(parents=True)
    (out / "audio").mkdir()
    data = {"title": book.title, "pages": []}
    sections = []
    for page in book.pages:
        name = f"p{page.number:02d}"
        shutil.copyfile(page.image, out / "images" / f"{name}.png")
        shutil.copyfile(page.audio, out / "audio" / f"{name}.wav")
        data["pages"].append(
            {
                "number": page.number,
                "audio": f"audio/{name}.wav",
                "words": [[word_id(page.number, i), w.start, w.end] for i, w in enumerate(page.words)],
            }
        )
        sections.append(
            f'<section class="page" id="page-{page.number}" aria-label="Page {page.number}">\n'
            f'<img src="images/{name}.png" alt="{escape(page.alt)}">\n'
            f'<p class="text">{_spans(page)}</p>\n</section>'
        )
    blob = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    html = (
        HTML.replace("{lang}", escape(book.language))
        .replace("{title}", escape(book.title))
        .replace("{pages}", "\n".join(sections))
        .replace("{data}", blob)
    )
    (out / "index.html").write_text(html, encoding="utf-8")


HTML = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
  body { margin: 0; font-family: Georgia, serif; background: #f6f1e7; color: #222; }
  header h1 { text-align: center; margin: 0.4em 0; font-size: 1.6em; }
  .page { max-width: 56em; margin: 0 auto; padding: 0 1em; }
  .page img { display: block; width: 100%; max-height: 62vh; object-fit: contain; border-radius: 6px; }
  .page .text { font-size: 1.5em; line-height: 1.5; margin: 0.6em 0; }
  .page .text span { border-radius: 4px; padding: 0 0.08em; transition: background-color 0.1s; }
  .page .text span.reading { background: #ffd54a; }
  nav { display: flex; gap: 0.6em; justify-content: center; align-items: center; padding: 0.2em 0 1em; }
  button { font-size: 1.1em; padding: 0.4em 1em; border-radius: 6px; border: 1px solid #8a7; background: #fff; }
  button:disabled { opacity: 0.4; }
  .js .page:not(.current) { display: none; }
</style>
</head>
<body>
<header><h1>{title}</h1></header>
<main id="pages">
{pages}
</main>
<nav>
  <button id="prev" type="button" aria-label="Previous page">&#8592;</button>
  <button id="play" type="button">&#9654; Play</button>
  <span id="where" aria-live="polite"></span>
  <button id="next" type="button" aria-label="Next page">&#8594;</button>
</nav>
<script type="application/json" id="book-data">{data}</script>
<script>
(function () {
  "use strict";
  var book = JSON.parse(document.getElementById("book-data").textContent);
  var sections = document.querySelectorAll(".page");
  var audio = new Audio();
  var current = 0, timer = null, lit = null;
  var aloud = /[?&]autoplay\\b/.test(location.search);  // read the book aloud, turning the pages
  var heard = [];  // the words highlighted so far, in order (for a reader's history, and for tests)
  document.documentElement.className = "js";

  function light(id) {
    if (id === lit) return;
    if (lit) document.getElementById(lit).classList.remove("reading");
    lit = id;
    if (id) {
      document.getElementById(id).classList.add("reading");
      heard.push(id);
      document.body.setAttribute("data-heard", heard.join(" "));
    }
    document.body.setAttribute("data-reading", id || "");
  }

  function follow() {  // highlight the word being said now
    var t = audio.currentTime, words = book.pages[current].words, id = null;
    for (var i = 0; i < words.length; i++) {
      if (words[i][1] <= t) id = words[i][0]; else break;
    }
    if (id && t > words[words.length - 1][2] + 0.3) id = null;
    light(id);
  }

  function stop() {
    audio.pause();
    if (timer) clearInterval(timer);
    timer = null;
    light(null);
    play.innerHTML = "&#9654; Play";
  }

  function show(index) {
    stop();
    current = Math.max(0, Math.min(book.pages.length - 1, index));
    for (var i = 0; i < sections.length; i++) sections[i].classList.toggle("current", i === current);
    document.getElementById("where").textContent = "Page " + (current + 1) + " of " + book.pages.length;
    document.getElementById("prev").disabled = current === 0;
    document.getElementById("next").disabled = current === book.pages.length - 1;
    if (location.hash !== "#page-" + (current + 1)) history.replaceState(null, "", "#page-" + (current + 1));
    window.scrollTo(0, 0);
  }

  function start() {
    stop();
    audio.src = book.pages[current].audio;
    audio.currentTime = 0;
    var playing = audio.play();
    if (playing && playing.catch) playing.catch(function () { stop(); });
    play.innerHTML = "&#10074;&#10074; Pause";
    timer = setInterval(follow, 40);
  }

  var play = document.getElementById("play");
  play.addEventListener("click", function () { if (timer) stop(); else start(); });
  document.getElementById("prev").addEventListener("click", function () { show(current - 1); });
  document.getElementById("next").addEventListener("click", function () { show(current + 1); });
  document.addEventListener("keydown", function (e) {
    if (e.key === "ArrowRight") show(current + 1);
    else if (e.key === "ArrowLeft") show(current - 1);
    else if (e.key === " ") { e.preventDefault(); play.click(); }
  });
  audio.addEventListener("ended", function () {
    stop();
    if (aloud && current < book.pages.length - 1) { show(current + 1); start(); }
  });
  var asked = /^#page-(\\d+)$/.exec(location.hash);
  if (asked) history.replaceState(null, "", location.pathname + location.search);  // no jump to the anchor
  show(asked ? parseInt(asked[1], 10) - 1 : 0);
  if (aloud) start();
})();
</script>
</body>
</html>
"""


# --- the command ------------------------------------------------------------------------------


def narrator_of(plan: StoryPlan, config: Config) -> str:
    """Who reads the book, for its metadata: the narration backend and its voice."""
    narration = config.narration
    voice = plan.narrator_voice or narration.voice or narration.options.get("voice", "")
    return f"{narration.backend} voice {voice}".strip() if voice else narration.backend


def rebuild(run_dir: Path) -> tuple[Path, Path]:
    """``storyreel book RUN_DIR``: the book of a run from the assets it has (nothing is generated; a page
    whose illustration or narration is missing is named in the InputError). Returns book.epub and
    book/index.html."""
    from storyreel.config import saved_config

    run_dir = Path(run_dir)
    for name in ("plan.json", "config.json", "timeline.json"):
        if not (run_dir / name).is_file():
            raise InputError(
                f"{run_dir} has no {name}: not a storyreel run, or it stopped before its narration was timed "
                f"(go on with storyreel make --run {run_dir})"
            )
    plan = StoryPlan.load(run_dir / "plan.json")
    config = saved_config(run_dir, [])
    timeline = Timeline.model_validate_json((run_dir / "timeline.json").read_text(encoding="utf-8"))
    run = RunDir(run_dir)
    with run.locked():
        made = book_of(run, plan, timeline, current_sources(run, plan), narrator_of(plan, config), config.book.language)
        return make_book(run, made)
