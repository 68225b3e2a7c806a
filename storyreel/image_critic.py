"""The image critic: score each illustration against its prompt with CLIP, and try the next seed when it
scores under a threshold (a bounded number of tries); the best try is kept.

The score is CLIP's image-text cosine similarity times 100 (the "CLIP score"): for ViT-B/32, a picture that
shows its prompt scores around 30, one that missed it around 20 or less. The scores of every try go into
the illustration's manifest record (``meta``) and, from the flow, into the ``image-scores`` table artifact.

The CLIP model is loaded once per process and kept beside the image pipeline (ViT-B/32 is 0.6 GB), so
scoring between tries never swaps the diffusion pipeline out.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from storyreel import progress
from storyreel.config import ImageSection
from storyreel.errors import BackendError
from storyreel.generators.base import ImageRequest
from storyreel.store import RunDir

_models: dict[tuple[str, str], tuple[Any, Any, Any]] = {}  # (model, device) -> (clip, tokenizer, processor)
_lock = threading.Lock()


class ImageCritic:
    """Scores pictures against prompts with a CLIP model and picks the best of a few seeds.

    Args:
        model: CLIP model id or folder (with its tokenizer and image processor).
        threshold: score under which the next seed is tried.
        tries: pictures made per request at most (1: score only).
        device: auto (cuda when there is one), cpu, cuda ...
    """

    def __init__(self, model: str, threshold: float, tries: int, device: str = "auto"):
        self.model, self.threshold, self.tries, self.device = model, threshold, tries, device

    @classmethod
    def from_config(cls, image: ImageSection) -> ImageCritic | None:
        """The critic the config asks for, or None when ``image.critic`` is off."""
        if not image.critic:
            return None
        return cls(image.critic_model, image.critic_threshold, image.critic_tries)

    def settings(self) -> dict[str, Any]:
        """What decides which picture is kept: part of the illustration's asset spec."""
        return {"model": self.model, "threshold": self.threshold, "tries": self.tries}

    def score(self, image: Path, prompt: str) -> float:
        """CLIP score of ``image`` against ``prompt`` (100 x cosine similarity; prompts cut at CLIP's 77 tokens)."""
        import torch
        from PIL import Image

        clip, tokenizer, processor = self._clip()
        with Image.open(image) as picture:
            pixels = processor(images=[picture.convert("RGB")], return_tensors="pt")["pixel_values"]
        text = tokenizer([prompt], padding=True, truncation=True, return_tensors="pt")
        with _lock, torch.no_grad():
            out = clip(
                input_ids=text["input_ids"].to(clip.device),
                attention_mask=text["attention_mask"].to(clip.device),
                pixel_values=pixels.to(clip.device, clip.dtype),
            )
            cosine = torch.nn.functional.cosine_similarity(out.image_embeds, out.text_embeds).item()
        return round(100.0 * cosine, 3)

    def best_of(self, generate: Callable[[ImageRequest, Path], Any], request: ImageRequest, out: Path) -> dict:
        """Make ``request``'s picture with its seed, then the next seeds while the score is under the
        threshold (``tries`` in all at most); write the best to ``out``. Returns what was tried, for the
        manifest: ``{"score": best, "seed": its seed, "tries": [{"seed": s, "score": x}, ...]}``."""
        tries: list[dict[str, Any]] = []
        best: tuple[float, Path] | None = None
        try:
            for attempt in range(self.tries):
                # 1. a picture with the next seed
                seed = request.seed + attempt
                candidate = out.with_name(f"{out.stem}.try{attempt}{out.suffix}")
                generate(request.model_copy(update={"seed": seed}), candidate)
                # 2. its score: keep the picture if it is the best so far
                score = self.score(candidate, request.prompt)
                tries.append({"seed": seed, "score": score})
                if best is None or score > best[0]:
                    if best is not None:
                        best[1].unlink()
                    best = (score, candidate)
                else:
                    candidate.unlink()
                if score >= self.threshold:
                    break
                if attempt + 1 < self.tries:
                    progress.note(f"image critic: score {score:.1f} < {self.threshold:g} with seed {seed}; next seed")
            # 3. the best try becomes the illustration
            assert best is not None
            best[1].replace(out)
        finally:
            for leftover in out.parent.glob(f"{out.stem}.try*{out.suffix}"):
                leftover.unlink(missing_ok=True)
        chosen = max(tries, key=lambda t: t["score"])
        return {"score": chosen["score"], "seed": chosen["seed"], "tries": tries}

    def _clip(self) -> tuple[Any, Any, Any]:
        from storyreel import gpu

        device = gpu.device() if self.device == "auto" else self.device
        key = (self.model, device)
        with _lock:
            if key not in _models:
                _models[key] = _load_clip(self.model, device)
            return _models[key]


def _load_clip(model: str, device: str) -> tuple[Any, Any, Any]:
    import torch
    from transformers import AutoImageProcessor, AutoTokenizer, CLIPModel

    try:
        clip = CLIPModel.from_pretrained(model, dtype=torch.float16 if device.startswith("cuda") else torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(model)
        processor = AutoImageProcessor.from_pretrained(model, backend="pil")
    except (OSError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise BackendError(
            f"image critic model {model!r} could not be loaded ({first}): set image.critic_model to a CLIP id or "
            "folder (download it first without internet), or turn the critic off with image.critic=false"
        ) from None
    return clip.to(device).eval(), tokenizer, processor


def score_rows(run: RunDir, illustrations: dict[int, str]) -> list[dict[str, Any]]:
    """Rows for the ``image-scores`` table: per page, the kept picture's score and seed, and every try."""
    by_path = {record.path: record for record in run.manifest().values()}
    rows = []
    for page, path in sorted(illustrations.items()):
        record = by_path.get(run.relative(Path(path)))
        if record is None or "score" not in record.meta:
            continue
        tries = ", ".join(f"{t['seed']}: {t['score']:.1f}" for t in record.meta["tries"])
        rows.append(
            {
                "page": page,
                "score": record.meta["score"],
                "seed": record.meta["seed"],
                "tries": tries,
                "file": record.path,
            }
        )
    return rows
