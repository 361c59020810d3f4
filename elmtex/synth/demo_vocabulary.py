"""The demo data's vocabulary (elmtex/synth/demo.py draws from it): per medical specialty the
diagnoses, complaints, signs, procedures, lab tests, drugs, interventions, pathology findings and
outcomes; the pools every specialty shares (history, comorbidities, family, social, lifestyle);
the denied symptoms used as distractors; and the English and German sentence templates and
filler sentences a report is assembled from. Changing any of it changes the shipped data/demo
(tests/test_demo_data.py compares it with a fresh generation)."""

from __future__ import annotations

from dataclasses import dataclass

# --------------------------------------------------------------------------------------------
# Vocabulary. An entry is (English, German) or (English, German, tags). Tags:
#   k:<key>    a primary diagnosis and the condition key of the case it starts
#   c:<key>..  the entry fits only cases with one of these condition keys (untagged entries of
#              a specialty fit all its cases); on a diagnosis, "sec" marks a secondary one
#   m / f, adult / ped / inf (infant) / kid (child past infancy) / noinf (not an infant),
#   small (infant or child < 6) / school (child >= 6), old (adult >= 60) / young (adult < 35)
#   cyto       a cytology finding (smear, fluid, aspirate): introduced as cytology, not histology
#   g:<name>   mutually exclusive entries (e.g. smoker vs former smoker)
#   fatal      a death outcome
# German entries are written so that nominative and accusative coincide (no masculine
# adjective + noun), because the German templates use them in both. Placeholders like {year}
# or {k} are filled per item (see _CaseBuilder._values).
# --------------------------------------------------------------------------------------------


def _tags(spec: str) -> frozenset[str]:
    return frozenset(spec.split())


@dataclass(frozen=True)
class Entry:
    en: str
    de: str
    tags: frozenset[str] = frozenset()

    def text(self, lang: str) -> str:
        return self.en if lang == "en" else self.de

    @property
    def group(self) -> str | None:
        return next((t for t in self.tags if t.startswith("g:")), None)

    @property
    def conds(self) -> frozenset[str]:
        return frozenset(t[2:] for t in self.tags if t.startswith("c:"))

    @property
    def key(self) -> str | None:
        return next((t[2:] for t in self.tags if t.startswith("k:")), None)


@dataclass(frozen=True)
class Lab:
    en: str
    de: str
    lo: float
    hi: float
    decimals: int
    unit_en: str
    unit_de: str
    conds: frozenset[str] = frozenset()


def _e(rows: list[tuple[str, ...]]) -> tuple[Entry, ...]:
    return tuple(Entry(r[0], r[1], _tags(r[2]) if len(r) > 2 else frozenset()) for r in rows)


_DE_UNITS = {
    "×10⁹/L": "G/l",
    "cells/µL": "Zellen/µl",
    "IU/mL": "IE/ml",
    "IU/L": "IE/l",
    "copies/mL": "Kopien/ml",
    "mL/min/1.73 m²": "ml/min/1,73 m²",
}


def _lab(en: str, de: str, lo: float, hi: float, decimals: int, unit: str, conds: str = "") -> Lab:
    """A lab test with a value range; the German unit is derived (mg/dL -> mg/dl, ...)."""
    unit_de = _DE_UNITS.get(unit) or unit.replace("dL", "dl").replace("mL", "ml").replace(
        "/L", "/l"
    ).replace("µL", "µl")
    return Lab(en, de, lo, hi, decimals, unit, unit_de, frozenset(conds.split()))


def _crp(lo: float, hi: float, conds: str = "") -> Lab:
    return _lab("CRP", "CRP", lo, hi, 0, "mg/L", conds)


def _leuko(lo: float, hi: float, conds: str = "") -> Lab:
    return _lab("leukocyte count", "Leukozyten", lo, hi, 1, "×10⁹/L", conds)


def _hb(lo: float, hi: float, conds: str = "") -> Lab:
    return _lab("hemoglobin", "Hämoglobin", lo, hi, 1, "g/dL", conds)


def _sodium(lo: float, hi: float, conds: str = "") -> Lab:
    return _lab("sodium", "Natrium", lo, hi, 0, "mmol/L", conds)


def _albumin(lo: float, hi: float, conds: str = "") -> Lab:
    return _lab("albumin", "Albumin", lo, hi, 1, "g/dL", conds)


@dataclass(frozen=True)
class Specialty:
    key: str
    ages: tuple[int, int]  # adult age range in years (ignored for pediatrics)
    diagnoses: tuple[Entry, ...]  # primary ones (k:<key>) and secondary ones (sec c:<keys>)
    complaints: tuple[Entry, ...]  # symptoms the patient (or parents) report
    signs: tuple[Entry, ...]  # findings on examination
    procedures: tuple[Entry, ...]
    labs: tuple[Lab, ...]
    drugs: tuple[Entry, ...]
    interventions: tuple[Entry, ...]
    pathology: tuple[Entry, ...]
    outcomes: tuple[Entry, ...]
    pediatric: bool = False


