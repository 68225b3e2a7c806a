"""The offline LLM's speed-ups keep its text: the prompt prefix's key/value cache, the bfloat16 output head,
the favoured words' bias and the suppressed markup tokens, on a tiny Gemma 3 built from a config (random
weights, the real classes and loading code)."""

from __future__ import annotations

import pytest

from storyreel import architectures, runtime
from storyreel.agents import llm as llm_module
from storyreel.agents.llm import TransformersCompletion


@pytest.fixture(scope="module")
def tiny_gemma(tmp_path_factory: pytest.TempPathFactory) -> str:
    import torch
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    tokenizer = architectures.gemma_tokenizer()  # one token per character
    tokenizer.add_tokens(["<start_of_image>", "\n"])  # added tokens that are not special, as Gemma's are
    torch.manual_seed(0)
    config = Gemma3TextConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=3,
        num_attention_heads=2, num_key_value_heads=1, head_dim=16, sliding_window=16,
        layer_types=["sliding_attention", "sliding_attention", "full_attention"],
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id, bos_token_id=tokenizer.bos_token_id,
    )  # fmt: skip
    folder = tmp_path_factory.mktemp("gemma") / "lm"
    Gemma3ForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def complete(path: str, prompt: str, precision: str = "float32", **kwargs) -> str:
    llm = TransformersCompletion(model_path=path, temperature=0, max_new_tokens=12, precision=precision)
    return llm.invoke(prompt, **kwargs)


def test_the_prefix_cache_gives_the_continuation_a_full_read_gives(tiny_gemma: str):
    context = "Book: a fox\nPage 1: the fox ran.\n"
    pages = ["Page 2: it hid under a tree.\n", "Page 3: the owl saw it there.\n", "Page 4: they became friends.\n"]
    llm_module._prefixes.clear()
    for n in range(len(pages) + 1):
        prefix = context + "".join(pages[:n])  # grows a page at a time, past the sliding window of 16
        prompt = prefix + f"Page {n + 2}:"
        assert complete(tiny_gemma, prompt, prefix=prefix) == complete(tiny_gemma, prompt)
        held_ids, _ = llm_module._prefixes[(tiny_gemma, "float32")]
        assert len(held_ids) > 16 * (n > 0)  # the held cache is the latest prefix's, extended
    assert complete(tiny_gemma, "Another book:", prefix="Book: a fox") == complete(tiny_gemma, "Another book:")


