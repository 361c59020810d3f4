"""A small synthetic medical question-answering set: a passage collection about common
conditions, and questions about it with reference answers, as free text and as multiple choice.

Every condition has five facts (cause, presenting symptom, confirming investigation, first-line
treatment, serious complication), written from standard textbook knowledge in short phrases.
Each condition gets two passages, "<condition>: causes and presentation" and "<condition>:
diagnosis and treatment", whose sentences are drawn from a few templates; every fact stands
verbatim in exactly one passage, and that passage's id is the question's gold context.

A question asks one fact of one condition. The free-text version's reference answer is the fact
phrase; the multiple-choice version shows four options (the fact and the same kind of fact of
three other conditions, in a seeded order) and its answer is the option letter. Both versions of
a question share its id number, split and passage.

Determinism as in elmtex/synth/demo.py: each question and passage has its own random.Random
seeded from a SHA-256 hash of (seed, kind, key), so nothing depends on the order of generation.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

DEFAULT_SEED = 1234
TEST_SHARE = 0.3  # of the questions, drawn per question; the rest is train (for ICL examples)
LETTERS = ("A", "B", "C", "D")
ATTRIBUTES = ("cause", "symptom", "test", "treatment", "complication")

# condition: (cause, presenting symptom, confirming investigation, first-line treatment,
#             serious complication)
FACTS: dict[str, tuple[str, str, str, str, str]] = {
    "iron deficiency anaemia": (
        "chronic blood loss",
        "fatigue and pallor",
        "serum ferritin",
        "oral iron supplementation",
        "high-output heart failure",
    ),
    "type 1 diabetes": (
        "autoimmune destruction of pancreatic beta cells",
        "polyuria and polydipsia",
        "islet autoantibodies",
        "insulin therapy",
        "diabetic ketoacidosis",
    ),
    "type 2 diabetes": (
        "insulin resistance",
        "often no symptoms",
        "glycated haemoglobin (HbA1c)",
        "metformin",
        "diabetic nephropathy",
    ),
    "hypothyroidism": (
        "Hashimoto's thyroiditis",
        "fatigue, weight gain and cold intolerance",
        "thyroid-stimulating hormone (TSH)",
        "levothyroxine",
        "myxoedema coma",
    ),
    "Graves' disease": (
        "TSH receptor antibodies",
        "weight loss, tremor and heat intolerance",
        "TSH receptor antibody testing",
        "carbimazole",
        "thyroid storm",
    ),
    "community-acquired pneumonia": (
        "Streptococcus pneumoniae",
        "cough, fever and pleuritic chest pain",
        "chest radiography",
        "amoxicillin",
        "sepsis",
    ),
    "pulmonary embolism": (
        "deep vein thrombosis",
        "sudden breathlessness and pleuritic chest pain",
        "CT pulmonary angiography",
        "anticoagulation",
        "right heart failure",
    ),
    "asthma": (
        "airway hyperresponsiveness",
        "episodic wheeze",
        "spirometry with reversibility testing",
        "inhaled corticosteroids",
        "status asthmaticus",
    ),
    "chronic obstructive pulmonary disease": (
        "cigarette smoking",
        "chronic productive cough",
        "spirometry",
        "inhaled long-acting bronchodilators",
        "cor pulmonale",
    ),
    "acute myocardial infarction": (
        "rupture of a coronary plaque",
        "crushing central chest pain",
        "12-lead electrocardiography and troponin",
        "primary percutaneous coronary intervention",
        "ventricular fibrillation",
    ),
    "heart failure with reduced ejection fraction": (
        "ischaemic heart disease",
        "breathlessness and ankle swelling",
        "echocardiography",
        "ACE inhibitors and beta blockers",
        "sudden cardiac death",
    ),
    "atrial fibrillation": (
        "hypertension",
        "palpitations",
        "electrocardiography",
        "rate control with a beta blocker",
        "ischaemic stroke",
    ),
    "sickle cell disease": (
        "a mutation in the beta-globin gene",
        "painful vaso-occlusive crises",
        "haemoglobin electrophoresis",
        "hydroxycarbamide",
        "acute chest syndrome",
    ),
    "acute appendicitis": (
        "obstruction of the appendiceal lumen",
        "pain moving to the right lower quadrant",
        "abdominal ultrasound",
        "appendicectomy",
        "perforation with peritonitis",
    ),
    "acute cholecystitis": (
        "a gallstone blocking the cystic duct",
        "right upper quadrant pain with fever",
        "abdominal ultrasound showing a thickened gallbladder wall",
        "laparoscopic cholecystectomy",
        "gallbladder perforation",
    ),
    "acute pancreatitis": (
        "gallstones",
        "severe epigastric pain radiating to the back",
        "serum lipase",
        "intravenous fluids and analgesia",
        "pancreatic necrosis",
    ),
    "peptic ulcer disease": (
        "Helicobacter pylori infection",
        "epigastric pain",
        "upper gastrointestinal endoscopy",
        "a proton pump inhibitor with Helicobacter pylori eradication",
        "upper gastrointestinal bleeding",
    ),
    "coeliac disease": (
        "an immune reaction to gluten",
        "chronic diarrhoea and weight loss",
        "tissue transglutaminase antibodies",
        "a lifelong gluten-free diet",
        "small bowel lymphoma",
    ),
    "Crohn's disease": (
        "a dysregulated immune response to gut bacteria",
        "abdominal pain and chronic diarrhoea",
        "ileocolonoscopy with biopsies",
        "oral corticosteroids",
        "fistula formation",
    ),
    "ulcerative colitis": (
        "an autoimmune inflammation of the colonic mucosa",
        "bloody diarrhoea",
        "colonoscopy with biopsies",
        "mesalazine",
        "toxic megacolon",
    ),
    "acute cystitis": (
        "Escherichia coli",
        "painful and frequent urination",
        "urine culture",
        "nitrofurantoin",
        "pyelonephritis",
    ),
    "kidney stones": (
        "calcium oxalate crystals",
        "colicky flank pain radiating to the groin",
        "non-contrast CT of the abdomen",
        "analgesia with an NSAID",
        "obstructive pyelonephritis",
    ),
    "gout": (
        "monosodium urate crystals",
        "a hot swollen big toe joint",
        "polarised light microscopy of joint fluid",
        "colchicine",
        "tophi",
    ),
    "rheumatoid arthritis": (
        "autoimmunity against the synovium",
        "symmetrical small-joint pain with morning stiffness",
        "anti-CCP antibodies",
        "methotrexate",
        "joint erosion",
    ),
    "migraine": (
        "a primary neurovascular disorder",
        "a throbbing one-sided headache with nausea",
        "clinical history",
        "a triptan",
        "medication overuse headache",
    ),
    "ischaemic stroke": (
        "a thromboembolism",
        "sudden one-sided weakness",
        "non-contrast CT of the head",
        "intravenous thrombolysis",
        "haemorrhagic transformation",
    ),
    "bacterial meningitis": (
        "Neisseria meningitidis",
        "fever, headache and neck stiffness",
        "lumbar puncture",
        "intravenous ceftriaxone",
        "sensorineural hearing loss",
    ),
    "epilepsy": (
        "an enduring tendency of the brain to generate seizures",
        "recurrent unprovoked seizures",
        "electroencephalography",
        "levetiracetam",
        "status epilepticus",
    ),
    "Parkinson's disease": (
        "loss of dopaminergic neurons in the substantia nigra",
        "a resting tremor",
        "clinical examination",
        "levodopa",
        "falls",
    ),
    "deep vein thrombosis": (
        "immobility",
        "a swollen painful calf",
        "compression ultrasound",
        "a direct oral anticoagulant",
        "pulmonary embolism",
    ),
    "tuberculosis": (
        "Mycobacterium tuberculosis",
        "chronic cough with night sweats",
        "sputum culture for mycobacteria",
        "rifampicin, isoniazid, pyrazinamide and ethambutol",
        "miliary tuberculosis",
    ),
    "falciparum malaria": (
        "Plasmodium falciparum",
        "cyclical fever",
        "thick and thin blood films",
        "artemisinin-based combination therapy",
        "cerebral malaria",
    ),
    "Lyme disease": (
        "Borrelia burgdorferi",
        "an expanding ring-shaped rash",
        "clinical recognition of the rash",
        "doxycycline",
        "Lyme carditis",
    ),
    "Addison's disease": (
        "autoimmune destruction of the adrenal cortex",
        "fatigue and skin hyperpigmentation",
        "the short Synacthen test",
        "hydrocortisone and fludrocortisone",
        "adrenal crisis",
    ),
    "Cushing's syndrome": (
        "long-term glucocorticoid treatment",
        "central obesity with purple striae",
        "the overnight dexamethasone suppression test",
        "removal of the cortisol source",
        "osteoporosis",
    ),
    "anaphylaxis": (
        "an IgE-mediated allergic reaction",
        "wheeze, hives and low blood pressure",
        "mast cell tryptase",
        "intramuscular adrenaline",
        "airway obstruction",
    ),
    "psoriasis": (
        "an immune-mediated skin disease",
        "well-demarcated scaly plaques",
        "clinical examination of the skin",
        "topical corticosteroids",
        "psoriatic arthritis",
    ),
    "pernicious anaemia": (
        "autoantibodies against intrinsic factor",
        "fatigue and tingling in the feet",
        "serum vitamin B12",
        "intramuscular hydroxocobalamin",
        "subacute combined degeneration of the spinal cord",
    ),
}

# Passage sentences; "{x}" is the fact of that attribute, {name} the condition, {Name} it
# capitalised. Every template keeps its fact verbatim.
SENTENCES: dict[str, tuple[str, ...]] = {
    "cause": (
        "{Name} is most often caused by {x}.",
        "The commonest cause of {name} is {x}.",
        "In most patients, {name} results from {x}.",
    ),
    "symptom": (
        "Patients typically present with {x}.",
        "The typical presentation is {x}.",
        "Most patients first notice {x}.",
    ),
    "test": (
        "The diagnosis is confirmed by {x}.",
        "The key investigation to confirm the diagnosis is {x}.",
        "Clinicians establish the diagnosis with {x}.",
    ),
    "treatment": (
        "The first-line treatment is {x}.",
        "First-line management is {x}.",
        "Treatment starts with {x}.",
    ),
    "complication": (
        "A serious complication is {x}.",
        "The most feared complication is {x}.",
        "Left untreated, it can lead to {x}.",
    ),
}
# Context that answers no question: makes passages read like text, and gives retrieval and the
# reranker something to wade through.
FILLER: tuple[str, ...] = (
    "It is seen in general practice as well as in hospital medicine.",
    "Guidelines are updated regularly as new evidence becomes available.",
    "Early recognition improves the outcome considerably.",
    "Patient education is an important part of care.",
    "Follow-up depends on the severity at presentation.",
    "Its incidence differs between countries and age groups.",
)
QUESTIONS: dict[str, tuple[str, ...]] = {
    "cause": ("What is the most common cause of {name}?", "What usually causes {name}?"),
    "symptom": (
        "What is the typical presenting symptom of {name}?",
        "How does {name} typically present?",
    ),
    "test": (
        "Which investigation confirms the diagnosis of {name}?",
        "Which test establishes the diagnosis of {name}?",
    ),
    "treatment": (
        "What is the first-line treatment of {name}?",
        "How is {name} treated first-line?",
    ),
    "complication": (
        "What is a serious complication of {name}?",
        "Name a serious complication of {name}.",
    ),
}
PASSAGE_PARTS = (
    ("presentation", "causes and presentation", ("cause", "symptom")),
    ("management", "diagnosis and treatment", ("test", "treatment", "complication")),
)


def _rng(seed: int, *key: object) -> random.Random:
    digest = hashlib.sha256(repr((seed, *key)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _key(condition: str) -> str:
    return (
        "".join(c if c.isalnum() else "-" for c in condition.lower()).strip("-").replace("--", "-")
    )


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def passage_id(condition: str, part: str) -> str:
    return f"p-{_key(condition)}-{part}"


def generate_passages(seed: int = DEFAULT_SEED) -> list[dict]:
    """Two passages per condition, in FACTS order: {id, lang, title, text}."""
    out = []
    for name, facts in FACTS.items():
        by_attr = dict(zip(ATTRIBUTES, facts, strict=True))
        for part, heading, attrs in PASSAGE_PARTS:
            rng = _rng(seed, "passage", name, part)
            sentences = [
                rng.choice(SENTENCES[a]).format(name=name, Name=_cap(name), x=by_attr[a])
                for a in attrs
            ]
            sentences.insert(rng.randint(1, len(sentences)), rng.choice(FILLER))
            text = " ".join(sentences)
            for a in attrs:
                assert by_attr[a] in text, (name, a)
            out.append(
                {
                    "id": passage_id(name, part),
                    "lang": "en",
                    "title": f"{_cap(name)}: {heading}",
                    "text": text,
                }
            )
    return out


def _passage_of(attribute: str) -> str:
    return next(part for part, _, attrs in PASSAGE_PARTS if attribute in attrs)


def generate_questions(seed: int = DEFAULT_SEED) -> list[dict]:
    """Every (condition, attribute) question in both forms: a list of
    {number, split, condition, attribute, question, answer, options, letter, passage_id}."""
    out = []
    conditions = list(FACTS)
    for ci, name in enumerate(conditions):
        for ai, attr in enumerate(ATTRIBUTES):
            rng = _rng(seed, "question", name, attr)
            answer = FACTS[name][ai]
            others = sorted({FACTS[c][ai] for c in conditions if c != name} - {answer})
            options = [answer, *rng.sample(others, len(LETTERS) - 1)]
            rng.shuffle(options)
            out.append(
                {
                    "number": ci * len(ATTRIBUTES) + ai + 1,
                    "split": "test" if rng.random() < TEST_SHARE else "train",
                    "condition": name,
                    "attribute": attr,
                    "question": rng.choice(QUESTIONS[attr]).format(name=name),
                    "answer": answer,
                    "options": dict(zip(LETTERS, options, strict=True)),
                    "letter": LETTERS[options.index(answer)],
                    "passage_id": passage_id(name, _passage_of(attr)),
                }
            )
    return out


def mc_text(question: str, options: dict[str, str]) -> str:
    """The question as the model reads it: the stem, then one option per line."""
    return question + "\n" + "\n".join(f"{k}. {v}" for k, v in options.items())


def open_record(q: dict) -> dict:
    return {
        "id": f"qa-open-{q['split']}-{q['number']:03d}",
        "lang": "en",
        "question": q["question"],
        "gold": {"answer": q["answer"]},
        "passage_ids": [q["passage_id"]],
        "meta": {"condition": q["condition"], "attribute": q["attribute"]},
    }


def mc_record(q: dict) -> dict:
    return {
        "id": f"qa-mc-{q['split']}-{q['number']:03d}",
        "lang": "en",
        "question": mc_text(q["question"], q["options"]),
        "options": q["options"],
        "gold": {"answer": q["letter"]},
        "passage_ids": [q["passage_id"]],
        "meta": {"condition": q["condition"], "attribute": q["attribute"]},
    }


def _write_jsonl(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )


def write_qa_data(data_dir: Path, seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Write <data_dir>/medqa_passages.jsonl, medqa_open/en/<split>.jsonl and
    medqa_mc/en/<split>.jsonl; returns the record count of each file (by relative path)."""
    counts: dict[str, int] = {}
    passages = generate_passages(seed)
    _write_jsonl(data_dir / "medqa_passages.jsonl", passages)
    counts["medqa_passages.jsonl"] = len(passages)
    questions = generate_questions(seed)
    for form, make in (("medqa_open", open_record), ("medqa_mc", mc_record)):
        for split in ("train", "test"):
            records = [make(q) for q in questions if q["split"] == split]
            rel = f"{form}/en/{split}.jsonl"
            _write_jsonl(data_dir / rel, records)
            counts[rel] = len(records)
    return counts
