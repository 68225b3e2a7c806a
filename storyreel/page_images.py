"""A user's own pictures as page illustrations: ``storyreel make ... --page-image 3=drawing.png``.

The picture stands in for the generated illustration of that page and is then animated like any other.
In the run directory it becomes the page's illustration asset, fitted to the illustration size; the asset's
spec holds the sha256 of the user's file, so a changed drawing (not just a renamed one) is picked up.
"""

from __future__ import annotations

import re
from pathlib import Path

from storyreel.errors import InputError
from storyreel.limits import shown


def parse_page_images(items: list[str]) -> dict[int, str]:
    """``["3=drawing.png", ...]`` to ``{3: "drawing.png"}``; a malformed item is an InputError."""
    found: dict[int, str] = {}
    for item in items:
        page, sep, file = item.partition("=")
        if not sep or not re.fullmatch(r"[0-9]{1,4}", page.strip()) or not file.strip():
            raise InputError(f"--page-image {shown(item)!r}: expected PAGE=FILE, e.g. --page-image 3=drawing.png")
        number = int(page)
        if number in found:
            raise InputError(f"--page-image: page {number} is given twice")
        found[number] = file.strip()
    return found


# A bigger picture is refused before it is decoded: a decompression bomb (a small file of billions of pixels)
# would take the memory of the machine. 64 megapixels is an 8000 x 8000 picture, far above any film frame.
MAX_PIXELS = 64_000_000


def check_picture(file: str, what: str) -> Path:
    """The user's picture ``file`` opened and decoded whole (not only its header), with a pixel limit, before
    any model work starts; returns its absolute path. ``what`` names it in the one-line InputError."""
    import warnings

    from PIL import Image

    try:
        path = Path(file).expanduser()
    except RuntimeError:  # ~someone who is not a user here
        raise InputError(f"{what} {file!r}: no such user's home folder") from None
    if not path.is_file():
        raise InputError(f"{what} {file} does not exist")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise InputError(
                        f"{what} {file} is {image.width} x {image.height} pixels: more than the "
                        f"{MAX_PIXELS // 1_000_000} megapixels a picture may have; make it smaller"
                    )
                image.load()  # the whole stream: a broken one that passes verify() fails here, not in a model
    except InputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InputError(f"{what} {file} is too many pixels to decode safely; make it smaller") from None
    except Exception:  # noqa: BLE001 - PIL raises many kinds (OSError, SyntaxError, ValueError ...) for bad files
        raise InputError(f"{what} {file} is not a picture PIL can read (PNG, JPEG ...)") from None
    return path.resolve()


def check_page_images(page_images: dict[int, str], pages: int) -> dict[int, str]:
    """Check that every page is in 1..pages and every file is a picture that decodes (``check_picture``);
    returns absolute paths."""
    checked: dict[int, str] = {}
    for page, file in sorted(page_images.items()):
        if not 1 <= page <= pages:
            raise InputError(f"page image for page {page}: the story has pages 1 to {pages}")
        checked[page] = str(check_picture(file, f"page image (page {page})"))
    return checked


def copy_page_images(run: Path, pictures: dict[int, str], pages: int) -> dict[int, str]:
    """Copy the user's pictures into the run (``inputs/pNN-<sha8>-<name>``), so that the run keeps them
    whatever becomes of the originals; returns page -> the copy's path."""
    from storyreel.store import RunDir, sha256_file, write_bytes

    copies = {}
    for number, source in check_page_images(pictures, pages).items():
        source_path = Path(source)
        name = f"p{number:02d}-{sha256_file(source_path)[:8]}-{source_path.name}"
        target = RunDir(run).inside(f"inputs/{name}")
        if not target.is_file() or target.is_symlink() or sha256_file(target)[:8] != name[4:12]:
            write_bytes(target, source_path.read_bytes())
        copies[number] = str(target)
    return copies


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
