"""The explorer's web application (Starlette): its page, its assets and a small JSON API.

Only the routes below exist: the page and its three packaged assets (read once from the
package, so no request can name a file on disk), and the API. Every parameter is validated by
:class:`~riskmodel.explore.state.Explorer` before any computation, and every refusal is a JSON
``{"error": "..."}`` with a 4xx status — never a traceback. Requests must name this server as
their host (no DNS rebinding), API writes must be JSON from the page's own origin, and bodies
are limited to :data:`MAX_BODY` bytes.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Awaitable, Callable
from importlib.resources import files
from typing import Any

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from riskmodel.explore.export import report_payload, write_deal_report, write_deal_scenario
from riskmodel.explore.jobs import Job, JobRunner
from riskmodel.explore.levers import DEFAULT_MAP_GRID, DEFAULT_TARGET, levers, winset_map
from riskmodel.explore.state import DealError, Explorer

__all__ = ["MAX_BODY", "create_app", "json_safe"]

MAX_BODY = 16 * 1024
"""Largest request body accepted (bytes): a deal with its name is a few hundred."""
ALLOWED_HOSTS = ("127.0.0.1", "localhost")
ASSETS = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/explorer.js": ("explorer.js", "text/javascript; charset=utf-8"),
    "/static/explorer.css": ("explorer.css", "text/css; charset=utf-8"),
}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
log = logging.getLogger("riskmodel.explore")
Endpoint = Callable[[Request], Awaitable[Response]]


def _error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=SECURITY_HEADERS)


def json_safe(payload: Any) -> Any:
    """The payload with every NaN or infinity as null: JSON has neither."""
    if isinstance(payload, float):
        return payload if math.isfinite(payload) else None
    if isinstance(payload, dict):
        return {key: json_safe(value) for key, value in payload.items()}
    if isinstance(payload, list | tuple):
        return [json_safe(value) for value in payload]
    return payload


def _json(payload: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(json_safe(payload), status_code=status, headers=SECURITY_HEADERS)


async def _body(request: Request) -> dict[str, Any]:
    """The request's JSON object, read up to :data:`MAX_BODY` bytes."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise DealError("expected a JSON body (Content-Type: application/json)", status=415)
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise DealError(f"request body too large (at most {MAX_BODY} bytes)", status=413)
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BODY:
            raise DealError(f"request body too large (at most {MAX_BODY} bytes)", status=413)
    try:
        parsed = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DealError(f"malformed JSON body: {exc}") from None
    if not isinstance(parsed, dict):
        raise DealError("expected a JSON object")
    return parsed


