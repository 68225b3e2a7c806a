"""The image critic: score each illustration against its prompt with a critic backend (kind ``critic``,
CLIP by default: ``storyreel.generators.critic_clip``), and try the next seed when it scores under a
threshold (a bounded number of tries); the best try is kept.

The scores of every try go into the illustration's manifest record (``meta``) and, from the flow, into the
``image-scores`` table artifact. The critic backend is built once per process (``registry.instance``) and
keeps its model beside the image pipeline, so scoring between tries never swaps the diffusion pipeline out.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from storyreel import progress, registry
from storyreel.config import ImageSection
from storyreel.generators.base import ImageRequest
from storyreel.store import RunDir

DEFAULT_BACKEND = "clip"


class ImageCritic:
    """Scores pictures against prompts with a critic backend and picks the best of a few seeds.

    Args:
        model: the critic's model: a CLIP id, folder (with its tokenizer and image processor) or tiny:clip.
        threshold: score under which the next seed is tried.
        tries: pictures made per request at most (1: score only).
        device: auto (cuda when there is one), cpu, cuda ...
        backend: the critic backend's name (kind ``critic``); default clip.
    """

    def __init__(self, model: str, threshold: float, tries: int, device: str = "auto", backend: str = DEFAULT_BACKEND):
        self.model, self.threshold, self.tries, self.device, self.backend = model, threshold, tries, device, backend

    @classmethod
    def from_config(cls, image: ImageSection) -> ImageCritic | None:
        """The critic the config asks for, or None when ``image.critic`` is off."""
        if not image.critic:
            return None
        return cls(image.critic_model, image.critic_threshold, image.critic_tries, backend=image.critic_backend)

    def settings(self) -> dict[str, Any]:
        """What decides which picture is kept: part of the illustration's asset spec (the backend only when it
        is not the default, so the assets of runs made before critics were backends keep their keys)."""
        chosen = {"model": self.model, "threshold": self.threshold, "tries": self.tries}
        return chosen if self.backend == DEFAULT_BACKEND else {"backend": self.backend, **chosen}

    def score(self, image: Path, prompt: str) -> float:
        """The critic backend's score of ``image`` against ``prompt`` (CLIP: 100 x cosine similarity)."""
        return registry.instance("critic", self.backend, {"model": self.model, "device": self.device}).score(
            image, prompt
        )

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
