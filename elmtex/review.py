"""The review page: for each test record, its report with every predicted item highlighted where
it stands (in its category's colour), gold and prediction side by side per field with the
field's scores, and the runs to switch between.

Everything comes from files the other stages wrote: the records of the configured split
(data.dir, data.langs, data.split, data.limit), each run's cached answers
(data/cache/<run>.jsonl) and, where evaluate.py has scored the run, data/results/<run>/
(per_example.jsonl: per-field scores and the items' grounding; metrics.json: the run's
headline numbers). A run without results is shown too: its items are grounded here, with the
same code and threshold evaluate.py uses (elmtex.grounding), and it has no scores.

Two outputs share one renderer: a read-only Flask app (GET only, bound to 127.0.0.1; see
review_app.py) and a static export (one self-contained HTML file per record and run, inline
CSS, relative links) for sharing without a server. The pages use no JavaScript.
"""

from __future__ import annotations

import colorsys
import hashlib
import math
import os
import re
import shutil
import signal
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import jinja2
from markupsafe import Markup, escape

from elmtex.config import UserError, resolve_path
from elmtex.entities import MatchCounts
from elmtex.grounding import (
    FUZZY,
    NONE,
    STATUSES,
    Grounder,
    Grounding,
    field_items,
    load_example_texts,
)
from elmtex.io import load_split, read_json, read_jsonl
from elmtex.runs import cache_paths, default_runs
from elmtex.task import Task, load_task

ASSETS = Path(__file__).with_name("review_assets")
HOST = "127.0.0.1"  # the pages show patient reports: never listen beyond the loopback interface
EXPORT_MARKER = ".elmtex-review-export"  # marks a folder that --export may replace

# Light colours that keep black text readable and stay distinct side by side: ColorBrewer
# Set3 (12) and three light tones of Paired. A task with more fields gets golden-angle hues.
PALETTE = (
    "#8dd3c7",
    "#ffffb3",
    "#bebada",
    "#fb8072",
    "#80b1d3",
    "#fdb462",
    "#b3de69",
    "#fccde5",
    "#d9d9d9",
    "#bc80bd",
    "#ccebc5",
    "#ffed6f",
    "#a6cee3",
    "#fdbf6f",
    "#cab2d6",
)

STATUS_LABELS = {
    "exact": "exact",
    "normalized": "case/space",
    "fuzzy": "fuzzy",
    "none": "not in report",
}


class ReviewError(UserError):
    """A run or setting the review page cannot show; the message says what to do."""


def category_colours(fields: Sequence[str]) -> dict[str, str]:
    """One background colour per field, in task order."""
    out = {}
    for i, f in enumerate(fields):
        if i < len(PALETTE):
            out[f] = PALETTE[i]
        else:
            r, g, b = colorsys.hls_to_rgb((i * 0.618034) % 1.0, 0.82, 0.7)
            out[f] = f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"
    return out


def css_name(name: str) -> str:
    """A field name as a CSS class fragment (another task's names may hold any character)."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", name)
    return safe if safe == name else f"{safe}-{hashlib.sha1(name.encode()).hexdigest()[:6]}"


def file_name(name: str) -> str:
    """A record id or run name as a file name of the static export: other characters than
    letters, digits, ".", "_" and "-" are replaced and a hash added, and long names are cut
    and keep a hash, so that names stay distinct."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".")
    if safe != name:
        safe = f"{safe}-{hashlib.sha1(name.encode()).hexdigest()[:6]}"
    if len(safe) > 100:
        safe = f"{safe[:90]}-{hashlib.sha1(name.encode()).hexdigest()[:8]}"
    return safe


# --- Highlighting --------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    start: int  # code-point offsets: text[start:end]
    end: int
    key: int  # the item's number on the page (links between the item list and the report)
    field: str
    title: str
    status: str = "exact"


