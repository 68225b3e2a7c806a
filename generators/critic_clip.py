"""The CLIP image critic: how well a picture shows its prompt, as CLIP's image-text cosine similarity
times 100 (the "CLIP score"). For ViT-B/32 a picture that shows its prompt scores around 30, one that
missed it around 20 or less. ``storyreel.image_critic.ImageCritic`` uses it to keep the best of a few seeds.

Models by Hugging Face id, local folder (a ``CLIPModel`` with its tokenizer and image processor) or
``tiny:clip``, loaded through the runtime. The model is loaded once per backend instance and stays beside
the image pipeline (ViT-B/32 is 0.6 GB), so scoring between tries never swaps the diffusion pipeline out.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from storyreel import runtime
from storyreel.errors import BackendError
from storyreel.generators.base import Backend

DEFAULT_MODEL = "openai/clip-vit-base-patch32"  # MIT license, 0.6 GB
SETTING = "image.critic_model"


class ClipCritic(Backend):
    """CLIP score of an illustration against its prompt (image.critic)

    Scores a picture against a prompt with a CLIP model."""

    name: ClassVar[str] = "clip"
    version: ClassVar[str] = "1"
    requires: ClassVar[tuple[str, ...]] = ("torch", "transformers")

    class Options(runtime.ModelOptions):
        model: str = Field(
            DEFAULT_MODEL, description="CLIP id, folder (model, tokenizer, image processor) or tiny:clip"
        )

    def __init__(self, options: Options | None = None) -> None:
        super().__init__(options)
        self._lock = threading.Lock()
        self._loaded: tuple[Any, Any, Any] | None = None  # (clip, tokenizer, processor)

    def score(self, image: Path, prompt: str) -> float:
        """CLIP score of ``image`` against ``prompt`` (100 x cosine similarity; prompts cut at CLIP's 77 tokens)."""
        import torch
        from PIL import Image

        with self._lock:
            clip, tokenizer, processor = self._clip()
            # 1. the inputs: the picture as CLIP's pixels, the prompt as its tokens
            with Image.open(image) as picture:
                pixels = processor(images=[picture.convert("RGB")], return_tensors="pt")["pixel_values"]
            text = tokenizer([prompt], padding=True, truncation=True, return_tensors="pt")
            # 2. both embeddings, and their cosine
            with torch.no_grad():
                out = clip(
                    input_ids=text["input_ids"].to(clip.device),
                    attention_mask=text["attention_mask"].to(clip.device),
                    pixel_values=pixels.to(clip.device, clip.dtype),
                )
                cosine = torch.nn.functional.cosine_similarity(out.image_embeds, out.text_embeds).item()
        return round(100.0 * cosine, 3)

    def _clip(self) -> tuple[Any, Any, Any]:
        """The model, tokenizer and image processor, loaded on first use."""
        if self._loaded is None:
            from transformers import AutoImageProcessor, AutoTokenizer, CLIPModel

            o = self.options
            device, dtype = runtime.placement(o)
            try:
                model = runtime.resolve(o.model, SETTING, "image critic", o.local_files_only)
                with runtime.loading(model, SETTING, "image critic"):
                    clip = CLIPModel.from_pretrained(model.source, dtype=dtype, **model.kwargs())
                    tokenizer = AutoTokenizer.from_pretrained(model.source, **model.kwargs())
                    processor = AutoImageProcessor.from_pretrained(model.source, backend="pil", **model.kwargs())
            except BackendError as exc:
                raise BackendError(f"{exc}; or turn the critic off with image.critic=false") from None
            self._loaded = (clip.to(device).eval(), tokenizer, processor)
        return self._loaded
