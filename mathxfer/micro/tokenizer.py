"""The micro tokenizer: a 1024-token BPE trained on the world, wrapped as a PreTrainedTokenizerFast.

Digits are always split one per token (numbers become digit sequences the model can compute on),
and spaces are kept as a Metaspace marker so decoding round-trips the text exactly. The chat template
marks the assistant turn with ``{% generation %}`` so TRL's ``assistant_only_loss=True`` and
``return_assistant_tokens_mask`` find exactly the answer (and its end token).
"""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from mathxfer.micro import teacher, world
from mathxfer.micro.grading import ASSISTANT, END, PAD, SPECIAL_TOKENS, UNK, USER

VOCAB_SIZE = 1024
TOKENIZER_SEED = 4242

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'user' %}" + USER + "{{ message['content'] }}"
    "{% elif message['role'] == 'assistant' %}" + ASSISTANT +
    "{% generation %}{{ message['content'] }}" + END + "{% endgeneration %}"
    "{% else %}{{ raise_exception('the micro chat format has only user and assistant turns, got ' + message['role']) }}"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}" + ASSISTANT + "{% endif %}"
)


def reasoning_text(item: world.Item) -> str:
    """Reasoning-style text about a math item, so the BPE learns the words of worked solutions (the
    teacher's and more). Kept apart from the teacher on purpose: the teacher's format can change without
    changing the shipped tokenizer (tests/micro/test_base.py checks that this corpus still rebuilds it)."""
    plan, result = teacher.plan_and_result(item)
    work = item.answer.rsplit(" Answer:", 1)[0]
    return (f"{teacher.THINK_OPEN}{plan} {work}{teacher.THINK_CLOSE} "
            f"Solution: {work} The result is {result}. Answer: {result}")


def corpus(n: int = 20_000, seed: int = TOKENIZER_SEED) -> Iterable[str]:
    """Training text for the BPE: world items (both splits' surface forms) plus reasoning-style text."""
    for item in world.sample(n, seed, "train"):
        yield item.question
        yield item.answer
        if item.group == "math":
            yield reasoning_text(item)


def train_tokenizer(texts: Iterable[str] | None = None, vocab_size: int = VOCAB_SIZE) -> PreTrainedTokenizerFast:
    tok = Tokenizer(models.BPE(unk_token=UNK))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="never"),
        pre_tokenizers.Digits(individual_digits=True),
    ])
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="never")
    alphabet = [chr(c) for c in range(32, 127)] + ["▁", "\n"]
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS),
                                  initial_alphabet=alphabet, show_progress=False)
    tok.train_from_iterator(texts if texts is not None else corpus(), trainer=trainer)
    return wrap(tok)


def wrap(tok: Tokenizer) -> PreTrainedTokenizerFast:
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token=UNK, pad_token=PAD, eos_token=END,
        additional_special_tokens=[USER, ASSISTANT], padding_side="left", model_max_length=256,
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast
