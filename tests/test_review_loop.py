# ruff: noqa: F811  (the fixtures imported from test_review.py are parameters here)
"""The clinician review loop: review mode of review_app.py in a real headless Chromium (the
fixtures of test_review.py: runs A and B over 4 demo records), the review store, the review
numbers of evaluate.py on hand-made review files with hand-computed values, and the corrected
gold export re-imported by the data code."""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT, free_port, run_script
from test_review import (  # noqa: F401 (fixtures)
    RUN_A,
    browser,
    css,
    data,
    page,
    record_url,
    wait_until_serving,
)

# --- The app in review mode -------------------------------------------------------------------


@contextlib.contextmanager
def review_app(data, reviews: Path, reviewer: str | None, port: int | None = None):
    """review_app.py serving runs A and B in review mode for `reviewer`; yields (url, log)."""
    port = port or free_port()
    log_path = data["base"] / f"review-{reviewer}.{port}.log"
    extra = ["--reviewer", reviewer] if reviewer else []
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "review_app.py"),
                *data["args"],
                "--set",
                f"review.port={port}",
                "--set",
                f"review.reviews_dir={reviews}",
                "--runs",
                RUN_A,
                *extra,
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(proc, url, log_path)
        yield url, log_path
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def reviews(data) -> Path:
    return data["base"] / "reviews"


def events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def verdict_of(d, key: int) -> str:
    checked = [r for r in css(d, f'input[name="verdict-{key}"]') if r.is_selected()]
    return checked[0].get_attribute("value") if checked else "?"


def submit_and_wait(d, button, marker: str):
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    button.click()
    WebDriverWait(d, 10).until(ec.url_contains(f"saved={marker}"))


def test_reviewer_marks_items_adds_a_missed_one_and_it_persists(browser, data, reviews):
    from selenium.webdriver.support.ui import Select

    rec = data["records"][0]
    report = rec["report"]
    missed = " ".join(report.split()[3:6])  # three words as they stand in the report
    with review_app(data, reviews, "alice") as (url, _):
        d = page(browser, record_url(url, rec["id"], RUN_A))
        assert text_of_id(d, "reviewer") == "alice"
        css(d, 'input[name="verdict-1"][value="correct"]')[0].click()
        css(d, 'input[name="verdict-2"][value="wrong_category"]')[0].click()
        Select(css(d, 'select[name="target-2"]')[0]).select_by_value("diagnosis")
        css(d, 'input[name="verdict-3"][value="unsupported"]')[0].click()
        css(d, "#note")[0].send_keys("checked against the discharge letter")
        submit_and_wait(d, css(d, "#save-review")[0], "review")
        form = css(d, '.missed[data-field="family_history"] form.add-missed')[0]
        form.find_element("name", "text").send_keys(missed)
        submit_and_wait(d, form.find_element("css selector", "button"), "missed")
        assert missed in css(d, '.missed[data-field="family_history"] .badge.missed')[0].text
        d.refresh()
        assert [verdict_of(d, k) for k in (1, 2, 3, 4)] == [
            "correct",
            "wrong_category",
            "unsupported",
            "",
        ]
    # a restart of the app keeps everything
    with review_app(data, reviews, "alice") as (url, _):
        d = page(browser, record_url(url, rec["id"], RUN_A))
        assert [verdict_of(d, k) for k in (1, 2, 3)] == ["correct", "wrong_category", "unsupported"]
        assert (
            Select(css(d, 'select[name="target-2"]')[0]).first_selected_option.get_attribute(
                "value"
            )
            == "diagnosis"
        )
        assert css(d, "#note")[0].get_attribute("value") == "checked against the discharge letter"
        assert missed in css(d, '.missed[data-field="family_history"]')[0].text
        d = page(browser, url + "/")  # the index shows the reviewer's progress
        cell = css(d, f'#records tr[data-id="{rec["id"]}"] td.cell[data-run="{RUN_A}"]')[0]
        assert "3/" in cell.text and "judged, 1 missed" in cell.text and "done" not in cell.text
    evs = events(reviews / "alice.jsonl")
    assert {e["kind"] for e in evs} == {"item", "note", "missed"} and len(evs) == 5
    add = [e for e in evs if e["kind"] == "missed"][0]
    assert (add["field"], add["item"]) == ("family_history", missed)
    assert report[add["start"] : add["end"]] == missed
    assert all(e["reviewer"] == "alice" and e["run"] == RUN_A and e["ts"] for e in evs)


