"""Scoring the answers of question-answering tasks: the choice a multiple-choice answer names,
and sentence BLEU of free-text answers. The passage collection for retrieval-augmented prompts
is elmtex/passages.py; the LLM-as-judge stage's helpers are elmtex/judge.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

# --- multiple choice ---------------------------------------------------------------------------

_WORD = re.compile(r"\w+", re.UNICODE)


def _norm(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def parse_choice(
    text: Any, choices: Sequence[str], options: dict[str, str] | None = None
) -> str | None:
    """The choice an answer names, or None when it names none or several.

    Accepts the bare choice in any case and wrapping ("b", "(B)", "B.", "**B**"), a choice
    leading the answer ("B) metformin", "B. Metformin"), answer phrases ("Answer: B", "the
    correct answer is (B)", "option B", a broken {"answer": "B"}), and, given the options' texts,
    the text of exactly one option ("Metformin", "It is metformin."). A stray capital letter
    inside prose ("A serious complication ...") does not count.
    """
    if text is None:
        return None
    text = str(text).strip()
    if not text:
        return None
    by_lower = {c.lower(): c for c in choices}
    alternatives = "|".join(re.escape(c) for c in sorted(choices, key=len, reverse=True))
    # The whole answer is a choice, up to wrapping punctuation and markup.
    bare = text.strip(" \t\n\"'`*_()[]{}.:;,!").lower()
    if bare in by_lower:
        return by_lower[bare]
    # A choice leading the answer, followed by a delimiter: "B) ...", "B. ...", "Yes, ...".
    m = re.match(rf"^[\s\"'`*_(\[]*({alternatives})\s*[).:,\]\-–]", text, re.IGNORECASE)
    if m:
        return by_lower[m.group(1).lower()]
    # An answer phrase naming one choice.
    found = set()
    for first, second in re.findall(
        rf"(?:answer|option|choice)\W{{0,3}}(?:is|would be|:|=)?\W{{0,3}}\(?({alternatives})\b"
        rf"(?:\)?\s*(?:or|and|/|,)\s*\(?({alternatives})\b)?",
        text,
        re.IGNORECASE,
    ):
        found.update(by_lower[g.lower()] for g in (first, second) if g)  # "A or B": hedged
    if len(found) == 1:
        return found.pop()
    # The text of exactly one option (longest options first, so that "type 1 diabetes" is not
    # read as a mention of "diabetes").
    if options:
        said = f" {_norm(text)} "
        texts = {k: f" {_norm(v)} " for k, v in options.items() if _norm(v) and k in choices}
        hits = [k for k, v in texts.items() if v in said]
        # an option named only as part of another named option does not count
        hits = [k for k in hits if not any(o != k and texts[k] in texts[o] for o in hits)]
        if len(hits) == 1:
            return hits[0]
    # A lone choice in parentheses or before a closing bracket: "I think (C)".
    found = {by_lower[g.lower()] for g in re.findall(rf"\(({alternatives})\)", text)}
    if len(found) == 1:
        return found.pop()
    return None


def choice_text(choice: str | None, options: dict[str, str] | None) -> str:
    """'C (oral iron supplementation)' when the option text is known, else the choice."""
    if choice is None:
        return "(no choice)"
    if options and choice in options:
        return f"{choice} ({options[choice]})"
    return choice


# --- BLEU --------------------------------------------------------------------------------------


def sentence_bleu(prediction: str, reference: str) -> float:
    """sacrebleu's sentence BLEU (13a tokenisation, exponential smoothing) on a 0-1 scale."""
    import sacrebleu

    return sacrebleu.sentence_bleu(prediction, [reference]).score / 100.0
