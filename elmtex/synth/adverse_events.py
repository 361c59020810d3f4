"""Synthetic adverse-event emails (pharmacovigilance): a patient or caregiver writes about a
problem with a drug; the gold output names the suspected drug and the side effects, in the
words the email uses.

An email has a greeting, who writes (the patient, or a parent, child or partner of the
patient), the suspected drug with a dose and when it was started, the side effects in lay words
(one to four, some phrased as complaints: "I keep getting headaches"), and a closing question
and signature with made-up contact details. Variants, each drawn per record:

- `several` (about 1 in 5): another drug is named too, one the writer has taken for long
  without trouble; only the suspected drug is gold.
- `unnamed` (about 1 in 8): the drug is not named ("the new tablets my GP gave me"); the gold
  drug name is "N/A".
- otherwise one drug, named.

Every gold item (the drug name as written, each side effect) stands verbatim in its email, by
construction and checked. Determinism as in elmtex/synth/demo.py: each record has its own
random.Random seeded from a SHA-256 hash of (seed, split, index).
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

DEFAULT_SEED = 1234
DEFAULT_SIZES: dict[str, int] = {"train": 700, "val": 35, "test": 70}
NA_VALUE = "N/A"
P_SEVERAL, P_UNNAMED = 0.2, 0.12

# (name, typical dose, what it is for)
DRUGS: tuple[tuple[str, str, str], ...] = (
    ("ibuprofen", "400 mg", "back pain"),
    ("naproxen", "500 mg", "knee pain"),
    ("metformin", "500 mg", "{poss} diabetes"),
    ("lisinopril", "10 mg", "high blood pressure"),
    ("amlodipine", "5 mg", "blood pressure"),
    ("atorvastatin", "20 mg", "cholesterol"),
    ("simvastatin", "40 mg", "cholesterol"),
    ("sertraline", "50 mg", "depression"),
    ("citalopram", "20 mg", "anxiety"),
    ("escitalopram", "10 mg", "anxiety"),
    ("venlafaxine", "75 mg", "depression"),
    ("amoxicillin", "500 mg", "a chest infection"),
    ("doxycycline", "100 mg", "acne"),
    ("ciprofloxacin", "500 mg", "a urine infection"),
    ("omeprazole", "20 mg", "heartburn"),
    ("pantoprazole", "40 mg", "reflux"),
    ("levothyroxine", "50 micrograms", "{poss} thyroid"),
    ("metoprolol", "50 mg", "{poss} heart rate"),
    ("bisoprolol", "2.5 mg", "{poss} heart"),
    ("prednisolone", "20 mg", "asthma"),
    ("gabapentin", "300 mg", "nerve pain"),
    ("pregabalin", "75 mg", "nerve pain"),
    ("tramadol", "50 mg", "pain after an operation"),
    ("warfarin", "3 mg", "a clot"),
    ("apixaban", "5 mg", "atrial fibrillation"),
    ("clopidogrel", "75 mg", "{poss} stents"),
    ("furosemide", "40 mg", "swollen legs"),
    ("losartan", "50 mg", "blood pressure"),
    ("montelukast", "10 mg", "asthma"),
    ("cetirizine", "10 mg", "hay fever"),
    ("tamsulosin", "400 micrograms", "{poss} prostate"),
    ("allopurinol", "100 mg", "gout"),
    ("methotrexate", "15 mg", "rheumatoid arthritis"),
    ("isotretinoin", "20 mg", "acne"),
    ("finasteride", "1 mg", "hair loss"),
    ("zolpidem", "10 mg", "sleep"),
)

# Side effects as the gold item, then phrasings that contain it verbatim ("{}" = the item).
EFFECTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("headaches", ("{}", "terrible {}", "{} every afternoon")),
    ("nausea", ("{}", "constant {}", "{} after every meal")),
    ("dizziness", ("{}", "{} when I stand up", "bouts of {}")),
    ("a rash", ("{}", "{} on {poss} arms", "{} all over {poss} chest")),
    ("stomach cramps", ("{}", "painful {}", "{} at night")),
    ("dry mouth", ("{}", "{} all day")),
    ("trouble sleeping", ("{}",)),
    ("muscle aches", ("{}", "{} in {poss} legs")),
    ("a dry cough", ("{}", "{} that won't go away")),
    ("swollen ankles", ("{}",)),
    ("hair loss", ("{}", "noticeable {}")),
    ("blurred vision", ("{}", "{} in the mornings")),
    ("diarrhoea", ("{}", "{} several times a day")),
    ("constipation", ("{}",)),
    ("tiredness", ("{}", "extreme {}")),
    ("palpitations", ("{}", "{} in the evening")),
    ("itchy skin", ("{}",)),
    ("ringing in the ears", ("{}",)),
    ("loss of appetite", ("{}", "{} most days")),
    ("weight gain", ("{}", "{} of about 5 kg")),
    ("night sweats", ("{}",)),
    ("a metallic taste", ("{}", "{} in {poss} mouth")),
    ("shaky hands", ("{}",)),
    ("nightmares", ("{}", "vivid {}")),
    ("mood swings", ("{}",)),
    ("joint pain", ("{}", "{} in {poss} hands")),
    ("vomiting", ("{}",)),
    ("bruising", ("{}", "easy {}")),
    ("tingling in the fingers", ("{}",)),
    ("low mood", ("{}",)),
    ("sensitivity to sunlight", ("{}",)),
    ("a swollen tongue", ("{}",)),
)

FIRST = (
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Emma",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Katrin",
    "Liam",
    "Maria",
    "Noah",
    "Olga",
    "Paul",
    "Rosa",
    "Samir",
    "Tina",
    "Yusuf",
)
LAST = (
    "Schmidt",
    "Brown",
    "Novak",
    "Garcia",
    "Okafor",
    "Larsen",
    "Rossi",
    "Kowalski",
    "Murphy",
    "Dubois",
    "Yilmaz",
    "Jensen",
    "Costa",
    "Meyer",
    "Ahmed",
    "Walsh",
)
GREETINGS = ("Hello,", "Dear Sir or Madam,", "Hi,", "To whom it may concern,", "Good morning,")
WRITERS = (  # (who the patient is, as subject pronoun, possessive, be-verb, have-verb)
    ("I", "I", "my", "am", "have"),
    ("my mother", "she", "her", "is", "has"),
    ("my father", "he", "his", "is", "has"),
    ("my husband", "he", "his", "is", "has"),
    ("my wife", "she", "her", "is", "has"),
    ("my son", "he", "his", "is", "has"),
    ("my daughter", "she", "her", "is", "has"),
)
STARTS = (
    "{who_cap} started taking {drug} {dose} {when} for {reason}.",
    "{when_cap}, {who} {was} prescribed {drug} {dose} for {reason}.",
    "I am writing about {drug}, which {who} {has_verb} been taking for {reason} {since}.",
    "{who_cap} {has_verb} been on {drug} {dose} {since} for {reason}.",
)
UNNAMED = (
    "{who_cap} started the new tablets the GP prescribed for {reason} {when}.",
    "{when_cap}, {who} {was} given a new medicine for {reason}; I don't have the box "
    "to hand, so I can't tell you the name.",
    "I am writing about the pills {who} {has_verb} been taking for {reason} {since}.",
)
WHEN = (
    "two weeks ago",
    "last month",
    "about ten days ago",
    "three weeks ago",
    "in March",
    "a few days ago",
    "six weeks ago",
)
SINCE = (
    "since last month",
    "for about three weeks",
    "for two months",
    "since the spring",
    "for ten days",
)
EFFECT_SENTENCES = (
    "Since then {who} {has_verb} had {effects}.",
    "Within a few days {who} noticed {effects}.",
    "Ever since, {who} {has_verb} been suffering from {effects}.",
    "Now {who} {has_verb} {effects}, which never happened before.",
)
OTHER_DRUG = (
    "{who_cap} also {take} {other} for {other_reason}, but that has been fine for years.",
    "The only other thing {who} {take} is {other}, and nothing changed with that.",
    "{who_cap} {was} on {other} before as well, with no problems at all.",
)
QUESTIONS = (
    "Is this a known side effect? Should {who} stop taking it?",
    "Could this be caused by the medicine? I would be grateful for advice.",
    "Please let me know whether this is normal and what to do.",
    "I'd like to report this and know if others have had the same.",
    "Should we see the doctor again or just wait?",
)
CLOSINGS = ("Kind regards,", "Best wishes,", "Thanks,", "Many thanks,", "Yours faithfully,")


def record_seed(seed: int, split: str, index: int) -> int:
    digest = hashlib.sha256(f"ae|{seed}|{split}|{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def generate_record(split: str, index: int, seed: int = DEFAULT_SEED) -> dict:
    """One email with its gold output (see the module docstring)."""
    rng = random.Random(record_seed(seed, split, index))
    who, subj, poss, be, have = rng.choice(WRITERS)
    third = who != "I"
    drug, dose, reason = rng.choice(DRUGS)
    if rng.random() < 0.3:  # brand-style capitalisation, as people write it
        drug = drug.capitalize()
    variant = rng.random()
    unnamed = variant < P_UNNAMED
    several = not unnamed and variant < P_UNNAMED + P_SEVERAL
    ctx = {
        "who": who,
        "who_cap": _cap(who),
        "was": "was",
        "has_verb": have,
        "drug": drug,
        "dose": dose,
        "reason": reason.format(poss=poss),
        "when": rng.choice(WHEN),
        "since": rng.choice(SINCE),
        "take": "takes" if third else "take",
    }
    ctx["when_cap"] = _cap(ctx["when"])
    n_effects = rng.choices((1, 2, 3, 4), weights=(35, 35, 20, 10))[0]
    chosen = rng.sample(EFFECTS, n_effects)
    gold_effects = [item for item, _ in chosen]
    phrased = [rng.choice(forms).replace("{poss}", poss).format(item) for item, forms in chosen]
    effect_ctx = dict(ctx, who=subj, effects=_join(phrased))
    sentences = [
        rng.choice(UNNAMED if unnamed else STARTS).format(**ctx),
        rng.choice(EFFECT_SENTENCES).format(**effect_ctx),
    ]
    if several:
        other, _, other_reason = rng.choice([d for d in DRUGS if d[0].lower() != drug.lower()])
        sentences.insert(
            rng.choice((1, 2)),
            rng.choice(OTHER_DRUG).format(
                **dict(ctx, other=other, other_reason=other_reason.format(poss=poss))
            ),
        )
    if rng.random() < 0.4:
        sentences.append(f"{_cap(subj)} {be} otherwise well.")
    sentences.append(rng.choice(QUESTIONS).format(**dict(ctx, who=subj)))
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    phone = f"0{rng.randint(100, 999)} {rng.randint(100000, 999999)}"
    email_addr = f"{name.split()[0].lower()}.{name.split()[1].lower()}@example.org"
    text = "\n\n".join(
        [
            rng.choice(GREETINGS),
            " ".join(sentences),
            f"{rng.choice(CLOSINGS)}\n{name}\n{phone}\n{email_addr}",
        ]
    )
    gold = {"drug_name": NA_VALUE if unnamed else drug, "adverse_events": gold_effects}
    for item in ([] if unnamed else [drug]) + gold_effects:
        assert item in text, (item, text)
    kind = "unnamed" if unnamed else "several" if several else "single"
    return {
        "id": f"ae-en-{split}-{index + 1:04d}",
        "lang": "en",
        "email": text,
        "extraction": gold,
        "meta": {"variant": kind},
    }


def generate_split(split: str, n: int, seed: int = DEFAULT_SEED) -> list[dict]:
    return [generate_record(split, i, seed) for i in range(n)]


def write_ae_data(out_dir: Path, sizes: dict[str, int], seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Write <out_dir>/en/<split>.jsonl for each split; returns the counts."""
    (out_dir / "en").mkdir(parents=True, exist_ok=True)
    counts = {}
    for split, n in sizes.items():
        records = generate_split(split, n, seed)
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        (out_dir / "en" / f"{split}.jsonl").write_text(text, encoding="utf-8")
        counts[split] = n
    return counts