def test_the_bfloat16_head_keeps_the_next_token(tiny_gemma: str):
    import torch

    tokenizer, exact = runtime.load_causal_lm(tiny_gemma, precision="float32")
    _, fast = runtime.load_causal_lm(tiny_gemma, precision="bfloat16-head")
    assert fast is not exact and runtime.load_causal_lm(tiny_gemma, precision="bfloat16-head")[1] is fast
    assert fast.get_output_embeddings().weight.dtype == torch.bfloat16
    assert fast.get_input_embeddings().weight.dtype == torch.float32  # untied: the input side is as it was
    ids = tokenizer("Once upon a time, a fox", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        a, b = exact(ids).logits.float(), fast(ids).logits.float()
    assert b.dtype == torch.float32 and torch.allclose(a, b, atol=0.05 * float(a.abs().max()))
    assert (a.argmax(-1) == b.argmax(-1)).float().mean() > 0.9
    with pytest.raises(Exception, match="llm.precision must be one of"):
        runtime.load_causal_lm(tiny_gemma, precision="int4")


def test_favoured_words_are_likelier_and_markup_is_never_written(tiny_gemma: str, monkeypatch: pytest.MonkeyPatch):
    plain = complete(tiny_gemma, "Page 1:")
    monkeypatch.setattr(llm_module, "FAVOUR_BIAS", 50.0)  # far above the tiny model's logits: always chosen
    assert set(complete(tiny_gemma, "Page 1:", favour=("q",))) <= {"q", "Q", " "} != set(plain)
    tokenizer, _ = runtime.load_causal_lm(tiny_gemma)
    image = tokenizer.convert_tokens_to_ids("<start_of_image>")
    suppressed = llm_module._suppressed(tokenizer)
    newline = tokenizer.convert_tokens_to_ids("\n")
    assert image in suppressed and tokenizer.eos_token_id not in suppressed and newline not in suppressed
    favoured = complete(tiny_gemma, "Page 1:", favour=("<start_of_image>",))  # favoured, yet never written
    assert "<start_of_image>" not in favoured and favoured


def test_the_config_names_the_precision():
    from storyreel.config import load_config

    config, _ = load_config("preview", [])
    assert config.llm.precision == "bfloat16-head"
    assert load_config("preview", ["llm.precision=float32"])[0].llm.precision == "float32"


def test_the_sampling_filter_is_transformers_own_temperature_top_k_and_top_p():
    import torch
    from transformers import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

    torch.manual_seed(0)
    scores = torch.randn(3, 5000) * 4
    ours = llm_module._top_k_top_p(0.8, 50, 0.9)(None, scores.clone())
    theirs = TopPLogitsWarper(0.9)(None, TopKLogitsWarper(50)(None, TemperatureLogitsWarper(0.8)(None, scores.clone())))
    assert torch.equal(torch.isinf(ours), torch.isinf(theirs))  # the same tokens kept
    assert torch.allclose(ours.softmax(-1), theirs.softmax(-1), atol=1e-6)  # with the same probabilities


def test_markup_is_masked_as_transformers_suppresses_it(tiny_gemma: str):
    """The mask made once per model sets the same scores to -inf as transformers' ``suppress_tokens``."""
    import torch
    from transformers.generation.logits_process import SuppressTokensLogitsProcessor

    tokenizer, model = runtime.load_causal_lm(tiny_gemma)
    vocab = model.config.vocab_size
    ours = llm_module._suppress((tiny_gemma, "float32"), tokenizer, vocab)
    theirs = SuppressTokensLogitsProcessor(llm_module._suppressed(tokenizer))
    scores = torch.randn(2, vocab)
    assert torch.equal(ours(None, scores.clone()), theirs(None, scores.clone()))


def test_the_stable_prefix_is_kept_on_disk_and_gives_the_same_text(
    tiny_gemma: str, tmp_path, monkeypatch: pytest.MonkeyPatch
):
    """The example books' cache is written once, read by the next process (here: with the cache in memory
    cleared), and the text is the full read's; a damaged file is made again; a stable part that reaches the
    sliding window (16 here) is not kept."""
    monkeypatch.setenv("STORYREEL_CACHE", str(tmp_path))
    stable, head = "Book: a fox\n", "Book: an owl\nPage 1: it flew.\n"
    prompt = stable + head + "Page 2:"
    plain = complete(tiny_gemma, prompt)
    llm_module._prefixes.clear()
    assert complete(tiny_gemma, prompt, prefix=stable + head, stable_prefix=stable) == plain
    kept = list((tmp_path / "prefix-cache").glob("*.pt"))
    assert len(kept) == 1
    llm_module._prefixes.clear()  # a new process: only the disk holds it
    assert complete(tiny_gemma, prompt, prefix=stable + head, stable_prefix=stable) == plain
    kept[0].write_bytes(b"not a cache")
    llm_module._prefixes.clear()
    assert complete(tiny_gemma, prompt, prefix=stable + head, stable_prefix=stable) == plain
    assert kept[0].stat().st_size > 100  # made again
    long = "Book: a fox who ran far away\n"  # 29 tokens, past the window: read each time, not kept
    llm_module._prefixes.clear()
    assert complete(tiny_gemma, long + "Page 1:", prefix=long, stable_prefix=long) == complete(
        tiny_gemma, long + "Page 1:"
    )
    assert len(list((tmp_path / "prefix-cache").glob("*.pt"))) == 1