SPECIALTIES: tuple[Specialty, ...] = (
    Specialty(
        key="cardiology",
        ages=(38, 89),
        diagnoses=_e(
            [
                (
                    "acute anterior ST-elevation myocardial infarction",
                    "akuter Vorderwand-ST-Hebungsinfarkt",
                    "k:stemi",
                ),
                ("non-ST-elevation myocardial infarction", "Nicht-ST-Hebungsinfarkt", "k:nstemi"),
                (
                    "decompensated heart failure with reduced ejection fraction",
                    "dekompensierte Herzinsuffizienz mit reduzierter Ejektionsfraktion",
                    "k:hf",
                ),
                (
                    "atrial fibrillation with rapid ventricular response",
                    "Vorhofflimmern mit schneller Überleitung",
                    "k:af",
                ),
                ("takotsubo cardiomyopathy", "Takotsubo-Kardiomyopathie", "k:takotsubo"),
                ("acute myocarditis", "akute Myokarditis", "k:myo"),
                ("severe aortic stenosis", "hochgradige Aortenklappenstenose", "k:as"),
                ("dilated cardiomyopathy", "dilatative Kardiomyopathie", "k:dcm"),
                ("cardiogenic shock", "kardiogener Schock", "sec c:stemi c:myo c:dcm"),
                (
                    "sustained ventricular tachycardia",
                    "anhaltende ventrikuläre Tachykardie",
                    "sec c:stemi c:dcm c:myo",
                ),
                (
                    "left ventricular thrombus",
                    "linksventrikulärer Thrombus",
                    "sec c:stemi c:takotsubo c:dcm",
                ),
                ("acute kidney injury", "akute Nierenschädigung", "sec c:hf"),
            ]
        ),
        complaints=_e(
            [
                (
                    "retrosternal chest pain",
                    "retrosternale Brustschmerzen",
                    "g:cp c:stemi c:nstemi c:takotsubo c:myo",
                ),
                (
                    "chest pain radiating to the left arm",
                    "in den linken Arm ausstrahlende Brustschmerzen",
                    "g:cp c:stemi c:nstemi",
                ),
                (
                    "exertional chest tightness",
                    "belastungsabhängiges Engegefühl in der Brust",
                    "c:as",
                ),
                ("exertional dyspnea", "Belastungsdyspnoe", "c:hf c:as c:dcm c:af"),
                ("palpitations", "Herzrasen", "c:af c:myo c:dcm"),
                ("nausea", "Übelkeit", "c:stemi c:nstemi c:takotsubo"),
                ("diaphoresis", "Kaltschweißigkeit", "c:stemi c:nstemi"),
                ("syncope", "Synkope", "c:as c:af"),
                ("orthopnea", "Orthopnoe", "c:hf c:dcm"),
                ("fatigue", "Abgeschlagenheit"),
            ]
        ),
        signs=_e(
            [
                (
                    "bilateral pitting edema of the lower legs",
                    "beidseitige Unterschenkelödeme",
                    "c:hf c:dcm",
                ),
                (
                    "crackles over both lung bases",
                    "feuchte Rasselgeräusche über beiden Lungenbasen",
                    "c:hf c:dcm c:stemi",
                ),
                (
                    "a systolic ejection murmur over the aortic area",
                    "Systolikum über dem Aortenareal",
                    "c:as",
                ),
                ("jugular venous distension", "Halsvenenstauung", "c:hf c:dcm"),
                ("an irregularly irregular pulse", "Arrhythmia absoluta", "c:af"),
                ("pale and clammy skin", "blasse, kaltschweißige Haut", "c:stemi c:nstemi"),
            ]
        ),
        procedures=_e(
            [
                ("12-lead electrocardiography", "12-Kanal-Elektrokardiographie"),
                ("transthoracic echocardiography", "transthorakale Echokardiographie"),
                ("coronary angiography", "Koronarangiographie", "c:stemi c:nstemi c:takotsubo"),
                (
                    "cardiac magnetic resonance imaging",
                    "kardiale Magnetresonanztomographie",
                    "c:myo c:takotsubo c:dcm",
                ),
                ("chest radiography", "Röntgenaufnahme des Thorax"),
                ("24-hour Holter monitoring", "24-Stunden-Langzeit-EKG", "c:af c:dcm"),
                (
                    "transesophageal echocardiography",
                    "transösophageale Echokardiographie",
                    "c:af c:as",
                ),
                ("endomyocardial biopsy", "Endomyokardbiopsie", "c:myo c:dcm"),
            ]
        ),
        labs=(
            _lab("troponin T", "Troponin T", 0.05, 3.5, 2, "ng/mL", "stemi nstemi takotsubo myo"),
            _lab("NT-proBNP", "NT-proBNP", 900, 15000, 0, "pg/mL", "hf dcm as takotsubo"),
            _lab("CK-MB", "CK-MB", 15, 180, 0, "U/L", "stemi nstemi myo"),
            _lab("potassium", "Kalium", 3.1, 5.4, 1, "mmol/L"),
            _lab("LDL cholesterol", "LDL-Cholesterin", 120, 240, 0, "mg/dL", "stemi nstemi"),
            _crp(5, 90, "myo"),
            _lab("creatinine", "Kreatinin", 0.8, 2.2, 1, "mg/dL"),
            _lab("TSH", "TSH", 0.4, 3.8, 2, "mU/L", "af"),
        ),
        drugs=_e(
            [
                (
                    "aspirin 100 mg daily",
                    "Acetylsalicylsäure 100 mg einmal täglich",
                    "c:stemi c:nstemi",
                ),
                (
                    "metoprolol 47.5 mg twice daily",
                    "Metoprolol 47,5 mg zweimal täglich",
                    "g:bb c:stemi c:nstemi c:hf c:af c:dcm c:takotsubo",
                ),
                (
                    "bisoprolol 2.5 mg daily",
                    "Bisoprolol 2,5 mg einmal täglich",
                    "g:bb c:stemi c:nstemi c:hf c:af c:dcm c:takotsubo",
                ),
                (
                    "ticagrelor 90 mg twice daily",
                    "Ticagrelor 90 mg zweimal täglich",
                    "c:stemi c:nstemi",
                ),
                (
                    "atorvastatin 80 mg daily",
                    "Atorvastatin 80 mg einmal täglich",
                    "c:stemi c:nstemi",
                ),
                (
                    "intravenous furosemide 40 mg twice daily",
                    "Furosemid 40 mg intravenös zweimal täglich",
                    "c:hf c:dcm c:as",
                ),
                (
                    "ramipril 5 mg daily",
                    "Ramipril 5 mg einmal täglich",
                    "g:raas c:hf c:dcm c:stemi c:takotsubo c:myo",
                ),
                (
                    "sacubitril/valsartan 49/51 mg twice daily",
                    "Sacubitril/Valsartan 49/51 mg zweimal täglich",
                    "g:raas c:hf c:dcm",
                ),
                ("apixaban 5 mg twice daily", "Apixaban 5 mg zweimal täglich", "g:ac c:af"),
                (
                    "unfractionated heparin 5000 IU intravenously",
                    "unfraktioniertes Heparin 5000 IE intravenös",
                    "g:ac c:stemi c:nstemi c:af",
                ),
                ("amiodarone 200 mg daily", "Amiodaron 200 mg einmal täglich", "c:af"),
            ]
        ),
        interventions=_e(
            [
                (
                    "percutaneous coronary intervention with drug-eluting stent implantation",
                    "perkutane Koronarintervention mit Implantation eines medikamentenbeschichteten "
                    "Stents",
                    "g:revasc c:stemi c:nstemi",
                ),
                ("electrical cardioversion", "elektrische Kardioversion", "c:af"),
                (
                    "transcatheter aortic valve implantation",
                    "kathetergestützte Aortenklappenimplantation",
                    "g:avr c:as",
                ),
                (
                    "surgical aortic valve replacement",
                    "Aortenklappenersatz in offener Operation",
                    "g:avr c:as",
                ),
                (
                    "implantation of a cardioverter-defibrillator",
                    "Implantation eines Kardioverter-Defibrillators",
                    "c:dcm c:hf",
                ),
                (
                    "coronary artery bypass grafting",
                    "aortokoronare Bypassoperation",
                    "g:revasc c:nstemi",
                ),
                ("pulmonary vein isolation", "Pulmonalvenenisolation", "c:af"),
            ]
        ),
        pathology=_e(
            [
                (
                    "lymphocytic infiltrates with myocyte necrosis",
                    "lymphozytäre Infiltrate mit Myozytennekrosen",
                    "c:myo",
                ),
                (
                    "calcified degenerative changes of the valve cusps",
                    "kalzifizierende degenerative Veränderungen der Klappentaschen",
                    "c:as",
                ),
                (
                    "fibrin and platelet aggregates in the thrombus aspirate",
                    "Fibrin und Thrombozytenaggregate im Thrombusaspirat",
                    "c:stemi c:nstemi",
                ),
                (
                    "interstitial fibrosis with myocyte hypertrophy",
                    "interstitielle Fibrose mit Myozytenhypertrophie",
                    "c:dcm c:hf",
                ),
                (
                    "contraction band necrosis without inflammatory infiltrates",
                    "Kontraktionsbandnekrosen ohne entzündliche Infiltrate",
                    "c:takotsubo",
                ),
            ]
        ),
        outcomes=_e(
            [
                (
                    "improvement of LVEF to {ef}% after {m} months",
                    "Verbesserung der LVEF auf {ef} % nach {m} Monaten",
                    "c:hf c:dcm c:takotsubo c:myo",
                ),
                (
                    "freedom from angina at follow-up",
                    "Angina-pectoris-Freiheit bei der Verlaufskontrolle",
                    "c:stemi c:nstemi c:as",
                ),
                (
                    "stable sinus rhythm at {m}-month follow-up",
                    "Sinusrhythmus ohne Rezidiv bei der Kontrolle nach {m} Monaten",
                    "c:af",
                ),
            ]
        ),
    ),
    Specialty(
        key="pulmonology",
        ages=(19, 86),
        diagnoses=_e(
            [
                (
                    "community-acquired pneumonia of the right lower lobe",
                    "ambulant erworbene Pneumonie des rechten Unterlappens",
                    "k:cap",
                ),
                (
                    "acute exacerbation of chronic obstructive pulmonary disease",
                    "akute Exazerbation einer chronisch obstruktiven Lungenerkrankung",
                    "k:copd",
                ),
                ("bilateral pulmonary embolism", "beidseitige Lungenarterienembolie", "k:pe"),
                ("idiopathic pulmonary fibrosis", "idiopathische Lungenfibrose", "k:ipf"),
                ("pulmonary sarcoidosis", "pulmonale Sarkoidose", "k:sarc"),
                ("primary spontaneous pneumothorax", "primärer Spontanpneumothorax", "k:ptx"),
                ("severe asthma exacerbation", "schwere Asthmaexazerbation", "k:asthma"),
                ("parapneumonic pleural effusion", "parapneumonischer Pleuraerguss", "sec c:cap"),
                ("acute right heart strain", "akute Rechtsherzbelastung", "sec c:pe"),
                (
                    "hypercapnic respiratory failure",
                    "hyperkapnisches respiratorisches Versagen",
                    "sec c:copd c:asthma",
                ),
            ]
        ),
        complaints=_e(
            [
                ("productive cough", "Husten mit eitrigem Auswurf", "g:cough c:cap c:copd"),
                ("dry cough", "Reizhusten", "g:cough c:ipf c:sarc c:asthma"),
                ("dyspnea at rest", "Ruhedyspnoe", "g:dys c:pe c:copd c:asthma c:ptx c:cap"),
                (
                    "progressive exertional dyspnea",
                    "progrediente Belastungsdyspnoe",
                    "g:dys c:ipf c:sarc c:copd",
                ),
                ("pleuritic chest pain", "atemabhängige Thoraxschmerzen", "c:pe c:ptx c:cap"),
                (
                    "sudden right-sided chest pain",
                    "plötzliche rechtsseitige Thoraxschmerzen",
                    "c:ptx",
                ),
                ("hemoptysis", "Hämoptysen", "c:pe"),
                ("fever", "Fieber", "c:cap"),
                ("wheezing", "pfeifende Atmung", "c:asthma c:copd"),
                ("night sweats", "Nachtschweiß", "c:sarc"),
                ("fatigue", "Abgeschlagenheit"),
            ]
        ),
        signs=_e(
            [
                (
                    "diminished breath sounds over the right base",
                    "abgeschwächtes Atemgeräusch rechts basal",
                    "c:cap",
                ),
                (
                    "absent breath sounds over the right hemithorax",
                    "aufgehobenes Atemgeräusch über dem rechten Hemithorax",
                    "c:ptx",
                ),
                (
                    "bronchial breathing over the right lower lobe",
                    "Bronchialatmen über dem rechten Unterlappen",
                    "c:cap",
                ),
                ("fine inspiratory crackles", "inspiratorisches Knisterrasseln", "c:ipf"),
                ("tachypnea", "Tachypnoe"),
                ("cyanosis of the lips", "Lippenzyanose", "c:copd c:pe c:asthma"),
                ("expiratory wheeze", "exspiratorisches Giemen", "c:asthma c:copd"),
                ("digital clubbing", "Trommelschlegelfinger", "c:ipf"),
                (
                    "erythema nodosum on both shins",
                    "Erythema nodosum an beiden Unterschenkeln",
                    "c:sarc",
                ),
                ("swelling of the left calf", "Schwellung der linken Wade", "c:pe"),
            ]
        ),
        procedures=_e(
            [
                ("computed tomography pulmonary angiography", "CT-Pulmonalisangiographie", "c:pe"),
                (
                    "high-resolution computed tomography of the chest",
                    "hochauflösende Computertomographie des Thorax",
                    "c:ipf c:sarc",
                ),
                (
                    "bronchoscopy with bronchoalveolar lavage",
                    "Bronchoskopie mit bronchoalveolärer Lavage",
                    "c:sarc c:ipf c:cap",
                ),
                (
                    "pulmonary function testing",
                    "Lungenfunktionsprüfung",
                    "c:copd c:asthma c:ipf c:sarc",
                ),
                ("arterial blood gas analysis", "arterielle Blutgasanalyse"),
                ("chest radiography", "Röntgenaufnahme des Thorax"),
                ("sputum culture", "Sputumkultur", "c:cap c:copd"),
                (
                    "compression ultrasound of the leg veins",
                    "Kompressionssonographie der Beinvenen",
                    "c:pe",
                ),
                ("transthoracic echocardiography", "transthorakale Echokardiographie", "c:pe"),
            ]
        ),
        labs=(
            _lab("PaO2", "paO2", 48, 75, 0, "mmHg"),
            _lab("PaCO2", "paCO2", 30, 68, 0, "mmHg", "copd asthma"),
            _lab("D-dimer", "D-Dimere", 0.8, 12, 1, "mg/L", "pe"),
            _crp(20, 260, "cap copd"),
            _leuko(11, 24, "cap copd"),
            _lab("procalcitonin", "Procalcitonin", 0.3, 8, 1, "ng/mL", "cap"),
            _lab("eosinophil count", "Eosinophile", 0.5, 2.5, 1, "×10⁹/L", "asthma"),
            _lab(
                "angiotensin-converting enzyme",
                "Angiotensin-Converting-Enzym",
                70,
                160,
                0,
                "U/L",
                "sarc",
            ),
            _lab("troponin T", "Troponin T", 0.02, 0.3, 2, "ng/mL", "pe"),
            _lab("KL-6", "KL-6", 900, 2600, 0, "U/mL", "ipf"),
        ),
        drugs=_e(
            [
                (
                    "ceftriaxone 2 g intravenously daily",
                    "Ceftriaxon 2 g intravenös einmal täglich",
                    "c:cap c:copd",
                ),
                ("azithromycin 500 mg daily", "Azithromycin 500 mg einmal täglich", "c:cap c:copd"),
                (
                    "prednisolone 40 mg daily",
                    "Prednisolon 40 mg einmal täglich",
                    "c:copd c:asthma c:sarc",
                ),
                (
                    "nebulized salbutamol 5 mg every 4 hours",
                    "Salbutamol 5 mg vernebelt alle 4 Stunden",
                    "c:asthma c:copd",
                ),
                ("intravenous magnesium sulfate 2 g", "Magnesiumsulfat 2 g intravenös", "c:asthma"),
                (
                    "enoxaparin 1 mg/kg twice daily",
                    "Enoxaparin 1 mg/kg zweimal täglich",
                    "g:ac c:pe",
                ),
                ("rivaroxaban 15 mg twice daily", "Rivaroxaban 15 mg zweimal täglich", "g:ac c:pe"),
                ("nintedanib 150 mg twice daily", "Nintedanib 150 mg zweimal täglich", "c:ipf"),
                ("tiotropium 18 µg once daily", "Tiotropium 18 µg einmal täglich", "c:copd"),
                (
                    "oral paracetamol 1 g as needed",
                    "Paracetamol 1 g oral bei Bedarf",
                    "c:ptx c:cap",
                ),
            ]
        ),
        interventions=_e(
            [
                ("chest tube insertion", "Anlage einer Thoraxdrainage", "c:ptx"),
                ("non-invasive ventilation", "nicht-invasive Beatmung", "c:copd c:asthma"),
                (
                    "high-flow nasal oxygen therapy",
                    "High-Flow-Sauerstofftherapie",
                    "c:cap c:pe c:asthma",
                ),
                (
                    "video-assisted thoracoscopic bullectomy with pleurodesis",
                    "videoassistierte thorakoskopische Bullektomie mit Pleurodese",
                    "c:ptx",
                ),
                ("catheter-directed thrombolysis", "kathetergestützte Thrombolyse", "c:pe"),
                ("pulmonary rehabilitation", "pneumologische Rehabilitation", "c:copd c:ipf"),
            ]
        ),
        pathology=_e(
            [
                (
                    "non-caseating epithelioid cell granulomas",
                    "nicht verkäsende Epitheloidzellgranulome",
                    "c:sarc",
                ),
                (
                    "a usual interstitial pneumonia pattern with fibroblast foci",
                    "das Muster einer gewöhnlichen interstitiellen Pneumonie mit Fibroblastenherden",
                    "c:ipf",
                ),
                (
                    "a lymphocytosis of 35% with a CD4/CD8 ratio of 6 in the lavage fluid",
                    "eine Lymphozytose von 35 % mit einem CD4/CD8-Quotienten von 6 in der Lavage",
                    "c:sarc cyto",
                ),
                (
                    "no malignant cells in the pleural fluid",
                    "keine malignen Zellen im Pleurapunktat",
                    "c:cap cyto",
                ),
                ("subpleural emphysematous blebs", "subpleurale Emphysemblasen", "c:ptx"),
            ]
        ),
        outcomes=_e(
            [
                (
                    "weaning from supplemental oxygen on day {d}",
                    "Entwöhnung von der Sauerstoffgabe am {d}. Tag",
                    "c:cap c:pe c:copd c:asthma",
                ),
                (
                    "improved exercise tolerance at {m}-month follow-up",
                    "verbesserte Belastbarkeit bei der Kontrolle nach {m} Monaten",
                    "c:ipf c:sarc c:copd c:pe",
                ),
                ("full re-expansion of the lung", "vollständige Re-Expansion der Lunge", "c:ptx"),
            ]
        ),
    ),
    Specialty(
        key="gastroenterology",
        ages=(18, 84),
        diagnoses=_e(
            [
                ("acute necrotizing pancreatitis", "akute nekrotisierende Pankreatitis", "k:panc"),
                (
                    "Crohn's disease of the terminal ileum",
                    "Morbus Crohn des terminalen Ileums",
                    "k:crohn",
                ),
                ("ulcerative colitis", "Colitis ulcerosa", "k:uc"),
                ("bleeding duodenal ulcer", "blutendes Ulcus duodeni", "k:ulcer"),
                (
                    "alcoholic liver cirrhosis with ascites",
                    "alkoholische Leberzirrhose mit Aszites",
                    "k:cirr",
                ),
                ("acute calculous cholecystitis", "akute kalkulöse Cholezystitis", "k:chole"),
                ("celiac disease", "Zöliakie", "k:celiac"),
                ("autoimmune hepatitis", "Autoimmunhepatitis", "k:aih"),
                (
                    "iron deficiency anemia",
                    "Eisenmangelanämie",
                    "sec c:ulcer c:crohn c:uc c:celiac",
                ),
                (
                    "hepatic encephalopathy grade 2",
                    "hepatische Enzephalopathie Grad 2",
                    "sec c:cirr",
                ),
                (
                    "spontaneous bacterial peritonitis",
                    "spontan bakterielle Peritonitis",
                    "sec c:cirr",
                ),
                ("infected walled-off necrosis", "infizierte Walled-off-Nekrose", "sec c:panc"),
            ]
        ),
        complaints=_e(
            [
                (
                    "epigastric pain radiating to the back",
                    "in den Rücken ausstrahlende Oberbauchschmerzen",
                    "g:pain c:panc",
                ),
                (
                    "right upper quadrant pain",
                    "Schmerzen im rechten Oberbauch",
                    "g:pain c:chole c:aih",
                ),
                (
                    "crampy lower abdominal pain",
                    "krampfartige Unterbauchschmerzen",
                    "g:pain c:crohn c:uc",
                ),
                ("vomiting", "Erbrechen", "c:panc c:chole c:ulcer"),
                ("hematemesis", "Hämatemesis", "c:ulcer"),
                ("bloody diarrhea", "blutige Diarrhö", "g:stool c:uc"),
                ("chronic diarrhea", "chronische Diarrhö", "g:stool c:crohn c:celiac"),
                ("melena", "Teerstuhl", "g:stool c:ulcer c:cirr"),
                ("abdominal distension", "Zunahme des Bauchumfangs", "c:cirr c:celiac"),
                ("yellowing of the skin", "Gelbfärbung der Haut", "c:aih c:cirr c:chole"),
                ("weight loss of {k} kg", "Gewichtsverlust von {k} kg", "c:crohn c:celiac"),
                ("loss of appetite", "Appetitlosigkeit"),
            ]
        ),
        signs=_e(
            [
                ("epigastric tenderness", "epigastrische Druckschmerzhaftigkeit", "c:panc c:ulcer"),
                ("a positive Murphy sign", "positives Murphy-Zeichen", "c:chole"),
                ("shifting dullness", "Flankendämpfung", "c:cirr"),
                ("spider naevi", "Spider naevi", "c:cirr"),
                ("scleral icterus", "Sklerenikterus", "c:aih c:cirr c:chole"),
                ("hepatomegaly", "Hepatomegalie", "c:aih"),
                ("a perianal fistula", "perianale Fistel", "c:crohn"),
                (
                    "tenderness in the right lower quadrant",
                    "Druckschmerz im rechten Unterbauch",
                    "c:crohn",
                ),
                ("pallor", "Blässe", "c:ulcer c:celiac c:uc"),
            ]
        ),
        procedures=_e(
            [
                (
                    "esophagogastroduodenoscopy",
                    "Ösophagogastroduodenoskopie",
                    "c:ulcer c:celiac c:cirr",
                ),
                (
                    "ileocolonoscopy with biopsies",
                    "Ileokoloskopie mit Stufenbiopsien",
                    "c:crohn c:uc",
                ),
                ("abdominal ultrasound", "Abdomensonographie"),
                (
                    "contrast-enhanced computed tomography of the abdomen",
                    "kontrastmittelverstärkte Computertomographie des Abdomens",
                    "c:panc c:crohn",
                ),
                (
                    "magnetic resonance cholangiopancreatography",
                    "Magnetresonanz-Cholangiopankreatikographie",
                    "c:panc c:chole",
                ),
                ("diagnostic paracentesis", "diagnostische Parazentese", "c:cirr"),
                ("endoscopic ultrasound", "Endosonographie", "c:panc"),
                ("percutaneous liver biopsy", "perkutane Leberbiopsie", "c:aih"),
                ("MR enterography", "MR-Enterographie", "c:crohn"),
            ]
        ),
        labs=(
            _lab("lipase", "Lipase", 400, 4800, 0, "U/L", "panc"),
            _lab("ALT", "ALT", 60, 900, 0, "U/L", "aih chole cirr"),
            _lab("total bilirubin", "Gesamtbilirubin", 1.5, 12, 1, "mg/dL", "aih cirr chole"),
            _hb(6.2, 11, "ulcer uc crohn celiac"),
            _albumin(2.1, 3.4, "cirr crohn celiac"),
            _lab("fecal calprotectin", "Calprotectin im Stuhl", 250, 1800, 0, "µg/g", "crohn uc"),
            _lab(
                "tissue transglutaminase IgA",
                "Gewebstransglutaminase-IgA",
                40,
                300,
                0,
                "U/mL",
                "celiac",
            ),
            _lab("gamma-GT", "Gamma-GT", 80, 950, 0, "U/L", "cirr chole"),
            _lab("IgG", "IgG", 24, 38, 1, "g/L", "aih"),
            _crp(10, 280, "panc chole crohn uc"),
        ),
        drugs=_e(
            [
                (
                    "intravenous pantoprazole 40 mg twice daily",
                    "Pantoprazol 40 mg intravenös zweimal täglich",
                    "c:ulcer c:cirr",
                ),
                ("mesalazine 4 g daily", "Mesalazin 4 g täglich", "c:uc"),
                ("budesonide 9 mg daily", "Budesonid 9 mg einmal täglich", "c:crohn c:aih"),
                ("prednisolone 40 mg daily", "Prednisolon 40 mg einmal täglich", "c:aih c:uc"),
                (
                    "infliximab 5 mg/kg intravenously",
                    "Infliximab 5 mg/kg intravenös",
                    "c:crohn c:uc",
                ),
                ("spironolactone 100 mg daily", "Spironolacton 100 mg einmal täglich", "c:cirr"),
                ("lactulose 20 mL three times daily", "Lactulose 20 ml dreimal täglich", "c:cirr"),
                (
                    "piperacillin-tazobactam 4.5 g three times daily",
                    "Piperacillin-Tazobactam 4,5 g dreimal täglich",
                    "c:chole c:panc",
                ),
                ("azathioprine 2 mg/kg daily", "Azathioprin 2 mg/kg täglich", "c:aih c:crohn"),
                (
                    "ferric carboxymaltose 1000 mg intravenously",
                    "Eisencarboxymaltose 1000 mg intravenös",
                    "c:celiac c:ulcer c:uc",
                ),
                (
                    "intravenous crystalloids 250 mL per hour",
                    "kristalloide Infusion 250 ml pro Stunde intravenös",
                    "c:panc",
                ),
            ]
        ),
        interventions=_e(
            [
                (
                    "endoscopic hemostasis with clip placement",
                    "endoskopische Blutstillung mit Clipapplikation",
                    "c:ulcer",
                ),
                ("laparoscopic cholecystectomy", "laparoskopische Cholezystektomie", "c:chole"),
                ("large-volume paracentesis", "großvolumige Parazentese", "c:cirr"),
                ("ileocecal resection", "Ileozökalresektion", "c:crohn"),
                (
                    "endoscopic retrograde cholangiopancreatography with stent placement",
                    "endoskopische retrograde Cholangiopankreatikographie mit Stenteinlage",
                    "c:chole c:panc",
                ),
                (
                    "placement of a transjugular intrahepatic portosystemic shunt",
                    "TIPS-Anlage",
                    "c:cirr",
                ),
                ("a strict gluten-free diet", "strikte glutenfreie Diät", "c:celiac"),
                ("endoscopic necrosectomy", "endoskopische Nekrosektomie", "c:panc"),
                ("restorative proctocolectomy", "restaurative Proktokolektomie", "c:uc"),
            ]
        ),
        pathology=_e(
            [
                (
                    "transmural inflammation with non-caseating granulomas",
                    "transmurale Entzündung mit nicht verkäsenden Granulomen",
                    "c:crohn",
                ),
                (
                    "villous atrophy with crypt hyperplasia (Marsh 3b)",
                    "Zottenatrophie mit Kryptenhyperplasie (Marsh 3b)",
                    "c:celiac",
                ),
                (
                    "interface hepatitis with plasma cell infiltrates",
                    "Interface-Hepatitis mit plasmazellulären Infiltraten",
                    "c:aih",
                ),
                (
                    "acute phlegmonous inflammation of the gallbladder wall",
                    "akute phlegmonöse Entzündung der Gallenblasenwand",
                    "c:chole",
                ),
                (
                    "crypt abscesses with goblet cell depletion",
                    "Kryptenabszesse mit Becherzellverlust",
                    "c:uc",
                ),
                (
                    "micronodular cirrhosis with steatohepatitis",
                    "mikronoduläre Zirrhose mit Steatohepatitis",
                    "c:cirr",
                ),
                ("Helicobacter pylori gastritis", "Helicobacter-pylori-Gastritis", "c:ulcer"),
                (
                    "fat necrosis in the necrosectomy material",
                    "Fettgewebsnekrosen im Nekrosektomiematerial",
                    "c:panc",
                ),
            ]
        ),
        outcomes=_e(
            [
                (
                    "normalization of liver enzymes after {m} months",
                    "Normalisierung der Leberwerte nach {m} Monaten",
                    "c:aih c:chole",
                ),
                (
                    "steroid-free clinical remission at {m}-month follow-up",
                    "steroidfreie klinische Remission bei der Kontrolle nach {m} Monaten",
                    "c:crohn c:uc c:aih",
                ),
                (
                    "normalization of body weight after {m} months",
                    "Normalisierung des Körpergewichts nach {m} Monaten",
                    "c:celiac",
                ),
                ("no further bleeding episodes", "keine weiteren Blutungsepisoden", "c:ulcer"),
            ]
        ),
    ),
    Specialty(
        key="neurology",
        ages=(18, 88),
        diagnoses=_e(
            [
                (
                    "acute ischemic stroke in the left middle cerebral artery territory",
                    "akuter ischämischer Schlaganfall im Stromgebiet der linken Arteria cerebri media",
                    "k:stroke",
                ),
                (
                    "relapsing-remitting multiple sclerosis",
                    "schubförmig remittierende Multiple Sklerose",
                    "k:ms",
                ),
                ("Guillain-Barré syndrome", "Guillain-Barré-Syndrom", "k:gbs"),
                ("generalized myasthenia gravis", "generalisierte Myasthenia gravis", "k:mg"),
                (
                    "focal epilepsy with secondary generalization",
                    "fokale Epilepsie mit sekundärer Generalisierung",
                    "k:epi",
                ),
                (
                    "aneurysmal subarachnoid hemorrhage",
                    "aneurysmatische Subarachnoidalblutung",
                    "k:sah",
                ),
                ("Parkinson's disease", "Morbus Parkinson", "k:pd"),
                ("anti-NMDA receptor encephalitis", "Anti-NMDA-Rezeptor-Enzephalitis", "k:nmda"),
                (
                    "symptomatic cerebral vasospasm",
                    "symptomatischer zerebraler Vasospasmus",
                    "sec c:sah",
                ),
                ("aspiration pneumonia", "Aspirationspneumonie", "sec c:stroke c:gbs c:pd"),
                ("myasthenic crisis", "myasthene Krise", "sec c:mg"),
                ("status epilepticus", "Status epilepticus", "sec c:epi c:nmda"),
            ]
        ),
        complaints=_e(
            [
                ("sudden right-sided weakness", "plötzliche rechtsseitige Schwäche", "c:stroke"),
                ("slurred speech", "verwaschene Sprache", "c:stroke c:mg"),
                ("thunderclap headache", "Donnerschlagkopfschmerz", "c:sah"),
                (
                    "blurred vision in the left eye",
                    "verschwommenes Sehen auf dem linken Auge",
                    "g:vis c:ms",
                ),
                ("double vision", "Doppelbilder", "g:vis c:mg c:ms"),
                (
                    "ascending numbness of both legs",
                    "aufsteigendes Taubheitsgefühl beider Beine",
                    "c:gbs c:ms",
                ),
                (
                    "recurrent generalized tonic-clonic seizures",
                    "rezidivierende generalisierte tonisch-klonische Anfälle",
                    "c:epi c:nmda",
                ),
                (
                    "fluctuating drooping of the eyelids",
                    "fluktuierendes Herabhängen der Augenlider",
                    "c:mg",
                ),
                ("difficulty swallowing", "Schluckstörungen", "c:mg c:gbs c:stroke"),
                ("resting tremor of the right hand", "Ruhetremor der rechten Hand", "c:pd"),
                ("slowness of movement", "Verlangsamung der Bewegungsabläufe", "c:pd"),
                ("acute confusion", "akute Verwirrtheit", "c:nmda c:sah"),
                (
                    "psychiatric symptoms with agitation",
                    "psychiatrische Symptome mit Agitation",
                    "c:nmda",
                ),
                (
                    "episodes of a rising epigastric sensation",
                    "Episoden mit aufsteigendem epigastrischem Gefühl",
                    "c:epi",
                ),
            ]
        ),
        signs=_e(
            [
                ("right-sided hemiparesis", "rechtsseitige Hemiparese", "c:stroke"),
                ("expressive aphasia", "expressive Aphasie", "c:stroke"),
                ("neck stiffness", "Nackensteifigkeit", "c:sah"),
                ("areflexia of the lower limbs", "Areflexie der unteren Extremitäten", "c:gbs"),
                (
                    "a positive Babinski sign on the right",
                    "positives Babinski-Zeichen rechts",
                    "c:stroke c:ms",
                ),
                ("bilateral ptosis", "beidseitige Ptosis", "c:mg"),
                ("cogwheel rigidity", "Zahnradphänomen", "c:pd"),
                ("hypomimia", "Hypomimie", "c:pd"),
                (
                    "a relative afferent pupillary defect on the left",
                    "afferente Pupillenstörung links",
                    "c:ms",
                ),
                ("orofacial dyskinesias", "orofaziale Dyskinesien", "c:nmda"),
                ("a tongue bite on the left side", "Zungenbiss links", "c:epi"),
            ]
        ),
        procedures=_e(
            [
                (
                    "cranial computed tomography",
                    "kraniale Computertomographie",
                    "c:stroke c:sah c:epi",
                ),
                (
                    "magnetic resonance imaging of the brain",
                    "Magnetresonanztomographie des Schädels",
                    "c:ms c:stroke c:epi c:nmda",
                ),
                ("lumbar puncture", "Lumbalpunktion", "c:gbs c:ms c:nmda"),
                ("electroencephalography", "Elektroenzephalographie", "c:epi c:nmda"),
                ("nerve conduction studies", "Elektroneurographie", "c:gbs"),
                (
                    "CT angiography of the head and neck vessels",
                    "CT-Angiographie der hirnversorgenden Gefäße",
                    "c:stroke c:sah",
                ),
                ("repetitive nerve stimulation", "repetitive Nervenstimulation", "c:mg"),
                ("dopamine transporter SPECT", "Dopamintransporter-SPECT", "c:pd"),
                ("digital subtraction angiography", "digitale Subtraktionsangiographie", "c:sah"),
                ("computed tomography of the chest", "Computertomographie des Thorax", "c:mg"),
                ("transvaginal ultrasound", "transvaginale Sonographie", "c:nmda f"),
                ("visual evoked potentials", "visuell evozierte Potentiale", "c:ms"),
            ]
        ),
        labs=(
            _lab("CSF protein", "Liquoreiweiß", 0.9, 3.2, 1, "g/L", "gbs ms"),
            _lab("CSF cell count", "Liquorzellzahl", 8, 60, 0, "cells/µL", "nmda ms"),
            _lab(
                "acetylcholine receptor antibodies",
                "Acetylcholinrezeptor-Antikörper",
                2,
                40,
                1,
                "nmol/L",
                "mg",
            ),
            _lab("glucose", "Glukose", 90, 260, 0, "mg/dL", "stroke epi"),
            _sodium(124, 134, "sah epi"),
            _lab("vitamin B12", "Vitamin B12", 110, 190, 0, "pg/mL", "pd ms"),
            _lab("LDL cholesterol", "LDL-Cholesterin", 110, 210, 0, "mg/dL", "stroke"),
            _lab("creatine kinase", "Kreatinkinase", 400, 2400, 0, "U/L", "epi"),
            _crp(2, 30, "gbs"),
        ),
        drugs=_e(
            [
                ("intravenous alteplase 0.9 mg/kg", "Alteplase 0,9 mg/kg intravenös", "c:stroke"),
                (
                    "levetiracetam 500 mg twice daily",
                    "Levetiracetam 500 mg zweimal täglich",
                    "c:epi c:nmda",
                ),
                ("lamotrigine 100 mg twice daily", "Lamotrigin 100 mg zweimal täglich", "c:epi"),
                (
                    "intravenous immunoglobulins 0.4 g/kg daily for 5 days",
                    "Immunglobuline 0,4 g/kg intravenös täglich über 5 Tage",
                    "c:gbs c:mg c:nmda",
                ),
                (
                    "methylprednisolone 1 g intravenously daily for 3 days",
                    "Methylprednisolon 1 g intravenös täglich über 3 Tage",
                    "c:ms c:nmda",
                ),
                (
                    "pyridostigmine 60 mg three times daily",
                    "Pyridostigmin 60 mg dreimal täglich",
                    "c:mg",
                ),
                (
                    "levodopa/benserazide 100/25 mg three times daily",
                    "Levodopa/Benserazid 100/25 mg dreimal täglich",
                    "c:pd",
                ),
                ("rasagiline 1 mg daily", "Rasagilin 1 mg einmal täglich", "c:pd"),
                ("nimodipine 60 mg every 4 hours", "Nimodipin 60 mg alle 4 Stunden", "c:sah"),
                ("clopidogrel 75 mg daily", "Clopidogrel 75 mg einmal täglich", "c:stroke"),
                ("atorvastatin 40 mg daily", "Atorvastatin 40 mg einmal täglich", "c:stroke"),
                (
                    "ocrelizumab 600 mg intravenously every 6 months",
                    "Ocrelizumab 600 mg intravenös alle 6 Monate",
                    "c:ms",
                ),
            ]
        ),
        interventions=_e(
            [
                ("mechanical thrombectomy", "mechanische Thrombektomie", "c:stroke"),
                ("plasma exchange", "Plasmapherese", "c:gbs c:mg c:ms c:nmda"),
                (
                    "endovascular coiling of the aneurysm",
                    "endovaskuläres Coiling des Aneurysmas",
                    "c:sah",
                ),
                (
                    "placement of an external ventricular drain",
                    "Anlage einer externen Ventrikeldrainage",
                    "c:sah",
                ),
                ("thymectomy", "Thymektomie", "c:mg"),
                ("resection of an ovarian teratoma", "Resektion eines Ovarialteratoms", "c:nmda f"),
                (
                    "deep brain stimulation of the subthalamic nucleus",
                    "tiefe Hirnstimulation des Nucleus subthalamicus",
                    "c:pd",
                ),
                (
                    "early neurological rehabilitation",
                    "neurologische Frührehabilitation",
                    "c:stroke c:gbs",
                ),
            ]
        ),
        pathology=_e(
            [
                (
                    "perivascular lymphocytic cuffing",
                    "perivaskuläre lymphozytäre Infiltrate",
                    "c:nmda",
                ),
                (
                    "follicular hyperplasia of the thymus",
                    "follikuläre Hyperplasie des Thymus",
                    "c:mg",
                ),
                (
                    "segmental demyelination of the sural nerve",
                    "segmentale Demyelinisierung des Nervus suralis",
                    "c:gbs",
                ),
                (
                    "a mature cystic teratoma containing neural tissue",
                    "ein reifes zystisches Teratom mit neuralem Gewebe",
                    "c:nmda f",
                ),
                ("fibrin-rich thrombus material", "fibrinreiches Thrombusmaterial", "c:stroke"),
                (
                    "an active demyelinating lesion with foamy macrophages",
                    "eine aktive demyelinisierende Läsion mit Schaumzellmakrophagen",
                    "c:ms",
                ),
            ]
        ),
        outcomes=_e(
            [
                (
                    "residual mild right-sided weakness",
                    "leichte residuale rechtsseitige Schwäche",
                    "c:stroke",
                ),
                (
                    "independent walking after {k} weeks of rehabilitation",
                    "selbstständige Gehfähigkeit nach {k} Wochen Rehabilitation",
                    "c:gbs c:stroke",
                ),
                (
                    "seizure freedom at {m}-month follow-up",
                    "Anfallsfreiheit bei der Kontrolle nach {m} Monaten",
                    "c:epi c:nmda",
                ),
                ("improvement of motor symptoms", "Besserung der motorischen Symptome", "c:pd"),
                (
                    "no new lesions at {m}-month follow-up",
                    "keine neuen Läsionen bei der Kontrolle nach {m} Monaten",
                    "c:ms",
                ),
                (
                    "minimal manifestation status at {m}-month follow-up",
                    "minimale Symptomausprägung bei der Kontrolle nach {m} Monaten",
                    "c:mg",
                ),
            ]
        ),
    ),
    Specialty(
        key="oncology",
        ages=(28, 86),
        diagnoses=_e(
            [
                (
                    "stage IV adenocarcinoma of the lung",
                    "Adenokarzinom der Lunge im Stadium IV",
                    "k:nsclc",
                ),
                ("diffuse large B-cell lymphoma", "diffus großzelliges B-Zell-Lymphom", "k:dlbcl"),
                ("colon cancer", "Kolonkarzinom", "k:crc"),
                ("triple-negative breast cancer", "triple-negatives Mammakarzinom", "k:breast f"),
                (
                    "pancreatic ductal adenocarcinoma",
                    "duktales Adenokarzinom des Pankreas",
                    "k:pdac",
                ),
                (
                    "malignant melanoma with brain metastases",
                    "malignes Melanom mit Hirnmetastasen",
                    "k:melanoma",
                ),
                ("hepatocellular carcinoma", "hepatozelluläres Karzinom", "k:hcc"),
                ("tumor lysis syndrome", "Tumorlysesyndrom", "sec c:dlbcl"),
                ("malignant pleural effusion", "maligner Pleuraerguss", "sec c:nsclc c:breast"),
                ("liver metastases", "Lebermetastasen", "sec c:crc c:pdac c:breast c:melanoma"),
                (
                    "hypercalcemia of malignancy",
                    "tumorinduzierte Hyperkalzämie",
                    "sec c:breast c:nsclc",
                ),
            ]
        ),
        complaints=_e(
            [
                ("unintentional weight loss of {k} kg", "ungewollte Gewichtsabnahme von {k} kg"),
                ("night sweats", "Nachtschweiß", "c:dlbcl"),
                ("cough for several weeks", "Husten seit mehreren Wochen", "c:nsclc"),
                (
                    "painless swelling of the cervical lymph nodes",
                    "schmerzlose Lymphknotenschwellung am Hals",
                    "c:dlbcl",
                ),
                ("a palpable breast lump", "tastbare Resistenz in der Brust", "c:breast f"),
                ("bone pain", "Knochenschmerzen", "c:breast c:nsclc"),
                ("fatigue", "Abgeschlagenheit"),
                ("painless jaundice", "schmerzlose Gelbsucht", "c:pdac"),
                ("dull upper abdominal pain", "dumpfe Oberbauchschmerzen", "c:pdac c:hcc"),
                ("a change in bowel habits", "Änderung der Stuhlgewohnheiten", "c:crc"),
                ("rectal bleeding", "peranaler Blutabgang", "c:crc"),
                ("headache with nausea", "Kopfschmerzen mit Übelkeit", "c:melanoma c:nsclc"),
                (
                    "a changing pigmented skin lesion",
                    "sich verändernde pigmentierte Hautläsion",
                    "c:melanoma",
                ),
            ]
        ),
        signs=_e(
            [
                ("cachexia", "Kachexie", "c:pdac c:nsclc c:hcc"),
                ("hepatomegaly", "Hepatomegalie", "c:hcc c:crc"),
                (
                    "supraclavicular lymphadenopathy",
                    "supraklavikuläre Lymphadenopathie",
                    "c:nsclc c:dlbcl",
                ),
                (
                    "dullness to percussion over the right hemithorax",
                    "Klopfschalldämpfung über dem rechten Hemithorax",
                    "c:nsclc c:breast",
                ),
                ("splenomegaly", "Splenomegalie", "c:dlbcl"),
                (
                    "a palpable non-tender gallbladder",
                    "tastbare, nicht schmerzhafte Gallenblase",
                    "c:pdac",
                ),
                (
                    "an irregular pigmented lesion on the back",
                    "unregelmäßig pigmentierte Läsion am Rücken",
                    "c:melanoma",
                ),
                ("ascites", "Aszites", "c:hcc c:pdac"),
                (
                    "a hard mass in the upper outer quadrant of the left breast",
                    "derbe Resistenz im oberen äußeren Quadranten der linken Brust",
                    "c:breast f",
                ),
            ]
        ),
        procedures=_e(
            [
                ("PET-CT", "PET-CT", "c:dlbcl c:nsclc c:melanoma"),
                (
                    "contrast-enhanced computed tomography of the chest and abdomen",
                    "kontrastmittelgestützte Computertomographie von Thorax und Abdomen",
                ),
                ("bone marrow biopsy", "Knochenmarkbiopsie", "c:dlbcl"),
                (
                    "ultrasound-guided core needle biopsy",
                    "sonographisch gesteuerte Stanzbiopsie",
                    "c:breast c:hcc",
                ),
                (
                    "magnetic resonance imaging of the brain",
                    "Magnetresonanztomographie des Schädels",
                    "c:melanoma c:nsclc",
                ),
                ("mammography", "Mammographie", "c:breast f"),
                (
                    "endobronchial ultrasound-guided transbronchial needle aspiration",
                    "EBUS-gesteuerte transbronchiale Nadelaspiration",
                    "c:nsclc",
                ),
                (
                    "next-generation sequencing of the tumor tissue",
                    "Next-Generation-Sequenzierung des Tumorgewebes",
                    "c:nsclc c:crc c:melanoma",
                ),
                ("colonoscopy", "Koloskopie", "c:crc"),
                (
                    "endoscopic ultrasound-guided fine-needle aspiration",
                    "endosonographisch gesteuerte Feinnadelaspiration",
                    "c:pdac",
                ),
                (
                    "contrast-enhanced magnetic resonance imaging of the liver",
                    "kontrastmittelgestützte Magnetresonanztomographie der Leber",
                    "c:hcc",
                ),
                (
                    "excisional biopsy of a cervical lymph node",
                    "Exzisionsbiopsie eines zervikalen Lymphknotens",
                    "c:dlbcl",
                ),
                (
                    "excisional biopsy of the skin lesion",
                    "Exzisionsbiopsie der Hautläsion",
                    "c:melanoma",
                ),
            ]
        ),
        labs=(
            _lab("CEA", "CEA", 12, 480, 1, "ng/mL", "crc nsclc"),
            _lab("CA 19-9", "CA 19-9", 80, 4200, 0, "U/mL", "pdac"),
            _lab("LDH", "LDH", 300, 1800, 0, "U/L", "dlbcl melanoma"),
            _lab("AFP", "AFP", 50, 2400, 0, "ng/mL", "hcc"),
            _lab("uric acid", "Harnsäure", 8, 15, 1, "mg/dL", "dlbcl"),
            _lab("potassium", "Kalium", 5.6, 7.0, 1, "mmol/L", "dlbcl"),
            _lab("phosphate", "Phosphat", 1.8, 3.2, 2, "mmol/L", "dlbcl"),
            _lab("calcium", "Kalzium", 2.7, 3.6, 2, "mmol/L", "breast nsclc"),
            _lab("CA 15-3", "CA 15-3", 40, 300, 0, "U/mL", "breast"),
            _lab("total bilirubin", "Gesamtbilirubin", 3, 18, 1, "mg/dL", "pdac"),
            _hb(7.5, 11.5),
        ),
        drugs=_e(
            [
                ("carboplatin AUC 5 every 3 weeks", "Carboplatin AUC 5 alle 3 Wochen", "c:nsclc"),
                (
                    "pemetrexed 500 mg/m² every 3 weeks",
                    "Pemetrexed 500 mg/m² alle 3 Wochen",
                    "c:nsclc",
                ),
                (
                    "pembrolizumab 200 mg every 3 weeks",
                    "Pembrolizumab 200 mg alle 3 Wochen",
                    "c:nsclc c:melanoma c:breast",
                ),
                ("osimertinib 80 mg daily", "Osimertinib 80 mg einmal täglich", "c:nsclc"),
                ("rituximab 375 mg/m²", "Rituximab 375 mg/m²", "c:dlbcl"),
                ("cyclophosphamide 750 mg/m²", "Cyclophosphamid 750 mg/m²", "c:dlbcl c:breast"),
                ("doxorubicin 50 mg/m²", "Doxorubicin 50 mg/m²", "c:dlbcl c:breast"),
                ("weekly paclitaxel 80 mg/m²", "Paclitaxel 80 mg/m² wöchentlich", "c:breast"),
                (
                    "oxaliplatin 85 mg/m² every 2 weeks",
                    "Oxaliplatin 85 mg/m² alle 2 Wochen",
                    "c:crc c:pdac",
                ),
                (
                    "5-fluorouracil 2400 mg/m² over 46 hours",
                    "5-Fluorouracil 2400 mg/m² über 46 Stunden",
                    "c:crc c:pdac",
                ),
                ("nivolumab 240 mg every 2 weeks", "Nivolumab 240 mg alle 2 Wochen", "c:melanoma"),
                ("sorafenib 400 mg twice daily", "Sorafenib 400 mg zweimal täglich", "c:hcc"),
                (
                    "dexamethasone 4 mg twice daily",
                    "Dexamethason 4 mg zweimal täglich",
                    "c:melanoma c:nsclc",
                ),
                ("rasburicase 0.2 mg/kg", "Rasburicase 0,2 mg/kg", "c:dlbcl"),
                ("oral morphine 10 mg every 4 hours", "Morphin 10 mg oral alle 4 Stunden"),
                ("gemcitabine 1000 mg/m² weekly", "Gemcitabin 1000 mg/m² wöchentlich", "c:pdac"),
            ]
        ),
        interventions=_e(
            [
                (
                    "stereotactic radiosurgery of the brain metastases",
                    "stereotaktische Radiochirurgie der Hirnmetastasen",
                    "c:melanoma",
                ),
                ("right upper lobectomy", "Oberlappenresektion rechts", "c:nsclc"),
                (
                    "palliative radiotherapy with 20 Gy in 5 fractions",
                    "palliative Strahlentherapie mit 20 Gy in 5 Fraktionen",
                    "c:nsclc c:breast",
                ),
                ("therapeutic thoracentesis", "therapeutische Pleurapunktion", "c:nsclc c:breast"),
                ("pancreaticoduodenectomy", "Pankreatikoduodenektomie", "c:pdac"),
                (
                    "endoscopic biliary stent placement",
                    "endoskopische Gallengangsstent-Einlage",
                    "c:pdac",
                ),
                ("modified radical mastectomy", "modifizierte radikale Mastektomie", "c:breast f"),
                ("transarterial chemoembolization", "transarterielle Chemoembolisation", "c:hcc"),
                ("radiofrequency ablation", "Radiofrequenzablation", "c:hcc"),
                (
                    "laparoscopic right hemicolectomy",
                    "laparoskopische Hemikolektomie rechts",
                    "c:crc",
                ),
                (
                    "wide local excision with sentinel lymph node biopsy",
                    "Nachexzision mit Sentinel-Lymphknotenbiopsie",
                    "c:melanoma",
                ),
                (
                    "involved-site radiotherapy with 30 Gy",
                    "Involved-Site-Strahlentherapie mit 30 Gy",
                    "c:dlbcl",
                ),
                ("port catheter implantation", "Portkatheterimplantation"),
            ]
        ),
        pathology=_e(
            [
                (
                    "TTF-1-positive adenocarcinoma with an EGFR exon 19 deletion",
                    "TTF-1-positives Adenokarzinom mit EGFR-Exon-19-Deletion",
                    "c:nsclc",
                ),
                (
                    "sheets of large CD20-positive B cells with a Ki-67 index of 80%",
                    "flächige Infiltrate großer CD20-positiver B-Zellen mit einem Ki-67-Index von 80 %",
                    "c:dlbcl",
                ),
                (
                    "invasive ductal carcinoma grade 3 negative for ER and PR and HER2",
                    "invasiv-duktales Karzinom G3 ohne Expression von ER und PR und HER2",
                    "c:breast f",
                ),
                (
                    "moderately differentiated adenocarcinoma with lymph node metastases (pT3 pN1)",
                    "mäßig differenziertes Adenokarzinom mit Lymphknotenmetastasen (pT3 pN1)",
                    "c:crc",
                ),
                (
                    "melanoma with a Breslow thickness of 3.2 mm",
                    "Melanom mit einer Tumordicke nach Breslow von 3,2 mm",
                    "c:melanoma",
                ),
                ("a BRAF V600E mutation", "eine BRAF-V600E-Mutation", "c:melanoma c:crc"),
                (
                    "well-differentiated hepatocellular carcinoma on a background of cirrhosis",
                    "gut differenziertes hepatozelluläres Karzinom auf dem Boden einer Zirrhose",
                    "c:hcc",
                ),
                (
                    "ductal adenocarcinoma with perineural invasion",
                    "duktales Adenokarzinom mit Perineuralscheideninfiltration",
                    "c:pdac",
                ),
            ]
        ),
        outcomes=_e(
            [
                (
                    "partial response after three cycles",
                    "partielles Ansprechen nach drei Zyklen",
                    "c:nsclc c:crc c:melanoma c:breast c:pdac c:hcc",
                ),
                ("complete metabolic remission", "komplette metabolische Remission", "c:dlbcl"),
                ("pathological complete response", "pathologische Komplettremission", "c:breast"),
                (
                    "disease progression after {m} months",
                    "Progress der Erkrankung nach {m} Monaten",
                ),
                (
                    "transition to best supportive care",
                    "Übergang zu bester supportiver Versorgung",
                    "c:pdac c:hcc c:nsclc",
                ),
            ]
        ),
    ),
    Specialty(
        key="nephrology",
        ages=(18, 85),
        diagnoses=_e(
            [
                (
                    "acute kidney injury KDIGO stage 3",
                    "akute Nierenschädigung KDIGO-Stadium 3",
                    "k:aki",
                ),
                ("IgA nephropathy", "IgA-Nephropathie", "k:igan"),
                (
                    "membranous nephropathy with nephrotic syndrome",
                    "membranöse Nephropathie mit nephrotischem Syndrom",
                    "k:mn",
                ),
                (
                    "ANCA-associated glomerulonephritis",
                    "ANCA-assoziierte Glomerulonephritis",
                    "k:anca",
                ),
                (
                    "autosomal dominant polycystic kidney disease",
                    "autosomal-dominante polyzystische Nierenerkrankung",
                    "k:adpkd",
                ),
                ("class IV lupus nephritis", "Lupusnephritis Klasse IV", "k:ln"),
                ("severe hyperkalemia", "schwere Hyperkaliämie", "k:hyperk"),
                ("metabolic acidosis", "metabolische Azidose", "sec c:aki c:hyperk"),
                ("renal anemia", "renale Anämie", "sec c:adpkd c:igan"),
                ("diffuse alveolar hemorrhage", "diffuse alveoläre Hämorrhagie", "sec c:anca"),
                ("uremic pericarditis", "urämische Perikarditis", "sec c:aki"),
            ]
        ),
        complaints=_e(
            [
                ("reduced urine output", "verminderte Urinausscheidung", "c:aki c:anca c:hyperk"),
                ("foamy urine", "Schaumbildung im Urin", "c:mn c:ln"),
                ("leg swelling", "Beinschwellungen", "c:mn c:ln c:aki"),
                ("macroscopic hematuria", "Makrohämaturie", "c:igan c:adpkd"),
                ("flank pain", "Flankenschmerzen", "c:adpkd"),
                ("itching all over the body", "Juckreiz am ganzen Körper", "c:aki"),
                ("weight gain of {k} kg", "Gewichtszunahme von {k} kg", "c:mn"),
                ("muscle cramps", "Muskelkrämpfe", "c:hyperk"),
                ("muscle weakness", "Muskelschwäche", "c:hyperk"),
                ("arthralgia", "Arthralgien", "c:ln c:anca"),
                ("hemoptysis", "Hämoptysen", "c:anca"),
                ("fatigue", "Abgeschlagenheit"),
            ]
        ),
        signs=_e(
            [
                ("periorbital edema", "Lidödeme", "c:mn c:ln"),
                ("generalized edema", "generalisierte Ödeme", "c:mn"),
                ("palpable enlarged kidneys", "tastbar vergrößerte Nieren", "c:adpkd"),
                ("uremic fetor", "Foetor uraemicus", "c:aki"),
                ("a pericardial friction rub", "Perikardreiben", "c:aki"),
                (
                    "palpable purpura of the lower legs",
                    "tastbare Purpura an den Unterschenkeln",
                    "c:anca",
                ),
                ("a malar rash", "Schmetterlingserythem", "c:ln"),
                ("bradycardia", "Bradykardie", "c:hyperk"),
            ]
        ),
        procedures=_e(
            [
                ("renal ultrasound", "Nierensonographie"),
                (
                    "percutaneous kidney biopsy",
                    "perkutane Nierenbiopsie",
                    "c:igan c:mn c:anca c:ln c:aki",
                ),
                (
                    "urine sediment microscopy",
                    "Urinsedimentmikroskopie",
                    "c:igan c:anca c:ln c:aki",
                ),
                ("24-hour urine collection", "24-Stunden-Sammelurin", "c:mn c:ln c:igan"),
                (
                    "serological testing for ANCA and anti-PLA2R antibodies",
                    "serologische Testung auf ANCA und Anti-PLA2R-Antikörper",
                    "c:mn c:anca",
                ),
                ("electrocardiography", "Elektrokardiographie", "c:hyperk"),
                (
                    "magnetic resonance imaging of the kidneys",
                    "Magnetresonanztomographie der Nieren",
                    "c:adpkd",
                ),
                ("chest computed tomography", "Computertomographie des Thorax", "c:anca"),
            ]
        ),
        labs=(
            _lab("creatinine", "Kreatinin", 2.1, 9.8, 1, "mg/dL"),
            _lab("urea", "Harnstoff", 80, 280, 0, "mg/dL", "aki anca hyperk"),
            _lab("potassium", "Kalium", 5.6, 7.4, 1, "mmol/L", "hyperk aki"),
            _lab("proteinuria", "Proteinurie", 3.5, 12, 1, "g/24 h", "mn ln igan"),
            _lab("eGFR", "eGFR", 6, 45, 0, "mL/min/1.73 m²"),
            _albumin(1.6, 2.8, "mn ln"),
            _lab("anti-PLA2R antibodies", "Anti-PLA2R-Antikörper", 40, 400, 0, "RU/mL", "mn"),
            _lab("bicarbonate", "Bikarbonat", 12, 19, 0, "mmol/L", "aki hyperk"),
            _lab("anti-dsDNA antibodies", "Anti-dsDNA-Antikörper", 80, 600, 0, "IU/mL", "ln"),
            _lab("MPO-ANCA", "MPO-ANCA", 30, 250, 0, "IU/mL", "anca"),
        ),
        drugs=_e(
            [
                (
                    "sodium bicarbonate 1 g three times daily",
                    "Natriumhydrogencarbonat 1 g dreimal täglich",
                    "c:aki c:hyperk",
                ),
                (
                    "sodium zirconium cyclosilicate 10 g three times daily",
                    "Natriumzirconiumcyclosilicat 10 g dreimal täglich",
                    "c:hyperk",
                ),
                (
                    "intravenous insulin 10 units with 25 g glucose",
                    "Insulin 10 IE mit 25 g Glukose intravenös",
                    "c:hyperk",
                ),
                (
                    "calcium gluconate 10% 10 mL intravenously",
                    "Calciumgluconat 10 % 10 ml intravenös",
                    "c:hyperk",
                ),
                ("rituximab 1 g on days 1 and 15", "Rituximab 1 g an Tag 1 und 15", "c:mn c:anca"),
                (
                    "cyclophosphamide 15 mg/kg intravenously",
                    "Cyclophosphamid 15 mg/kg intravenös",
                    "c:anca c:ln",
                ),
                ("prednisolone 1 mg/kg daily", "Prednisolon 1 mg/kg täglich", "c:anca c:ln c:mn"),
                ("torasemide 20 mg daily", "Torasemid 20 mg einmal täglich", "c:mn c:aki c:ln"),
                ("ramipril 2.5 mg daily", "Ramipril 2,5 mg einmal täglich", "c:igan c:adpkd c:mn"),
                (
                    "mycophenolate mofetil 1 g twice daily",
                    "Mycophenolatmofetil 1 g zweimal täglich",
                    "c:ln",
                ),
                (
                    "hydroxychloroquine 200 mg daily",
                    "Hydroxychloroquin 200 mg einmal täglich",
                    "c:ln",
                ),
                ("tolvaptan 45/15 mg daily", "Tolvaptan 45/15 mg täglich", "c:adpkd"),
            ]
        ),
        interventions=_e(
            [
                ("hemodialysis", "Hämodialyse", "c:aki c:hyperk c:anca"),
                (
                    "placement of a tunneled dialysis catheter",
                    "Anlage eines getunnelten Dialysekatheters",
                    "c:aki c:anca",
                ),
                ("plasma exchange", "Plasmapherese", "c:anca"),
                ("percutaneous nephrostomy", "perkutane Nephrostomie", "c:aki"),
                (
                    "living-donor kidney transplantation",
                    "Nierenlebendspende-Transplantation",
                    "c:adpkd c:igan",
                ),
                (
                    "creation of an arteriovenous fistula",
                    "Anlage einer arteriovenösen Fistel",
                    "c:adpkd c:igan",
                ),
            ]
        ),
        pathology=_e(
            [
                ("mesangial IgA deposits", "mesangiale IgA-Ablagerungen", "c:igan"),
                (
                    "crescents in 8 of 14 glomeruli",
                    "Halbmondbildung in 8 von 14 Glomeruli",
                    "c:anca",
                ),
                (
                    "subepithelial immune deposits on electron microscopy",
                    "subepitheliale Immundepots in der Elektronenmikroskopie",
                    "c:mn",
                ),
                ("acute tubular necrosis", "akute Tubulusnekrose", "c:aki"),
                (
                    "diffuse proliferative glomerulonephritis with wire-loop lesions",
                    "diffus-proliferative Glomerulonephritis mit Wire-loop-Läsionen",
                    "c:ln",
                ),
            ]
        ),
        outcomes=_e(
            [
                (
                    "partial recovery of renal function",
                    "partielle Erholung der Nierenfunktion",
                    "c:aki c:anca c:ln",
                ),
                (
                    "dialysis independence at discharge",
                    "Dialyseunabhängigkeit bei Entlassung",
                    "c:aki c:anca",
                ),
                (
                    "progression to end-stage kidney disease requiring maintenance hemodialysis",
                    "Progression zur terminalen Niereninsuffizienz mit Dauerdialysepflicht",
                    "c:adpkd c:anca c:igan",
                ),
                (
                    "complete remission of proteinuria after {m} months",
                    "komplette Remission der Proteinurie nach {m} Monaten",
                    "c:mn c:ln c:igan",
                ),
                (
                    "normokalemia within 24 hours",
                    "Normokaliämie innerhalb von 24 Stunden",
                    "c:hyperk",
                ),
            ]
        ),
    ),
    Specialty(
        key="infectious_disease",
        ages=(18, 85),
        diagnoses=_e(
            [
                ("Staphylococcus aureus bacteremia", "Staphylococcus-aureus-Bakteriämie", "k:sab"),
                ("pulmonary tuberculosis", "Lungentuberkulose", "k:tb"),
                ("Plasmodium falciparum malaria", "Malaria tropica", "k:malaria"),
                ("pneumococcal meningitis", "Pneumokokkenmeningitis", "k:mening"),
                ("urosepsis due to Escherichia coli", "Urosepsis durch Escherichia coli", "k:uro"),
                ("Lyme neuroborreliosis", "Neuroborreliose", "k:lyme"),
                ("newly diagnosed HIV infection", "neu diagnostizierte HIV-Infektion", "k:hiv"),
                ("dengue fever", "Denguefieber", "k:dengue"),
                (
                    "cellulitis of the left lower leg",
                    "Phlegmone des linken Unterschenkels",
                    "k:cell",
                ),
                ("septic shock", "septischer Schock", "sec c:sab c:uro c:mening"),
                (
                    "infective endocarditis of the aortic valve",
                    "infektiöse Endokarditis der Aortenklappe",
                    "sec c:sab",
                ),
                (
                    "Pneumocystis jirovecii pneumonia",
                    "Pneumocystis-jirovecii-Pneumonie",
                    "sec c:hiv",
                ),
                ("acute kidney injury", "akute Nierenschädigung", "sec c:malaria c:uro"),
                ("spondylodiscitis at L3/L4", "Spondylodiszitis LWK 3/4", "sec c:sab"),
            ]
        ),
        complaints=_e(
            [
                ("high fever", "hohes Fieber", "c:sab c:malaria c:mening c:uro c:dengue c:cell"),
                ("chills", "Schüttelfrost", "c:sab c:malaria c:uro"),
                ("headache", "Kopfschmerzen", "c:mening c:malaria c:dengue c:lyme"),
                ("photophobia", "Lichtscheu", "c:mening"),
                ("dysuria", "Dysurie", "c:uro"),
                ("flank pain", "Flankenschmerzen", "c:uro"),
                ("night sweats", "Nachtschweiß", "c:tb c:hiv"),
                ("weight loss of {k} kg", "Gewichtsverlust von {k} kg", "c:tb c:hiv"),
                ("myalgia", "Myalgien", "c:dengue c:malaria"),
                ("a rash", "Hautausschlag", "c:dengue c:hiv"),
                (
                    "painful swelling of the left lower leg",
                    "schmerzhafte Schwellung des linken Unterschenkels",
                    "c:cell",
                ),
                ("cough for several weeks", "Husten seit mehreren Wochen", "c:tb"),
                ("diarrhea", "Durchfall", "c:hiv c:malaria"),
                ("radicular pain", "radikuläre Schmerzen", "c:lyme"),
                ("back pain", "Rückenschmerzen", "c:sab"),
            ]
        ),
        signs=_e(
            [
                ("a petechial rash", "petechiales Exanthem", "c:dengue c:mening"),
                ("meningism", "Meningismus", "c:mening"),
                ("costovertebral angle tenderness", "Nierenlagerklopfschmerz", "c:uro"),
                ("erythema migrans on the thigh", "Erythema migrans am Oberschenkel", "c:lyme"),
                ("peripheral facial palsy on the left", "periphere Fazialisparese links", "c:lyme"),
                ("splenomegaly", "Splenomegalie", "c:malaria"),
                ("scleral icterus", "Sklerenikterus", "c:malaria"),
                (
                    "erythema and warmth of the left lower leg",
                    "Rötung und Überwärmung des linken Unterschenkels",
                    "c:cell",
                ),
                ("oral thrush", "Mundsoor", "c:hiv"),
                ("generalized lymphadenopathy", "generalisierte Lymphadenopathie", "c:hiv c:tb"),
                ("a new systolic murmur", "neu aufgetretenes Systolikum", "c:sab"),
                ("Janeway lesions", "Janeway-Läsionen", "c:sab"),
            ]
        ),
        procedures=_e(
            [
                ("blood cultures", "Blutkulturen", "c:sab c:uro c:mening c:cell"),
                (
                    "microscopy of thick and thin blood smears",
                    "mikroskopische Untersuchung von Blutausstrichen",
                    "c:malaria",
                ),
                ("a malaria rapid diagnostic test", "Malaria-Schnelltest", "c:malaria"),
                ("lumbar puncture", "Lumbalpunktion", "c:mening c:lyme"),
                ("urine culture", "Urinkultur", "c:uro"),
                ("renal ultrasound", "Nierensonographie", "c:uro"),
                ("transesophageal echocardiography", "transösophageale Echokardiographie", "c:sab"),
                (
                    "magnetic resonance imaging of the spine",
                    "Magnetresonanztomographie der Wirbelsäule",
                    "c:sab",
                ),
                ("interferon-gamma release assay", "Interferon-Gamma-Release-Assay", "c:tb"),
                (
                    "sputum microscopy and PCR for Mycobacterium tuberculosis",
                    "Sputummikroskopie und PCR auf Mycobacterium tuberculosis",
                    "c:tb",
                ),
                ("chest radiography", "Röntgenaufnahme des Thorax", "c:tb c:hiv"),
                ("HIV antigen/antibody testing", "HIV-Antigen-Antikörper-Suchtest", "c:hiv c:tb"),
                (
                    "Borrelia serology with CSF antibody index",
                    "Borrelienserologie mit Liquor-Antikörperindex",
                    "c:lyme",
                ),
                ("a dengue NS1 antigen test", "Dengue-NS1-Antigentest", "c:dengue"),
                ("soft tissue ultrasound", "Weichteilsonographie", "c:cell"),
            ]
        ),
        labs=(
            _crp(60, 320, "sab mening uro cell malaria"),
            _lab("procalcitonin", "Procalcitonin", 0.5, 45, 1, "ng/mL", "sab mening uro"),
            _leuko(12, 28, "sab mening uro cell"),
            _lab("platelet count", "Thrombozyten", 18, 120, 0, "×10⁹/L", "malaria dengue"),
            _lab("lactate", "Laktat", 2.1, 6.5, 1, "mmol/L", "uro sab malaria"),
            _lab("parasitemia", "Parasitämie", 1, 12, 1, "%", "malaria"),
            _lab("CD4 count", "CD4-Zellzahl", 20, 350, 0, "cells/µL", "hiv"),
            _lab("HIV-1 viral load", "HIV-1-Viruslast", 85000, 900000, 0, "copies/mL", "hiv"),
            _lab("CSF leukocytes", "Liquorleukozyten", 400, 4800, 0, "cells/µL", "mening"),
            _lab("CSF cell count", "Liquorzellzahl", 40, 320, 0, "cells/µL", "lyme"),
            _lab("hematocrit", "Hämatokrit", 48, 56, 0, "%", "dengue"),
            _lab("ESR", "BSG", 40, 100, 0, "mm/h", "tb"),
            _lab("creatinine", "Kreatinin", 1.4, 4.2, 1, "mg/dL", "malaria uro"),
        ),
        drugs=_e(
            [
                (
                    "flucloxacillin 2 g intravenously every 4 hours",
                    "Flucloxacillin 2 g intravenös alle 4 Stunden",
                    "c:sab c:cell",
                ),
                ("cefazolin 2 g three times daily", "Cefazolin 2 g dreimal täglich", "c:cell"),
                (
                    "ceftriaxone 2 g intravenously twice daily",
                    "Ceftriaxon 2 g intravenös zweimal täglich",
                    "c:mening c:lyme",
                ),
                (
                    "dexamethasone 10 mg every 6 hours",
                    "Dexamethason 10 mg alle 6 Stunden",
                    "c:mening",
                ),
                ("intravenous artesunate 2.4 mg/kg", "Artesunat 2,4 mg/kg intravenös", "c:malaria"),
                ("isoniazid 300 mg daily", "Isoniazid 300 mg einmal täglich", "c:tb"),
                ("rifampicin 600 mg daily", "Rifampicin 600 mg einmal täglich", "c:tb"),
                ("pyrazinamide 1500 mg daily", "Pyrazinamid 1500 mg einmal täglich", "c:tb"),
                ("ethambutol 1200 mg daily", "Ethambutol 1200 mg einmal täglich", "c:tb"),
                ("doxycycline 100 mg twice daily", "Doxycyclin 100 mg zweimal täglich", "c:lyme"),
                ("meropenem 1 g three times daily", "Meropenem 1 g dreimal täglich", "c:uro"),
                (
                    "bictegravir/emtricitabine/tenofovir alafenamide 50/200/25 mg daily",
                    "Bictegravir/Emtricitabin/Tenofoviralafenamid 50/200/25 mg einmal täglich",
                    "c:hiv",
                ),
                ("cotrimoxazole 960 mg daily", "Cotrimoxazol 960 mg einmal täglich", "c:hiv"),
                (
                    "vancomycin 15 mg/kg twice daily",
                    "Vancomycin 15 mg/kg zweimal täglich",
                    "c:sab c:mening",
                ),
                (
                    "intravenous crystalloids 30 mL/kg",
                    "kristalloide Infusion 30 ml/kg intravenös",
                    "c:uro c:dengue",
                ),
                ("paracetamol 1 g every 6 hours", "Paracetamol 1 g alle 6 Stunden", "c:dengue"),
            ]
        ),
        interventions=_e(
            [
                (
                    "removal of the infected central venous catheter",
                    "Entfernung des infizierten zentralvenösen Katheters",
                    "c:sab",
                ),
                ("surgical debridement", "chirurgisches Débridement", "c:cell"),
                ("percutaneous abscess drainage", "perkutane Abszessdrainage", "c:sab c:cell"),
                (
                    "isolation in a negative-pressure room",
                    "Isolation in einem Unterdruckzimmer",
                    "c:tb",
                ),
                ("ureteral stent placement", "Einlage einer Harnleiterschiene", "c:uro"),
                (
                    "leg elevation and compression",
                    "Hochlagerung und Kompression des Beins",
                    "c:cell",
                ),
            ]
        ),
        pathology=_e(
            [
                (
                    "caseating granulomas in the lymph node",
                    "verkäsende Granulome im Lymphknoten",
                    "c:tb",
                ),
                (
                    "acid-fast bacilli on Ziehl-Neelsen staining",
                    "säurefeste Stäbchen in der Ziehl-Neelsen-Färbung",
                    "c:tb",
                ),
                (
                    "gram-positive cocci in clusters on tissue Gram stain",
                    "grampositive Haufenkokken in der Gewebe-Gramfärbung",
                    "c:sab c:cell",
                ),
                (
                    "ring forms and gametocytes of Plasmodium falciparum",
                    "Ringformen und Gametozyten von Plasmodium falciparum",
                    "c:malaria cyto",
                ),
                (
                    "gram-positive diplococci in the CSF Gram stain",
                    "grampositive Diplokokken in der Liquor-Gramfärbung",
                    "c:mening cyto",
                ),
                (
                    "a lymphoplasmacytic pleocytosis in CSF cytology",
                    "eine lymphoplasmazelluläre Pleozytose in der Liquorzytologie",
                    "c:lyme cyto",
                ),
            ]
        ),
        outcomes=_e(
            [
                (
                    "defervescence within 72 hours",
                    "Entfieberung innerhalb von 72 Stunden",
                    "c:sab c:malaria c:uro c:cell c:mening c:dengue",
                ),
                (
                    "completion of antimicrobial therapy without relapse",
                    "Abschluss der antimikrobiellen Therapie ohne Rezidiv",
                    "c:sab c:tb c:uro c:cell c:lyme c:mening",
                ),
                (
                    "an undetectable viral load after {m} months",
                    "Viruslast unter der Nachweisgrenze nach {m} Monaten",
                    "c:hiv",
                ),
                ("resolution of the facial palsy", "Rückbildung der Fazialisparese", "c:lyme"),
                (
                    "culture conversion after two months",
                    "Kulturkonversion nach zwei Monaten",
                    "c:tb",
                ),
            ]
        ),
    ),
    Specialty(
        key="endocrinology",
        ages=(18, 80),
        diagnoses=_e(
            [
                ("diabetic ketoacidosis", "diabetische Ketoazidose", "k:dka"),
                (
                    "newly diagnosed type 1 diabetes mellitus",
                    "neu diagnostizierter Diabetes mellitus Typ 1",
                    "k:t1d",
                ),
                ("Graves' disease", "Morbus Basedow", "k:graves"),
                ("primary hyperparathyroidism", "primärer Hyperparathyreoidismus", "k:phpt"),
                ("adrenal crisis", "Addison-Krise", "k:adrenal"),
                ("pheochromocytoma", "Phäochromozytom", "k:pheo"),
                (
                    "Cushing's disease due to a pituitary adenoma",
                    "Morbus Cushing bei Hypophysenadenom",
                    "k:cushing",
                ),
                ("thyroid storm", "thyreotoxische Krise", "k:storm"),
                ("hypokalemia", "Hypokaliämie", "sec c:dka c:cushing"),
                ("secondary osteoporosis", "sekundäre Osteoporose", "sec c:cushing c:phpt"),
                ("nephrolithiasis", "Nephrolithiasis", "sec c:phpt"),
                ("endocrine orbitopathy", "endokrine Orbitopathie", "sec c:graves c:storm"),
            ]
        ),
        complaints=_e(
            [
                ("polyuria", "Polyurie", "c:dka c:t1d"),
                ("polydipsia", "Polydipsie", "c:dka c:t1d"),
                (
                    "weight loss of {k} kg",
                    "Gewichtsverlust von {k} kg",
                    "c:t1d c:graves c:adrenal c:storm",
                ),
                ("weight gain of {k} kg", "Gewichtszunahme von {k} kg", "c:cushing"),
                ("heat intolerance", "Wärmeintoleranz", "c:graves c:storm"),
                ("palpitations", "Herzrasen", "c:graves c:storm c:pheo"),
                (
                    "episodic headaches with sweating",
                    "anfallsartige Kopfschmerzen mit Schweißausbrüchen",
                    "c:pheo",
                ),
                ("abdominal pain", "Bauchschmerzen", "c:dka c:adrenal"),
                ("vomiting", "Erbrechen", "c:dka c:adrenal c:storm"),
                ("muscle weakness", "Muskelschwäche", "c:cushing c:phpt"),
                ("bone pain", "Knochenschmerzen", "c:phpt"),
                ("constipation", "Obstipation", "c:phpt"),
                ("salt craving", "Salzhunger", "c:adrenal"),
                ("restlessness", "Unruhe", "c:storm c:graves"),
                ("fatigue", "Abgeschlagenheit"),
            ]
        ),
        signs=_e(
            [
                ("Kussmaul breathing", "Kussmaul-Atmung", "c:dka"),
                ("a fruity breath odor", "Acetongeruch der Atemluft", "c:dka"),
                ("exophthalmos", "Exophthalmus", "c:graves c:storm"),
                ("a diffuse goiter", "diffuse Struma", "c:graves c:storm"),
                ("hyperpigmentation of the skin", "Hyperpigmentierung der Haut", "c:adrenal"),
                (
                    "central obesity with purple striae",
                    "Stammfettsucht mit lividen Striae",
                    "c:cushing",
                ),
                ("a moon face", "Vollmondgesicht", "c:cushing"),
                ("dry mucous membranes", "trockene Schleimhäute", "c:dka c:adrenal c:t1d"),
                (
                    "a fine tremor of the hands",
                    "feinschlägiges Zittern der Hände",
                    "c:graves c:storm",
                ),
                ("pallor during the attacks", "Blässe während der Attacken", "c:pheo"),
            ]
        ),
        procedures=_e(
            [
                ("blood gas analysis", "Blutgasanalyse", "c:dka"),
                ("urinalysis for ketone bodies", "Urinuntersuchung auf Ketonkörper", "c:dka c:t1d"),
                ("continuous glucose monitoring", "kontinuierliches Glukosemonitoring", "c:t1d"),
                ("thyroid ultrasound", "Schilddrüsensonographie", "c:graves c:storm"),
                ("thyroid scintigraphy", "Schilddrüsenszintigraphie", "c:graves"),
                ("an ACTH stimulation test", "ACTH-Stimulationstest", "c:adrenal"),
                (
                    "magnetic resonance imaging of the pituitary gland",
                    "Magnetresonanztomographie der Hypophyse",
                    "c:cushing",
                ),
                (
                    "sestamibi parathyroid scintigraphy",
                    "Nebenschilddrüsenszintigraphie mit Sestamibi",
                    "c:phpt",
                ),
                ("ultrasound of the neck", "Halssonographie", "c:phpt"),
                ("bone densitometry", "Knochendichtemessung", "c:phpt c:cushing"),
                ("a low-dose dexamethasone suppression test", "Dexamethason-Hemmtest", "c:cushing"),
                (
                    "measurement of 24-hour urinary metanephrines",
                    "Bestimmung der Metanephrine im 24-Stunden-Urin",
                    "c:pheo",
                ),
                (
                    "computed tomography of the adrenal glands",
                    "Computertomographie der Nebennieren",
                    "c:pheo c:adrenal",
                ),
                (
                    "inferior petrosal sinus sampling",
                    "selektive Blutentnahme aus den Sinus petrosi inferiores",
                    "c:cushing",
                ),
            ]
        ),
        labs=(
            _lab("HbA1c", "HbA1c", 7.5, 13.5, 1, "%", "dka t1d"),
            _lab("glucose", "Glukose", 250, 780, 0, "mg/dL", "dka t1d"),
            _lab("beta-hydroxybutyrate", "Beta-Hydroxybutyrat", 3.5, 9, 1, "mmol/L", "dka"),
            _lab("bicarbonate", "Bikarbonat", 5, 14, 0, "mmol/L", "dka"),
            _lab("GAD antibodies", "GAD-Antikörper", 30, 2000, 0, "IU/mL", "t1d dka"),
            _lab("TSH", "TSH", 0.005, 0.05, 3, "mU/L", "graves storm"),
            _lab("free T4", "freies T4", 2.5, 7.5, 1, "ng/dL", "graves storm"),
            _lab(
                "TSH receptor antibodies",
                "TSH-Rezeptor-Antikörper",
                4,
                40,
                1,
                "IU/L",
                "graves storm",
            ),
            _lab("calcium", "Kalzium", 2.7, 3.4, 2, "mmol/L", "phpt"),
            _lab("parathyroid hormone", "Parathormon", 90, 380, 0, "pg/mL", "phpt"),
            _lab("morning cortisol", "Morgencortisol", 0.8, 3.5, 1, "µg/dL", "adrenal"),
            _lab("ACTH", "ACTH", 80, 400, 0, "pg/mL", "adrenal cushing"),
            _lab(
                "late-night salivary cortisol",
                "Mitternachtsspeichelcortisol",
                0.3,
                1.2,
                2,
                "µg/dL",
                "cushing",
            ),
            _sodium(121, 133, "adrenal"),
            _lab("potassium", "Kalium", 5.4, 6.8, 1, "mmol/L", "adrenal"),
            _lab("plasma metanephrines", "Plasma-Metanephrine", 300, 2500, 0, "pg/mL", "pheo"),
        ),
        drugs=_e(
            [
                (
                    "an intravenous insulin infusion at 0.1 units/kg/h",
                    "intravenöse Insulininfusion mit 0,1 IE/kg/h",
                    "c:dka",
                ),
                (
                    "intravenous 0.9% saline 1 L per hour",
                    "0,9%ige Kochsalzlösung 1 l pro Stunde intravenös",
                    "c:dka c:adrenal",
                ),
                (
                    "potassium chloride 20 mmol per liter of infusion",
                    "Kaliumchlorid 20 mmol pro Liter Infusion",
                    "c:dka",
                ),
                (
                    "insulin glargine 18 units at bedtime",
                    "Insulin glargin 18 IE zur Nacht",
                    "c:t1d c:dka",
                ),
                (
                    "insulin aspart 6 units with each meal",
                    "Insulin aspart 6 IE zu jeder Mahlzeit",
                    "c:t1d",
                ),
                ("thiamazole 20 mg daily", "Thiamazol 20 mg einmal täglich", "c:graves c:storm"),
                (
                    "propranolol 40 mg three times daily",
                    "Propranolol 40 mg dreimal täglich",
                    "c:graves c:storm",
                ),
                (
                    "Lugol's solution 5 drops every 6 hours",
                    "Lugolsche Lösung 5 Tropfen alle 6 Stunden",
                    "c:storm",
                ),
                (
                    "hydrocortisone 100 mg intravenously",
                    "Hydrocortison 100 mg intravenös",
                    "c:adrenal c:storm",
                ),
                (
                    "fludrocortisone 0.1 mg daily",
                    "Fludrocortison 0,1 mg einmal täglich",
                    "c:adrenal",
                ),
                ("cinacalcet 30 mg twice daily", "Cinacalcet 30 mg zweimal täglich", "c:phpt"),
                (
                    "phenoxybenzamine 10 mg twice daily",
                    "Phenoxybenzamin 10 mg zweimal täglich",
                    "c:pheo",
                ),
                (
                    "metyrapone 250 mg four times daily",
                    "Metyrapon 250 mg viermal täglich",
                    "c:cushing",
                ),
            ]
        ),
        interventions=_e(
            [
                ("total thyroidectomy", "totale Thyreoidektomie", "c:graves c:storm"),
                ("parathyroidectomy", "Parathyreoidektomie", "c:phpt"),
                ("laparoscopic adrenalectomy", "laparoskopische Adrenalektomie", "c:pheo"),
                (
                    "transsphenoidal resection of the pituitary adenoma",
                    "transsphenoidale Resektion des Hypophysenadenoms",
                    "c:cushing",
                ),
                ("radioiodine therapy", "Radiojodtherapie", "c:graves"),
                ("structured diabetes education", "strukturierte Diabetesschulung", "c:t1d c:dka"),
            ]
        ),
        pathology=_e(
            [
                (
                    "a parathyroid adenoma of 1.8 cm",
                    "ein Nebenschilddrüsenadenom von 1,8 cm",
                    "c:phpt",
                ),
                (
                    "a pheochromocytoma with a PASS score of 3",
                    "ein Phäochromozytom mit einem PASS-Score von 3",
                    "c:pheo",
                ),
                (
                    "an ACTH-positive corticotroph adenoma",
                    "ein ACTH-positives kortikotropes Adenom",
                    "c:cushing",
                ),
                (
                    "diffuse follicular hyperplasia of the thyroid",
                    "diffuse follikuläre Hyperplasie der Schilddrüse",
                    "c:graves c:storm",
                ),
            ]
        ),
        outcomes=_e(
            [
                (
                    "good glycemic control at {m}-month follow-up",
                    "gute Blutzuckereinstellung bei der Kontrolle nach {m} Monaten",
                    "c:dka c:t1d",
                ),
                (
                    "a euthyroid state after {m} months",
                    "Euthyreose nach {m} Monaten",
                    "c:graves c:storm",
                ),
                ("normocalcemia after surgery", "Normokalzämie nach der Operation", "c:phpt"),
                (
                    "normal blood pressure after adrenalectomy",
                    "Normotonie nach der Adrenalektomie",
                    "c:pheo",
                ),
                (
                    "biochemical remission after surgery",
                    "biochemische Remission nach der Operation",
                    "c:cushing",
                ),
                (
                    "stable condition on hydrocortisone replacement",
                    "stabile Einstellung unter Hydrocortisonsubstitution",
                    "c:adrenal",
                ),
            ]
        ),
    ),
    Specialty(
        key="rheumatology",
        ages=(18, 84),
        diagnoses=_e(
            [
                ("seropositive rheumatoid arthritis", "seropositive rheumatoide Arthritis", "k:ra"),
                ("systemic lupus erythematosus", "systemischer Lupus erythematodes", "k:sle"),
                ("giant cell arteritis", "Riesenzellarteriitis", "k:gca"),
                ("granulomatosis with polyangiitis", "Granulomatose mit Polyangiitis", "k:gpa"),
                (
                    "acute gout of the first metatarsophalangeal joint",
                    "akuter Gichtanfall im Großzehengrundgelenk",
                    "k:gout",
                ),
                ("axial spondyloarthritis", "axiale Spondyloarthritis", "k:axspa"),
                ("polymyalgia rheumatica", "Polymyalgia rheumatica", "k:pmr"),
                ("adult-onset Still's disease", "adulter Morbus Still", "k:aosd"),
                ("lupus nephritis", "Lupusnephritis", "sec c:sle"),
                ("macrophage activation syndrome", "Makrophagenaktivierungssyndrom", "sec c:aosd"),
                ("acute anterior uveitis", "akute anteriore Uveitis", "sec c:axspa"),
                ("interstitial lung disease", "interstitielle Lungenerkrankung", "sec c:ra"),
                (
                    "large-vessel vasculitis with aortitis",
                    "Großgefäßvaskulitis mit Aortitis",
                    "sec c:gca",
                ),
            ]
        ),
        complaints=_e(
            [
                (
                    "symmetric polyarthralgia of the hands",
                    "symmetrische Polyarthralgien der Hände",
                    "c:ra c:sle",
                ),
                (
                    "morning stiffness lasting two hours",
                    "Morgensteifigkeit von zwei Stunden Dauer",
                    "c:ra c:pmr",
                ),
                (
                    "new-onset temporal headache",
                    "neu aufgetretene temporale Kopfschmerzen",
                    "c:gca",
                ),
                ("jaw claudication", "Claudicatio masticatoria", "c:gca"),
                ("visual loss in the right eye", "Sehverlust am rechten Auge", "c:gca"),
                ("a butterfly rash", "Schmetterlingserythem", "c:sle"),
                ("hair loss", "Haarausfall", "c:sle"),
                ("Raynaud phenomenon", "Raynaud-Phänomen", "c:sle"),
                ("inflammatory low back pain", "entzündliche Rückenschmerzen", "c:axspa"),
                ("heel pain", "Fersenschmerzen", "c:axspa"),
                (
                    "painful swelling of the right big toe",
                    "schmerzhafte Schwellung der rechten Großzehe",
                    "c:gout",
                ),
                ("proximal muscle pain", "proximale Muskelschmerzen", "c:pmr c:gca"),
                ("recurrent epistaxis", "rezidivierendes Nasenbluten", "c:gpa"),
                ("hearing loss", "Hörminderung", "c:gpa"),
                ("spiking fevers", "Fieberschübe", "c:aosd"),
                ("sore throat", "Halsschmerzen", "c:aosd"),
                ("fatigue", "Abgeschlagenheit"),
            ]
        ),
        signs=_e(
            [
                (
                    "synovitis of the metacarpophalangeal joints",
                    "Synovitis der Fingergrundgelenke",
                    "c:ra",
                ),
                ("rheumatoid nodules at the elbows", "Rheumaknoten an den Ellenbogen", "c:ra"),
                ("a tender temporal artery", "druckschmerzhafte Arteria temporalis", "c:gca"),
                ("oral ulcers", "orale Ulzera", "c:sle"),
                (
                    "reduced lumbar spine mobility",
                    "eingeschränkte Beweglichkeit der Lendenwirbelsäule",
                    "c:axspa",
                ),
                (
                    "erythema and swelling of the first metatarsophalangeal joint",
                    "Rötung und Schwellung des Großzehengrundgelenks",
                    "c:gout",
                ),
                ("tophi on the helix of the ear", "Tophi an der Ohrhelix", "c:gout"),
                (
                    "painful restriction of shoulder abduction",
                    "schmerzhaft eingeschränkte Schulterabduktion",
                    "c:pmr",
                ),
                ("a saddle nose deformity", "Sattelnase", "c:gpa"),
                ("a salmon-colored evanescent rash", "lachsfarbenes flüchtiges Exanthem", "c:aosd"),
                ("cervical lymphadenopathy", "zervikale Lymphadenopathie", "c:aosd"),
            ]
        ),
        procedures=_e(
            [
                ("ultrasound of the hand joints", "Gelenksonographie der Hände", "c:ra"),
                (
                    "radiographs of the hands and feet",
                    "Röntgenaufnahmen der Hände und Füße",
                    "c:ra c:gout",
                ),
                (
                    "color duplex ultrasound of the temporal arteries",
                    "Farbduplexsonographie der Temporalarterien",
                    "c:gca",
                ),
                ("temporal artery biopsy", "Temporalarterienbiopsie", "c:gca"),
                (
                    "magnetic resonance imaging of the sacroiliac joints",
                    "Magnetresonanztomographie der Iliosakralgelenke",
                    "c:axspa",
                ),
                ("HLA-B27 typing", "HLA-B27-Typisierung", "c:axspa"),
                (
                    "joint aspiration with polarized light microscopy",
                    "Gelenkpunktion mit Polarisationsmikroskopie",
                    "c:gout",
                ),
                ("nailfold capillaroscopy", "Kapillarmikroskopie des Nagelfalzes", "c:sle"),
                ("urinalysis with sediment", "Urinstatus mit Sediment", "c:sle c:gpa"),
                ("a skin biopsy", "Hautbiopsie", "c:sle"),
                (
                    "computed tomography of the paranasal sinuses",
                    "Computertomographie der Nasennebenhöhlen",
                    "c:gpa",
                ),
                ("a nasal mucosal biopsy", "Nasenschleimhautbiopsie", "c:gpa"),
                ("ultrasound of the shoulders", "Schultersonographie", "c:pmr"),
                ("FDG-PET/CT", "FDG-PET/CT", "c:gca c:pmr c:aosd"),
            ]
        ),
        labs=(
            _lab("rheumatoid factor", "Rheumafaktor", 40, 380, 0, "IU/mL", "ra"),
            _lab("anti-CCP antibodies", "Anti-CCP-Antikörper", 50, 500, 0, "U/mL", "ra"),
            _lab("ESR", "BSG", 40, 110, 0, "mm/h", "gca pmr ra"),
            _lab("anti-dsDNA antibodies", "Anti-dsDNA-Antikörper", 80, 600, 0, "IU/mL", "sle"),
            _lab("complement C3", "Komplement C3", 0.35, 0.75, 2, "g/L", "sle"),
            _lab("serum uric acid", "Serumharnsäure", 8, 12.5, 1, "mg/dL", "gout"),
            _lab("PR3-ANCA", "PR3-ANCA", 20, 200, 0, "IU/mL", "gpa"),
            _lab("ferritin", "Ferritin", 2000, 25000, 0, "ng/mL", "aosd"),
            _crp(15, 180, "ra gca pmr gpa gout axspa aosd"),
        ),
        drugs=_e(
            [
                ("methotrexate 15 mg weekly", "Methotrexat 15 mg einmal wöchentlich", "c:ra c:gca"),
                ("folic acid 5 mg weekly", "Folsäure 5 mg einmal wöchentlich", "c:ra"),
                (
                    "prednisolone 60 mg daily",
                    "Prednisolon 60 mg einmal täglich",
                    "g:pred c:gca c:gpa c:sle c:aosd",
                ),
                (
                    "prednisolone 15 mg daily",
                    "Prednisolon 15 mg einmal täglich",
                    "g:pred c:pmr c:ra",
                ),
                (
                    "methylprednisolone 500 mg intravenously daily for 3 days",
                    "Methylprednisolon 500 mg intravenös täglich über 3 Tage",
                    "c:gca c:gpa c:sle",
                ),
                (
                    "hydroxychloroquine 200 mg twice daily",
                    "Hydroxychloroquin 200 mg zweimal täglich",
                    "c:sle",
                ),
                ("belimumab 10 mg/kg intravenously", "Belimumab 10 mg/kg intravenös", "c:sle"),
                (
                    "tocilizumab 162 mg subcutaneously weekly",
                    "Tocilizumab 162 mg subkutan wöchentlich",
                    "c:gca c:ra",
                ),
                ("colchicine 0.5 mg twice daily", "Colchicin 0,5 mg zweimal täglich", "c:gout"),
                (
                    "naproxen 500 mg twice daily",
                    "Naproxen 500 mg zweimal täglich",
                    "c:axspa c:gout",
                ),
                (
                    "adalimumab 40 mg every other week",
                    "Adalimumab 40 mg alle zwei Wochen",
                    "c:axspa c:ra",
                ),
                ("rituximab 1 g on days 1 and 15", "Rituximab 1 g an Tag 1 und 15", "c:gpa c:ra"),
                ("allopurinol 100 mg daily", "Allopurinol 100 mg einmal täglich", "c:gout"),
                ("anakinra 100 mg daily", "Anakinra 100 mg einmal täglich", "c:aosd"),
            ]
        ),
        interventions=_e(
            [
                (
                    "an intra-articular corticosteroid injection",
                    "intraartikuläre Kortikosteroidinjektion",
                    "c:gout c:ra",
                ),
                ("plasma exchange", "Plasmapherese", "c:gpa"),
                (
                    "an intensive physiotherapy program",
                    "intensive Physiotherapie",
                    "c:axspa c:pmr c:ra",
                ),
                ("arthroscopic synovectomy", "arthroskopische Synovektomie", "c:ra"),
            ]
        ),
        pathology=_e(
            [
                (
                    "granulomatous inflammation with multinucleated giant cells",
                    "granulomatöse Entzündung mit mehrkernigen Riesenzellen",
                    "c:gca",
                ),
                (
                    "negatively birefringent needle-shaped crystals",
                    "negativ doppelbrechende nadelförmige Kristalle",
                    "c:gout cyto",
                ),
                (
                    "necrotizing granulomatous vasculitis of the nasal mucosa",
                    "nekrotisierende granulomatöse Vaskulitis der Nasenschleimhaut",
                    "c:gpa",
                ),
                (
                    "interface dermatitis with mucin deposition",
                    "Interface-Dermatitis mit Muzinablagerungen",
                    "c:sle",
                ),
                (
                    "synovial lining hyperplasia with lymphoplasmacytic infiltrates",
                    "Deckzellhyperplasie der Synovialis mit lymphoplasmazellulären Infiltraten",
                    "c:ra",
                ),
            ]
        ),
        outcomes=_e(
            [
                (
                    "clinical remission at {m}-month follow-up",
                    "klinische Remission bei der Kontrolle nach {m} Monaten",
                    "c:ra c:sle c:gpa c:axspa c:aosd c:pmr c:gca",
                ),
                (
                    "successful tapering of glucocorticoids",
                    "erfolgreiche Reduktion der Glukokortikoide",
                    "c:gca c:pmr c:gpa c:sle c:aosd",
                ),
                (
                    "marked improvement in joint pain",
                    "deutliche Besserung der Gelenkschmerzen",
                    "c:ra c:gout c:sle",
                ),
                (
                    "preserved vision in the left eye",
                    "erhaltenes Sehvermögen am linken Auge",
                    "c:gca",
                ),
                (
                    "improved spinal mobility",
                    "verbesserte Beweglichkeit der Wirbelsäule",
                    "c:axspa",
                ),
                ("no further gout attacks", "keine weiteren Gichtanfälle", "c:gout"),
            ]
        ),
    ),
    Specialty(
        key="pediatrics",
        ages=(0, 17),
        pediatric=True,
        diagnoses=_e(
            [
                ("RSV bronchiolitis", "RSV-Bronchiolitis", "k:rsv inf"),
                ("Kawasaki disease", "Kawasaki-Syndrom", "k:kawasaki"),
                ("ileocolic intussusception", "ileokolische Invagination", "k:intus"),
                ("simple febrile seizure", "einfacher Fieberkrampf", "k:fs"),
                ("acute otitis media", "akute Otitis media", "k:aom"),
                ("hypertrophic pyloric stenosis", "hypertrophe Pylorusstenose", "k:pyloric inf"),
                ("IgA vasculitis", "IgA-Vaskulitis", "k:igav kid"),
                ("acute lymphoblastic leukemia", "akute lymphatische Leukämie", "k:all kid"),
                ("minimal change disease", "Minimal-Change-Glomerulopathie", "k:mcd kid"),
                ("dehydration", "Dehydratation", "sec c:pyloric c:intus c:rsv"),
                (
                    "hypochloremic metabolic alkalosis",
                    "hypochlorämische metabolische Alkalose",
                    "sec c:pyloric",
                ),
                ("coronary artery aneurysm", "Koronararterienaneurysma", "sec c:kawasaki"),
                ("IgA vasculitis nephritis", "IgA-Vaskulitis-Nephritis", "sec c:igav"),
                ("febrile neutropenia", "febrile Neutropenie", "sec c:all"),
            ]
        ),
        complaints=_e(
            [
                ("poor feeding", "Trinkschwäche", "inf c:rsv c:pyloric"),
                ("failure to gain weight", "fehlende Gewichtszunahme", "inf c:pyloric"),
                ("fever for five days", "Fieber seit fünf Tagen", "g:fever c:kawasaki"),
                ("fever", "Fieber", "g:fever c:fs c:aom c:all c:rsv"),
                ("projectile vomiting", "schwallartiges Erbrechen", "c:pyloric"),
                (
                    "intermittent inconsolable crying",
                    "intermittierendes untröstliches Schreien",
                    "c:intus",
                ),
                ("red-currant jelly stools", "johannisbeergeleeartige Stühle", "c:intus"),
                ("rapid breathing", "beschleunigte Atmung", "c:rsv"),
                ("cough", "Husten", "c:rsv"),
                ("irritability", "Reizbarkeit", "c:kawasaki c:aom c:intus"),
                ("ear pain", "Ohrenschmerzen", "kid c:aom"),
                (
                    "a generalized seizure lasting two minutes",
                    "generalisierter Krampfanfall von zwei Minuten Dauer",
                    "c:fs",
                ),
                ("palpable purpura on the legs", "tastbare Purpura an den Beinen", "c:igav"),
                ("abdominal pain", "Bauchschmerzen", "c:igav c:intus"),
                ("pain in both ankles", "Schmerzen in beiden Sprunggelenken", "c:igav"),
                ("easy bruising", "vermehrte Hämatome", "c:all"),
                ("bone pain in the legs", "Knochenschmerzen in den Beinen", "c:all"),
                ("swelling of the eyelids", "Schwellung der Augenlider", "c:mcd"),
                ("foamy urine", "Schaumbildung im Urin", "c:mcd"),
            ]
        ),
        signs=_e(
            [
                ("subcostal retractions", "subkostale Einziehungen", "c:rsv"),
                ("nasal flaring", "Nasenflügeln", "c:rsv"),
                (
                    "bilateral non-purulent conjunctivitis",
                    "beidseitige nicht-eitrige Konjunktivitis",
                    "c:kawasaki",
                ),
                ("a strawberry tongue", "Erdbeerzunge", "c:kawasaki"),
                ("cracked red lips", "rissige, gerötete Lippen", "c:kawasaki"),
                ("periungual desquamation", "periunguale Schuppung", "c:kawasaki"),
                (
                    "a palpable olive-shaped mass in the epigastrium",
                    "tastbare olivenförmige Resistenz im Epigastrium",
                    "inf c:pyloric",
                ),
                ("visible gastric peristalsis", "sichtbare Magenperistaltik", "c:pyloric"),
                (
                    "a sausage-shaped abdominal mass",
                    "walzenförmige Resistenz im Abdomen",
                    "c:intus",
                ),
                ("a bulging tympanic membrane", "vorgewölbtes Trommelfell", "c:aom"),
                ("postictal drowsiness", "postiktale Schläfrigkeit", "c:fs"),
                ("pallor and petechiae", "Blässe und Petechien", "c:all"),
                ("hepatosplenomegaly", "Hepatosplenomegalie", "c:all"),
                ("generalized edema with ascites", "generalisierte Ödeme mit Aszites", "c:mcd"),
            ]
        ),
        procedures=_e(
            [
                ("abdominal ultrasound", "Abdomensonographie", "c:intus c:pyloric c:igav"),
                ("a nasopharyngeal swab for RSV PCR", "Nasen-Rachen-Abstrich mit RSV-PCR", "c:rsv"),
                ("echocardiography", "Echokardiographie", "c:kawasaki"),
                ("otoscopy", "Otoskopie", "c:aom"),
                ("urinalysis", "Urinuntersuchung", "c:igav c:mcd c:fs c:aom"),
                ("bone marrow aspiration", "Knochenmarkpunktion", "c:all"),
                (
                    "flow cytometry of the bone marrow",
                    "Durchflusszytometrie des Knochenmarks",
                    "c:all",
                ),
                ("chest radiography", "Röntgenaufnahme des Thorax", "c:rsv c:all"),
                ("venous blood gas analysis", "venöse Blutgasanalyse", "c:pyloric c:rsv"),
                ("lumbar puncture", "Lumbalpunktion", "c:fs"),
                ("electrocardiography", "Elektrokardiographie", "c:kawasaki"),
            ]
        ),
        labs=(
            _crp(10, 180, "kawasaki aom intus fs"),
            _leuko(12, 26, "kawasaki aom fs"),
            _lab("platelet count", "Thrombozyten", 450, 900, 0, "×10⁹/L", "kawasaki"),
            _lab("platelet count", "Thrombozyten", 12, 60, 0, "×10⁹/L", "all"),
            _lab("peripheral blasts", "periphere Blasten", 20, 85, 0, "%", "all"),
            _hb(6.5, 9.5, "all"),
            _sodium(128, 134, "pyloric rsv"),
            _lab("chloride", "Chlorid", 82, 95, 0, "mmol/L", "pyloric"),
            _lab("bicarbonate", "Bikarbonat", 30, 40, 0, "mmol/L", "pyloric"),
            _albumin(1.2, 2.5, "mcd kawasaki"),
            _lab(
                "urine protein/creatinine ratio",
                "Protein-Kreatinin-Quotient im Urin",
                2.5,
                12,
                1,
                "g/g",
                "mcd",
            ),
            _lab("cholesterol", "Cholesterin", 280, 520, 0, "mg/dL", "mcd"),
            _lab("IgA", "IgA", 3.5, 6, 1, "g/L", "igav"),
            _lab("ALT", "ALT", 45, 160, 0, "U/L", "kawasaki"),
        ),
        drugs=_e(
            [
                (
                    "intravenous immunoglobulin 2 g/kg",
                    "Immunglobuline 2 g/kg intravenös",
                    "c:kawasaki",
                ),
                ("aspirin 30 mg/kg/day", "Acetylsalicylsäure 30 mg/kg/Tag", "c:kawasaki"),
                (
                    "paracetamol 15 mg/kg every 6 hours",
                    "Paracetamol 15 mg/kg alle 6 Stunden",
                    "c:fs c:aom c:rsv",
                ),
                (
                    "amoxicillin 80 mg/kg/day in two doses",
                    "Amoxicillin 80 mg/kg/Tag in zwei Einzeldosen",
                    "c:aom",
                ),
                (
                    "ibuprofen 10 mg/kg every 8 hours",
                    "Ibuprofen 10 mg/kg alle 8 Stunden",
                    "c:fs c:aom c:igav",
                ),
                ("prednisolone 2 mg/kg daily", "Prednisolon 2 mg/kg täglich", "c:mcd c:igav"),
                (
                    "a 20 mL/kg bolus of 0.9% saline",
                    "Bolus von 20 ml/kg 0,9%iger Kochsalzlösung",
                    "c:pyloric c:intus",
                ),
                ("rectal diazepam 5 mg", "Diazepam 5 mg rektal", "c:fs"),
                ("vincristine 1.5 mg/m² weekly", "Vincristin 1,5 mg/m² wöchentlich", "c:all"),
                ("dexamethasone 6 mg/m² daily", "Dexamethason 6 mg/m² täglich", "c:all"),
                (
                    "nebulized 3% hypertonic saline",
                    "inhalative hypertone Kochsalzlösung 3 %",
                    "c:rsv",
                ),
            ]
        ),
        interventions=_e(
            [
                (
                    "pneumatic reduction of the intussusception",
                    "pneumatische Desinvagination",
                    "c:intus",
                ),
                ("laparoscopic pyloromyotomy", "laparoskopische Pyloromyotomie", "inf c:pyloric"),
                (
                    "high-flow nasal cannula oxygen",
                    "High-Flow-Sauerstofftherapie über Nasenkanüle",
                    "c:rsv",
                ),
                ("nasogastric tube feeding", "Ernährung über eine Magensonde", "c:rsv"),
                (
                    "insertion of a central venous port",
                    "Implantation eines zentralvenösen Ports",
                    "c:all",
                ),
            ]
        ),
        pathology=_e(
            [
                (
                    "85% lymphoblasts in the bone marrow",
                    "85 % Lymphoblasten im Knochenmark",
                    "c:all cyto",
                ),
                (
                    "a precursor B-cell immunophenotype",
                    "ein Vorläufer-B-Zell-Immunphänotyp",
                    "c:all cyto",
                ),
                (
                    "effacement of podocyte foot processes",
                    "Verschmelzung der Podozytenfußfortsätze",
                    "kid c:mcd",
                ),
                (
                    "leukocytoclastic vasculitis with perivascular IgA deposits",
                    "leukozytoklastische Vaskulitis mit perivaskulären IgA-Ablagerungen",
                    "c:igav",
                ),
            ]
        ),
        outcomes=_e(
            [
                (
                    "age-appropriate development at {m}-month follow-up",
                    "altersgerechte Entwicklung bei der Kontrolle nach {m} Monaten",
                    "c:rsv c:pyloric c:fs",
                ),
                (
                    "normal coronary arteries at follow-up",
                    "unauffällige Koronararterien bei der Verlaufskontrolle",
                    "c:kawasaki",
                ),
                ("full recovery without sequelae", "vollständige Erholung ohne Folgeschäden"),
                (
                    "complete remission after induction therapy",
                    "komplette Remission nach der Induktionstherapie",
                    "c:all",
                ),
                (
                    "remission of proteinuria after four weeks of steroids",
                    "Remission der Proteinurie nach vier Wochen Steroidtherapie",
                    "c:mcd",
                ),
            ]
        ),
    ),
)
SPECIALTY_KEYS: tuple[str, ...] = tuple(s.key for s in SPECIALTIES)

