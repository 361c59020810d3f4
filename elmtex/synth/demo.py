"""Synthetic ELMTEX-style demo data: clinical case reports (English and German) with gold
summaries in the 15 fixed fields.

Each report is flowing case-report prose assembled from several alternative sentence templates
per slot, with the sections partly reordered, filler narrative that belongs to no field
(vital signs, timing, consent, ...) and distractors (negated symptoms, an "unremarkable" family
history) so that extraction is not a line-by-line lookup. Every gold item is inserted verbatim
into the report, so each item is an exact substring of its report by construction (and checked).

Determinism: every record has its own ``random.Random`` seeded from a SHA-256 hash of
(seed, lang, split, index). A record therefore does not depend on the split size, on other
splits, or on the order of generation; the global ``random`` state is never touched.

The vocabulary and the sentence templates: elmtex/synth/demo_vocabulary.py.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

from elmtex.synth.demo_vocabulary import (
    COMORBIDITIES,
    COUNTRIES,
    FAMILY,
    FILLERS,
    HISTORY,
    LIFESTYLE,
    NEGATIONS,
    OUTCOMES,
    SOCIAL,
    SPECIALTIES,
    TEMPLATES,
    Entry,
    Specialty,
)

FIELDS: tuple[str, ...] = (
    "life_style",
    "family_history",
    "social_history",
    "medical_surgical_history",
    "signs_symptoms",
    "comorbidities",
    "diagnostic_techniques_procedures",
    "diagnosis",
    "laboratory_values",
    "pathology",
    "pharmacological_therapy",
    "interventional_therapy",
    "patient_outcome_assessment",
    "age",
    "gender",
)
NA_VALUE = "N/A"
SEPARATOR = "; "
LANGS: tuple[str, ...] = ("en", "de")
SPLITS: tuple[str, ...] = ("train", "val", "test")
DEFAULT_SEED = 1234
DEFAULT_SIZES: dict[str, int] = {"train": 300, "val": 40, "test": 40}
MIN_WORDS, MAX_WORDS = 150, 400
MAX_FILLERS = 3  # filler sentences per report section at most

# Probability that a field is left out ("N/A") of a record, drawn independently per record.
# Chosen to resemble published case reports (and the ELMTEX annotations): habits, family and
# pathology are often not reported, social history fairly often; labs, procedures, drugs and
# the outcome are usually there; diagnosis and symptoms always are; age and sex almost always.
# Pathology and interventional therapy are in addition absent whenever nothing in the
# vocabulary fits the diagnosis (no biopsy in atrial fibrillation, no procedure in a febrile
# seizure), so their overall rates are higher than drawn here: about 0.57 and 0.50 in the
# shipped data (the other fields stay within a few points of these numbers).
ABSENCE_RATES: dict[str, float] = {
    "life_style": 0.55,
    "family_history": 0.60,
    "social_history": 0.40,
    "medical_surgical_history": 0.35,
    "signs_symptoms": 0.0,
    "comorbidities": 0.45,
    "diagnostic_techniques_procedures": 0.03,
    "diagnosis": 0.0,
    "laboratory_values": 0.12,
    "pathology": 0.42,
    "pharmacological_therapy": 0.10,
    "interventional_therapy": 0.28,
    "patient_outcome_assessment": 0.10,
    "age": 0.02,
    "gender": 0.02,
}

_CURRENT_YEAR = 2023  # fixed (not today's date) so that output never changes with the clock


# --------------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------------


@dataclass
class Patient:
    kind: str  # "adult", "child" or "infant"
    sex: str | None  # "m", "f" or None (not stated in the report)
    age: int  # in years, or in months for infants
    age_stated: bool

    @property
    def pediatric(self) -> bool:
        return self.kind != "adult"

    def fits(self, entry: Entry) -> bool:
        """Whether a tagged vocabulary entry suits this patient."""
        t = entry.tags
        if ("m" in t and self.sex != "m") or ("f" in t and self.sex != "f"):
            return False
        if "adult" in t and self.pediatric:
            return False
        if "ped" in t and not self.pediatric:
            return False
        if "inf" in t and self.kind != "infant":
            return False
        if "kid" in t and self.kind != "child":
            return False
        if "noinf" in t and self.kind == "infant":
            return False
        if "small" in t and not (self.kind == "infant" or (self.kind == "child" and self.age < 6)):
            return False
        if "school" in t and not (self.kind == "child" and self.age >= 6):
            return False
        if "old" in t and (self.pediatric or self.age < 60):
            return False
        return not ("young" in t and (self.pediatric or self.age >= 35))


@dataclass
class _Sentence:
    text: str
    removable: bool = False  # filler that may be dropped to respect the word limit


def record_seed(seed: int, lang: str, split: str, index: int) -> int:
    """A stable 64-bit seed per record (SHA-256, unlike the salted built-in hash())."""
    digest = hashlib.sha256(f"elmtex-demo|{seed}|{lang}|{split}|{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


_GENERIC_WORDS = frozenset(
    {
        "disease",
        "chronic",
        "syndrome",
        "acute",
        "severe",
        "stage",
        "newly",
        "diagnosed",
        "primary",
        "mellitus",
    }
)


def _keywords(text: str) -> set[str]:
    """Significant lower-case words of an English text (for overlap checks)."""
    return {
        w
        for w in re.findall(r"[a-z0-9'-]+", text.lower())
        if len(w) >= 6 and w not in _GENERIC_WORDS
    }


# Leading articles stay in the prose but not in the gold item ("revealed a positive Murphy
# sign" -> "positive Murphy sign").
_ARTICLES = {"en": ("a ", "an "), "de": ("ein ", "eine ", "das ")}


def _gold_item(text: str, lang: str) -> str:
    for article in _ARTICLES[lang]:
        if text.startswith(article):
            return text[len(article) :]
    return text


# conditions in which a low oxygen saturation belongs in the vital signs
_HYPOXIC = frozenset({"cap", "copd", "pe", "ipf", "asthma", "ptx", "hf", "dcm", "rsv"})


def _fmt_num(value: float, decimals: int, lang: str) -> str:
    s = f"{value:.{decimals}f}"
    return s.replace(".", ",") if lang == "de" else s


def _join(items: list[str], lang: str, conj: str | None = None) -> str:
    conj = conj or ("and" if lang == "en" else "und")
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + f" {conj} " + items[-1]


_NUMBER_CHOICE = re.compile(r"\[([^|\]]*)\|([^\]]*)\]")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _render(template: str, ctx: dict[str, str], items: list[str] | None, lang: str) -> str:
    """Fill a sentence template; the first letter is capitalised (never part of an item)."""
    assert not template.startswith("{x"), template
    n = len(items) if items else 1
    text = _NUMBER_CHOICE.sub(lambda m: m.group(1) if n == 1 else m.group(2), template)
    values = dict(ctx)
    if items:
        values["x"] = _join(items, lang)
        values["xor"] = _join(items, lang, "or" if lang == "en" else "oder")
    text = _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)  # one pass: items stay literal
    return text[0].upper() + text[1:]


class _CaseBuilder:
    """Draws one case for one patient and renders it as report + gold items."""

    def __init__(self, rng: random.Random, lang: str, spec: Specialty, patient: Patient):
        self.rng, self.lang, self.spec, self.p = rng, lang, spec, patient
        self.gold: dict[str, list[str]] = {f: [] for f in FIELDS}
        self.chosen_en: list[str] = []  # English text of every drawn item (for clash checks)
        self.condition = ""  # key of the primary diagnosis (set by build)
        self.path_cyto = False  # pathology items are all cytology (smear, CSF, ...)
        self.fatal = False  # the outcome is the patient's death
        self.last_template = ""
        self.ctx = self._context()

    def _suits(self, conds: frozenset[str]) -> bool:
        """Untagged vocabulary fits every case of its specialty; tagged only its conditions."""
        return not conds or self.condition in conds

    # -- drawing items ------------------------------------------------------------------------
    def _values(self) -> dict[str, str]:
        rng, p = self.rng, self.p
        if p.pediatric:
            first_year = _CURRENT_YEAR - (1 if p.kind == "infant" else p.age)
        else:
            first_year = max(1975, _CURRENT_YEAR - p.age + 16)
        country = rng.choice(COUNTRIES)
        return {
            "year": str(rng.randint(min(first_year, 2022), 2022)),
            "d": str(rng.randint(4, 28)),
            "m": str(rng.choice((3, 6, 12, 18, 24))),
            "k": str(rng.randint(3, 15)),
            "py": str(rng.randint(8, 60)),
            "u": str(rng.randint(2, 8)),
            "bmi": _fmt_num(rng.uniform(30.0, 42.0), 1, self.lang),
            "w": str(rng.randint(26, 36)),
            "ef": str(rng.randint(45, 60)),
            "country": country[0] if self.lang == "en" else country[1],
        }

    def _render_entry(self, entry: Entry) -> str:
        values = self._values()
        self.chosen_en.append(_PLACEHOLDER.sub(lambda m: values[m.group(1)], entry.en))
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], entry.text(self.lang))

    def draw(self, pool: tuple[Entry, ...], k: int, avoid: list[str] | None = None) -> list[str]:
        """k distinct fitting entries (at most one per group), rendered in the case language.
        Entries sharing a significant word with a text in `avoid` are skipped (e.g. a
        comorbidity "bronchial asthma" next to the diagnosis "severe asthma exacerbation")."""
        return [self._render_entry(e) for e in self._pick(pool, k, avoid)]

    def _pick(self, pool: tuple[Entry, ...], k: int, avoid: list[str] | None = None) -> list[Entry]:
        avoid_words = {w for a in (avoid or []) for w in _keywords(a)}
        fitting = [
            e
            for e in pool
            if self.p.fits(e) and self._suits(e.conds) and not (_keywords(e.en) & avoid_words)
        ]
        self.rng.shuffle(fitting)
        picked: list[Entry] = []
        groups: list[str] = []
        for e in fitting:
            if len(picked) == k:
                break
            if e.group is not None and e.group in groups:
                continue
            if any(e.en == q.en for q in picked):
                continue
            picked.append(e)
            if e.group is not None:
                groups.append(e.group)
        return picked

    def draw_labs(self, k: int) -> list[str]:
        fitting = [lab for lab in self.spec.labs if self._suits(lab.conds)]
        labs = self.rng.sample(fitting, min(k, len(fitting)))
        out = []
        for lab in labs:
            value = _fmt_num(self.rng.uniform(lab.lo, lab.hi), lab.decimals, self.lang)
            name = lab.en if self.lang == "en" else lab.de
            unit = lab.unit_en if self.lang == "en" else lab.unit_de
            # English writes "9.2%", German "9,2 %" (DIN 5008)
            sep = "" if (unit == "%" and self.lang == "en") else " "
            out.append(f"{name} {value}{sep}{unit}")
            self.chosen_en.append(lab.en)
        return out

    # -- context for templates ----------------------------------------------------------------
    def _context(self) -> dict[str, str]:
        rng = self.rng
        ctx = self._context_en() if self.lang == "en" else self._context_de()
        ctx["n"] = str(rng.randint(2, 14))
        ctx["wk"] = str(rng.randint(2, 8))
        return ctx

    def _age_text(self) -> str:
        p = self.p
        if self.lang == "en":
            return f"{p.age} {'months' if p.kind == 'infant' else 'years'}"
        return f"{p.age} {'Monate' if p.kind == 'infant' else 'Jahre'}"

    def _gender_text(self) -> str:
        if self.lang == "en":
            return {"m": "male", "f": "female"}[self.p.sex or ""]
        return {"m": "männlich", "f": "weiblich"}[self.p.sex or ""]

    def _context_en(self) -> dict[str, str]:
        rng, p = self.rng, self.p
        noun = {"adult": "patient", "child": "child", "infant": "infant"}[p.kind]
        sex = {"m": "male ", "f": "female ", None: ""}[p.sex]
        if p.age_stated:
            age = self._age_text()
            np = rng.choice(
                (f"{sex}{noun} aged {age}", f"{sex}{noun} of {age}", f"{sex}{noun}, {age} of age,")
            )
        else:
            np = ("adult " if p.kind == "adult" else "") + f"{sex}{noun}"
        art = "an" if np[0] in "aeiou" else "a"
        subj = f"{art} {np}"
        definite = f"the {noun}"
        return {
            "Subj": subj[0].upper() + subj[1:],
            "subj": subj,
            "S": definite.capitalize(),
            "s": definite,
            "Poss": f"The {noun}'s",
            "dat": "the parents" if p.pediatric else definite,
        }

    def _context_de(self) -> dict[str, str]:
        rng, p = self.rng, self.p
        age = self._age_text() if p.age_stated else ""
        if p.kind == "adult":
            forms = {
                "m": (
                    f"ein {age} alter männlicher Patient",
                    f"ein männlicher Patient, {age} alt,",
                    "ein erwachsener männlicher Patient",
                    "der Patient",
                    "er",
                    "dem Patienten",
                ),
                "f": (
                    f"eine {age} alte weibliche Patientin",
                    f"eine weibliche Patientin, {age} alt,",
                    "eine erwachsene weibliche Patientin",
                    "die Patientin",
                    "sie",
                    "der Patientin",
                ),
                None: (
                    f"eine {age} alte Person",
                    f"eine Person, {age} alt,",
                    "eine erwachsene Person",
                    "die erkrankte Person",
                    "sie",
                    "der erkrankten Person",
                ),
            }[p.sex]
        elif p.kind == "infant":
            adj = {"m": "männlicher ", "f": "weiblicher ", None: ""}[p.sex]
            forms = (
                f"ein {age} alter {adj}Säugling",
                f"ein {adj}Säugling, {age} alt,",
                f"ein {adj}Säugling",
                "der Säugling",
                "er",
                "den Eltern",
            )
        else:
            gen = {"m": " männlichen Geschlechts", "f": " weiblichen Geschlechts", None: ""}[p.sex]
            forms = (
                f"ein {age} altes Kind{gen}",
                f"ein Kind{gen}, {age} alt,",
                f"ein Kind{gen}",
                "das Kind",
                "es",
                "den Eltern",
            )
        subj = rng.choice(forms[:2]) if p.age_stated else forms[2]
        definite = forms[3]
        return {
            "Subj": subj[0].upper() + subj[1:],
            "subj": subj,
            "S": definite[0].upper() + definite[1:],
            "s": definite,
            "er": forms[4],
            "dat": forms[5],
        }

    def sentence(self, slot: str, items: list[str] | None = None) -> str:
        table = TEMPLATES[self.lang]
        if self.p.pediatric and f"{slot}_ped" in table:
            slot = f"{slot}_ped"
        self.last_template = self.rng.choice(table[slot])
        return _render(self.last_template, self.ctx, items, self.lang)

    # -- the case -----------------------------------------------------------------------------
    def build(self) -> tuple[list[list[_Sentence]], dict[str, list[str]]]:
        rng, p, spec = self.rng, self.p, self.spec
        absent = {f: rng.random() < ABSENCE_RATES[f] for f in FIELDS}
        g = self.gold

        # The primary diagnosis fixes the condition that the other vocabulary must suit.
        primary = self._pick(tuple(e for e in spec.diagnoses if e.key), 1)[0]
        self.condition = primary.key or ""
        g["diagnosis"] = [self._render_entry(primary)]
        if rng.random() < 0.25:
            g["diagnosis"] += self.draw(tuple(e for e in spec.diagnoses if "sec" in e.tags), 1)
        n_dx = len(self.chosen_en)
        complaints = self.draw(spec.complaints, rng.choice((1, 2, 2, 3)))
        signs = self.draw(spec.signs, rng.choice((0, 1, 1, 2)))
        if not absent["diagnostic_techniques_procedures"]:
            g["diagnostic_techniques_procedures"] = self.draw(
                spec.procedures, rng.choice((1, 2, 2, 3))
            )
        if not absent["laboratory_values"]:
            g["laboratory_values"] = self.draw_labs(rng.choice((1, 2, 3, 3, 4)))
        if not absent["pharmacological_therapy"]:
            g["pharmacological_therapy"] = self.draw(spec.drugs, rng.choice((1, 2, 2, 3)))
        if not absent["interventional_therapy"]:
            g["interventional_therapy"] = self.draw(spec.interventions, rng.choice((1, 1, 2)))
        if not absent["pathology"]:
            picked = self._pick(spec.pathology, 2 if rng.random() < 0.15 else 1)
            self.path_cyto = bool(picked) and all("cyto" in e.tags for e in picked)
            g["pathology"] = [self._render_entry(e) for e in picked]
        if not absent["patient_outcome_assessment"]:
            g["patient_outcome_assessment"] = self._draw_outcomes()
        if not absent["medical_surgical_history"]:
            g["medical_surgical_history"] = self.draw(HISTORY, rng.choice((1, 1, 2)))
        if not absent["comorbidities"]:
            g["comorbidities"] = self.draw(
                COMORBIDITIES, rng.choice((1, 2, 2, 3)), avoid=self.chosen_en[:n_dx]
            )
        if not absent["life_style"]:
            g["life_style"] = self.draw(LIFESTYLE, rng.choice((1, 1, 2)))
        if not absent["social_history"]:
            g["social_history"] = self.draw(SOCIAL, rng.choice((1, 2)))
        if not absent["family_history"]:
            g["family_history"] = self.draw(FAMILY, rng.choice((1, 1, 2)))
        g["signs_symptoms"] = complaints + signs
        if p.age_stated:
            g["age"] = [self._age_text()]
        if p.sex is not None:
            g["gender"] = [self._gender_text()]

        return self._compose(complaints, signs, self.fatal), g

    def _draw_outcomes(self) -> list[str]:
        """One outcome, sometimes a second compatible one (never next to a death)."""
        pool = self.spec.outcomes + OUTCOMES
        first = self._pick(pool, 1)
        out = [self._render_entry(e) for e in first]
        self.fatal = any("fatal" in e.tags for e in first)
        if self.fatal or self.rng.random() < 0.55:
            return out
        survivors = tuple(e for e in pool if "fatal" not in e.tags and e not in first)
        return out + self.draw(survivors, 1, avoid=[first[0].en])

    def _negation(self) -> str | None:
        p = self.p
        clash_text = " ".join(self.chosen_en).lower()
        options = [
            n
            for n in NEGATIONS
            if (n.ped or not p.pediatric) and not any(c in clash_text for c in n.clashes)
        ]
        if not options:
            return None
        picked = self.rng.sample(options, min(len(options), self.rng.choice((1, 1, 2))))
        return self.sentence("negation", [n.en if self.lang == "en" else n.de for n in picked])

    def _vitals(self) -> str:
        rng, p = self.rng, self.p
        febrile = any(
            w in " ".join(self.gold["signs_symptoms"]).lower()
            for w in ("fever", "chills", "fieber", "schüttelfrost")
        )
        t = rng.uniform(38.2, 39.8) if febrile else rng.uniform(36.3, 37.3)
        if p.kind == "adult":
            sys_bp, dia_bp, hr = rng.randint(98, 178), rng.randint(58, 102), rng.randint(56, 118)
            if self.condition in ("af", "storm", "graves"):  # tachycardia belongs to these
                hr = rng.randint(118, 165)
        elif p.kind == "infant":
            sys_bp, dia_bp, hr = rng.randint(78, 100), rng.randint(42, 60), rng.randint(110, 172)
        else:
            sys_bp, dia_bp, hr = rng.randint(90, 122), rng.randint(50, 76), rng.randint(74, 136)
        low_sat = self.condition in _HYPOXIC
        spo2 = rng.randint(84, 93) if low_sat else rng.randint(94, 99)
        ctx = dict(
            self.ctx,
            bp=f"{sys_bp}/{dia_bp}",
            hr=str(hr),
            t=_fmt_num(t, 1, self.lang),
            spo2=str(spo2),
        )
        return _render(rng.choice(TEMPLATES[self.lang]["vitals"]), ctx, None, self.lang)

    def _fillers(self, section: str, facts: set[str], days_stated: bool) -> list[_Sentence]:
        """The filler sentences of one section whose requirements the case meets."""
        out, onset = [], []
        for en, de, sec, flags in FILLERS:
            needs = set(flags.split())
            if sec != section or not (needs - {"days", "weeks"}) <= facts:
                continue
            sentence = _Sentence(
                _render(en if self.lang == "en" else de, self.ctx, None, self.lang), removable=True
            )
            if needs & {"days", "weeks"}:
                if not ("weeks" in needs and days_stated):  # never contradict the opening
                    onset.append(sentence)
            else:
                out.append(sentence)
        if onset:
            out.append(self.rng.choice(onset))  # one statement of symptom onset at most
        return out

    def _compose(
        self, complaints: list[str], signs: list[str], fatal: bool
    ) -> list[list[_Sentence]]:
        rng, g = self.rng, self.gold

        def keep(s: str) -> _Sentence:
            return _Sentence(s)

        intro = [keep(self.sentence("intro", complaints))]
        days_stated = "{n}" in self.last_template

        facts = {"ped" if self.p.pediatric else "adult"}
        facts |= {"alive"} if not fatal else set()
        facts |= {"signs"} if signs else set()
        facts |= {"procs"} if g["diagnostic_techniques_procedures"] else set()
        if g["pharmacological_therapy"] or g["interventional_therapy"]:
            facts.add("tx")
        pools = {
            sec: self._fillers(sec, facts, days_stated)
            for sec in ("intro", "exam", "invest", "dx", "therapy", "outcome")
        }

        history: list[_Sentence] = []
        for slot, field in (
            ("history", "medical_surgical_history"),
            ("comorb", "comorbidities"),
            ("lifestyle", "life_style"),
            ("social", "social_history"),
            ("family", "family_history"),
        ):
            if g[field]:
                history.append(keep(self.sentence(slot, g[field])))
        if not g["family_history"] and rng.random() < 0.4:
            history.append(keep(self.sentence("family_none")))  # distractor: nothing to extract
        if not g["comorbidities"] and rng.random() < 0.3:
            history.append(keep(self.sentence("comorb_none")))
        rng.shuffle(history)

        exam = [
            keep(self._vitals()),
            keep(self.sentence("signs", signs) if signs else self.sentence("signs_none")),
        ]
        if rng.random() < 0.4:
            exam.reverse()
        if rng.random() < 0.6:
            neg = self._negation()
            if neg:
                exam.insert(rng.randint(0, len(exam)), keep(neg))

        invest: list[list[_Sentence]] = []
        labs = g["laboratory_values"]
        if labs:
            if len(labs) >= 3 and rng.random() < 0.4:
                cut = rng.randint(1, len(labs) - 1)
                invest.append(
                    [
                        keep(self.sentence("labs", labs[:cut])),
                        keep(self.sentence("labs_more", labs[cut:])),
                    ]
                )
            else:
                invest.append([keep(self.sentence("labs", labs))])
        procs = g["diagnostic_techniques_procedures"]
        if procs:
            if len(procs) >= 2 and rng.random() < 0.4:
                cut = rng.randint(1, len(procs) - 1)
                invest.append(
                    [
                        keep(self.sentence("procs", procs[:cut])),
                        keep(self.sentence("procs_more", procs[cut:])),
                    ]
                )
            else:
                invest.append([keep(self.sentence("procs", procs))])
        rng.shuffle(invest)
        invest_flat = [s for block in invest for s in block]

        dx = [keep(self.sentence("dx", g["diagnosis"]))]
        if not procs:
            dx.append(keep(self.sentence("dx_clinical")))
        path_slot = "path_cyto" if self.path_cyto else "path"
        path = [keep(self.sentence(path_slot, g["pathology"]))] if g["pathology"] else []
        path_first = rng.random() < 0.6  # biopsy before the diagnosis, or resection specimen

        therapy = []
        if g["pharmacological_therapy"]:
            therapy.append(keep(self.sentence("drugs", g["pharmacological_therapy"])))
        if g["interventional_therapy"]:
            therapy.append(keep(self.sentence("interv", g["interventional_therapy"])))
        if not therapy:
            therapy.append(keep(self.sentence("therapy_none")))
        if rng.random() < 0.4:
            therapy.reverse()
        if path and not path_first:
            therapy.extend(path)
        elif path:
            dx = path + dx

        outcome = (
            [keep(self.sentence("outcome", g["patient_outcome_assessment"]))]
            if g["patient_outcome_assessment"]
            else []
        )

        # Some fillers from the start; more are added later only if the report is too short.
        for sec, body in (
            ("intro", intro),
            ("exam", exam),
            ("invest", invest_flat),
            ("dx", dx),
            ("therapy", therapy),
            ("outcome", outcome),
        ):
            for f in list(pools[sec]):
                if rng.random() < 0.3:
                    body.insert(rng.randint(1, len(body)) if body else 0, f)
                    pools[sec].remove(f)
        self._spare = [f for sec in pools for f in pools[sec]]
        self._spare_home = {id(f): sec for sec in pools for f in pools[sec]}

        sections = {
            "intro": intro,
            "history": history,
            "exam": exam,
            "invest": invest_flat,
            "dx": dx,
            "therapy": therapy,
            "outcome": outcome,
        }
        self._sections = sections
        order = ["intro", "history", "exam", "invest", "dx", "therapy", "outcome"]
        if rng.random() < 0.3:  # examination reported before the history
            order[1], order[2] = order[2], order[1]
        return [sections[k] for k in order]

    def pad(self) -> bool:
        """Add one spare filler sentence to its section; False when none may be added."""

        def used(sec: str) -> int:
            return sum(s.removable for s in self._sections[sec])

        # at most MAX_FILLERS per section, so that padding never buries the clinical content
        candidates = [f for f in self._spare if used(self._spare_home[id(f)]) < MAX_FILLERS]
        if not candidates:
            return False
        f = candidates[self.rng.randrange(len(candidates))]
        self._spare.remove(f)
        body = self._sections[self._spare_home[id(f)]]
        body.insert(self.rng.randint(1, len(body)) if body else 0, f)
        return True


def _paragraphs(sections: list[list[_Sentence]], rng: random.Random) -> str:
    """Join sections into 3-5 paragraphs (sections themselves never split)."""
    parts = [s for s in sections if s]
    breaks = sorted(rng.sample(range(1, len(parts)), min(len(parts) - 1, rng.randint(2, 4))))
    paras, start = [], 0
    for b in breaks + [len(parts)]:
        paras.append(" ".join(s.text for sec in parts[start:b] for s in sec))
        start = b
    return "\n\n".join(paras)


def _word_count(text: str) -> int:
    return len(text.split())


def _make_patient(
    rng: random.Random, spec: Specialty, absent_age: bool, absent_sex: bool
) -> Patient:
    if spec.pediatric:
        if rng.random() < 0.35:
            kind, age = "infant", rng.randint(2, 11)
        else:
            kind, age = "child", rng.randint(2, 12)
    else:
        kind, age = "adult", rng.randint(*spec.ages)
    sex = None if absent_sex else rng.choice(("m", "f"))
    return Patient(kind=kind, sex=sex, age=age, age_stated=not absent_age)


def _age_occurrences(report: str, age: str) -> int:
    # "8 months" must not also sit inside "18 months" or "nach 8 Monaten" elsewhere
    return len(re.findall(r"(?<![\d.,])" + re.escape(age), report))


def generate_record(lang: str, split: str, index: int, seed: int = DEFAULT_SEED) -> dict:
    """One record; depends only on (seed, lang, split, index)."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; expected one of {LANGS}")
    rseed = record_seed(seed, lang, split, index)
    rng = random.Random(rseed)
    spec = rng.choice(SPECIALTIES)
    # The age/gender absence draws happen before the patient exists because they change the
    # wording of the whole report; the other fields are drawn inside the case builder.
    absent_age = rng.random() < ABSENCE_RATES["age"]
    absent_sex = rng.random() < ABSENCE_RATES["gender"]
    for _attempt in range(50):
        patient = _make_patient(rng, spec, absent_age, absent_sex)
        builder = _CaseBuilder(rng, lang, spec, patient)
        sections, gold = builder.build()
        report = _paragraphs(sections, rng)
        # A random target length spreads reports over the allowed range instead of piling up
        # at the minimum; filler sentences are added until it is reached.
        target = rng.randint(MIN_WORDS, 330)
        while _word_count(report) < target and builder.pad():
            report = _paragraphs(sections, rng)
        while _word_count(report) > MAX_WORDS:
            fillers = [(body, s) for body in sections for s in body if s.removable]
            if not fillers:
                break
            body, s = fillers[rng.randrange(len(fillers))]
            body.remove(s)
            report = _paragraphs(sections, rng)
        if not MIN_WORDS <= _word_count(report) <= MAX_WORDS:
            continue
        if gold["age"] and _age_occurrences(report, gold["age"][0]) != 1:
            continue  # another number in the text would make the age ambiguous
        break
    else:  # pragma: no cover - the vocabulary makes this practically impossible
        raise RuntimeError(f"could not generate {lang}/{split}/{index} within the word limits")

    summary = {}
    for field in FIELDS:
        items = list(dict.fromkeys(_gold_item(i, lang) for i in gold[field]))  # drop repeats
        for item in items:
            assert item and SEPARATOR.strip() not in item, (field, item)
            assert item in report, (lang, split, index, field, item)
        items.sort(key=report.find)  # gold lists items in reading order
        summary[field] = SEPARATOR.join(items) if items else NA_VALUE
    words = _word_count(report)
    assert MIN_WORDS <= words <= MAX_WORDS, words
    return {
        "id": f"demo-{lang}-{split}-{index + 1:04d}",
        "lang": lang,
        "report": report,
        "summary": summary,
        "meta": {
            "specialty": spec.key,
            "condition": builder.condition,
            "template_seed": rseed,
            "words": words,
        },
    }


def generate_split(lang: str, split: str, n: int, seed: int = DEFAULT_SEED) -> list[dict]:
    """n records of one language and split; record i is the same whatever n is."""
    return [generate_record(lang, split, i, seed) for i in range(n)]


def to_jsonl(records: list[dict]) -> str:
    """The exact text written to a .jsonl file (one object per line, UTF-8 kept as is)."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def write_demo_data(
    out_dir: Path, sizes: dict[str, int], langs: list[str], seed: int = DEFAULT_SEED
) -> dict[str, dict[str, int]]:
    """Write <out_dir>/<lang>/<split>.jsonl for every language and split; returns the counts."""
    out_dir = Path(out_dir)
    counts: dict[str, dict[str, int]] = {}
    for lang in langs:
        (out_dir / lang).mkdir(parents=True, exist_ok=True)
        counts[lang] = {}
        for split, n in sizes.items():
            records = generate_split(lang, split, n, seed)
            path = out_dir / lang / f"{split}.jsonl"
            path.write_text(to_jsonl(records), encoding="utf-8", newline="\n")
            counts[lang][split] = len(records)
    return counts