def text_of_id(d, el_id: str) -> str:
    return css(d, f"#{el_id}")[0].text


def test_second_reviewer_is_separate_and_one_writer_per_reviewer(browser, data, reviews):
    rec = data["records"][0]
    before = (reviews / "alice.jsonl").read_bytes()
    with review_app(data, reviews, "bob") as (url, _):
        d = page(browser, record_url(url, rec["id"], RUN_A))
        assert [verdict_of(d, k) for k in (1, 2, 3)] == ["", "", ""]  # alice's are not shown
        assert not css(d, ".missed .badge.missed")
        css(d, 'input[name="verdict-1"][value="wrong"]')[0].click()
        css(d, "#done")[0].click()
        submit_and_wait(d, css(d, "#save-review")[0], "review")
        # a second app for bob is refused: his file is locked
        proc = run_script(
            "review_app.py",
            *data["args"],
            "--set",
            f"review.reviews_dir={reviews}",
            "--set",
            f"review.port={free_port()}",
            "--runs",
            RUN_A,
            "--reviewer",
            "bob",
            check=False,
            timeout=120,
        )
        assert proc.returncode != 0 and "open in another review app" in proc.stderr
    assert (reviews / "alice.jsonl").read_bytes() == before
    bob = events(reviews / "bob.jsonl")
    assert [(e["kind"], e["verdict"], e["done"]) for e in bob] == [
        ("item", "wrong", None),
        ("done", None, True),
    ]


SELECT = """
const rep = document.getElementById('report');
function pos(off) {
  const w = document.createTreeWalker(rep, NodeFilter.SHOW_TEXT);
  let n, acc = 0;
  while ((n = w.nextNode())) { if (acc + n.length >= off) return [n, off - acc]; acc += n.length; }
}
const a = pos(arguments[0]), b = pos(arguments[1]), r = document.createRange();
r.setStart(a[0], a[1]); r.setEnd(b[0], b[1]);
const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(r);
"""


def test_missed_item_picked_as_a_span_in_the_report(browser, data, tmp_path):
    """The optional script (served by the app, allowed by its CSP) sends the selection's
    offsets; a German report, so the offsets count code points of non-ASCII text."""
    rec = data["records"][2]
    report = rec["report"]
    start = next(i for i, c in enumerate(report) if c in "äöüÄÖÜß")
    start = report.rfind(" ", 0, start) + 1
    end = report.find(" ", report.find(" ", start) + 1)  # two words, one with an umlaut
    with review_app(data, tmp_path / "reviews", "frank") as (url, _):
        d = page(browser, record_url(url, rec["id"], RUN_A))
        d.execute_script(SELECT, start, end)
        time.sleep(0.5)  # selectionchange is dispatched asynchronously
        form = css(d, '.missed[data-field="comorbidities"] form.add-missed')[0]
        submit_and_wait(d, form.find_element("css selector", "button"), "missed")
    (ev,) = events(tmp_path / "reviews" / "frank.jsonl")
    assert (ev["start"], ev["end"], ev["item"]) == (start, end, report[start:end])