def highlight_html(text: str, spans: Iterable[Span]) -> Markup:
    """The text, HTML-escaped, with every span highlighted.

    Spans may overlap or nest, so the text is cut at every span boundary and each piece
    becomes one flat <span class="hl cat-<field> ..."> that lists all items covering it
    (data-items) and all their categories (cat-* classes); its colour is the shortest
    covering span's category (bg-*). Pieces never nest, so no overlap can break the markup.
    An <a id="item-K"> anchor marks where item K starts."""
    spans = [s for s in spans if 0 <= s.start < s.end <= len(text)]
    cuts = sorted({0, len(text), *(s.start for s in spans), *(s.end for s in spans)})
    starts: dict[int, list[int]] = {}
    for s in sorted(spans, key=lambda s: s.key):
        starts.setdefault(s.start, []).append(s.key)
    out: list[str] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        out.extend(f'<a class="anchor" id="item-{k}"></a>' for k in starts.get(a, ()))
        piece = str(escape(text[a:b]))
        covering = [s for s in spans if s.start <= a and b <= s.end]
        if not covering:
            out.append(piece)
            continue
        primary = min(covering, key=lambda s: (s.end - s.start, s.key))
        cats = list(dict.fromkeys(css_name(s.field) for s in covering))
        classes = ["hl", f"bg-{css_name(primary.field)}", *(f"cat-{c}" for c in cats)]
        if primary.status == FUZZY:
            classes.append("fuzzy")
        if len(cats) > 1:
            classes.append("multi")
        title = "\n".join(s.title for s in sorted(covering, key=lambda s: s.key))
        out.append(
            f'<span class="{" ".join(classes)}" '
            f'data-items="{" ".join(str(s.key) for s in covering)}" '
            f'title="{escape(title)}">{piece}</span>'
        )
    return Markup("".join(out))


# --- Data ----------------------------------------------------------------------------------


@dataclass
class Run:
    name: str
    cache_path: Path
    rows: dict[str, dict]  # cached answers of the shown records, by id
    examples: dict[str, dict] = field(default_factory=dict)  # per_example.jsonl, by id
    metrics: dict | None = None
    results_dir: Path | None = None
    stale: bool = False  # the cache changed after evaluate.py scored it
    grounder: Grounder | None = None

    @property
    def method(self) -> str | None:
        return next((r.get("method") for r in self.rows.values()), None)

    @property
    def model(self) -> str | None:
        return next((r.get("model") for r in self.rows.values()), None)


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not math.isnan(x) else None


def _mean(xs: Iterable[float | None]) -> float | None:
    vals = [x for x in xs if x is not None]
    return sum(vals) / len(vals) if vals else None


