"""Review mode of the review page: clinicians judge predicted items and add missed ones.

Plain HTML forms (no script needed), posted to the app and stored by elmtex.reviews:

    POST /record/<id>/review?run=<run>    verdicts of the record's items, its note, "done"
    POST /record/<id>/missed?run=<run>    add a missed item (typed text, or start/end offsets
                                          of a span picked in the report) to a category
    POST /record/<id>/withdraw?run=<run>  take an added item back

Safety, since the pages show patient reports: the app listens on 127.0.0.1 only (see
elmtex.review.serve); every request must name an allowed Host (a foreign name, as in DNS
rebinding, gets 403); a POST must carry the session's CSRF token (403 otherwise); bodies are
size-limited (413); every field is checked (400 with a message). Each accepted POST answers
with a redirect to the record page (303), so a reload never posts twice.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from elmtex.grounding import EXACT, NORMALIZED, ground_item
from elmtex.guards import LOOPBACK_NAMES, host_name
from elmtex.reviews import MAX_ITEM, MAX_NOTE, MISSED, VERDICTS, WITHDRAWN, ReviewStore, make_event

if TYPE_CHECKING:
    from elmtex.review import Renderer, Review, Run, ServerLinks

SCRIPT = Path(__file__).with_name("review_assets") / "review.js"


class FormError(ValueError):
    """A posted field the app refuses (400); the message names it."""


def item_index(review: Review, run: Run, rid: str) -> dict[int, tuple[str, Any]]:
    """The record page's item numbers -> (field, grounding), as record_view numbers them."""
    out, key = {}, 0
    for f in review.task.field_names:
        for g in review.groundings(run, rid).get(f, []):
            key += 1
            out[key] = (f, g)
    return out


def review_context(
    review: Review, store: ReviewStore, rid: str, run_name: str, csrf: str, saved: str | None = None
) -> dict[str, Any]:
    """What record.html needs to show the forms with this reviewer's current judgements."""
    state = store.record_state(run_name, rid)
    run = review.run(run_name)
    verdicts = {}
    for key, (f, g) in item_index(review, run, rid).items():
        ev = state["items"].get((f, g.item))
        verdicts[key] = {
            "verdict": (ev or {}).get("verdict") or "",
            "target": (ev or {}).get("target") or "",
        }
    q = f"?run={_quote(run_name)}"
    base = f"/record/{_quote(rid)}"
    return {
        "reviewer": store.reviewer,
        "csrf": csrf,
        "verdicts": verdicts,
        "labels": VERDICTS,
        "fields": review.task.field_names,
        "missed": {
            f: [{"item": e["item"], "start": e["start"], "end": e["end"]} for e in evs]
            for f, evs in state["missed"].items()
        },
        "note": state["note"],
        "done": state["done"],
        "saved": saved,
        "action": base + "/review" + q,
        "missed_action": base + "/missed" + q,
        "withdraw_action": base + "/withdraw" + q,
    }


def _quote(s: str) -> str:
    from urllib.parse import quote

    return quote(s, safe="")


def _one(form: Mapping[str, str], name: str, limit: int, required: bool = False) -> str:
    value = form.get(name, "")
    if len(value) > limit:
        raise FormError(f"Field '{name}' is longer than {limit} characters.")
    if required and not value.strip():
        raise FormError(f"Field '{name}' is empty.")
    return value


def verdict_events(
    review: Review,
    store: ReviewStore,
    rid: str,
    run_name: str,
    form: Mapping[str, str],
    keys: Iterable[str],
) -> list[dict]:
    """Events for what the review form changed: verdicts (and targets), the note, "done"."""
    run = review.run(run_name)
    index = item_index(review, run, rid)
    fields = review.task.field_names
    state = store.record_state(run_name, rid)
    events = []
    for name in keys:
        if not name.startswith("verdict-"):
            continue
        try:
            key = int(name.removeprefix("verdict-"))
        except ValueError:
            raise FormError(f"Unknown form field '{name}'.") from None
        if key not in index:
            raise FormError(
                f"Record '{rid}' has no item {key} in run '{run_name}' "
                "(the run's answer changed? reload the page)."
            )
        f, g = index[key]
        verdict = form.get(name, "")
        target = form.get(f"target-{key}", "") or ""
        if verdict and verdict not in VERDICTS:
            raise FormError(f"Unknown verdict '{verdict}'; one of {', '.join(VERDICTS)}.")
        if target and target not in fields:
            raise FormError(f"Unknown category '{target}'.")
        if verdict == "wrong_category":
            if not target or target == f:
                raise FormError(
                    f"Item {key} ('{g.item}'): choose the category it belongs to "
                    f"(not {f}) for 'wrong category'."
                )
        else:
            target = ""
        old = state["items"].get((f, g.item)) or {}
        if (old.get("verdict") or "") == verdict and (old.get("target") or "") == target:
            continue  # unchanged: no new line
        events.append(
            make_event(
                store.reviewer,
                run_name,
                rid,
                "item",
                field=f,
                item=g.item,
                start=g.start,
                end=g.end,
                verdict=verdict or None,
                target=target or None,
            )
        )
    note = _one(form, "note", MAX_NOTE)
    if note != state["note"]:
        events.append(make_event(store.reviewer, run_name, rid, "note", note=note))
    done = form.get("done", "") == "1"
    if done != state["done"]:
        events.append(make_event(store.reviewer, run_name, rid, "done", done=done))
    return events