def _session(url: str, rid: str):
    """An opener with the app's session cookie, and the CSRF token of a record page."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(record_url(url, rid, RUN_A), timeout=10) as resp:
        token = re.search(r'name="csrf" value="([^"]+)"', resp.read().decode()).group(1)
    return opener, token


def _post(opener, url: str, fields: dict, headers: dict | None = None) -> tuple[int, str]:
    req = urllib.request.Request(
        url, data=urllib.parse.urlencode(fields).encode(), method="POST", headers=headers or {}
    )
    try:
        with opener.open(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_csrf_host_size_and_validation_are_enforced(data, reviews, tmp_path):
    rid = data["records"][0]["id"]
    q = urllib.parse.quote(RUN_A)
    with review_app(data, tmp_path / "reviews", "carol") as (url, _):
        opener, token = _session(url, rid)
        action = f"{url}/record/{rid}/review?run={q}"
        # no token, or a wrong one: 403, nothing written
        assert _post(opener, action, {"verdict-1": "correct"})[0] == 403
        assert _post(opener, action, {"verdict-1": "correct", "csrf": "x" * 43})[0] == 403
        # a foreign Host header (DNS rebinding): 403, for GET and POST
        req = urllib.request.Request(url + "/", headers={"Host": "evil.example:80"})
        with pytest.raises(urllib.error.HTTPError) as e:
            opener.open(req, timeout=10)
        assert e.value.code == 403
        assert (
            _post(
                opener, action, {"verdict-1": "correct", "csrf": token}, {"Host": "evil.example"}
            )[0]
            == 403
        )
        # unknown verdict, category, record, run: 400 with a message
        code, body = _post(opener, action, {"verdict-1": "maybe", "csrf": token})
        assert code == 400 and "Unknown verdict" in body
        code, body = _post(
            opener, action, {"verdict-1": "wrong_category", "target-1": "nope", "csrf": token}
        )
        assert code == 400 and "Unknown category" in body
        code, body = _post(opener, f"{url}/record/nope/review?run={q}", {"csrf": token})
        assert code == 400 and "No record" in body
        code, body = _post(opener, f"{url}/record/{rid}/review?run=nope", {"csrf": token})
        assert code == 400 and "No run" in body
        code, body = _post(
            opener,
            f"{url}/record/{rid}/missed?run={q}",
            {"csrf": token, "field": "diagnosis", "text": "Morbus Nonexistens"},
        )
        assert code == 400 and "does not stand in the report" in body
        # a body over review.max_body_kb: 413
        assert _post(opener, action, {"csrf": token, "note": "x" * 70_000})[0] == 413
        assert not (tmp_path / "reviews" / "carol.jsonl").read_bytes()
        # with the token: accepted, redirected to the page
        code, body = _post(opener, action, {"verdict-1": "correct", "csrf": token})
        assert code == 200 and 'value="correct" checked' in body
    assert len(events(tmp_path / "reviews" / "carol.jsonl")) == 1
    # read-only mode: no forms, POST refused
    with review_app(data, tmp_path / "reviews", None) as (url, _):
        with urllib.request.urlopen(record_url(url, rid, RUN_A), timeout=10) as resp:
            assert "<form" not in resp.read().decode()
        assert (
            _post(urllib.request.build_opener(), f"{url}/record/{rid}/review?run={q}", {})[0] == 405
        )


def test_torn_last_line_is_cut_on_start(data, tmp_path):
    from elmtex.reviews import make_event, read_events

    reviews = tmp_path / "reviews"
    reviews.mkdir()
    whole = json.dumps(make_event("dave", RUN_A, data["records"][0]["id"], "note", note="ok"))
    path = reviews / "dave.jsonl"
    path.write_text(whole + "\n" + whole[:40], encoding="utf-8")  # killed mid-write
    assert len(read_events(path)) == 1  # readers skip the torn line
    with review_app(data, reviews, "dave") as (_, log):
        assert "torn last line was cut off" in log.read_text()
        assert path.read_text(encoding="utf-8") == whole + "\n"


# --- The store, without the app ------------------------------------------------------------


def test_store_lock_latest_wins_and_names(tmp_path):
    from elmtex.reviews import ReviewStore, ReviewStoreError, make_event, read_all_events

    with ReviewStore(tmp_path, "erin") as store:
        with pytest.raises(ReviewStoreError, match="another review app"):
            ReviewStore(tmp_path, "erin")
        a = make_event("erin", "run", "r1", "item", field="diagnosis", item="x", verdict="wrong")
        b = dict(a, verdict="correct", ts=a["ts"] + "1")
        store.append([a, b])
        state = store.record_state("run", "r1")
        assert state["items"][("diagnosis", "x")]["verdict"] == "correct"
    with ReviewStore(tmp_path, "erin") as again:  # the lock is released on close
        assert again.record_state("run", "r1")["items"][("diagnosis", "x")]["verdict"] == "correct"
    assert len(read_all_events(tmp_path)) == 2  # nothing rewritten
    for bad in ("../x", "", "a b", ".hidden"):
        with pytest.raises(ReviewStoreError):
            ReviewStore(tmp_path, bad)


# --- Numbers and gold export on hand-made review files ---------------------------------------

LOOP_RUN = "naive-loop"
INVENTED = "Morbus Fantasticus"


@pytest.fixture(scope="module")
def loop(tmp_path_factory, task):
    """Two demo records; the run's answer is the gold, with an invented diagnosis added to
    the first; alice and bob judged three items, alice added a missed item and marked the
    first record done."""
    from elmtex.io import load_split
    from elmtex.reviews import make_event

    base = tmp_path_factory.mktemp("loop")
    recs = load_split(ROOT / "data/demo", ["en"], "test", task, 2)
    r0, r1 = recs
    pred = {r["id"]: dict(r["summary"]) for r in recs}
    d0 = task.items(r0["summary"]["diagnosis"])[0]
    s1 = task.items(r1["summary"]["signs_symptoms"])[0]
    pred[r0["id"]]["diagnosis"] = r0["summary"]["diagnosis"] + "; " + INVENTED
    (base / "cache").mkdir()
    rows = [
        {
            "id": r["id"],
            "lang": "en",
            "run": LOOP_RUN,
            "method": "naive",
            "model": "hand",
            "raw": json.dumps(pred[r["id"]]),
            "parsed": pred[r["id"]],
            "parse_error": None,
            "finish_reason": "stop",
        }
        for r in recs
    ]
    (base / "cache" / f"{LOOP_RUN}.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8"
    )
    # a missed item: the first words of the report's second sentence, under family_history
    report = r0["report"]
    at = report.index(". ") + 2
    missed = " ".join(report[at:].split()[:3])
    start = report.index(missed)

    def ev(who, rid, kind, ts, **kw):
        return dict(make_event(who, LOOP_RUN, rid, kind, **kw), ts=f"2026-01-01T00:00:{ts:02d}")

    alice = [
        ev("alice", r0["id"], "item", 1, field="diagnosis", item=d0, verdict="wrong"),
        ev("alice", r0["id"], "item", 2, field="diagnosis", item=d0, verdict="correct"),
        ev("alice", r0["id"], "item", 3, field="diagnosis", item=INVENTED, verdict="unsupported"),
        ev(
            "alice",
            r1["id"],
            "item",
            4,
            field="signs_symptoms",
            item=s1,
            verdict="wrong_category",
            target="diagnosis",
        ),
        ev(
            "alice",
            r0["id"],
            "missed",
            5,
            field="family_history",
            item=missed,
            start=start,
            end=start + len(missed),
            verdict="missed",
        ),
        ev("alice", r0["id"], "done", 6, done=True),
    ]
    bob = [
        ev("bob", r0["id"], "item", 1, field="diagnosis", item=d0, verdict="correct"),
        ev("bob", r0["id"], "item", 2, field="diagnosis", item=INVENTED, verdict="correct"),
        ev("bob", r1["id"], "item", 3, field="signs_symptoms", item=s1, verdict="wrong"),
    ]
    reviews = base / "reviews"
    reviews.mkdir()
    for name, evs in (("alice", alice), ("bob", bob)):
        (reviews / f"{name}.jsonl").write_text("".join(json.dumps(e) + "\n" for e in evs))
    args = [
        "--set",
        "data.limit=2",
        "--set",
        "data.langs=[en]",
        "--set",
        f"run.cache_dir={base / 'cache'}",
        "--set",
        f"run.results_dir={base / 'results'}",
        "--set",
        f"review.reviews_dir={reviews}",
        "--set",
        "evaluate.bertscore.enabled=false",
        "--set",
        "evaluate.bootstrap.n_boot=200",
    ]
    return {
        "base": base,
        "args": args,
        "records": recs,
        "pred": pred,
        "d0": d0,
        "s1": s1,
        "missed": missed,
    }


def test_evaluate_reports_human_precision_and_kappa(loop):
    run_script("evaluate.py", *loop["args"], "--runs", LOOP_RUN, timeout=300)
    out = loop["base"] / "results" / LOOP_RUN
    h = json.loads((out / "metrics.json").read_text())["human_review"]
    # judged: alice d0 correct (her later verdict wins), invented unsupported, s1 wrong
    # category; bob d0 correct, invented correct, s1 wrong -> 3 correct of 6
    assert h["reviewers"] == ["alice", "bob"] and h["n_judged"] == 6
    assert h["precision"]["value"] == pytest.approx(3 / 6)
    assert h["precision"]["low"] <= 0.5 <= h["precision"]["high"]
    assert h["per_category"]["diagnosis"]["precision"]["value"] == pytest.approx(3 / 4)
    assert h["per_category"]["signs_symptoms"]["precision"]["value"] == 0
    assert h["wrong_category_share"] == pytest.approx(1 / 6)
    assert h["wrong_category_table"] == [{"from": "signs_symptoms", "to": "diagnosis", "n": 1}]
    # one missed item over 4 (reviewer, record) pairs
    assert h["missed"]["total"] == 1 and h["missed"]["value"] == pytest.approx(1 / 4)
    # kappa on 3 items: pairs (c,c) (u,c) (wc,w): po = 1/3; alice c1 u1 wc1, bob c2 w1:
    # pe = 1*2/9 = 2/9; kappa = (1/3 - 2/9) / (7/9) = 1/7
    (k,) = h["kappa"]
    assert k["reviewers"] == ["alice", "bob"] and k["n_items"] == 3
    assert k["value"] == pytest.approx(1 / 7) and k["agreement"] == pytest.approx(1 / 3)
    # automatic matching: d0 and s1 are gold items (matched), the invented one is not
    a = h["automatic"]["alice"]
    assert (
        a["matched_and_correct"],
        a["matched_not_correct"],
        a["unmatched_correct"],
        a["unmatched_not_correct"],
    ) == (1, 1, 0, 1)
    assert a["correct_given_matched"] == pytest.approx(0.5) and a["matched_given_correct"] == 1
    b = h["automatic"]["bob"]
    assert (b["matched_and_correct"], b["matched_not_correct"], b["unmatched_correct"]) == (1, 1, 1)
    page = (out / "report.html").read_text()
    assert "Clinician review" in page and "Cohen&#39;s kappa" in page
    assert "#### Clinician review" in (out / "report.md").read_text()


def test_corrected_gold_exports_reimports_and_scores(loop, task):
    from elmtex.io import load_split

    gold_dir = loop["base"] / "gold"
    proc = run_script(
        "review_app.py", *loop["args"], "--runs", LOOP_RUN, "--export-gold", str(gold_dir)
    )
    assert "wrote 1 corrected records" in proc.stdout
    r0 = loop["records"][0]
    (got,) = load_split(gold_dir, ["en"], "test", task)  # only the record marked done
    # hand-computed, the latest judgement across reviewers counting: d0 correct (alice at
    # 0:02 after bob at 0:01) -> kept; the invented item unsupported (alice at 0:03 after bob
    # at 0:02) -> left out; the missed item added; unjudged items left out
    want = dict.fromkeys(task.field_names, "N/A")
    want["diagnosis"] = loop["d0"]
    want["family_history"] = loop["missed"]
    assert got["id"] == r0["id"] and got["report"] == r0["report"] and got["summary"] == want
    prov = json.loads((gold_dir / "provenance.json").read_text())
    assert prov["run"] == LOOP_RUN and prov["reviewers"] == ["alice", "bob"]
    assert prov["counts"]["records"] == 1 and prov["counts"]["missed_added"] == 1
    assert prov["counts"]["items_kept"] == 1 and prov["counts"]["items_dropped"] == 1
    # and a run is scored against it as a test split
    run_script(
        "evaluate.py",
        *loop["args"],
        "--set",
        f"data.dir={gold_dir}",
        "--set",
        "data.limit=null",
        "--set",
        f"review.reviews_dir={loop['base'] / 'none'}",
        "--set",
        f"run.results_dir={loop['base'] / 'results-gold'}",
        "--runs",
        LOOP_RUN,
        timeout=300,
    )
    m = json.loads((loop["base"] / "results-gold" / LOOP_RUN / "metrics.json").read_text())
    assert m["n_gold"] == 1 and "human_review" not in m


def test_cohen_kappa_by_hand():
    from elmtex.review_stats import cohen_kappa

    # 6 items: po = 4/6; marginals a: c4 u1 w1, b: c5 x1 -> pe = 20/36; kappa = 1/4
    pairs = [("c", "c"), ("u", "x"), ("c", "c"), ("c", "c"), ("w", "c"), ("c", "c")]
    assert cohen_kappa(pairs) == pytest.approx(0.25)
    assert cohen_kappa([("c", "c")] * 3) is None and cohen_kappa([]) is None
