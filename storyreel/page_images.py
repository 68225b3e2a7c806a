"""A user's own pictures as page illustrations: ``storyreel make ... --page-image 3=drawing.png``.

The picture stands in for the generated illustration of that page and is then animated like any other.
In the run directory it becomes the page's illustration asset, fitted to the illustration size; the asset's
spec holds the sha256 of the user's file, so a changed drawing (not just a renamed one) is picked up.
"""

from __future__ import annotations

from pathlib import Path

from storyreel.errors import InputError


def parse_page_images(items: list[str]) -> dict[int, str]:
    """``["3=drawing.png", ...]`` to ``{3: "drawing.png"}``; a malformed item is an InputError."""
    found: dict[int, str] = {}
    for item in items:
        page, sep, file = item.partition("=")
        if not sep or not page.strip().isdigit() or not file.strip():
            raise InputError(f"--page-image {item!r}: expected PAGE=FILE, e.g. --page-image 3=drawing.png")
        number = int(page)
        if number in found:
            raise InputError(f"--page-image: page {number} is given twice")
        found[number] = file.strip()
    return found


def check_page_images(page_images: dict[int, str], pages: int) -> dict[int, str]:
    """Check that every page is in 1..pages and every file is a readable picture; returns absolute paths."""
    from PIL import Image, UnidentifiedImageError

    checked: dict[int, str] = {}
    for page, file in sorted(page_images.items()):
        path = Path(file).expanduser()
        if not 1 <= page <= pages:
            raise InputError(f"page image for page {page}: the story has pages 1 to {pages}")
        if not path.is_file():
            raise InputError(f"page image {file} (page {page}) does not exist")
        try:
            with Image.open(path) as image:
                image.verify()
        except (OSError, UnidentifiedImageError, SyntaxError):
            raise InputError(f"page image {file} (page {page}) is not a picture PIL can read (PNG, JPEG ...)") from None
        checked[page] = str(path.resolve())
    return checked


def fit_page_image(source: Path, width: int, height: int, out: Path) -> None:
    """Write ``source`` as a ``width`` x ``height`` PNG: turned upright, transparency over white, scaled
    to cover the frame and centre-cropped (the picture keeps its proportions)."""
    from PIL import Image, ImageOps

    with Image.open(source) as opened:
        image = ImageOps.exif_transpose(opened)
        if image.mode in ("RGBA", "LA", "P"):
            image = image.convert("RGBA")
            background = Image.new("RGBA", image.size, (255, 255, 255, 255))
            image = Image.alpha_composite(background, image)
        fitted = ImageOps.fit(image.convert("RGB"), (width, height), Image.Resampling.LANCZOS)
    fitted.save(out, format="PNG")