# Pools shared by all specialties (adult / pediatric via tags).
HISTORY = _e(
    [
        ("appendectomy in {year}", "Appendektomie {year}", "noinf"),
        ("cholecystectomy in {year}", "Cholezystektomie {year}", "adult"),
        ("right total hip replacement in {year}", "Hüftendoprothese rechts {year}", "adult old"),
        ("tonsillectomy in childhood", "Tonsillektomie im Kindesalter", "adult"),
        ("hysterectomy in {year}", "Hysterektomie {year}", "adult f"),
        (
            "transurethral resection of the prostate in {year}",
            "transurethrale Prostataresektion {year}",
            "adult m old",
        ),
        (
            "treated pulmonary tuberculosis in {year}",
            "behandelte Lungentuberkulose {year}",
            "adult",
        ),
        (
            "deep vein thrombosis of the left leg in {year}",
            "tiefe Beinvenenthrombose links {year}",
            "adult",
        ),
        (
            "right inguinal hernia repair in {year}",
            "Leistenhernienoperation rechts {year}",
            "adult",
        ),
        (
            "breast cancer treated with lumpectomy and radiotherapy in {year}",
            "Mammakarzinom mit brusterhaltender Operation und Bestrahlung {year}",
            "adult f",
        ),
        ("knee arthroscopy in {year}", "Kniearthroskopie {year}", "adult"),
        (
            "myocardial infarction treated with stenting in {year}",
            "Myokardinfarkt mit Stentimplantation {year}",
            "adult old",
        ),
        ("pneumonia in {year}", "Pneumonie {year}", "adult"),
        ("cesarean section in {year}", "Sectio caesarea {year}", "adult f"),
        ("lumbar disc surgery in {year}", "Bandscheibenoperation {year}", "adult"),
        (
            "preterm birth at {w} weeks of gestation",
            "Frühgeburt in der {w}. Schwangerschaftswoche",
            "ped",
        ),
        (
            "closure of a ventricular septal defect in the first year of life",
            "Verschluss eines Ventrikelseptumdefekts im ersten Lebensjahr",
            "ped",
        ),
        (
            "two previous episodes of otitis media",
            "zwei vorausgegangene Episoden einer Otitis media",
            "ped",
        ),
        (
            "neonatal jaundice treated with phototherapy",
            "Neugeborenenikterus mit Phototherapie",
            "ped",
        ),
        ("inguinal hernia repair in infancy", "Leistenhernienoperation im Säuglingsalter", "ped"),
    ]
)
COMORBIDITIES = _e(
    [
        ("arterial hypertension", "arterielle Hypertonie", "adult"),
        ("type 2 diabetes mellitus", "Diabetes mellitus Typ 2", "adult"),
        ("hypothyroidism", "Hypothyreose", "adult"),
        ("hypercholesterolemia", "Hypercholesterinämie", "adult"),
        (
            "chronic obstructive pulmonary disease",
            "chronisch obstruktive Lungenerkrankung",
            "adult",
        ),
        ("obesity with a BMI of {bmi} kg/m²", "Adipositas mit einem BMI von {bmi} kg/m²", "adult"),
        ("chronic kidney disease stage 3", "chronische Niereninsuffizienz Stadium 3", "adult"),
        ("osteoarthritis of both knees", "Gonarthrose beidseits", "adult"),
        ("depression", "Depression", "adult"),
        ("gastroesophageal reflux disease", "gastroösophageale Refluxkrankheit", "adult"),
        ("atrial fibrillation", "Vorhofflimmern", "adult"),
        ("bronchial asthma", "Asthma bronchiale", "noinf"),
        ("benign prostatic hyperplasia", "benigne Prostatahyperplasie", "adult m old"),
        ("osteoporosis", "Osteoporose", "adult old"),
        ("psoriasis", "Psoriasis", "adult"),
        ("migraine", "Migräne", "adult"),
        ("atopic dermatitis", "atopische Dermatitis", "ped"),
        ("trisomy 21", "Trisomie 21", "ped"),
        ("cow's milk protein allergy", "Kuhmilchproteinallergie", "ped"),
        ("iron deficiency anemia", "Eisenmangelanämie", "ped"),
        ("congenital hypothyroidism", "angeborene Hypothyreose", "ped"),
    ]
)
FAMILY = _e(
    [
        ("myocardial infarction in the father", "Myokardinfarkt beim Vater", "adult"),
        ("breast cancer in the mother", "Mammakarzinom bei der Mutter", "adult"),
        ("colorectal cancer in a brother", "kolorektales Karzinom bei einem Bruder", "adult"),
        ("type 2 diabetes in both parents", "Diabetes mellitus Typ 2 bei beiden Eltern", "adult"),
        ("rheumatoid arthritis in the mother", "rheumatoide Arthritis bei der Mutter", "adult"),
        (
            "stroke in the paternal grandfather",
            "Schlaganfall beim Großvater väterlicherseits",
            "adult",
        ),
        (
            "polycystic kidney disease in the father",
            "polyzystische Nierenerkrankung beim Vater",
            "adult",
        ),
        ("thyroid disease in a sister", "Schilddrüsenerkrankung bei einer Schwester", "adult"),
        ("cardiomyopathy in an uncle", "Kardiomyopathie bei einem Onkel", "adult"),
        ("asthma in the mother", "Asthma bronchiale bei der Mutter", "ped"),
        (
            "febrile seizures in an older sibling",
            "Fieberkrämpfe bei einem älteren Geschwisterkind",
            "ped",
        ),
        ("atopic dermatitis in the father", "Neurodermitis beim Vater", "ped"),
        ("celiac disease in the mother", "Zöliakie bei der Mutter", "ped"),
    ]
)
SOCIAL = _e(
    [
        ("married", "verheiratet", "adult g:civil"),
        ("widowed", "verwitwet", "adult old g:civil"),
        ("lives alone", "lebt allein", "adult g:home"),
        ("lives with a partner", "lebt in einer Partnerschaft", "adult g:home"),
        ("retired teacher", "pensionierte Lehrkraft", "adult old g:job"),
        ("works as a bus driver", "arbeitet als Busfahrer", "adult m g:job"),
        ("works as a bus driver", "arbeitet als Busfahrerin", "adult f g:job"),
        ("works as a nurse", "arbeitet in der Krankenpflege", "adult g:job"),
        ("office worker", "Bürotätigkeit", "adult g:job"),
        ("recent travel to {country}", "kürzliche Reise nach {country}", "adult"),
        (
            "occupational asbestos exposure in a shipyard",
            "berufliche Asbestexposition auf einer Werft",
            "adult old g:job",
        ),
        (
            "farmer with regular livestock contact",
            "Landwirtschaft mit regelmäßigem Kontakt zu Nutztieren",
            "adult g:job",
        ),
        ("lives in a nursing home", "lebt in einem Pflegeheim", "adult old g:home"),
        ("unemployed", "arbeitslos", "adult g:job"),
        ("university student", "Studium an einer Universität", "adult young g:job"),
        ("works in a daycare center", "arbeitet in einer Kindertagesstätte", "adult g:job"),
        ("attends daycare", "besucht eine Kindertagesstätte", "small g:care"),
        ("attends primary school", "besucht die Grundschule", "school g:care"),
        (
            "lives with both parents and an older sibling",
            "lebt mit beiden Eltern und einem älteren Geschwisterkind",
            "ped g:home",
        ),
        ("lives with a single mother", "lebt bei der alleinerziehenden Mutter", "ped g:home"),
        ("recent family trip to {country}", "kürzliche Familienreise nach {country}", "ped"),
    ]
)
LIFESTYLE = _e(
    [
        (
            "active smoking with {py} pack-years",
            "Nikotinkonsum mit {py} Packungsjahren",
            "adult g:smoke",
        ),
        (
            "smoking cessation several years ago",
            "Nikotinkarenz seit mehreren Jahren",
            "adult g:smoke",
        ),
        (
            "alcohol consumption of about {u} units per day",
            "Alkoholkonsum von etwa {u} Einheiten pro Tag",
            "adult g:alc",
        ),
        ("heavy alcohol use", "Alkoholabusus", "adult g:alc"),
        ("a sedentary lifestyle", "Bewegungsmangel", "adult g:ex"),
        ("regular endurance training", "regelmäßiges Ausdauertraining", "adult g:ex"),
        ("a vegan diet", "vegane Ernährung", "adult g:diet"),
        ("a high-salt diet", "salzreiche Ernährung", "adult g:diet"),
        (
            "consumption of several energy drinks a day",
            "Konsum mehrerer Energydrinks täglich",
            "adult g:diet",
        ),
        ("occasional cannabis use", "Cannabiskonsum am Wochenende", "adult g:drug"),
        ("intravenous drug use", "Konsum intravenöser Drogen", "adult g:drug"),
        ("passive smoke exposure at home", "Passivrauchexposition im Haushalt", "ped"),
        ("exclusive breastfeeding", "ausschließliches Stillen", "inf g:feed"),
        ("formula feeding", "Ernährung mit Säuglingsnahrung", "inf g:feed"),
        (
            "high screen time with little physical activity",
            "hohe Bildschirmzeit bei wenig körperlicher Aktivität",
            "school g:ex",
        ),
        (
            "regular football training in a club",
            "regelmäßiges Fußballtraining im Verein",
            "school g:ex",
        ),
    ]
)
OUTCOMES = _e(
    [
        ("discharge home on day {d}", "Entlassung nach Hause am {d}. Tag", "g:disch"),
        ("complete recovery", "vollständige Genesung"),
        (
            "no recurrence at {m}-month follow-up",
            "Rezidivfreiheit bei der Kontrolle nach {m} Monaten",
        ),
        (
            "stable condition at {m}-month follow-up",
            "stabiles Befinden bei der Kontrolle nach {m} Monaten",
        ),
        (
            "transfer to a rehabilitation facility on day {d}",
            "Verlegung in eine Rehabilitationseinrichtung am {d}. Tag",
            "adult g:disch",
        ),
        (
            "death on day {d} due to multi-organ failure",
            "Tod am {d}. Tag infolge eines Multiorganversagens",
            # only after conditions that can plausibly kill within one admission
            "adult fatal c:stemi c:hf c:dcm c:pe c:ipf c:copd c:panc c:cirr c:sah c:stroke c:nsclc "
            "c:pdac c:hcc c:melanoma c:dlbcl c:aki c:anca c:sab c:mening c:uro c:malaria c:storm",
        ),
        ("freedom from symptoms at follow-up", "Beschwerdefreiheit bei der Verlaufskontrolle"),
        (
            "partial recovery with persistent fatigue",
            "partielle Erholung mit anhaltender Müdigkeit",
            "adult",
        ),
    ]
)
COUNTRIES = (
    ("Thailand", "Thailand"),
    ("Kenya", "Kenia"),
    ("India", "Indien"),
    ("Brazil", "Brasilien"),
    ("Ghana", "Ghana"),
    ("Vietnam", "Vietnam"),
    ("Tanzania", "Tansania"),
)


