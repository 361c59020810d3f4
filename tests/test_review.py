"""The review page (review_app.py, elmtex/review.py): the real app on a free loopback port,
driven by a real headless Chromium (Debian's, through selenium and chromedriver; `make test`
installs it with scripts/install_browser.sh), and its static export opened from file://.

The runs are small caches written here from real demo records: run A is the gold with some
items changed (one invented, one in other case, one field missing) and one unparseable
answer, scored by the real evaluate.py (BERTScore off: no model needed); run B is not scored
(the page grounds its items itself) and copies an item from a retrieved in-context example
and has two categories whose items overlap in the report."""

from __future__ import annotations

import html.parser
import io
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT, free_port, run_script

RUN_A = "naive-review-a"
RUN_B = "advanced_icl-review-b"
INVENTED = "Morbus Fantasticus of the left ear"
CHROMIUM = os.environ.get("ELMTEX_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("ELMTEX_CHROMEDRIVER", "/usr/bin/chromedriver")


# --- Test data: real demo records, predictions made from their gold ---------------------------


def _row(
    run: str, method: str, rec: dict, parsed: dict | None, raw: str | None = None, **extra
) -> dict:
    return {
        "id": rec["id"],
        "lang": rec["lang"],
        "run": run,
        "method": method,
        "model": "test-predictions",
        "raw": raw if raw is not None else json.dumps(parsed, ensure_ascii=False),
        "parsed": parsed,
        "parse_error": None if parsed is not None else "no JSON object found",
        "finish_reason": "stop",
        **extra,
    }


def _first_item(task, value: str) -> str:
    return task.items(value)[0]


@pytest.fixture(scope="module")
def data(tmp_path_factory, task):
    """Caches of runs A and B over the first 2 en + 2 de demo test records, run A scored by
    evaluate.py; returns paths, records and what was changed."""
    from elmtex.grounding import NONE, ground_item
    from elmtex.io import load_split

    base = tmp_path_factory.mktemp("review")
    records = load_split(ROOT / "data/demo", ["en", "de"], "test", task, 2)
    en0, en1, de0, de1 = records
    gold = {r["id"]: dict(r["summary"]) for r in records}

    # Run A: en0 with an invented diagnosis item, a symptom in upper case (grounded after
    # normalisation) and no "gender" key; en1 unparseable; de0 the gold (German offsets); de1
    # with another drug.
    a = {rid: dict(s) for rid, s in gold.items()}
    a[en0["id"]]["diagnosis"] = gold[en0["id"]]["diagnosis"] + "; " + INVENTED
    sym = _first_item(task, gold[en0["id"]]["signs_symptoms"])
    a[en0["id"]]["signs_symptoms"] = sym.upper()
    del a[en0["id"]]["gender"]
    a[de1["id"]]["pharmacological_therapy"] = "Paracetamol 1 g"
    rows_a = [
        _row(RUN_A, "naive", en0, a[en0["id"]]),
        _row(RUN_A, "naive", en1, None, raw='Sure! Here is the summary: {"diagnosis": '),
        _row(RUN_A, "naive", de0, a[de0["id"]]),
        _row(RUN_A, "naive", de1, a[de1["id"]]),
    ]

    # Run B: en0's diagnosis is one taken from a training report (not in en0's report) that
    # the run "retrieved"; en1 the gold; de0 with a diagnosis that contains its first symptom
    # (two categories overlap in the report); no answer for de1.
    train = load_split(ROOT / "data/demo", ["en"], "train", task)
    copied, example = next(
        (d, t)
        for t in train
        for d in task.items(t["summary"]["diagnosis"])
        if ground_item(en0["report"], d).status == NONE
    )
    b = {rid: dict(s) for rid, s in gold.items()}
    b[en0["id"]]["diagnosis"] = copied
    de_report = de0["report"]
    de_sym = _first_item(task, gold[de0["id"]]["signs_symptoms"])
    at = de_report.index(de_sym)
    overlap = de_report[max(0, at - 12) : at + len(de_sym)].strip()  # a longer span around it
    b[de0["id"]]["diagnosis"] = overlap
    rows_b = [
        _row(
            RUN_B,
            "advanced_icl",
            en0,
            b[en0["id"]],
            icl_example_ids=[example["id"], train[0]["id"]],
        ),
        _row(RUN_B, "advanced_icl", en1, b[en1["id"]], icl_example_ids=[]),
        _row(RUN_B, "advanced_icl", de0, b[de0["id"]], icl_example_ids=[]),
    ]

    cache = base / "cache"
    cache.mkdir()
    for run, rows in ((RUN_A, rows_a), (RUN_B, rows_b)):
        (cache / f"{run}.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
        )
    args = [
        "--set",
        "data.limit=2",
        "--set",
        f"run.cache_dir={cache}",
        "--set",
        f"run.results_dir={base / 'results'}",
    ]
    run_script(
        "evaluate.py",
        *args,
        "--runs",
        RUN_A,
        "--set",
        "evaluate.bertscore.enabled=false",
        "--set",
        "evaluate.bootstrap.n_boot=50",
        timeout=300,
    )
    per_example = {
        json.loads(line)["id"]: json.loads(line)
        for line in (base / "results" / RUN_A / "per_example.jsonl").read_text().splitlines()
    }
    return {
        "base": base,
        "args": args,
        "records": records,
        "by_id": {r["id"]: r for r in records},
        "a": a,
        "b": b,
        "per_example": per_example,
        "copied": copied,
        "example_id": example["id"],
        "symptom_upper": sym.upper(),
        "de_symptom": de_sym,
        "overlap": overlap,
        "raw_en1": rows_a[1]["raw"],
    }


def item_keys(task, groundings: dict[str, list[dict]]) -> list[tuple[int, str, dict]]:
    """(key, field, grounding) as the page numbers items: task field order, 1-based."""
    out, key = [], 0
    for f in task.field_names:
        for g in groundings.get(f, []):
            key += 1
            out.append((key, f, g))
    return out


# --- The service and the browser -----------------------------------------------------------


def wait_until_serving(proc: subprocess.Popen, url: str, log_path: Path) -> None:
    """Until review_app.py answers /health (60 s at most); its log if it exits or never does."""
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise AssertionError(
                f"review_app.py exited with {proc.returncode}:\n{log_path.read_text()}"
            )
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"review_app.py did not answer:\n{log_path.read_text()}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def server(data):
    """review_app.py serving runs A and B on a free port of 127.0.0.1."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = data["base"] / f"review.{port}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "review_app.py"),
                *data["args"],
                "--set",
                f"review.port={port}",
                "--runs",
                RUN_A,
                RUN_B,
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        wait_until_serving(proc, url, log_path)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, log_path.read_text()  # SIGTERM is a clean stop
    assert "stopped" in log_path.read_text()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium through chromedriver. A missing browser fails (never skips): `make
    test` installs it, or run `bash scripts/install_browser.sh`."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found: the browser tests need Debian's chromium "
            "and chromium-driver; run `bash scripts/install_browser.sh` (make test does)."
        )
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1400,1000",
        "--force-device-scale-factor=1",
        "--hide-scrollbars",
        "--no-first-run",
        "--disable-extensions",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        opts.add_argument(arg)
    driver = webdriver.Chrome(options=opts, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def page(driver, url: str):
    driver.get(url)
    return driver


def css(driver, selector: str):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def record_url(server: str, rid: str, run: str) -> str:
    return f"{server}/record/{rid}?run={run}"


def text_of(el) -> str:
    return el.get_attribute("textContent")


def assert_highlights(driver, task, report: str, groundings: dict[str, list[dict]]) -> int:
    """Every grounded item is highlighted in the DOM exactly at report[start:end], in pieces
    that carry its category class; the report's text is the report, unchanged."""
    assert text_of(css(driver, "#report")[0]) == report
    n = 0
    for key, f, g in item_keys(task, groundings):
        pieces = css(driver, f'#report span.hl[data-items~="{key}"]')
        if g["status"] == "none":
            assert not pieces, (f, g)
            continue
        assert pieces, (f, g)
        assert "".join(text_of(p) for p in pieces) == report[g["start"] : g["end"]], (f, g)
        for p in pieces:
            assert f"cat-{f}" in p.get_attribute("class").split(), (f, g)
        n += 1
    return n


# --- Browser tests ---------------------------------------------------------------------------


def test_index_lists_the_records_with_scores(server, browser, data):
    d = page(browser, server + "/")
    rows = css(d, "#records tbody tr")
    assert [r.get_attribute("data-id") for r in rows] == [r["id"] for r in data["records"]]
    links = [a.get_attribute("href") for a in css(d, "#records a.record-link")]
    assert len(links) == 4 and all("/record/" in u for u in links)
    runs = css(d, "#runs tbody tr")
    names = [text_of(e) for e in css(d, "#runs .run-name")]
    assert names == [RUN_A, RUN_B]
    assert "not evaluated" in runs[1].text and "not evaluated" not in runs[0].text
    en1 = data["records"][1]["id"]
    cell_a = css(d, f'#records tr[data-id="{en1}"] td.cell[data-run="{RUN_A}"]')[0]
    assert "unparsed" in cell_a.text

    # de0 in run A is the gold itself: entity F1 1.00; de1 has no answer in run B
    def cell(rid: str, run: str) -> str:
        return css(d, f'#records tr[data-id="{rid}"] td.cell[data-run="{run}"]')[0].text

    assert "F1 1.00" in cell(data["records"][2]["id"], RUN_A)
    assert "no answer" in cell(data["records"][3]["id"], RUN_B)
    # en0 in run A has one invented item: counted as not in the report
    en0 = data["records"][0]["id"]
    n = sum(len(fe.get("grounding", [])) for fe in data["per_example"][en0]["fields"].values())
    assert (
        css(d, f'#records tr[data-id="{en0}"] td.cell[data-run="{RUN_A}"] .ungrounded-count')[
            0
        ].text
        == f"1/{n} ✗"
    )


def test_record_page_highlights_each_item_at_its_span(server, browser, data, task):
    for rec in (data["records"][0], data["records"][2]):  # English, and German with umlauts
        d = page(browser, record_url(server, rec["id"], RUN_A))
        stored = {
            f: fe.get("grounding", []) for f, fe in data["per_example"][rec["id"]]["fields"].items()
        }
        assert sum(map(len, stored.values())) > 5
        n = assert_highlights(d, task, rec["report"], stored)
        assert n >= 5
        # every category that has a highlight is in the legend with its count
        for f in {f for _, f, g in item_keys(task, stored) if g["status"] != "none"}:
            assert css(d, f'#legend .legend-item[data-field="{f}"]')[0].text.endswith(")")
    # the upper-cased symptom is found up to case
    d = page(browser, record_url(server, data["records"][0]["id"], RUN_A))
    item = [
        li for li in css(d, "#field-signs_symptoms li.item") if data["symptom_upper"] in li.text
    ]
    assert item and item[0].get_attribute("data-status") == "normalized"
    # the missing field is said to be missing, not N/A
    assert "missing from the answer" in css(d, "#field-gender td.pred")[0].text


def test_overlapping_items_of_two_categories(server, browser, data, task):
    """Run B is not evaluated: the page grounds it itself; its German record has a diagnosis
    span that contains a symptom span."""
    from elmtex.grounding import ground_fields

    rec = data["records"][2]
    d = page(browser, record_url(server, rec["id"], RUN_B))
    groundings = {
        f: [g.to_json() for g in gs]
        for f, gs in ground_fields(task, rec["report"], data["b"][rec["id"]]).items()
    }
    assert_highlights(d, task, rec["report"], groundings)
    multi = css(d, "#report span.hl.multi")
    assert multi, "the overlap is marked"
    classes = multi[0].get_attribute("class").split()
    assert "cat-diagnosis" in classes and "cat-signs_symptoms" in classes
    assert data["de_symptom"] in "".join(text_of(m) for m in multi)
    # the markup stays flat: no highlight inside another
    assert not css(d, "#report span.hl span.hl")


def test_run_switch_changes_the_prediction(server, browser, data):
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    rec = data["records"][0]
    d = page(browser, record_url(server, rec["id"], RUN_A))
    assert css(d, "#run-switch a.current")[0].get_attribute("data-run") == RUN_A
    assert INVENTED in css(d, "#field-diagnosis td.pred")[0].text
    css(d, f'#run-switch a[data-run="{RUN_B}"]')[0].click()
    WebDriverWait(d, 10).until(ec.url_contains(f"run={RUN_B}"))
    assert css(d, "#run-info")[0].get_attribute("data-run") == RUN_B
    assert css(d, "#run-switch a.current")[0].get_attribute("data-run") == RUN_B
    pred = css(d, "#field-diagnosis td.pred")[0].text
    assert INVENTED not in pred and data["copied"] in pred
    # and back, by the link of run A
    css(d, f'#run-switch a[data-run="{RUN_A}"]')[0].click()
    WebDriverWait(d, 10).until(ec.url_contains(f"run={RUN_A}"))
    assert INVENTED in css(d, "#field-diagnosis td.pred")[0].text


def test_ungrounded_and_icl_copied_items_are_marked(server, browser, data):
    rec = data["records"][0]
    d = page(browser, record_url(server, rec["id"], RUN_A))
    bad = css(d, "#field-diagnosis li.item.ungrounded")
    assert len(bad) == 1 and INVENTED in bad[0].text and "not in report" in bad[0].text
    assert not css(d, "#field-diagnosis li.item.ungrounded a")  # nothing to link to
    assert "1 not in report" in css(d, "#grounding-counts")[0].text
    assert INVENTED not in "".join(text_of(s) for s in css(d, "#report span.hl"))
    # run B: the copied diagnosis is unsupported by the report, and named as the example's
    d = page(browser, record_url(server, rec["id"], RUN_B))
    copied = css(d, "#field-diagnosis li.item.icl-copy")
    assert len(copied) == 1 and "ungrounded" in copied[0].get_attribute("class")
    assert f"copied from example {data['example_id']}" in copied[0].text
    assert "from an in-context example" in css(d, "#grounding-counts")[0].text


def test_unparseable_answer_shows_the_raw_output(server, browser, data):
    rec = data["records"][1]
    d = page(browser, record_url(server, rec["id"], RUN_A))
    assert "did not parse" in css(d, "#unparsed")[0].text
    assert text_of(css(d, "#raw")[0]) == data["raw_en1"]
    assert not css(d, "#report span.hl")
    assert text_of(css(d, "#report")[0]) == rec["report"]
    assert "(unparsed)" in css(d, f'#run-switch a[data-run="{RUN_A}"]')[0].text


def http_status(url: str, method: str = "GET") -> tuple[int, str, dict]:
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode(), dict(resp.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)


def test_unknown_record_or_run_is_404_with_a_message(server, browser, data):
    d = page(browser, server + "/record/no-such-record")
    assert "No record 'no-such-record'" in css(d, "#error")[0].text
    code, body, _ = http_status(server + "/record/no-such-record")
    assert code == 404 and "No record &#39;no-such-record&#39;" in body
    code, body, _ = http_status(record_url(server, data["records"][0]["id"], "no-such-run"))
    assert code == 404 and "No run &#39;no-such-run&#39;" in body and RUN_B in body
    assert http_status(server + "/nothing-here")[0] == 404
    code, body, _ = http_status(server + "/", method="POST")
    assert code == 405 and "read-only" in body
    code, _, headers = http_status(server + "/")
    assert code == 200 and "default-src 'none'" in headers["Content-Security-Policy"]


def colour_pixels(png: bytes, colour: str, tolerance: int = 3, run: int = 8) -> int:
    """How many pixels of the PNG have this colour (each channel within the tolerance) and
    start a horizontal run of `run` such pixels: filled backgrounds, not the odd pixel of
    anti-aliased text that happens to have a similar grey."""
    import numpy as np
    from PIL import Image

    want = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)
    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)
    hit = (np.abs(img - want) <= tolerance).all(axis=-1)
    width = hit.shape[1] - run + 1
    solid = np.ones((hit.shape[0], max(width, 0)), dtype=bool)
    for k in range(run):
        solid &= hit[:, k : k + width]
    return int(solid.sum())


