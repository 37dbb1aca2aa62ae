"""Fixtures for the evaluation tests: the offline benchmark folder and a tiny random model."""

from __future__ import annotations

import pytest

from mathxfer.eval.testdata import benchmarks_dir


@pytest.fixture(scope="session")
def bench_dir():
    root = benchmarks_dir()
    if not (root / "math500").is_dir():
        pytest.skip(f"offline benchmark copies not found at {root} (set MATHXFER_DATA_DIR or put "
                    "../shared/benchmarks beside the repo)")
    return root


def tiny_model_and_tokenizer():
    """A 2-layer random Llama with a byte-level tokenizer and a chat template: plumbing only."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    torch.manual_seed(0)
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {ch: i for i, ch in enumerate(sorted(alphabet))}
    specials = ["<pad>", "<eos>", "<|im_start|>", "<|im_end|>"]
    for s in specials:
        vocab[s] = len(vocab)
    tk = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    tk.add_special_tokens(specials)
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, eos_token="<eos>", pad_token="<pad>")
    tok.chat_template = ("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n"
                         "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n"
                         "{% if enable_thinking is defined and not enable_thinking %}<think>\n\n</think>\n\n"
                         "{% endif %}{% endif %}")
    cfg = LlamaConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=4096,
                      eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, bos_token_id=None)
    return LlamaForCausalLM(cfg).eval(), tok


@pytest.fixture(scope="session")
def tiny():
    return tiny_model_and_tokenizer()
