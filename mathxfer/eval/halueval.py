"""HaluEval's judge prompts and Yes/No scoring, as in the authors' patched lm-eval task.

Source: ReasoningTransfer/Transferability-of-LLM-Reasoning, eval/lm-evaluation-harness/lm_eval/tasks/
halueval/utils.py (itself from RUCAIBox/HaluEval evaluation/evaluate.py). Stock lm-eval has no HaluEval
task, so the prompt text lives here; the scoring rule is theirs, verbatim in behaviour.
"""

from __future__ import annotations

from typing import Any

QA_INSTRUCTIONS = """I want you act as an answer judge. Given a question and an answer, your objective is to determine if the provided answer contains non-factual or hallucinated information. You SHOULD give your judgement based on the following hallucination types and the world knowledge.

You are trying to determine if the answer misunderstands the question context and intention.
#Question#: What is a rare breed of dog that was derived as a variant of Rat Terrier, Shiloh Shepherd dog or American Hairless Terrier?
#Answer#: American Hairless Terrier
#Your Judgement#: No

You should try your best to determine if the answer contains non-factual or hallucinated information according to the above hallucination types. The answer you give MUST be \\"Yes\\" or \\"No\\"\"."""

DIALOGUE_INSTRUCTIONS = """I want you act as a response judge. Given a dialogue history and a response, your objective is to determine if the provided response contains non-factual or hallucinated information. You SHOULD give your judgement based on the following hallucination types and the world knowledge.

You are trying to determine if the true entity in the response is replaced with a highly similar entity.
#Dialogue History#: [Human]: Could you recommand movies similar to The Dark Knight? [Assistant]: The sequel to Batman Begins is The Dark Knight. [Human]: Okay. Who is the director of The Dark Knight and any other movies from him not related to Batman?
#Response#: Christopher Nolan was the director. He also directed insomnia and inception.
#Your Judgement#: No

You should try your best to determine if the response contains non-factual or hallucinated information according to the above hallucination types. The answer you give MUST be \\"Yes\\" or \\"No\\"\"."""

SUMMARIZATION_INSTRUCTIONS = """I want you act as a summary judge. Given a document and a summary, your objective is to determine if the provided summary contains non-factual or hallucinated information. You SHOULD give your judgement based on the following hallucination types and the world knowledge.

You are trying to determine if the summary is factual but some information cannot be directly inferred or entailed from the document.
#Document#: The panther chameleon was found on Monday by a dog walker in the wooded area at Marl Park. It had to be put down after X-rays showed all of its legs were broken and it had a deformed spine. RSPCA Cymru said it was an "extremely sad example of an abandoned and neglected exotic pet". Inspector Selina Chan said: "It is a possibility that the owners took on this animal but were unable to provide the care he needs and decided to release him to the wild. "We are urging potential owners of exotic animals to thoroughly research what is required in the care of the particular species before taking one on. "Potential owners need to make sure they can give their animal the environment it needs and they have the facilities, time, financial means and long-term commitment to maintain a good standard of care, as required under the Animal Welfare Act 2006." She added it was illegal to release non-native species into the wild.
#Summary#: A chameleon that was found in a Cardiff park has been put down after being abandoned and neglected by its owners.
#Your Judgement#: Yes

You should try your best to determine if the summary contains non-factual or hallucinated information according to the above hallucination types. The answer you give MUST be \\"Yes\\" or \\"No\\"\"."""


def subset_of(row: dict[str, Any]) -> str:
    if "dialogue_history" in row:
        return "dialogue"
    if "document" in row:
        return "summarization"
    return "qa"


def judge_prompt(subset: str, row: dict[str, Any]) -> str:
    if subset == "qa":
        return (QA_INSTRUCTIONS + "\n\n#Knowledge: " + row["knowledge"] + "\n#Question#: " + row["question"]
                + "\n#Answer#: " + row["answer"] + "\n#Your Judgement#:")
    if subset == "dialogue":
        return (DIALOGUE_INSTRUCTIONS + "\n\n#Knowledge: " + row["knowledge"] + "\n#Dialogue History#: "
                + row["dialogue_history"] + "\n#Response#: " + row["response"] + "\n#Your Judgement#:")
    return (SUMMARIZATION_INSTRUCTIONS + "\n\n#Document#: " + row["document"] + "\n#Summary#: "
            + row["summary"] + "\n#Your Judgement#:")


def judge_verdict(response: str) -> str | None:
    """'yes' / 'no' from the response's first line, None when it says both or neither (scored wrong)."""
    first = response.strip().split("\n")[0]
    has_yes, has_no = "Yes" in first, "No" in first
    if has_yes == has_no:
        return None
    return "yes" if has_yes else "no"


def proxy_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The offline proxy (knowledge, question, right_answer, hallucinated_answer) in qa_samples' schema:
    two judge items per question, one per answer. For exercising the pipeline only, never a HaluEval score."""
    out = []
    for row in rows:
        base = {"knowledge": row["knowledge"], "question": row["question"]}
        out.append(dict(base, answer=row["right_answer"], hallucination="no"))
        out.append(dict(base, answer=row["hallucinated_answer"], hallucination="yes"))
    return out