def missed_event(
    review: Review,
    store: ReviewStore,
    rid: str,
    run_name: str,
    form: Mapping[str, str],
    withdraw: bool = False,
) -> dict:
    """The event that adds (or withdraws) a missed item. An added item must stand in the
    report: at the given start/end (a picked span), else found verbatim or up to case and
    whitespace; its offsets are stored."""
    review.run(run_name)
    report = review.record(rid)[review.task.input_key]
    f = form.get("field", "")
    if f not in review.task.field_names:
        raise FormError(f"Unknown category '{f}'.")
    text = _one(form, "text", MAX_ITEM).strip()
    if withdraw:
        if not text:
            raise FormError("Field 'text' is empty.")
        return make_event(
            store.reviewer, run_name, rid, "missed", field=f, item=text, verdict=WITHDRAWN
        )
    start_s, end_s = form.get("start", "").strip(), form.get("end", "").strip()
    if start_s or end_s:
        try:
            start, end = int(start_s), int(end_s)
        except ValueError:
            raise FormError("start and end must be whole numbers (character offsets).") from None
        if not 0 <= start < end <= len(report) or end - start > MAX_ITEM:
            raise FormError(f"The span {start}-{end} is not within the report (0-{len(report)}).")
        span = report[start:end].strip()
        if text and " ".join(text.split()).casefold() != " ".join(span.split()).casefold():
            raise FormError(f"The typed text '{text}' is not the picked span '{span}'.")
        text = span
    else:
        if not text:
            raise FormError("Type the missed item (text from the report) or pick a span.")
        at = report.find(text)
        if at >= 0:
            start, end = at, at + len(text)
        else:
            g = ground_item(report, text)
            if g.status not in (EXACT, NORMALIZED) or g.start is None:
                raise FormError(
                    f"'{text}' does not stand in the report (checked verbatim and "
                    "up to case and whitespace); copy it from the report."
                )
            start, end = g.start, g.end
    return make_event(
        store.reviewer,
        run_name,
        rid,
        "missed",
        field=f,
        item=text,
        start=start,
        end=end,
        verdict=MISSED,
    )


def install_host_check(app, allowed_hosts: Iterable[str] = ()) -> None:
    """Answer only requests whose Host names this machine's loopback (or an allowed name): a
    web page elsewhere cannot reach the app through a name it controls (DNS rebinding)."""
    from flask import abort, request

    hosts = {h.lower() for h in (*LOOPBACK_NAMES, *allowed_hosts)}

    @app.before_request
    def check_host():
        if host_name(request.host) not in hosts:
            abort(
                403,
                description=f"Host '{request.host}' is not allowed: open the page as "
                "http://127.0.0.1:<port>/ (or add the name to "
                "review.allowed_hosts).",
            )


def add_review_routes(
    app, review: Review, store: ReviewStore, renderer: Renderer, links: ServerLinks
) -> None:
    """The POST routes, the CSRF token and the review context of GET pages."""
    from flask import abort, g, redirect, request, session

    app.secret_key = secrets.token_bytes(32)  # per start: sessions end with the app
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_NAME="elmtex_review",
    )

    @app.before_request
    def csrf_token():
        g.csrf = session.setdefault("csrf", secrets.token_urlsafe(32))

    def check_post(rid: str) -> str:
        sent = request.form.get("csrf", "")
        if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
            abort(403, description="Missing or stale form token: reload the page and submit again.")
        run = request.args.get("run", "")
        try:
            review.record(rid)
            review.run(run)
        except KeyError as e:
            abort(400, description=e.args[0])
        return run

    def back(rid: str, run: str, saved: str):
        return redirect(f"{links.record(rid, run)}&saved={saved}", code=303)

    def post(rid: str, make) -> Any:
        run = check_post(rid)
        try:
            events = make(run)
        except FormError as e:
            abort(400, description=str(e))
        store.append(events)
        return run

    @app.post("/record/<path:rid>/review")
    def save_review(rid: str):
        run = post(
            rid,
            lambda run: verdict_events(
                review, store, rid, run, request.form, list(request.form.keys())
            ),
        )
        return back(rid, run, "review")

    @app.post("/record/<path:rid>/missed")
    def add_missed(rid: str):
        run = post(rid, lambda run: [missed_event(review, store, rid, run, request.form)])
        return back(rid, run, "missed")

    @app.post("/record/<path:rid>/withdraw")
    def withdraw_missed(rid: str):
        run = post(
            rid, lambda run: [missed_event(review, store, rid, run, request.form, withdraw=True)]
        )
        return back(rid, run, "withdrawn")

    @app.get("/review.js")
    def review_js():
        from flask import send_file

        return send_file(SCRIPT, mimetype="text/javascript", max_age=0)

    renderer.review_context = lambda rid, run: review_context(
        review, store, rid, run, g.csrf, request.args.get("saved")
    )
