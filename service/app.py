"""The FastAPI app: `create_app(settings)` wires storage, jobs, routers and the dashboard."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import text

from service import dashboard, figures
from service.db import make_engine, migrate, sessions
from service.errors import Busy, Conflict, Invalid, NotFound, TooLarge
from service.jobs import Dispatcher
from service.limits import BodyLimit
from service.quotas import RateLimit
from service.routers import calibrations, keys, studies, twins
from service.schemas import Health
from service.settings import Settings
from service.uploads import Checks
from twin.runner import twin_version

DESCRIPTION = """Digital twins of operations as a shared service: store twins, run studies
(scenarios x replications with common random numbers) as background jobs, read their
summaries, per-replication tables, figures and reports; calibrate twins from uploaded CSV
event logs (a job that stores the twin and a calibration report).

Every endpoint except `/health`, `/openapi.json`, `/docs` and the dashboard page needs an
API key: `Authorization: Bearer KEY` (`twin keys create --role viewer|editor|admin`)."""


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

    app = FastAPI(title="twin", version=twin_version(), description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.upload_checks = Checks(settings.max_upload_checks, settings.upload_check_seconds)
    app.state.rate_limit = RateLimit(settings.rate_per_minute)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, upload_limit=settings.max_upload_bytes)
    for router in (twins.router, studies.router, calibrations.router, keys.router, dashboard.router):
        app.include_router(router)
    _handlers(app)

    @app.get("/health", tags=["health"])
    def health(request: Request) -> Health:
        """Public: is the service up and its database reachable."""
        try:
            with request.app.state.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            database = "ok"
        except Exception as error:
            database = f"error: {type(error).__name__}"
        return Health(
            status="ok" if database == "ok" else "degraded",
            database=database,
            version=twin_version(),
            viz=figures.available(),
        )

    return app


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

    for kind, code in ((NotFound, 404), (Conflict, 409), (TooLarge, 413), (Busy, 429)):
        app.add_exception_handler(kind, _simple(code))


def _plain(item: dict[str, object]) -> dict[str, object]:
    """A validation error item without its non-JSON parts (the exception in `ctx`)."""
    return {k: v for k, v in item.items() if k in ("loc", "msg", "type")}


def _simple(code: int):  # type: ignore[no-untyped-def]
    async def handler(_: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=code)

    return handler
