"""The FastAPI app: `create_app(settings)` wires storage, jobs, routers and the dashboard."""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import BaseRoute

from service import dashboard, figures
from service.audit import AuditTrail
from service.db import make_engine, migrate, sessions
from service.errors import Busy, Conflict, Invalid, NotFound, TooLarge, documented
from service.jobs import Dispatcher
from service.limits import BodyLimit
from service.quotas import RateLimit
from service.routers import audit, calibrations, keys, live, optimizations, sharing, studies, twins
from service.schemas import Health
from service.security import SecurityHeaders
from service.settings import Settings
from service.shares import Gone
from service.uploads import Checks
from twin.runner import twin_version

DESCRIPTION = """Digital twins of operations as a shared service: store twins, run studies
(scenarios x replications with common random numbers) as background jobs, read their
summaries, per-replication tables, figures and reports; calibrate twins from uploaded CSV
event logs (a job that stores the twin and a calibration report); optimise a twin's decisions
against its targets (`twin optimize` as a job: the recommended plan with a stated confidence).

Every endpoint except `/health`, `/openapi.json`, the dashboard page and share links
(`/shared/...`, made by an editor: signed, expiring, revocable) needs an API key:
`Authorization: Bearer KEY` (`twin keys create --role viewer|editor|admin`)."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        dispatcher = start(app, settings)
        try:
            yield
        finally:
            dispatcher.close()
            app.state.engine.dispose()

    # No Swagger UI or ReDoc: both load their scripts from a CDN, on the origin that holds
    # the dashboard's key. /openapi.json is the document; open it in any OpenAPI viewer.
    app = FastAPI(title="twin", version=twin_version(), description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.upload_checks = Checks(settings.max_upload_checks, settings.upload_check_seconds)
    app.state.rate_limit = RateLimit(settings.rate_per_minute)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, upload_limit=settings.max_upload_bytes)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(AuditTrail)
    for router in (twins.router, studies.router, sharing.router, calibrations.router, optimizations.router,
                   keys.router, keys.spaces, audit.router, live.router, dashboard.router):
        _document_errors(router.routes)
        app.include_router(router)
    _handlers(app)

    @app.get("/health", tags=["health"])
    def health(request: Request) -> Health:
        """Public: is the service up, its database reachable and writable, its data folder
        writable, and did the job dispatcher's last pass succeed."""
        database = _probe(lambda: _write_probe(request.app.state.sessions))
        storage = _probe(lambda: _file_probe(settings))
        problem = request.app.state.dispatcher.problem if hasattr(request.app.state, "dispatcher") else None
        jobs = "ok" if problem is None else f"error: {problem}"
        return Health(
            status="ok" if database == storage == jobs == "ok" else "degraded",
            database=database,
            storage=storage,
            jobs=jobs,
            version=twin_version(),
            viz=figures.available(),
        )

    return app


def _probe(check: Callable[[], None]) -> str:
    try:
        check()
    except Exception as error:
        return f"error: {type(error).__name__}: {str(error)[:200]}"
    return "ok"


def _write_probe(factory: sessionmaker[Session]) -> None:
    """A write transaction, rolled back: a read-only or full database fails here."""
    with factory() as session:  # on SQLite the session begins IMMEDIATE: it takes the write lock
        session.execute(text("UPDATE api_keys SET name = name WHERE 1 = 0"))
        session.rollback()


def _file_probe(settings: Settings) -> None:
    """Write and remove a file in each data folder."""
    for folder in (settings.studies_dir, settings.calibrations_dir, settings.optimizations_dir):
        probe = folder / f".probe-{os.getpid()}-{threading.get_ident()}"
        probe.write_bytes(b"ok")
        probe.unlink()


def start(app: FastAPI, settings: Settings) -> Dispatcher:
    """Folders, database (migrated to the newest schema), then the job dispatcher."""
    settings.prepare()
    engine = make_engine(settings.url)
    migrate(engine)
    app.state.engine = engine
    app.state.sessions = sessions(engine)
    app.state.read_sessions = sessions(engine, read_only=True)
    dispatcher = Dispatcher(settings, app.state.sessions)
    dispatcher.start()
    app.state.dispatcher = dispatcher
    return dispatcher


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(Invalid)
    async def invalid(_: Request, error: Invalid) -> JSONResponse:
        detail = [
            {"loc": ["body", *field.split(".", 1)], "field": field, "msg": message, "type": "value_error"}
            for field, message in error.problems
        ]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, error: RequestValidationError) -> JSONResponse:
        detail = [
            {**_plain(item), "field": ".".join(str(p) for p in item["loc"][1:])} for item in error.errors()
        ]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(DBAPIError)
    @app.exception_handler(OSError)
    async def storage(_: Request, error: Exception) -> JSONResponse:
        """The database or the data folder failed (read-only, full, gone): 503 with the reason."""
        reason = f"{type(error).__name__}: {str(error).splitlines()[0][:300] if str(error) else ''}"
        return JSONResponse({"detail": f"storage error: {reason}; retry later"}, status_code=503)

    for kind, code in ((NotFound, 404), (Gone, 410), (Conflict, 409), (TooLarge, 413), (Busy, 429)):
        app.add_exception_handler(kind, _simple(code))


# Routes that answer 409 when the thing is not in a state that allows the call.
CONFLICTS = ("/cancel", "/retry", "/summary", "/results.csv", "/results.parquet", "/figures/", "/report",
             "/shares", "/shared/", "/plan", "/visited.csv")


def _document_errors(routes: list[BaseRoute]) -> None:
    """Every error code a route can answer, in its OpenAPI responses: the key's (401, 403),
    writes' (413 body limit, 429 rate limit and quotas), bad fields and work limits (422),
    unknown ids (404), states (409) and storage errors (503)."""
    for route in routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        codes, methods = {401, 403, 503}, route.methods or set()
        if methods & {"POST", "DELETE"}:
            codes |= {413, 429}
        if route.dependant.path_params:
            codes |= {404}
        if route.dependant.path_params or route.dependant.query_params or route.dependant.body_params:
            codes |= {422}
        deleting = "DELETE" in methods and route.path.startswith(("/twins/", "/optimizations/"))
        if deleting or any(part in route.path for part in CONFLICTS):
            codes |= {409}
        route.responses = {**documented(*sorted(codes)), **route.responses}


def _plain(item: dict[str, object]) -> dict[str, object]:
    """A validation error item without its non-JSON parts (the exception in `ctx`)."""
    return {k: v for k, v in item.items() if k in ("loc", "msg", "type")}


def _simple(code: int):  # type: ignore[no-untyped-def]
    async def handler(_: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=code)

    return handler