def record_scores(example: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A record's scores from its per_example.jsonl line: entity P/R/F1 over its summed
    per-field counts, and the mean ROUGE-L and BERTScore over the fields that were scored."""
    if not example:
        return None
    fields = example.get("fields") or {}
    tp = fp = fn = 0
    for fe in fields.values():
        e = fe.get("entity")
        if e:
            tp, fp, fn = tp + e["tp"], fp + e["fp"], fn + e["fn"]
    return {
        "entity": MatchCounts(tp, fp, fn).as_dict(),
        "rougeL": _mean(_num(fe.get("rougeL")) for fe in fields.values()),
        "bertscore_f1": _mean(_num(fe.get("bertscore_f1")) for fe in fields.values()),
        "skipped": bool(example.get("skipped")),
    }


class Review:
    """The records of the configured split and the runs to show, loaded once; the grounding
    of each (run, record) is worked out when first asked for and kept."""

    def __init__(self, cfg: dict, runs: Sequence[str] | None = None):
        self.cfg = cfg
        self.task: Task = load_task(cfg["task"])
        d = cfg["data"]
        self.data_dir = resolve_path(d["dir"])
        self.records = load_split(self.data_dir, d["langs"], d["split"], self.task, d["limit"])
        self.by_id = {r["id"]: i for i, r in enumerate(self.records)}
        self.threshold = cfg["evaluate"]["grounding"]["fuzzy_threshold"]
        self.colours = category_colours(self.task.field_names)
        self.title = (
            f"{Path(d['dir']).name} {d['split']} "
            f"({', '.join(d['langs'])}"
            + (f", first {d['limit']} per language" if d["limit"] is not None else "")
            + ")"
        )
        names = list(
            dict.fromkeys(runs or cfg.get("review", {}).get("runs") or self._default_runs())
        )
        self.runs = {name: self._load_run(name) for name in names}
        self._groundings: dict[tuple[str, str], dict[str, list[Grounding]]] = {}

    # -- loading

    def _default_runs(self) -> list[str]:
        """This config's runs that evaluate.py has scored, else those that have a cache."""
        candidates = default_runs(self.cfg)
        results = resolve_path(self.cfg["run"]["results_dir"])
        scored = [
            r
            for r in candidates
            if (results / r / "per_example.jsonl").exists() and cache_paths(self.cfg, r)[0].exists()
        ]
        cached = [r for r in candidates if cache_paths(self.cfg, r)[0].exists()]
        if not (scored or cached):
            raise ReviewError(
                f"No runs to show: none of {', '.join(candidates)} has a cache in "
                f"{resolve_path(self.cfg['run']['cache_dir'])}. Run the caching stages and "
                "evaluate.py first (make demo), or name runs with --runs."
            )
        return scored or cached

    def _load_run(self, name: str) -> Run:
        path = cache_paths(self.cfg, name)[0]
        if not path.exists():
            raise ReviewError(
                f"No cache for run '{name}' at {path}; run its caching stage "
                "first, or check run.cache_dir."
            )
        rows: dict[str, dict] = {}
        for _, row in read_jsonl(path):
            rid = row.get("id")
            if rid in self.by_id and rid not in rows:  # the first answer counts, as in scoring
                rows[rid] = row
        run = Run(name, path, rows)
        results = resolve_path(self.cfg["run"]["results_dir"]) / name
        per_example = results / "per_example.jsonl"
        if per_example.exists():
            run.results_dir = results
            run.examples = {
                ex["id"]: ex for _, ex in read_jsonl(per_example) if ex.get("id") in self.by_id
            }
            if (results / "metrics.json").exists():
                run.metrics = read_json(results / "metrics.json")
            run.stale = path.stat().st_mtime > per_example.stat().st_mtime
        return run

    def _grounder(self, run: Run) -> Grounder:
        """The run's Grounder; for an ICL run with the texts of its retrieved examples (the
        retriever's split), so that items copied from them are marked as evaluate.py does."""
        if run.grounder is None:
            ids = {e for row in run.rows.values() for e in row.get("icl_example_ids") or ()}
            examples = {}
            if ids:
                examples = load_example_texts(
                    self.data_dir,
                    self.cfg["data"]["langs"],
                    self.cfg["retriever"]["split"],
                    self.task,
                    ids,
                )
            run.grounder = Grounder(self.task, self.threshold, examples)
        return run.grounder

    # -- lookups

    def record(self, rid: str) -> dict:
        if rid not in self.by_id:
            raise KeyError(f"No record '{rid}' in {self.title}.")
        return self.records[self.by_id[rid]]

    def run(self, name: str) -> Run:
        if name not in self.runs:
            raise KeyError(f"No run '{name}' on this page; runs shown: {', '.join(self.runs)}.")
        return self.runs[name]

    def groundings(self, run: Run, rid: str) -> dict[str, list[Grounding]]:
        """Every predicted item of a record with where it stands in the report: from
        per_example.jsonl when evaluate.py stored it for the same answer, else worked out here."""
        key = (run.name, rid)
        if key in self._groundings:
            return self._groundings[key]
        row = run.rows.get(rid)
        parsed = row.get("parsed") if row else None
        out: dict[str, list[Grounding]] = {}
        if isinstance(parsed, dict):
            stored = self._stored_groundings(run.examples.get(rid), parsed)
            if stored is not None:
                out = stored
            else:
                out = self._grounder(run).ground(
                    self.record(rid)[self.task.input_key], parsed, row.get("icl_example_ids") or ()
                )
        self._groundings[key] = out
        return out

    def _stored_groundings(
        self,
        example: dict | None,
        parsed: dict,
    ) -> dict[str, list[Grounding]] | None:
        """per_example.jsonl's grounding, or None if it has none or it belongs to another
        answer (the cache was rewritten after scoring): its items must be the answer's items."""
        fields = (example or {}).get("fields") or {}
        if not any("grounding" in fe for fe in fields.values()):
            return None
        coerced = self.task.coerce_prediction(parsed)
        out = {}
        for f in self.task.field_names:
            stored = [Grounding.from_json(g) for g in (fields.get(f) or {}).get("grounding", [])]
            expected = field_items(self.task, coerced[f]) if f in parsed else []
            if [g.item for g in stored] != expected:
                return None
            if stored:
                out[f] = stored
        return out

    # -- views (template contexts)

    def index_view(self, links: Links) -> dict[str, Any]:
        runs = []
        for run in self.runs.values():
            m = run.metrics or {}
            head = m.get("headline") or {}
            g = (m.get("grounding") or {}).get("overall") or {}
            runs.append(
                {
                    "name": run.name,
                    "method": run.method,
                    "model": run.model,
                    "answers": len(run.rows),
                    "evaluated": run.results_dir is not None,
                    "stale": run.stale,
                    "results_dir": str(run.results_dir or ""),
                    "parse_rate": _num((head.get("parse_rate") or {}).get("value")),
                    "entity_f1": _num((head.get("entity_micro_f1") or {}).get("value")),
                    "rougeL": _num((head.get("rougeL") or {}).get("value")),
                    "bertscore_f1": _num((head.get("bertscore_f1") or {}).get("value")),
                    "grounded_exact": _num(g.get("share_grounded_exact")),
                    "unsupported": _num(g.get("share_none")),
                }
            )
        rows = []
        for rec in self.records:
            cells = []
            for run in self.runs.values():
                row = run.rows.get(rec["id"])
                gs = self.groundings(run, rec["id"])
                items = [g for lst in gs.values() for g in lst]
                cells.append(
                    {
                        "run": run.name,
                        "href": links.record(rec["id"], run.name),
                        "answered": row is not None,
                        "parsed": row is not None and row.get("parsed") is not None,
                        "scores": record_scores(run.examples.get(rec["id"])),
                        "n_items": len(items),
                        "unsupported": sum(g.status == NONE for g in items),
                    }
                )
            rows.append(
                {
                    "id": rec["id"],
                    "lang": rec.get("lang", ""),
                    "snippet": " ".join(rec[self.task.input_key].split())[:110],
                    "href": links.record(rec["id"], next(iter(self.runs))),
                    "cells": cells,
                }
            )
        return {
            "title": self.title,
            "runs": runs,
            "rows": rows,
            "links": links,
            "threshold": self.threshold,
        }

    def record_view(self, rid: str, run_name: str, links: Links) -> dict[str, Any]:
        rec, run = self.record(rid), self.run(run_name)
        task = self.task
        report = rec[task.input_key]
        row = run.rows.get(rid)
        parsed = row.get("parsed") if row else None
        example = run.examples.get(rid)
        groundings = self.groundings(run, rid)
        coerced = task.coerce_prediction(parsed) if isinstance(parsed, dict) else None

        spans, fields = [], []
        counts = dict.fromkeys(STATUSES, 0)
        icl_copied = 0
        key = 0
        for f in task.field_names:
            gold_value = rec[task.output_key][f]
            pred_items = []
            for g in groundings.get(f, []):
                key += 1
                counts[g.status] += 1
                icl_copied += g.example_id is not None
                label = STATUS_LABELS[g.status]
                if g.status != NONE and g.start is not None and g.end is not None:
                    spans.append(Span(g.start, g.end, key, f, f"{f}: {g.item} ({label})", g.status))
                pred_items.append(
                    {
                        "key": key,
                        "text": g.item,
                        "status": g.status,
                        "label": label,
                        "score": g.score,
                        "example_id": g.example_id,
                        "span": report[g.start : g.end] if g.start is not None else None,
                    }
                )
            fe = ((example or {}).get("fields") or {}).get(f) or {}
            e = fe.get("entity")
            fields.append(
                {
                    "name": f,
                    "css": css_name(f),
                    "colour": self.colours[f],
                    "gold_na": task.is_na(gold_value),
                    "gold": task.items(gold_value),
                    "pred_missing": coerced is not None and f not in parsed,
                    "pred_na": coerced is not None and f in parsed and task.is_na(coerced[f]),
                    "pred": pred_items,
                    "scores": {
                        "rougeL": _num(fe.get("rougeL")),
                        "bertscore_f1": _num(fe.get("bertscore_f1")),
                        "entity": {**e, **MatchCounts(e["tp"], e["fp"], e["fn"]).as_dict()}
                        if e
                        else None,
                        "exact_match": fe.get("exact_match"),
                    }
                    if fe
                    else None,
                }
            )
        legend = [
            {
                "name": f,
                "css": css_name(f),
                "colour": self.colours[f],
                "count": sum(1 for s in spans if s.field == f),
            }
            for f in task.field_names
        ]
        i = self.by_id[rid]
        neighbour = {
            k: (
                links.record(self.records[j]["id"], run.name)
                if 0 <= j < len(self.records)
                else None
            )
            for k, j in (("prev", i - 1), ("next", i + 1))
        }
        return {
            "title": self.title,
            "links": links,
            "threshold": self.threshold,
            "record": {
                "id": rid,
                "lang": rec.get("lang", ""),
                "n": i + 1,
                "total": len(self.records),
                **neighbour,
            },
            "report_html": highlight_html(report, spans),
            "legend": legend,
            "runs": [
                {
                    "name": r.name,
                    "href": links.record(rid, r.name),
                    "current": r.name == run.name,
                    "parsed": (r.rows.get(rid) or {}).get("parsed") is not None,
                }
                for r in self.runs.values()
            ],
            "run": {
                "name": run.name,
                "method": run.method,
                "model": run.model,
                "evaluated": run.results_dir is not None,
                "stale": run.stale,
            },
            "answer": None
            if row is None
            else {
                "parsed": parsed is not None,
                "parse_error": row.get("parse_error"),
                "raw": row.get("raw", ""),
                "finish_reason": row.get("finish_reason"),
                "icl_example_ids": row.get("icl_example_ids") or [],
                "skipped": bool((example or {}).get("skipped")),
            },
            "scores": record_scores(example),
            "counts": counts,
            "icl_copied": icl_copied,
            "n_items": key,
            "fields": fields,
        }


# --- Rendering -----------------------------------------------------------------------------


class Links(Protocol):
    """Where a page links to: URLs of the app, or relative file names of the export."""

    def index(self) -> str: ...

    def record(self, rid: str, run: str) -> str: ...


class ServerLinks:
    def index(self) -> str:
        return "/"

    def record(self, rid: str, run: str) -> str:
        return f"/record/{quote(rid, safe='')}?run={quote(run, safe='')}"


class ExportLinks:
    """Relative links of the static export: index.html, records/<id>--<run>.html."""

    def __init__(self, from_record: bool):
        self.prefix = "" if from_record else "records/"
        self.up = "../" if from_record else ""

    def index(self) -> str:
        return self.up + "index.html"

    def record(self, rid: str, run: str) -> str:
        return self.prefix + quote(export_file(rid, run))


def export_file(rid: str, run: str) -> str:
    return f"{file_name(rid)}--{file_name(run)}.html"


def _fmt(x: Any, digits: int = 2) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def _pct(x: Any) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


class Renderer:
    """Jinja2 templates from elmtex/review_assets/, with the CSS inlined into every page so
    that an exported file is complete on its own."""

    def __init__(self, review: Review):
        self.review = review
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(ASSETS),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["fmt"] = _fmt
        self.env.filters["pct"] = _pct
        css = (ASSETS / "style.css").read_text(encoding="utf-8")
        css += "".join(
            f".bg-{css_name(f)},.sw-{css_name(f)}{{background-color:{c}}}\n"
            for f, c in review.colours.items()
        )
        self.env.globals["css"] = Markup(css)

    def index(self, links: Links, progress: dict | None = None) -> str:
        """The index; progress: review mode's (record id, run) -> this reviewer's counts."""
        return self.env.get_template("index.html").render(
            **self.review.index_view(links), progress=progress
        )

    def record(self, rid: str, run: str, links: Links, rv: dict | None = None) -> str:
        """A record page; rv: review mode's forms and judgements (elmtex.review_mode)."""
        view = self.review.record_view(rid, run, links)
        return self.env.get_template("record.html").render(**view, rv=rv)

    def error(self, code: int, message: str, links: Links) -> str:
        return self.env.get_template("error.html").render(
            code=code, message=message, links=links, title=self.review.title
        )


# --- The app and the export ----------------------------------------------------------------


SECURITY_HEADERS = {
    # The pages are static HTML with inline CSS: no scripts, no external loads.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "img-src data:; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",  # patient data: not kept in the browser's cache
}


def create_app(
    review: Review, store=None, allowed_hosts: Sequence[str] = (), max_body_kb: int = 64
):
    """The Flask app: GET /, GET /record/<id>?run=<run>, GET /health; read-only unless a
    ReviewStore is given (review mode: the POST routes of elmtex.review_mode)."""
    from flask import Flask, abort, request
    from werkzeug.exceptions import HTTPException

    from elmtex.review_mode import add_review_routes, install_host_check

    app = Flask(__name__, static_folder=None)  # serves nothing from the folder it starts in
    app.config["MAX_CONTENT_LENGTH"] = max_body_kb * 1024  # larger bodies: 413
    renderer = Renderer(review)
    links = ServerLinks()
    first_run = next(iter(review.runs))
    install_host_check(app, allowed_hosts)
    if store is not None:
        add_review_routes(app, review, store, renderer, links)

    @app.get("/")
    def index():
        return renderer.index(links, store.progress() if store is not None else None)

    @app.get("/record/<path:rid>")
    def record(rid: str):
        run = request.args.get("run") or first_run
        try:
            review.record(rid)
            review.run(run)
        except KeyError as e:
            abort(404, description=e.args[0])
        rv = renderer.review_context(rid, run) if store is not None else None
        return renderer.record(rid, run, links, rv)

    @app.get("/health")
    def health():
        return {
            "status": "ok",
            "records": len(review.records),
            "runs": list(review.runs),
            "reviewer": store.reviewer if store is not None else None,
        }

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        message = e.description or e.name
        headers = {}
        if e.code == 405 and store is None:
            message = "This page is read-only: only GET requests are answered."
            headers["Allow"] = e.get_response().headers.get("Allow", "GET, HEAD")
        return renderer.error(e.code or 500, message, links), e.code, headers

    @app.after_request
    def headers(resp):
        resp.headers.update(SECURITY_HEADERS)
        if store is not None:  # review mode's one optional script, served by this app
            resp.headers["Content-Security-Policy"] += "; script-src 'self'"
        return resp

    return app


def serve(app, port: int, threads: int = 4) -> None:
    """Serve with waitress on 127.0.0.1 until SIGTERM or Ctrl-C."""
    from waitress import create_server

    try:
        server = create_server(app, host=HOST, port=port, threads=threads, ident="elmtex-review")
    except OSError as e:
        raise ReviewError(
            f"cannot listen on {HOST}:{port}: {e.strerror or e} "
            "(another program uses the port? --set review.port=...)"
        ) from None

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    print(f"serving on http://{HOST}:{server.effective_port}/", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    print("stopped", flush=True)


def check_export_dir(out_dir: str | Path) -> Path:
    """The export folder, resolved; refused if it holds anything but an earlier export."""
    out_dir = Path(out_dir).resolve()
    if out_dir.exists() and (
        not out_dir.is_dir() or (any(out_dir.iterdir()) and not (out_dir / EXPORT_MARKER).exists())
    ):
        raise ReviewError(
            f"{out_dir} exists and is not an earlier review export; "
            "choose another folder or remove it."
        )
    return out_dir


def export_static(review: Review, out_dir: str | Path) -> int:
    """Write index.html and records/<id>--<run>.html for every record and run into out_dir
    (built in a temporary folder beside it, then swapped in); returns the number of pages.
    An existing out_dir is replaced only if it is empty or an earlier export."""
    out_dir = check_export_dir(out_dir)
    renderer = Renderer(review)
    tmp = out_dir.with_name(f".{out_dir.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "records").mkdir(parents=True)
    (tmp / EXPORT_MARKER).write_text("written by review_app.py --export\n", encoding="utf-8")
    (tmp / "index.html").write_text(
        renderer.index(ExportLinks(from_record=False)), encoding="utf-8"
    )
    pages = 1
    rec_links = ExportLinks(from_record=True)
    for rec in review.records:
        for run in review.runs:
            (tmp / "records" / export_file(rec["id"], run)).write_text(
                renderer.record(rec["id"], run, rec_links), encoding="utf-8"
            )
            pages += 1
    old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
    if out_dir.exists():
        out_dir.rename(old)
    tmp.rename(out_dir)
    shutil.rmtree(old, ignore_errors=True)
    return pages