def test_screenshot_shows_the_highlight_colours(server, browser, data, task, tmp_path):
    from elmtex.review import category_colours

    colours = category_colours(task.field_names)
    rec = data["records"][2]  # run A: the gold of a German record, every item highlighted
    d = page(browser, record_url(server, rec["id"], RUN_A))
    d.set_window_size(1400, 2400)  # the whole report in view
    png = css(d, "#report")[0].screenshot_as_png
    (tmp_path / "report.png").write_bytes(png)
    shutil.copy(tmp_path / "report.png", data["base"] / "report-highlights.png")  # to look at
    stored = data["per_example"][rec["id"]]["fields"]
    shown = [f for f, fe in stored.items() if any(g["status"] != "none" for g in fe["grounding"])]
    assert len(shown) >= 5
    for f in shown:
        assert colour_pixels(png, colours[f]) > 150, f"no {f} highlight ({colours[f]}) on screen"
    # the unparsed record's report has none of the colours
    d = page(browser, record_url(server, data["records"][1]["id"], RUN_A))
    png = css(d, "#report")[0].screenshot_as_png
    assert all(colour_pixels(png, colours[f]) == 0 for f in shown)
    d.set_window_size(1400, 1000)


def test_static_export_opens_without_the_server(browser, data, task, tmp_path):
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    out = tmp_path / "export"
    proc = run_script("review_app.py", *data["args"], "--runs", RUN_A, RUN_B, "--export", str(out))
    assert "wrote 9 pages" in proc.stdout  # the index and 4 records x 2 runs
    files = [out / "index.html", *sorted((out / "records").glob("*.html"))]
    assert len(files) == 9
    for f in files:
        text = f.read_text(encoding="utf-8")
        # self-contained: inline CSS, no scripts, nothing loaded from elsewhere
        assert "<style>" in text and "<script" not in text and "<link" not in text
        assert "src=" not in text and "http://" not in text and "https://" not in text
    d = page(browser, (out / "index.html").as_uri())
    assert len(css(d, "#records tbody tr")) == 4
    css(d, "#records a.record-link")[0].click()
    WebDriverWait(d, 10).until(ec.url_contains("/records/"))
    rec = data["records"][0]
    stored = {
        f: fe.get("grounding", []) for f, fe in data["per_example"][rec["id"]]["fields"].items()
    }
    assert assert_highlights(d, task, rec["report"], stored) >= 5
    css(d, f'#run-switch a[data-run="{RUN_B}"]')[0].click()
    WebDriverWait(d, 10).until(ec.url_contains(RUN_B))
    assert data["copied"] in css(d, "#field-diagnosis td.pred")[0].text
    css(d, "nav.crumbs a")[0].click()  # back to the index
    WebDriverWait(d, 10).until(ec.url_matches(r"/index\.html$"))
    # a second export replaces the first; a folder that is no export is refused
    run_script("review_app.py", *data["args"], "--runs", RUN_A, "--export", str(out))
    assert len(list((out / "records").glob("*.html"))) == 4
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    proc = run_script(
        "review_app.py", *data["args"], "--runs", RUN_A, "--export", str(other), check=False
    )
    assert proc.returncode != 0 and "not an earlier review export" in proc.stderr
    assert (other / "notes.txt").read_text() == "keep me"