def _only(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise DealError(f"unknown field '{unknown[0]:.40}'; expected: {', '.join(sorted(allowed))}")


def _target(raw: object) -> float:
    if raw is None:
        return DEFAULT_TARGET
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0.0 < float(raw) <= 1.0:
        raise DealError("target: expected a probability in (0, 1]")
    return float(raw)


def create_app(explorer: Explorer) -> Starlette:
    """The explorer's ASGI application for sampled worlds (serve it with uvicorn on 127.0.0.1)."""
    runner = JobRunner()
    package = files("riskmodel.explore") / "static"
    assets = {route: (package.joinpath(name).read_bytes(), kind) for route, (name, kind) in ASSETS.items()}

    async def asset(request: Request) -> Response:
        content, kind = assets[request.url.path]
        return Response(content, media_type=kind, headers=SECURITY_HEADERS)

    async def config(request: Request) -> Response:
        return _json(explorer.config())

    async def evaluate(request: Request) -> Response:
        query = request.query_params
        repeated = next((key for key in query if len(query.getlist(key)) > 1), None)
        if repeated is not None:
            raise DealError(f"{repeated:.40}: given more than once")
        deal = explorer.parse_deal(dict(query))
        return _json(await run_in_threadpool(explorer.evaluate, deal))

    async def winset(request: Request) -> Response:
        body = await _body(request)
        _only(body, {"x", "y", "base"})
        x, y = body.get("x"), body.get("y")
        explorer.issue_index(x, "x")
        explorer.issue_index(y, "y")
        if x == y:
            raise DealError("x and y must name two different issues")
        base = body.get("base") or explorer.layout.deals[0]
        explorer.named_deal(base)

        def work(job: Job) -> dict[str, Any]:
            job.step(f"Win-set map of {x} × {y} ({DEFAULT_MAP_GRID}×{DEFAULT_MAP_GRID} deals, every world)")
            return winset_map(explorer.simulation, x=str(x), y=str(y), base=str(base))

        return _json(runner.submit("map", ("map", x, y, base), work).view(), status=202)

    async def lever(request: Request) -> Response:
        body = await _body(request)
        _only(body, {"values", "target"})
        deal = explorer.parse_deal(body.get("values"))  # type: ignore[arg-type]
        target = _target(body.get("target"))

        def work(job: Job) -> dict[str, Any]:
            job.step("Shifting each constituency ±1 prior SD (common random numbers)")
            return levers(explorer.simulation, deal, target=target, progress=job.progress)

        key = ("levers", tuple(deal.tolist()), target)
        return _json(runner.submit("levers", key, work, supersede=True).view(), status=202)

    async def save(request: Request) -> Response:
        body = await _body(request)
        _only(body, {"name", "label", "values"})
        deal = explorer.parse_deal(body.get("values"))  # type: ignore[arg-type]
        path, _ = await run_in_threadpool(
            write_deal_scenario, explorer, body.get("name"), body.get("label"), deal
        )
        return _json({"scenario": str(path), "deal": body.get("name")}, status=201)

    async def report(request: Request) -> Response:
        body = await _body(request)
        _only(body, {"name", "label", "values"})
        deal = explorer.parse_deal(body.get("values"))  # type: ignore[arg-type]
        name, label = body.get("name"), body.get("label")

        def work(job: Job) -> dict[str, Any]:
            job.step("Writing the scenario file")
            return report_payload(write_deal_report(explorer, name, label, np.asarray(deal), step=job.step))

        return _json(runner.submit("report", None, work).view(), status=202)

    async def job(request: Request) -> Response:
        found = runner.get(str(request.path_params["job_id"]))
        if found is None:
            raise DealError("unknown job (finished jobs are forgotten after a while)", status=404)
        return _json(found.view())

    routes = [Route(path, asset, methods=["GET"]) for path in ASSETS]
    routes += [
        Route("/api/config", config, methods=["GET"]),
        Route("/api/evaluate", evaluate, methods=["GET"]),
        Route("/api/map", winset, methods=["POST"]),
        Route("/api/levers", lever, methods=["POST"]),
        Route("/api/save", save, methods=["POST"]),
        Route("/api/report", report, methods=["POST"]),
        Route("/api/jobs/{job_id:str}", job, methods=["GET"]),
    ]

    async def refused(request: Request, exc: Exception) -> Response:
        if isinstance(exc, DealError):
            return _error(str(exc), exc.status)
        if isinstance(exc, HTTPException):
            message = {404: "not found", 405: "method not allowed"}.get(exc.status_code, str(exc.detail))
            return _error(f"{message}: {request.method} {request.url.path[:100]}", exc.status_code)
        log.exception("request %s %s failed", request.method, request.url.path)
        return _error("internal error (see the server's log)", 500)

    async def guard(request: Request, call_next: Endpoint) -> Response:
        host = (request.headers.get("host") or "").rsplit(":", 1)[0]
        if host not in ALLOWED_HOSTS:
            return _error(f"refused: this server answers only to {' or '.join(ALLOWED_HOSTS)}", 400)
        origin = request.headers.get("origin")
        if origin is not None and origin.split("://", 1)[-1].rsplit(":", 1)[0] not in ALLOWED_HOSTS:
            return _error("refused: cross-origin request", 403)
        return await call_next(request)

    return Starlette(
        routes=routes,
        exception_handlers={DealError: refused, HTTPException: refused, Exception: refused},
        middleware=[Middleware(BaseHTTPMiddleware, dispatch=guard)],
    )
