"""LLM providers, in the shape of simonw/llm: a provider is a small class with a ``prefix`` and one method,
``model(name, settings, seed)``, that returns the model the agents ask (``AgentModel``: one method,
``answer(request)``). ``llm.model = "<prefix>:<name>"`` picks one; ``offline`` needs no name.

Built-ins register exactly as a plugin does: as entry points of the group ``storyreel.llm_providers``,
``"prefix" = "module:Class"`` (storyreel's own in its pyproject.toml), loaded on first use, so
``storyreel --help`` imports none of them. ``register(provider_class)`` adds one at run time (tests).

- ``offline``: the bundled Gemma 3 270M, a base model that answers the requests itself (``agents.offline``).
- ``hf:<repo-or-path>``: a local transformers causal LM, driven the same way.
- ``ollama:<model>``, ``openai:<model>``: chat models through LangChain's ``init_chat_model``
  (``llm.base_url`` for a local server: vLLM, llama.cpp).
- ``scripted:<file.json>``: replays the answers in a JSON list, in order (tests, demos).
"""

from __future__ import annotations

import importlib
import json
import os
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar, Protocol

from langchain_core.language_models import BaseChatModel, BaseLanguageModel

from storyreel.agents.llm import ScriptedChatModel, ask_structured
from storyreel.agents.requests import AgentModel, M, Request
from storyreel.config import LLMSection
from storyreel.errors import ConfigError

ENTRY_POINT_GROUP = "storyreel.llm_providers"


class Provider(Protocol):
    prefix: ClassVar[str]

    def model(self, name: str, settings: LLMSection, seed: int) -> AgentModel: ...


class ChatModel:
    """A LangChain chat model answering requests with structured output (bounded retries)."""

    def __init__(self, llm: BaseChatModel, retries: int = 3) -> None:
        self.llm = llm
        self.retries = retries

    def answer(self, request: Request[M]) -> M:
        return ask_structured(
            self.llm, request.schema, request.messages(), self.retries, check=request.check, what=request.what
        )


def as_agent_model(model: AgentModel | BaseLanguageModel, settings: LLMSection) -> AgentModel:
    """The model the agents ask: an ``AgentModel`` as it is; a LangChain chat model with structured output;
    a LangChain completion model (it only continues text) as the offline model."""
    if isinstance(model, BaseChatModel):
        return ChatModel(model, settings.retries)
    if isinstance(model, BaseLanguageModel):
        from storyreel.agents.offline import OfflineModel

        return OfflineModel.of(model)
    return model


class _Chat:
    """A provider LangChain's ``init_chat_model`` knows; ``package`` is what to install for it."""

    prefix: ClassVar[str]
    package: ClassVar[str]

    def options(self, settings: LLMSection, seed: int) -> dict[str, Any]:
        return {"temperature": settings.temperature, "seed": seed} | (
            {"base_url": settings.base_url} if settings.base_url else {}
        )

    def model(self, name: str, settings: LLMSection, seed: int) -> ChatModel:
        from langchain.chat_models import init_chat_model

        if not name:
            raise ConfigError(f"llm.model {self.prefix}: needs a model name: {self.prefix}:<model>")
        try:
            llm = init_chat_model(f"{self.prefix}:{name}", **self.options(settings, seed))
        except ImportError:
            raise ConfigError(
                f"llm.model {self.prefix}:… needs {self.package}: pip install 'storyreel[{self.prefix}]'"
            ) from None
        return ChatModel(llm, settings.retries)


class OllamaProvider(_Chat):
    """``ollama:<model>``: a model served by Ollama (it enforces the JSON schema server-side)."""

    prefix = "ollama"
    package = "langchain-ollama"


class OpenAIProvider(_Chat):
    """``openai:<model>``: OpenAI, or an OpenAI-compatible server with ``llm.base_url``."""

    prefix = "openai"
    package = "langchain-openai"

    def options(self, settings: LLMSection, seed: int) -> dict[str, Any]:
        options = super().options(settings, seed) | {"use_responses_api": False}
        if settings.base_url:
            options["api_key"] = os.environ.get("OPENAI_API_KEY", "not-needed")
        return options


class ScriptedProvider:
    """``scripted:<file.json>``: the answers in a JSON list, replayed in order."""

    prefix: ClassVar[str] = "scripted"

    def model(self, name: str, settings: LLMSection, seed: int) -> ChatModel:
        path = Path(name)
        try:
            answers = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"llm.model scripted: cannot read answers from {path}: {exc}") from None
        if not isinstance(answers, list):
            raise ConfigError(f"llm.model scripted: {path} must hold a JSON list of answers")
        return ChatModel(ScriptedChatModel.from_answers(answers), settings.retries)


_registered: dict[str, type] = {}


def register(provider: type) -> None:
    """Add a provider class (it has a ``prefix`` and ``model(name, settings, seed)``)."""
    _registered[provider.prefix] = provider


def providers() -> dict[str, str]:
    """Every provider by prefix (as "module:Class"): the entry points, storyreel's own and plugins', then
    the classes registered at run time."""
    found = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    found |= {prefix: f"{cls.__module__}:{cls.__qualname__}" for prefix, cls in _registered.items()}
    return found


def provider(prefix: str) -> Provider:
    """The provider for ``prefix``; a ConfigError names the ones there are."""
    if prefix in _registered:
        return _registered[prefix]()
    target = providers().get(prefix)
    if target is None:
        raise ConfigError(f"no LLM provider {prefix!r}; there are: {', '.join(sorted(providers()))}")
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)()


def agent_model(settings: LLMSection, seed: int = 0) -> AgentModel:
    """The model named by ``settings.model`` ("<prefix>:<name>", or "offline"); errors say how to fix them."""
    spec = settings.model.strip()
    prefix, sep, name = spec.partition(":")
    if not sep and prefix != "offline":
        raise ConfigError(
            f"llm.model {spec!r} is not understood; use offline, ollama:<model>, openai:<model>, "
            "hf:<repo-or-path> or scripted:<file.json>"
        )
    return provider(prefix).model(name, settings, seed)