@dataclass(frozen=True)
class Negation:
    """A symptom the patient denies: a distractor that must not clash with any gold item."""

    en: str
    de: str
    clashes: tuple[str, ...]  # English substrings that make the denial contradict the case
    ped: bool = False  # also usable for children


NEGATIONS: tuple[Negation, ...] = (
    Negation("chest pain", "Brustschmerzen", ("chest", "angina")),
    Negation(
        "fever",
        "Fieber",
        (
            "fever",
            "febrile",
            "chills",
            "sepsis",
            "malaria",
            "bacteremia",
            "meningitis",
            "pneumonia",
            "kawasaki",
        ),
        ped=True,
    ),
    Negation("weight loss", "Gewichtsverlust", ("weight", "cachexia")),
    Negation("night sweats", "Nachtschweiß", ("night sweats",)),
    Negation(
        "headache", "Kopfschmerzen", ("headache", "subarachnoid", "meningitis", "photophobia")
    ),
    Negation("vomiting", "Erbrechen", ("vomiting", "pyloric"), ped=True),
    Negation("diarrhea", "Durchfall", ("diarrhea", "colitis", "stool"), ped=True),
    Negation(
        "dyspnea",
        "Atemnot",
        (
            "dyspnea",
            "orthopnea",
            "breath",
            "tachypnea",
            "wheez",
            "heart failure",
            "embolism",
            "asthma",
            "ventilation",
        ),
    ),
    Negation("palpitations", "Herzrasen", ("palpitations", "fibrillation")),
    Negation("cough", "Husten", ("cough", "bronchiolitis"), ped=True),
    Negation(
        "abdominal pain",
        "Bauchschmerzen",
        ("abdominal", "epigastric", "quadrant", "pancreatitis", "cholecystitis"),
    ),
    Negation("visual disturbances", "Sehstörungen", ("vision", "visual")),
    Negation("joint pain", "Gelenkschmerzen", ("joint", "arthr", "gout")),
    Negation("urinary complaints", "Miktionsbeschwerden", ("dysuria", "urin", "hematuria")),
    Negation("rash", "Hautausschlag", ("rash", "purpura", "exanthem", "erythema"), ped=True),
)


