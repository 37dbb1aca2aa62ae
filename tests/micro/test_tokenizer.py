from __future__ import annotations

from mathxfer.micro import grading, teacher, world
from mathxfer.micro.tokenizer import VOCAB_SIZE


def test_digits_are_single_tokens_and_text_round_trips(small_tokenizer) -> None:
    tok = small_tokenizer
    assert len(tok) == VOCAB_SIZE
    pieces = tok.tokenize("Ana has 1234 coins. Answer: 5678")
    digit_pieces = [p.replace("▁", "") for p in pieces if any(c.isdigit() for c in p)]
    assert digit_pieces == list("12345678")
    for it in world.sample(200, 2, "train"):
        text = grading.render(it.question, it.answer)
        assert tok.decode(tok(text, add_special_tokens=False)["input_ids"]) == text
    solution = teacher.solve(world.sample_family("mul", 1, 0, "train")[0], "think")
    assert tok.decode(tok(solution)["input_ids"]) == solution
    assert tok.unk_token_id not in tok(solution)["input_ids"]


def test_chat_template_renders_the_chat_format(small_tokenizer) -> None:
    msgs = grading.messages("What is 2+2?", "2+2=4. Answer: 4")
    assert small_tokenizer.apply_chat_template(msgs, tokenize=False) == grading.render("What is 2+2?", "2+2=4. Answer: 4")
    prompt = small_tokenizer.apply_chat_template(msgs[:1], tokenize=False, add_generation_prompt=True)
    assert prompt == grading.render("What is 2+2?")


def test_assistant_mask_covers_exactly_the_answer_and_end(small_tokenizer) -> None:
    tok = small_tokenizer
    msgs = grading.messages("Which is larger, 417 or 389?", "417")
    out = tok.apply_chat_template(msgs, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    ids, mask = out["input_ids"], out["assistant_masks"]
    masked = [i for i, m in zip(ids, mask) if m]
    assert tok.decode(masked) == "417" + grading.END
    assert masked == tok("417" + grading.END, add_special_tokens=False)["input_ids"]
    assert ids[len(ids) - len(masked) - 1] == tok.convert_tokens_to_ids(grading.ASSISTANT)
