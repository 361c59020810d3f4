"""Age and gender compared as values, not strings.

The strict exact match (`elmtex.scoring`) compares `normalise_item` of gold and prediction:
"67" vs "67 years" or "Mann" vs "männlich" count as wrong. Here both sides become values first:

- Age -> (number, unit), unit one of years, months, weeks, days. The number is the first number
  in the text (a decimal comma or point is kept: "1,5 Jahre" -> 1.5 years). The unit is the first
  unit word after it ("4 months", "4 Monate", "4-month-old", "4 Mo."); with no unit word the
  unit is years ("67", "67-year-old", "67 J.", "67 Jahre" -> 67 years). Text without a number
  (e.g. "adult") is compared as the strict form.
- Gender -> "female", "male" or "other" through a small English/German synonym table (female,
  woman, girl, f, w, weiblich, Frau, Mädchen, Patientin ...; male, man, boy, m, männlich, Mann,
  Junge ...); a word outside the table is compared as the strict form.
- N/A stays N/A on both sides (N/A vs N/A is a match, N/A vs a value is not).
"""

from __future__ import annotations

import re

from elmtex.entities import normalise_item

_AGE_NUMBER = re.compile(r"(\d+(?:[.,]\d+)?)")
# Unit words (English and German, whole words or their usual abbreviations), first match wins.
_AGE_UNITS = (
    ("months", re.compile(r"\b(?:months?|mos?|monaten?|monats?|mon|mo)\b")),
    ("weeks", re.compile(r"\b(?:weeks?|wks?|wochen?|wo)\b")),
    ("days", re.compile(r"\b(?:days?|tagen?|tag|d)\b")),
    ("years", re.compile(r"\b(?:years?|yrs?|y|yo|jahren?|jahres?|jahr|j|lj)\b")),
)

_GENDER = {
    "female": (
        "female",
        "f",
        "woman",
        "women",
        "girl",
        "feminine",
        "w",
        "weiblich",
        "weibl",
        "frau",
        "mädchen",
        "patientin",
    ),
    "male": (
        "male",
        "m",
        "man",
        "men",
        "boy",
        "masculine",
        "männlich",
        "mannlich",
        "maennlich",
        "männl",
        "mann",
        "junge",
        "knabe",
    ),
    "other": ("diverse", "divers", "non-binary", "nonbinary", "intersex", "other", "d"),
}
_GENDER_WORDS = {w: value for value, words in _GENDER.items() for w in words}


def normalise_age(text: str, na_value: str = "N/A") -> tuple[float, str] | str:
    """(number, unit) of an age, or the strict form when it holds no number (rules above)."""
    s = normalise_item(str(text))
    if s == normalise_item(na_value):
        return s
    m = _AGE_NUMBER.search(s)
    if not m:
        return s
    number = float(m.group(1).replace(",", "."))
    rest = s[m.end() :]
    # The first unit word after the number; "67-year-old" and "4-month-old" read the same.
    found = [(u.search(rest).start(), unit) for unit, u in _AGE_UNITS if u.search(rest)]
    unit = min(found)[1] if found else "years"
    return number, unit


def normalise_gender(text: str, na_value: str = "N/A") -> str:
    """ "female", "male" or "other", or the strict form for a word outside the table."""
    s = normalise_item(str(text))
    if s in _GENDER_WORDS:
        return _GENDER_WORDS[s]
    words = re.findall(r"[\w-]+", s)
    values = {_GENDER_WORDS[w] for w in words if w in _GENDER_WORDS}
    return values.pop() if len(values) == 1 else s


NORMALISERS = {"age": normalise_age, "gender": normalise_gender}


def value_match(field: str, gold: str, pred: str, na_value: str = "N/A") -> bool:
    """Whether gold and prediction of `field` (age or gender) are the same value; fields
    without a normaliser are compared strictly."""
    norm = NORMALISERS.get(field)
    if norm is None:
        return normalise_item(str(gold)) == normalise_item(str(pred))
    return norm(gold, na_value) == norm(pred, na_value)
