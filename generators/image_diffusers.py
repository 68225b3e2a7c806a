"""Illustrations from a text-to-image latent diffusion model, through diffusers.

Any model ``AutoPipelineForText2Image`` takes, by Hugging Face id or local folder: FLUX.2 [klein] (the
default), FLUX.1 schnell/dev, SDXL and SDXL-Turbo, SD 1.x/2.x, SD3, PixArt, Sana ... The pipeline is loaded
once and stays resident while pages are illustrated (``storyreel.runtime.pipeline``: one per process); it is
loaded and placed through the runtime (``image.model`` may also be ``tiny:flux2``, a tiny FLUX.2 built locally).

Character consistency comes from three places:

- the prompt: the plan repeats each character's fixed look verbatim in every prompt that shows them;
- the seed: the flow gives pages that show the same characters the same seed (a seed family), so they
  start from the same noise; this backend uses ``request.seed`` as it comes, on a CPU generator, so a seed
  makes the same picture on any device;
- reference images (``--image``): through an IP-Adapter when ``ip_adapter`` is configured (SD, SDXL,
  FLUX.1), else through the model's own image conditioning where it has one (FLUX.2 and FLUX.1 Kontext
  take reference pictures); with neither, a note says they are not used.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from storyreel import progress, runtime
from storyreel.errors import BackendError
from storyreel.generators.base import Backend, ImageRequest
from storyreel.generators.diffusion import step_progress
from storyreel.generators.frames import round_size

DEFAULT_MODEL = "black-forest-labs/FLUX.2-klein-4B"  # Apache-2.0, 4 steps, ~13 GB VRAM, takes reference images

# Steps and guidance for models distilled to a few steps, by a part of their id; other models get
# DEFAULT_STEPS and their pipeline's own guidance. First match wins.
FEW_STEP_MODELS: tuple[tuple[str, int, float | None], ...] = (
    ("klein-base", 50, 4.0),  # the undistilled FLUX.2 klein
    ("klein", 4, 1.0),
    ("schnell", 4, 0.0),
    ("turbo", 4, 0.0),  # SDXL-Turbo, SD-Turbo
)
DEFAULT_STEPS = 30

# Pipelines whose own ``image`` argument is a reference picture (not an image to edit pixel by pixel).
REFERENCE_PIPELINES = {"Flux2KleinPipeline": "list", "Flux2Pipeline": "list", "FluxKontextPipeline": "one"}


class IPAdapter(BaseModel):
    """An IP-Adapter that conditions the picture on reference images (``pipe.load_ip_adapter``)."""

    model_config = ConfigDict(extra="forbid")

    repo: str = Field(description="Hugging Face id or folder, e.g. h94/IP-Adapter")
    subfolder: str = Field("models", description="folder of the weights in it: models (SD 1.5), sdxl_models (SDXL)")
    weight_name: str = Field(description="e.g. ip-adapter_sd15.safetensors, ip-adapter_sdxl.safetensors")
    image_encoder: str = Field(
        "image_encoder",
        description="the CLIP image encoder: a folder inside subfolder (SD, SDXL) or an id (FLUX.1: "
        "openai/clip-vit-large-patch14)",
    )
    scale: float = Field(0.6, ge=0, le=2, description="how strongly the references steer the picture")


class DiffusersIllustrator(Backend):
    """Text-to-image LDM by Hugging Face id or folder (FLUX.2 klein, FLUX.1, SDXL, SD ...)

    Text-to-image with a diffusers pipeline; see the module docstring."""

    name: ClassVar[str] = "diffusers"
    version: ClassVar[str] = "1"
    requires: ClassVar[tuple[str, ...]] = ("torch", "diffusers", "transformers")  # importable modules it needs
    uses_gpu: ClassVar[bool] = True  # the flow runs it under the GPU concurrency limit (run.gpu_limit)

    class Options(runtime.PipelineOptions):
        """Placement (device, dtype, offload, vae_tiling, compile, local_files_only) as every model backend."""

        auto_dtype: ClassVar[str] = "bfloat16"  # FLUX and SDXL run in bfloat16 (float16 where a card lacks it)

        model: str = Field(DEFAULT_MODEL, description="Hugging Face id, local folder or tiny:flux2 (text-to-image)")
        steps: int | None = Field(None, ge=1, le=200, description="None: 4 for few-step models, else 30")
        guidance: float | None = Field(None, ge=0, le=30, description="None: the model's own default")
        vae_slicing: bool = Field(False, description="decode a batch one picture at a time")
        ip_adapter: IPAdapter | None = Field(None, description="reference images through an IP-Adapter")
        variant: str | None = Field(None, description="weights variant, e.g. fp16 (SDXL repos: half the download)")

    def __init__(self, options: Options | None = None):
        super().__init__(options)
        self._notes: set[str] = set()
        self._call_params: set[str] = set()  # what the loaded pipeline's __call__ takes
        self._ip_adapter = False  # whether an IP-Adapter is loaded into it

    # --- generation ---------------------------------------------------------------------------

    def generate(self, request: ImageRequest, out: Path) -> None:
        """Write the illustration for ``request`` as a PNG of exactly request.width x request.height."""
        from PIL import Image

        references = [self._open_reference(p) for p in request.reference_images]
        with runtime.pipeline(self, self._load) as pipe:
            # 1. a size the model can make (multiples of 8, or 16 for transformers that pack 2x2 patches)
            width, height = self._model_size(pipe, request.width, request.height)

            # 2. the inputs: prompt, negative prompt where the model takes one, steps, guidance, seed
            steps, guidance = self._steps_and_guidance(pipe)
            kwargs: dict[str, Any] = {
                "prompt": request.prompt,
                "width": width,
                "height": height,
                "num_inference_steps": steps,
                "generator": runtime.generator(request.seed),
                "output_type": "pil",
            }
            if request.negative_prompt and "negative_prompt" in self._call_params:
                kwargs["negative_prompt"] = request.negative_prompt
            if guidance is not None and "guidance_scale" in self._call_params:
                kwargs["guidance_scale"] = guidance

            # 3. the references: an IP-Adapter, else the model's own image conditioning, else a note
            kwargs.update(self._reference_inputs(pipe, references))

            # 4. denoise, reporting each step
            if "callback_on_step_end" in self._call_params:
                kwargs["callback_on_step_end"] = step_progress("", steps, stage="image steps")
            advice = (
                'lower image.width/image.height, set image.options.offload="model" (or "sequential") and '
                "image.options.vae_tiling=true, or choose a smaller model with image.model"
            )
            what = f"making a {width}x{height} illustration with {self.options.model}"
            try:
                with runtime.out_of_memory(what, advice):
                    image = pipe(**kwargs).images[0]
            except ValueError as exc:  # the pipeline's own input checks
                raise BackendError(
                    f"image model {self.options.model} refused the request: {_first_line(exc)}"
                ) from None

        # 5. exactly the requested size, as PNG
        if image.size != (request.width, request.height):
            image = image.resize((request.width, request.height), Image.Resampling.LANCZOS)
        image.convert("RGB").save(out, format="PNG")

    def _steps_and_guidance(self, pipe: Any) -> tuple[int, float | None]:
        steps, guidance = self.options.steps, self.options.guidance
        known = next((entry for entry in FEW_STEP_MODELS if entry[0] in self.options.model.lower()), None)
        if known is None and getattr(pipe.config, "is_distilled", False):  # FLUX.2 klein from a local folder
            known = ("klein", 4, 1.0)
        default_steps, default_guidance = (known[1], known[2]) if known else (DEFAULT_STEPS, None)
        return steps or default_steps, default_guidance if guidance is None else guidance

    @staticmethod
    def _model_size(pipe: Any, width: int, height: int) -> tuple[int, int]:
        return round_size(width, height, 16 if getattr(pipe, "transformer", None) is not None else 8)

    def _reference_inputs(self, pipe: Any, references: list[Any]) -> dict[str, Any]:
        from PIL import Image

        if self._ip_adapter:
            # a loaded IP-Adapter needs an image on every call: a neutral one at scale 0 when there are none
            pipe.set_ip_adapter_scale(self.options.ip_adapter.scale if references else 0.0)
            return {"ip_adapter_image": [references or [Image.new("RGB", (224, 224), (128, 128, 128))]]}
        if not references:
            return {}
        how = REFERENCE_PIPELINES.get(type(pipe).__name__)
        if how == "list":
            return {"image": [_reference_shape(r) for r in references]}
        if how == "one":
            if len(references) > 1:
                self._note(f"{type(pipe).__name__} takes one reference image: using the first of {len(references)}")
            return {"image": _reference_shape(references[0])}
        self._note(
            f"reference images are not used: {type(pipe).__name__} has no image conditioning; set "
            "image.options.ip_adapter (SD, SDXL, FLUX.1) or use a FLUX.2 model"
        )
        return {}

    # --- loading --------------------------------------------------------------------------------

    def _load(self) -> Any:
        """Load the pipeline, place it on the device (or offload it), and set up what the options ask."""
        from diffusers import AutoPipelineForText2Image

        o = self.options
        _, dtype = runtime.placement(o)

        # 1. the pipeline, from a folder or the Hub (downloaded once into the Hugging Face cache)
        model = runtime.resolve(o.model, "image.model", "image", o.local_files_only)
        with runtime.loading(model, "image.model", "image", hint=f"e.g. {DEFAULT_MODEL} or tiny:flux2"):
            pipe = AutoPipelineForText2Image.from_pretrained(
                model.source, dtype=dtype, **model.kwargs(), **({"variant": o.variant} if o.variant else {})
            )

        # 2. an IP-Adapter for reference images (before offloading, so its encoder is offloaded too)
        self._ip_adapter = False
        if o.ip_adapter is not None:
            if not hasattr(pipe, "load_ip_adapter"):
                raise BackendError(f"{type(pipe).__name__} takes no IP-Adapter: remove image.options.ip_adapter")
            # SD and SDXL name the image encoder's folder in the adapter's repo; FLUX.1 names a model of its own
            takes = inspect.signature(pipe.load_ip_adapter).parameters
            encoder_arg = (
                "image_encoder_folder"
                if "image_encoder_folder" in takes
                else "image_encoder_pretrained_model_name_or_path"
            )
            setting = "image.options.ip_adapter.repo"
            adapter = runtime.resolve(o.ip_adapter.repo, setting, "IP-Adapter", o.local_files_only)
            with runtime.loading(adapter, setting, "IP-Adapter"):
                pipe.load_ip_adapter(
                    adapter.source,
                    subfolder=o.ip_adapter.subfolder,
                    weight_name=o.ip_adapter.weight_name,
                    **adapter.kwargs(),
                    **{encoder_arg: o.ip_adapter.image_encoder},
                )
            self._ip_adapter = True

        # 3. memory and speed: the device, offload, VAE tiling and compilation (the last three on CUDA only)
        runtime.place(pipe, o, "image.options")
        vae = getattr(pipe, "vae", None)
        if o.vae_slicing and hasattr(vae, "enable_slicing"):
            vae.enable_slicing()

        self._call_params = set(inspect.signature(pipe.__call__).parameters)
        return pipe

    @staticmethod
    def _open_reference(path: Path) -> Any:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(path) as image:
                return image.convert("RGB")
        except (OSError, UnidentifiedImageError) as exc:
            raise BackendError(f"reference image {path} cannot be read as an image: {_first_line(exc)}") from None

    def _note(self, message: str) -> None:
        if message not in self._notes:
            self._notes.add(message)
            progress.note(f"image backend diffusers: {message}")


# --- helpers ----------------------------------------------------------------------------------


def _reference_shape(image: Any) -> Any:
    """A reference picture the FLUX pipelines accept: each side at least 64 px, at most 8:1."""
    from PIL import ImageOps

    width, height = image.size
    if max(width, height) > 8 * min(width, height):  # centre-crop the long side
        side = 8 * min(width, height)
        image = ImageOps.fit(image, (min(width, side), min(height, side)))
        width, height = image.size
    if min(width, height) < 64:
        scale = 64 / min(width, height)
        image = image.resize((max(64, round(width * scale)), max(64, round(height * scale))))
    return image


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