# --- In process: the data side and the markup ----------------------------------------------


class _Checker(html.parser.HTMLParser):
    """Collects the text and checks that every tag closes in order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack.pop() == tag, f"</{tag}> closes the wrong element"

    def handle_data(self, data):
        self.text.append(data)


def test_highlight_html_overlaps_escaping_and_code_points():
    from elmtex.review import Span, highlight_html

    text = 'Fieber 39 °C & <script>alert("x")</script> 😀 Übelkeit, Hämoglobin 9 g/dl.'
    i = text.index("Übelkeit")
    h = text.index("Hämoglobin 9 g/dl")
    spans = [
        Span(0, 12, 1, "signs_symptoms", "a"),  # "Fieber 39 °C"
        Span(7, 12, 2, "laboratory_values", "b"),  # nested: "39 °C"
        Span(i, h + 10, 3, "diagnosis", 'c "quoted"'),  # crosses the next one
        Span(h, h + len("Hämoglobin 9 g/dl"), 4, "laboratory_values", "d"),
        Span(5, 5, 5, "x", "empty"),
        Span(0, 999, 6, "x", "out of range"),
    ]
    out = str(highlight_html(text, spans))
    checker = _Checker()
    checker.feed(out)
    checker.close()
    assert not checker.stack and "".join(checker.text) == text
    assert "<script>" not in out and "&lt;script&gt;" in out

    class Pieces(html.parser.HTMLParser):
        def __init__(self):
            super().__init__()
            self.cur, self.by_key = None, {}

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "span":
                self.cur = (a["data-items"].split(), a["class"].split())

        def handle_endtag(self, tag):
            self.cur = None

        def handle_data(self, data):
            if self.cur:
                for k in self.cur[0]:
                    self.by_key.setdefault(int(k), []).append((data, self.cur[1]))

    p = Pieces()
    p.feed(out)
    for s in spans[:4]:
        assert "".join(t for t, _ in p.by_key[s.key]) == text[s.start : s.end]
        assert all(f"cat-{s.field}" in c for _, c in p.by_key[s.key])
    assert 5 not in p.by_key and 6 not in p.by_key
    # the nested piece takes the inner (shorter) span's colour and is marked as shared
    ((inner, classes),) = p.by_key[2]
    assert inner == "39 °C" and "bg-laboratory_values" in classes and "multi" in classes
    assert out.count('id="item-') == 4


def test_names_for_css_and_files_stay_distinct():
    from elmtex.review import css_name, export_file, file_name

    assert css_name("diagnosis") == "diagnosis"
    assert css_name("a b") != css_name("a_b") and css_name("a.b") != css_name("a_b")
    assert file_name("naive-qwen2.5-x") == "naive-qwen2.5-x"
    assert file_name("a/b") != file_name("a_b") and "/" not in file_name("a/b")
    assert file_name("../x") != "../x" and not file_name("../x").startswith(".")
    long = "x" * 300
    assert len(file_name(long)) <= 100 and file_name(long) != file_name(long + "y")
    assert export_file("id 1", "run") != export_file("id_1", "run")


def _cfg(data, *extra: str) -> dict:
    from elmtex.config import load_config

    return load_config(None, [a for a in data["args"] if a != "--set"] + list(extra))


def test_stored_grounding_is_used_and_rechecked(data, task):
    from elmtex.grounding import ground_fields
    from elmtex.review import Review

    review = Review(_cfg(data), [RUN_A, RUN_B])
    run_a = review.run(RUN_A)
    rec = data["records"][0]
    got = review.groundings(run_a, rec["id"])
    stored = {
        f: fe["grounding"]
        for f, fe in data["per_example"][rec["id"]]["fields"].items()
        if fe.get("grounding")
    }
    assert {f: [g.to_json() for g in gs] for f, gs in got.items()} == stored
    fresh = ground_fields(task, rec["report"], data["a"][rec["id"]])
    assert {f: [g.to_json() for g in gs] for f, gs in fresh.items()} == stored
    # an answer that changed after scoring: its own items are grounded, not the stored ones
    changed = dict(data["a"][rec["id"]], diagnosis="another disease")
    run_a.rows[rec["id"]] = dict(run_a.rows[rec["id"]], parsed=changed)
    review._groundings.clear()
    assert [g.item for g in review.groundings(run_a, rec["id"])["diagnosis"]] == ["another disease"]


def test_default_runs_and_unknown_runs(data, tmp_path):
    from elmtex.review import Review, ReviewError

    # run.name set: the config's one run; it has results, so it is shown
    review = Review(_cfg(data, f"run.name={RUN_A}"))
    assert list(review.runs) == [RUN_A] and review.run(RUN_A).results_dir is not None
    with pytest.raises(ReviewError, match="No cache for run 'nope'"):
        Review(_cfg(data), ["nope"])
    with pytest.raises(ReviewError, match="No runs to show"):
        Review(_cfg(data, f"run.cache_dir={tmp_path}"))
    with pytest.raises(KeyError, match="No record 'x'"):
        review.record("x")
