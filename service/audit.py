"""The audit trail: who changed what through the API, and when.

Every write (POST, PUT, PATCH, DELETE) that a key makes and that succeeds (2xx) is recorded
after its answer: the key (id, name, role), its workspace, the action (`create`, `delete`,
`change`, or the verb the path ends in: `cancel`, `retry`, `revoke`, ...), the kind of
object and its id (from the path, or the created object's `id` in the answer), method,
path and status. Checks that change nothing (`/twins/validate`) are not changes. Runs of
jobs are in `job_runs` (service.leases); `GET /audit` lists both, newest first, for admins.
The trail is its own table: deleting a twin or a study keeps what was done to it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import anyio
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.db import transaction
from service.models import ApiKey, AuditRow, JobRun, now

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
NOT_CHANGES = {"validate"}  # POST routes that only check
BODY_LIMIT = 65_536  # bytes of an answer read for the id of what it created


class AuditTrail:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITES:
            await self.app(scope, receive, send)
            return
        answer: dict[str, Any] = {"status": 0, "body": b""}

        async def keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            elif message["type"] == "http.response.body" and len(answer["body"]) < BODY_LIMIT:
                answer["body"] += message.get("body", b"")
            await send(message)

        await self.app(scope, receive, keep)
        key = scope.get("state", {}).get("key")
        if key is None or not 200 <= answer["status"] < 300:
            return
        entry = entry_of(key, scope["method"], str(scope["path"]), answer["status"], answer["body"])
        if entry is not None:
            factory = scope["app"].state.sessions
            await anyio.to_thread.run_sync(record, factory, entry)


def entry_of(key: ApiKey, method: str, path: str, status: int, body: bytes) -> AuditRow | None:
    """The audit row of a successful write, or None for a check that changes nothing."""
    parts = [p for p in path.split("/") if p]
    if not parts or parts[-1] in NOT_CHANGES:
        return None
    kind = parts[0]
    target = parts[1] if len(parts) > 1 else _created_id(body)
    if method == "DELETE":
        action = "delete"
    elif method in ("PUT", "PATCH"):
        action = "change"
    elif len(parts) > 2:
        action = parts[-1]  # cancel, retry, revoke, share, ...
    else:
        action = "create"
    return AuditRow(at=now(), key_id=key.id, key_name=key.name, role=key.role, workspace=key.workspace,
                    action=action, kind=kind, target=target, method=method, path=path[:500], status=status)


def _created_id(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    value = data.get("id") if isinstance(data, dict) else None
    return str(value)[:64] if value is not None else None


def record(factory: sessionmaker[Session], entry: AuditRow) -> None:
    with transaction(factory) as session:
        session.add(entry)


def entries(session: Session, workspace: str | None, key_id: str | None, target: str | None,
            limit: int) -> list[dict[str, Any]]:
    """The trail, newest first: changes by keys, and job runs (actor: the server that ran them)."""
    query = select(AuditRow).order_by(AuditRow.at.desc(), AuditRow.id.desc()).limit(limit)
    if workspace is not None:
        query = query.where(AuditRow.workspace == workspace)
    if key_id is not None:
        query = query.where(AuditRow.key_id == key_id)
    if target is not None:
        query = query.where(AuditRow.target == target)
    rows: list[tuple[datetime, dict[str, Any]]] = [
        (r.at, {"at": r.at, "actor": f"key {r.key_id}", "key_id": r.key_id, "key_name": r.key_name,
                "role": r.role, "workspace": r.workspace, "action": r.action, "kind": r.kind,
                "target": r.target, "method": r.method, "path": r.path, "status": r.status})
        for r in session.scalars(query)]
    if key_id is None and workspace is None:  # runs belong to no key and no workspace
        runs = select(JobRun).order_by(JobRun.started_at.desc()).limit(limit)
        if target is not None:
            runs = runs.where(JobRun.job_id == target)
        rows += [(run.started_at, {"at": run.started_at, "actor": f"server {run.server}", "action": "run",
                                   "kind": run.kind, "target": run.job_id, "outcome": run.outcome,
                                   "ended_at": run.ended_at})
                 for run in session.scalars(runs)]
    rows.sort(key=lambda pair: pair[0], reverse=True)
    return [entry for _, entry in rows[:limit]]