# --------------------------------------------------------------------------------------------
# Sentence templates. {x} is the list of items of one field; [a|b] picks a for one item and b
# for several; other {names} come from the patient context (see _context). A template never
# starts with {x}: the first letter of a sentence is capitalised, which must not alter an item.
# German templates use items only in nominative/accusative positions or after a colon.
# --------------------------------------------------------------------------------------------

TEMPLATES: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "intro": (
            "{Subj} presented to our emergency department with {x}.",
            "We report the case of {subj} who was referred to our hospital because of {x}.",
            "{Subj} was admitted to our department with a {n}-day history of {x}.",
            "{Subj} sought medical attention after developing {x} over the previous {n} days.",
            "{Subj} was seen in our outpatient clinic for {x}.",
        ),
        "intro_ped": (
            "{Subj} was brought to our pediatric emergency department by the parents because "
            "of {x}.",
            "We report the case of {subj} who was referred to our children's hospital with {x}.",
            "{Subj} was admitted to our pediatric ward after the parents had noticed {x} over "
            "{n} days.",
        ),
        "history": (
            "The past medical history was significant for {x}.",
            "{Poss} medical history included {x}.",
            "Previous medical and surgical history comprised {x}.",
            "Of note, {s} had a history of {x}.",
            "Earlier records documented {x}.",
        ),
        "comorb": (
            "Comorbidities included {x}.",
            "{S} was also known to have {x}.",
            "Concomitant conditions comprised {x}.",
            "Besides the acute illness, {s} suffered from {x}.",
        ),
        "lifestyle": (
            "Regarding lifestyle, the history revealed {x}.",
            "{S} reported {x}.",
            "Lifestyle factors included {x}.",
            "Habits were notable for {x}.",
        ),
        "lifestyle_ped": (
            "Regarding lifestyle, the parents described {x}.",
            "Lifestyle factors included {x}.",
        ),
        "social": (
            "The social history was notable for the following: {x}.",
            "Regarding social circumstances, the following was documented: {x}.",
            "Socially relevant details were as follows: {x}.",
        ),
        "family": (
            "The family history was notable for {x}.",
            "Family history revealed {x}.",
            "There was a family history of {x}.",
            "Regarding relatives, the anamnesis disclosed {x}.",
        ),
        "family_none": (
            "The family history was unremarkable.",
            "There was no relevant family history.",
        ),
        "comorb_none": (
            "No other chronic illnesses were known.",
            "There were no further known chronic conditions.",
        ),
        "signs": (
            "Physical examination revealed {x}.",
            "Clinical examination was notable for {x}.",
            "The examining physician noted {x}.",
            "Examination disclosed {x}.",
        ),
        "signs_none": (
            "The physical examination revealed no focal abnormalities.",
            "Apart from the vital signs, the physical examination was unremarkable.",
        ),
        "vitals": (
            "On admission, blood pressure was {bp} mmHg and heart rate {hr} beats per minute, "
            "with a temperature of {t} °C.",
            "Vital signs showed a blood pressure of {bp} mmHg, a pulse of {hr}/min, a "
            "temperature of {t} °C and an oxygen saturation of {spo2}% on room air.",
            "{S} had a temperature of {t} °C, a heart rate of {hr}/min and a blood pressure of "
            "{bp} mmHg.",
        ),
        "negation": (
            "{S} denied {x}.",
            "Notably, there was no {xor}.",
            "{S} reported no {xor}.",
        ),
        "negation_ped": (
            "The parents denied {x}.",
            "Notably, there was no {xor}.",
        ),
        "labs": (
            "Laboratory tests revealed {x}.",
            "Blood tests on admission showed {x}.",
            "Initial laboratory work-up was notable for {x}.",
            "Relevant laboratory findings included {x}.",
            "The laboratory panel demonstrated {x}.",
        ),
        "labs_more": (
            "In addition, {x} [was|were] measured.",
            "Further testing showed {x}.",
        ),
        "procs": (
            "The diagnostic work-up included {x}.",
            "{S} underwent {x}.",
            "We performed {x}.",
            "Further evaluation comprised {x}.",
            "To clarify the diagnosis, {x} [was|were] carried out.",
        ),
        "procs_more": (
            "Subsequently, {x} [was|were] also performed.",
            "This was complemented by {x}.",
        ),
        "dx": (
            "A diagnosis of {x} was made.",
            "These findings established the diagnosis of {x}.",
            "Taken together, the findings were consistent with {x}.",
            "The final [diagnosis was|diagnoses were] {x}.",
            "We therefore diagnosed {x}.",
        ),
        "dx_clinical": ("The diagnosis was made on clinical grounds.",),
        "path": (
            "Histopathological examination revealed {x}.",
            "The pathology report described {x}.",
            "Histology showed {x}.",
            "Microscopic examination of the specimen demonstrated {x}.",
        ),
        "path_cyto": (
            "Cytological examination revealed {x}.",
            "Microscopy of the sample showed {x}.",
            "The cytology report described {x}.",
        ),
        "drugs": (
            "Treatment was initiated with {x}.",
            "{S} received {x}.",
            "Pharmacological therapy consisted of {x}.",
            "We started {x}.",
            "Medical management included {x}.",
        ),
        "interv": (
            "{S} underwent {x}.",
            "Interventional management consisted of {x}.",
            "We proceeded with {x}.",
            "Subsequently, {x} [was|were] performed.",
        ),
        "therapy_none": ("The further management was expectant.",),
        "outcome": (
            "The further course was characterized by {x}.",
            "At follow-up, the documented outcome was {x}.",
            "The clinical course resulted in {x}.",
            "Regarding the outcome, the records state {x}.",
        ),
    },
    "de": {
        "intro": (
            "{Subj} stellte sich in unserer Notaufnahme vor und berichtete über {x}.",
            "{Subj} wurde uns mit seit {n} Tagen bestehenden Beschwerden zugewiesen und klagte "
            "über {x}.",
            "{Subj} wurde in unserer Klinik aufgenommen, nachdem {er} seit {n} Tagen {x} "
            "bemerkt hatte.",
            "{Subj} suchte unsere Ambulanz auf und gab {x} an.",
        ),
        "intro_ped": (
            "{Subj} wurde von den Eltern in unserer Kindernotaufnahme vorgestellt, die über {x} "
            "berichteten.",
            "{Subj} wurde uns zugewiesen, nachdem die Eltern seit {n} Tagen {x} bemerkt hatten.",
            "{Subj} wurde stationär aufgenommen, da die Eltern {x} beobachtet hatten.",
        ),
        "history": (
            "Die Vorgeschichte umfasste {x}.",
            "An Vorerkrankungen und Voroperationen ist Folgendes bekannt: {x}.",
            "Die Vorbefunde dokumentierten {x}.",
            "Anamnestisch berichtete {s} über {x}.",
        ),
        "history_ped": (
            "Die Vorgeschichte umfasste {x}.",
            "An Vorerkrankungen ist Folgendes bekannt: {x}.",
            "Die Eltern berichteten anamnestisch über {x}.",
        ),
        "comorb": (
            "Zusätzlich [bestand folgende Begleiterkrankung|bestanden folgende "
            "Begleiterkrankungen]: {x}.",
            "Die Komorbiditäten umfassten {x}.",
            "Weiterhin wies {s} {x} auf.",
        ),
        "lifestyle": (
            "Hinsichtlich des Lebensstils gab {s} {x} an.",
            "Bezüglich der Lebensgewohnheiten ist Folgendes zu erwähnen: {x}.",
            "Die Genussmittel- und Lebensstilanamnese ergab {x}.",
        ),
        "lifestyle_ped": (
            "Die Eltern berichteten hinsichtlich der Lebensgewohnheiten über {x}.",
            "Bezüglich der Lebensgewohnheiten ist Folgendes zu erwähnen: {x}.",
        ),
        "social": (
            "Sozialanamnestisch ist Folgendes bekannt: {x}.",
            "Aus der Sozialanamnese ergaben sich folgende Angaben: {x}.",
            "Zur sozialen Situation wurde Folgendes erhoben: {x}.",
        ),
        "family": (
            "Familienanamnestisch ist Folgendes bekannt: {x}.",
            "Die Familienanamnese ergab {x}.",
            "Die Familienanamnese war auffällig mit folgenden Angaben: {x}.",
        ),
        "family_none": (
            "Die Familienanamnese war unauffällig.",
            "Familienanamnestisch ergaben sich keine Besonderheiten.",
        ),
        "comorb_none": (
            "Weitere chronische Erkrankungen waren nicht bekannt.",
            "Darüber hinaus bestanden keine bekannten chronischen Erkrankungen.",
        ),
        "signs": (
            "Die körperliche Untersuchung ergab {x}.",
            "Klinisch fanden wir {x}.",
            "Im klinischen Befund dokumentierten wir {x}.",
            "In der klinischen Untersuchung zeigte sich folgender Befund: {x}.",
        ),
        "signs_none": (
            "Die körperliche Untersuchung ergab keine fokalen Auffälligkeiten.",
            "Abgesehen von den Vitalparametern war der körperliche Untersuchungsbefund "
            "unauffällig.",
        ),
        "vitals": (
            "Bei Aufnahme betrug der Blutdruck {bp} mmHg bei einer Herzfrequenz von {hr}/min und "
            "einer Körpertemperatur von {t} °C.",
            "Die Vitalparameter zeigten einen Blutdruck von {bp} mmHg, eine Herzfrequenz von "
            "{hr}/min, eine Temperatur von {t} °C und eine Sauerstoffsättigung von {spo2} % "
            "unter Raumluft.",
            "Die Körpertemperatur lag bei {t} °C, die Herzfrequenz bei {hr}/min und der "
            "Blutdruck bei {bp} mmHg.",
        ),
        "negation": (
            "{S} verneinte {x}.",
            "Anamnestisch bestand kein Hinweis auf {xor}.",
            "Auf Nachfrage verneinte {s} ausdrücklich {xor}.",
        ),
        "negation_ped": (
            "Die Eltern verneinten {x}.",
            "Anamnestisch bestand kein Hinweis auf {xor}.",
        ),
        "labs": (
            "Die Laboruntersuchung ergab {x}.",
            "Im Aufnahmelabor fanden sich folgende Werte: {x}.",
            "Die Blutuntersuchung zeigte {x}.",
            "Laborchemisch auffällig waren folgende Parameter: {x}.",
        ),
        "labs_more": (
            "Zusätzlich [wurde|wurden] {x} gemessen.",
            "Weitere Untersuchungen ergaben {x}.",
        ),
        "procs": (
            "Die diagnostische Abklärung umfasste {x}.",
            "Wir führten {x} durch.",
            "Zur weiteren Abklärung veranlassten wir {x}.",
            "Im Rahmen der Diagnostik [wurde folgende Untersuchung|wurden folgende Untersuchungen] "
            "durchgeführt: {x}.",
        ),
        "procs_more": (
            "Ergänzend veranlassten wir {x}.",
            "Im Verlauf führten wir zusätzlich {x} durch.",
        ),
        "dx": (
            "Die abschließende [Diagnose lautete|Diagnosen lauteten]: {x}.",
            "Zusammenfassend ergab sich folgende [Diagnose|Diagnosen]: {x}.",
            "Somit stellten wir folgende [Diagnose|Diagnosen]: {x}.",
            "Die Befunde sprachen in der Zusammenschau für folgende [Diagnose|Diagnosen]: {x}.",
        ),
        "dx_clinical": ("Die Diagnose wurde klinisch gestellt.",),
        "path": (
            "Die histopathologische Untersuchung ergab {x}.",
            "Der pathologische Befund beschrieb {x}.",
            "Histologisch fanden sich folgende Veränderungen: {x}.",
            "Die mikroskopische Aufarbeitung des Präparats zeigte {x}.",
        ),
        "path_cyto": (
            "Die zytologische Untersuchung ergab {x}.",
            "Mikroskopisch zeigten sich folgende Befunde: {x}.",
            "Der zytologische Befund beschrieb {x}.",
        ),
        "drugs": (
            "Therapeutisch setzten wir {x} ein.",
            "{S} erhielt {x}.",
            "Die medikamentöse Therapie umfasste {x}.",
            "Wir verordneten {x}.",
            "Medikamentös [wurde|wurden] {x} verabreicht.",
        ),
        "interv": (
            "Es [erfolgte|erfolgten] {x}.",
            "Wir führten {x} durch.",
            "Im weiteren Verlauf [wurde folgende Maßnahme|wurden folgende Maßnahmen] "
            "durchgeführt: {x}.",
            "Als interventionelle [Maßnahme erfolgte|Maßnahmen erfolgten]: {x}.",
        ),
        "therapy_none": ("Das weitere Vorgehen war abwartend.",),
        "outcome": (
            "Der weitere Verlauf war gekennzeichnet durch {x}.",
            "Im Verlauf dokumentierten wir {x}.",
            "Als Ergebnis der Behandlung ist festzuhalten: {x}.",
            "Zum Verlauf ist Folgendes zu berichten: {x}.",
        ),
    },
}

