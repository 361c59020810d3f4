"""The retriever's HTTP service (icl_retriever_app.py): a Flask app in front of a
`Retriever` (elmtex/retrieval.py), served by waitress.

    GET  /health     -> the languages, model and index settings (Retriever.health)
    POST /retrieve   {"report", "k", "lang", "exclude_ids"} -> in-context examples
    POST /passages   {"query", "k", "rerank_to"} -> passages for retrieval-augmented prompts

Request bodies are checked strictly (unknown keys are refused); every error is JSON
{"error": message}.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterable
from typing import Any

from elmtex.guards import text_problem
from elmtex.retrieval import RequestError, Retriever, RetrieverError

REQUEST_KEYS = {"report", "k", "lang", "exclude_ids"}
PASSAGE_REQUEST_KEYS = {"query", "k", "rerank_to"}


# --- HTTP --------------------------------------------------------------------------------------


def parse_request(
    payload: Any, langs: Iterable[str], max_k: int
) -> tuple[str, int, str, list[str]]:
    """(report, k, lang, exclude_ids) from a decoded request body, or a RequestError that says
    what is wrong. Unknown keys are refused: a misspelt 'exclude_ids' would otherwise
    silently let the query retrieve itself."""
    if not isinstance(payload, dict):
        raise RequestError(f"the body must be a JSON object, got {_json_type(payload)}")
    unknown = sorted(set(payload) - REQUEST_KEYS)
    if unknown:
        raise RequestError(f"unknown key(s) {unknown}; allowed: {sorted(REQUEST_KEYS)}")
    for key in ("report", "k", "lang"):
        if key not in payload:
            raise RequestError(f"'{key}' is missing")
    report, k, lang = payload["report"], payload["k"], payload["lang"]
    if not isinstance(report, str):
        raise RequestError(f"'report' must be a string, got {_json_type(report)}")
    if not report.strip():
        raise RequestError("'report' is empty")
    if why := text_problem(report):  # a lone surrogate would crash the tokenizer: a 500
        raise RequestError(f"'report' holds {why}")
    if not isinstance(k, int) or isinstance(k, bool):
        raise RequestError(f"'k' must be an integer, got {_json_type(k)}")
    if not 1 <= k <= max_k:
        raise RequestError(f"'k' must be between 1 and {max_k}, got {k}")
    if not isinstance(lang, str):
        raise RequestError(f"'lang' must be a string, got {_json_type(lang)}")
    langs = list(langs)
    if lang not in langs:
        raise RequestError(f"unknown language {lang!r}; this service has {langs}")
    exclude = payload.get("exclude_ids")
    if exclude is None:
        exclude = []
    if not isinstance(exclude, list) or not all(isinstance(x, str) for x in exclude):
        raise RequestError("'exclude_ids' must be a list of strings")
    return report, k, lang, exclude


def parse_passage_request(payload: Any, max_k: int) -> tuple[str, int, int | None]:
    """(query, k, rerank_to) from a decoded /passages request body, or a RequestError."""
    if not isinstance(payload, dict):
        raise RequestError(f"the body must be a JSON object, got {_json_type(payload)}")
    unknown = sorted(set(payload) - PASSAGE_REQUEST_KEYS)
    if unknown:
        raise RequestError(f"unknown key(s) {unknown}; allowed: {sorted(PASSAGE_REQUEST_KEYS)}")
    for key in ("query", "k"):
        if key not in payload:
            raise RequestError(f"'{key}' is missing")
    query, k, rerank_to = payload["query"], payload["k"], payload.get("rerank_to")
    if not isinstance(query, str) or not query.strip():
        raise RequestError("'query' must be a non-empty string")
    if why := text_problem(query):
        raise RequestError(f"'query' holds {why}")
    for name, value in (("k", k), ("rerank_to", rerank_to)):
        if value is None and name == "rerank_to":
            continue
        if not isinstance(value, int) or isinstance(value, bool):
            raise RequestError(f"'{name}' must be an integer, got {_json_type(value)}")
    if not 1 <= k <= max_k:
        raise RequestError(f"'k' must be between 1 and {max_k}, got {k}")
    if rerank_to is not None and not 1 <= rerank_to <= k:
        raise RequestError(f"'rerank_to' must be between 1 and k ({k}), got {rerank_to}")
    return query, k, rerank_to


def _json_type(value: Any) -> str:
    names = {
        dict: "object",
        list: "array",
        str: "string",
        bool: "boolean",
        int: "integer",
        float: "number",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)


def create_app(
    retriever: Retriever,
    max_k: int,
    max_body_bytes: int,
    torch_threads: int | None = 1,
    host: str = "127.0.0.1",
):
    """The Flask app: GET /health, POST /retrieve, POST /passages; every error is JSON
    {"error": message}.

    Thread settings for serving one query at a time: on busy cores an OpenMP team waits for
    its slowest thread at every operation, so single-query work runs faster on one thread.
    Measured on 2 cores: a 60k flat FAISS search took 24 ms with 2 threads and 6 ms with 1;
    with an LLM busy on the same cores, a MiniLM query embedding took 920 ms with 2 torch
    threads and 100 ms with 1."""
    import faiss
    import torch
    from flask import Flask, Response, request
    from werkzeug.exceptions import HTTPException

    from elmtex.guards import install_host_check

    faiss.omp_set_num_threads(1)
    if torch_threads is not None:
        torch.set_num_threads(torch_threads)

    app = Flask("icl_retriever", static_folder=None)  # no files served from the start folder
    install_host_check(app, host)  # Host must name the served address (DNS rebinding)
    app.config["MAX_CONTENT_LENGTH"] = max_body_bytes  # larger bodies: 413 before parsing
    app.json.sort_keys = False  # keep the task's field order in the summaries
    app.json.ensure_ascii = False

    def error(status: int, message: str) -> Response:
        return Response(
            json.dumps({"error": message}, ensure_ascii=False),
            status=status,
            mimetype="application/json",
        )

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        resp = e.get_response()  # keeps headers such as Allow on a 405
        resp.set_data(json.dumps({"error": f"{e.code} {e.name}: {e.description}"}))
        resp.mimetype = "application/json"
        return resp

    @app.errorhandler(Exception)
    def internal_error(e: Exception):
        app.logger.exception("error while handling %s %s", request.method, request.path)
        return error(500, f"internal error: {type(e).__name__}: {e}")

    @app.get("/health")
    def health():
        return retriever.health()

    def json_body() -> Any:
        """The request's JSON body; a body that is no JSON is a RequestError (a 400)."""
        body = request.get_data(cache=False)  # raises the 413 for a too-large body
        try:
            return json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise RequestError(f"the body is not valid JSON: {e}") from None

    @app.post("/passages")
    def passages():
        try:
            query, k, rerank_to = parse_passage_request(json_body(), max_k)
            result = retriever.retrieve_passages(query, k, rerank_to)
        except RequestError as e:
            return error(400, str(e))
        return app.json.response(result)

    @app.post("/retrieve")
    def retrieve():
        t0 = time.perf_counter()
        try:
            report, k, lang, exclude = parse_request(json_body(), retriever.indexes, max_k)
        except RequestError as e:
            return error(400, str(e))
        result = retriever.retrieve(report, k, lang, exclude)
        t = result["timing"]
        # The handler's time up to the response body (parsing, waiting, embedding, search).
        t["total_ms"] = round((time.perf_counter() - t0) * 1000, 3)
        resp = app.json.response(result)
        resp.headers["Server-Timing"] = ", ".join(
            f"{name};dur={t[name + '_ms']}" for name in ("embed", "queue", "search", "total")
        )
        return resp

    return app


def serve(app, host: str, port: int, threads: int) -> None:
    """Serve with waitress until SIGTERM or SIGINT, then finish in-flight requests and return.

    waitress's run loop treats SystemExit/KeyboardInterrupt as "shut down", so the SIGTERM
    handler raises SystemExit in the main thread."""
    from waitress import create_server

    try:
        server = create_server(app, host=host, port=port, threads=threads, ident="icl-retriever")
    except OSError as e:
        raise RetrieverError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    print(f"serving on http://{host}:{server.effective_port}", flush=True)
    try:
        server.run()  # returns after the dispatcher shut down on SystemExit/KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    print("stopped", flush=True)
