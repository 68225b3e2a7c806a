"""A contact sheet of a run's pages: each page's illustration small, in a grid, with its number and first
words under it (``storyreel show RUN --contact-sheet out.png``).

Which illustration is a page's: the image asset recorded for that page whose prompt is the one the current
plan composes for it (``storyreel.composition``), so a revised run shows its current pictures; where none
matches (a page given as the user's own picture), the page's latest image asset.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from storyreel.errors import InputError

# The layout, in pixels: thumbnails ``THUMB_WIDTH`` wide at the film's aspect, in rows of ``COLUMNS``, each
# with a caption strip of two lines under it; a title strip on top.
THUMB_WIDTH = 320
COLUMNS = 3
MARGIN = 16
CAPTION = 46
TITLE = 44
FIRST_WORDS = 9  # words of the page's text in its caption
BACKGROUND = (250, 247, 240)
TEXT = (40, 38, 48)
MUTED = (120, 116, 128)


@dataclass(frozen=True)
class SheetLayout:
    """Where things go on a sheet of ``pages`` pages."""

    pages: int
    thumb: tuple[int, int]  # width, height of one illustration
    columns: int

    @property
    def rows(self) -> int:
        return -(-self.pages // self.columns)

    @property
    def size(self) -> tuple[int, int]:
        width = MARGIN + self.columns * (self.thumb[0] + MARGIN)
        height = TITLE + MARGIN + self.rows * (self.thumb[1] + CAPTION + MARGIN)
        return width, height

    def cell(self, index: int) -> tuple[int, int]:
        """The top-left corner of the ``index``-th (0-based) page's illustration."""
        row, col = divmod(index, self.columns)
        return MARGIN + col * (self.thumb[0] + MARGIN), TITLE + MARGIN + row * (self.thumb[1] + CAPTION + MARGIN)


def sheet_layout(pages: int, aspect: float, columns: int = COLUMNS, thumb_width: int = THUMB_WIDTH) -> SheetLayout:
    """The layout of a sheet of ``pages`` pages whose illustrations are ``aspect`` (width / height) wide."""
    return SheetLayout(pages, (thumb_width, max(1, round(thumb_width / aspect))), max(1, min(columns, pages)))


def page_images(run: Path) -> dict[int, Path]:
    """Each page's current illustration in the run directory ``run`` (page number -> file); pages with no
    illustration yet are left out."""
    from storyreel import composition
    from storyreel.plan import StoryPlan
    from storyreel.store import RunDir

    plan = StoryPlan.load(run / "plan.json")
    records = [r for r in RunDir(run).manifest().values() if r.kind == "image" and (run / r.path).is_file()]
    found: dict[int, Path] = {}
    for page in plan.pages:
        prompt = composition.illustration_prompt(plan, page)
        mine = sorted((r for r in records if r.page == page.number), key=lambda r: r.created)
        current = [r for r in mine if r.spec.get("request", {}).get("prompt") == prompt]
        if current or mine:
            found[page.number] = run / (current or mine)[-1].path
    return found


def first_words(text: str, count: int = FIRST_WORDS) -> str:
    """The first ``count`` words of a page, with an ellipsis when there are more."""
    words = text.split()
    return " ".join(words[:count]) + ("…" if len(words) > count else "")


def _fit(draw, text: str, font, width: int) -> list[str]:  # noqa: ANN001 - PIL's ImageDraw and font
    """``text`` wrapped into at most two lines of ``width`` pixels (the second cut with an ellipsis)."""
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        elif len(lines) < 2:
            lines.append(word)
        else:
            lines[-1] = lines[-1].rstrip(" …") + "…"
            break
    while lines and draw.textlength(lines[-1], font=font) > width:
        lines[-1] = lines[-1][:-2].rstrip() + "…"
    return lines


def write_contact_sheet(run: Path, out: Path, columns: int = COLUMNS, thumb_width: int = THUMB_WIDTH) -> Path:
    """Write a PNG contact sheet of the run directory ``run``'s pages to ``out`` (atomically).

    Args:
        run: a run directory with a plan.json.
        out: the PNG to write; its folder is created.
        columns: illustrations per row (fewer when the film has fewer pages).
        thumb_width: the width of each illustration on the sheet, in pixels.

    A run whose pages have no illustration yet (stopped at ``--until plan``) is an InputError.
    """
    from PIL import Image, ImageDraw, ImageFont

    from storyreel.plan import StoryPlan
    from storyreel.store import atomic_path

    if out.suffix.lower() != ".png":
        raise InputError(f"--contact-sheet {out}: the sheet is a PNG; name it something.png")
    plan = StoryPlan.load(run / "plan.json")
    images = page_images(run)
    if not images:
        raise InputError(f"{run} has no illustrations yet: make them first (storyreel make --run {run})")
    with Image.open(next(iter(images.values()))) as first:
        aspect = first.width / first.height
    layout = sheet_layout(len(plan.pages), aspect, columns, thumb_width)
    sheet = Image.new("RGB", layout.size, BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    title_font = ImageFont.load_default(size=22)
    number_font = ImageFont.load_default(size=15)
    text_font = ImageFont.load_default(size=14)
    draw.text((MARGIN, MARGIN), plan.title, font=title_font, fill=TEXT)
    for index, page in enumerate(plan.pages):
        x, y = layout.cell(index)
        if page.number in images:
            with Image.open(images[page.number]) as picture:
                sheet.paste(picture.convert("RGB").resize(layout.thumb, Image.Resampling.LANCZOS), (x, y))
        else:  # not drawn yet: an empty frame says so
            draw.rectangle([x, y, x + layout.thumb[0] - 1, y + layout.thumb[1] - 1], outline=MUTED, width=2)
        draw.rectangle([x - 1, y - 1, x + layout.thumb[0], y + layout.thumb[1]], outline=(214, 208, 200))
        number = str(page.number)
        draw.text((x, y + layout.thumb[1] + 6), number, font=number_font, fill=TEXT)
        indent = round(draw.textlength(number, font=number_font)) + 8
        lines = _fit(draw, first_words(page.text), text_font, layout.thumb[0] - indent)
        for k, line in enumerate(lines):
            draw.text((x + indent, y + layout.thumb[1] + 7 + 18 * k), line, font=text_font, fill=MUTED)
    with atomic_path(out) as tmp:
        sheet.save(tmp, format="PNG")
    return out