# Filler sentences that belong to no field: (English, German, section, requirements). A filler
# is used only if the case meets all its requirements: "adult" / "ped", "alive" (no death),
# "signs" (examination findings listed), "procs" (procedures named), "tx" (a treatment given).
# "days" / "weeks" mark the two onset sentences, of which a report gets at most one (and only
# the "days" one if the opening sentence already gave the number of days).
FILLERS: tuple[tuple[str, str, str, str], ...] = (
    (
        "The symptoms had begun {n} days before admission.",
        "Die Beschwerden hatten {n} Tage vor der Aufnahme begonnen.",
        "intro",
        "days",
    ),
    (
        "Symptom onset had been gradual over {wk} weeks.",
        "Die Symptomatik hatte sich über {wk} Wochen schleichend entwickelt.",
        "intro",
        "weeks",
    ),
    (
        "No similar episodes had occurred in the past.",
        "Vergleichbare Episoden waren bisher nicht aufgetreten.",
        "intro",
        "",
    ),
    (
        "There were no known drug allergies.",
        "Medikamentenallergien waren nicht bekannt.",
        "intro",
        "",
    ),
    (
        "Outpatient treatment by the general practitioner had not led to any improvement.",
        "Eine ambulante Behandlung durch den Hausarzt hatte keine Besserung erbracht.",
        "intro",
        "adult",
    ),
    (
        "Outpatient treatment by the pediatrician had not led to any improvement.",
        "Eine ambulante Behandlung durch den Kinderarzt hatte keine Besserung erbracht.",
        "intro",
        "ped",
    ),
    (
        "{S} was alert and oriented on admission.",
        "{S} war bei Aufnahme wach und orientiert.",
        "exam",
        "adult",
    ),
    (
        "{S} appeared unwell but was hemodynamically stable.",
        "{S} wirkte krank, war jedoch hämodynamisch stabil.",
        "exam",
        "",
    ),
    (
        "The remainder of the physical examination was unremarkable.",
        "Der übrige körperliche Untersuchungsbefund war unauffällig.",
        "exam",
        "signs",
    ),
    (
        "Previous medical records were obtained for comparison.",
        "Vorbefunde wurden zum Vergleich angefordert.",
        "invest",
        "",
    ),
    (
        "The results were reviewed together with the consulting specialists.",
        "Die Befunde wurden gemeinsam mit den konsiliarisch hinzugezogenen Fachkollegen "
        "besprochen.",
        "invest",
        "",
    ),
    (
        "The case was discussed in our interdisciplinary conference.",
        "Der Fall wurde in unserer interdisziplinären Konferenz besprochen.",
        "dx",
        "",
    ),
    (
        "Several differential diagnoses were considered before the final assessment.",
        "Vor der abschließenden Beurteilung wurden mehrere Differentialdiagnosen erwogen.",
        "dx",
        "",
    ),
    (
        "Clinical and laboratory monitoring was continued daily.",
        "Klinische und laborchemische Kontrollen erfolgten täglich.",
        "therapy",
        "",
    ),
    (
        "The treatment was well tolerated.",
        "Die Therapie wurde gut vertragen.",
        "therapy",
        "alive tx",
    ),
    (
        "The therapeutic options were discussed in detail with {dat}.",
        "Die therapeutischen Optionen wurden ausführlich mit {dat} besprochen.",
        "therapy",
        "tx",
    ),
    (
        "The hospital stay was otherwise uneventful.",
        "Der stationäre Aufenthalt verlief ansonsten komplikationslos.",
        "outcome",
        "alive",
    ),
    (
        "Follow-up appointments were arranged in our outpatient clinic.",
        "Ambulante Kontrolltermine wurden in unserer Sprechstunde vereinbart.",
        "outcome",
        "alive",
    ),
    (
        "The general practitioner was informed about the findings.",
        "Der Hausarzt wurde über die Befunde informiert.",
        "outcome",
        "adult",
    ),
    (
        "The pediatrician was informed about the findings.",
        "Der Kinderarzt wurde über die Befunde informiert.",
        "outcome",
        "ped",
    ),
    (
        "Written informed consent for publication was obtained.",
        "Eine schriftliche Einwilligung zur Veröffentlichung liegt vor.",
        "outcome",
        "",
    ),
    (
        "Until this episode, the general condition had been stable.",
        "Bis zu dieser Episode war der Allgemeinzustand stabil gewesen.",
        "intro",
        "",
    ),
    (
        "A referral letter from the outpatient physician was available on admission.",
        "Ein Überweisungsschreiben der ambulant behandelnden Ärztin lag bei Aufnahme vor.",
        "intro",
        "",
    ),
    (
        "The general condition was moderately reduced.",
        "Der Allgemeinzustand war mäßig reduziert.",
        "exam",
        "",
    ),
    (
        "Capillary refill time was below two seconds.",
        "Die Rekapillarisierungszeit lag unter zwei Sekunden.",
        "exam",
        "",
    ),
    (
        "All samples were processed in our central laboratory.",
        "Alle Proben wurden in unserem Zentrallabor analysiert.",
        "invest",
        "",
    ),
    (
        "The examinations were performed without complications.",
        "Die Untersuchungen verliefen komplikationslos.",
        "invest",
        "procs",
    ),
    (
        "The findings were explained to {dat} in detail.",
        "Die Befunde wurden {dat} ausführlich erläutert.",
        "dx",
        "",
    ),
    (
        "Fluid balance and vital signs were monitored closely.",
        "Flüssigkeitsbilanz und Vitalparameter wurden engmaschig überwacht.",
        "therapy",
        "",
    ),
    (
        "The therapy was adjusted according to the clinical response.",
        "Die Therapie wurde entsprechend dem klinischen Ansprechen angepasst.",
        "therapy",
        "alive tx",
    ),
    (
        "{S} was seen regularly in our outpatient clinic thereafter.",
        "{S} wurde anschließend regelmäßig in unserer Ambulanz gesehen.",
        "outcome",
        "alive",
    ),
    (
        "Because of the unusual presentation, the case was considered worth reporting.",
        "Aufgrund der ungewöhnlichen Präsentation erschien uns der Fall berichtenswert.",
        "outcome",
        "",
    ),
    (
        "This case illustrates the importance of a structured diagnostic approach.",
        "Dieser Fall verdeutlicht die Bedeutung eines strukturierten diagnostischen Vorgehens.",
        "outcome",
        "",
    ),
)
