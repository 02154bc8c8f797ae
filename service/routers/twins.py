"""Twin routes: create (JSON or YAML text, or a YAML file upload), validate, get, list, delete."""

from __future__ import annotations

from typing import Annotated

import yaml
from fastapi import APIRouter, Query, Response, UploadFile, status
from fastapi.concurrency import run_in_threadpool

from service import paths, quotas, studies, twins
from service.db import transaction
from service.deps import Db, Editor, SettingsDep, Viewer
from service.errors import Invalid, TooLarge
from service.schemas import TwinCreate, TwinDetail, TwinPaths, TwinPublic, Validation

router = APIRouter(prefix="/twins", tags=["twins"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_twin(body: TwinCreate, db: Db, settings: SettingsDep, key: Editor) -> TwinPublic:
    """Store a twin given as plain data (`spec`) or YAML text (`yaml`)."""
    twin = twins.parse(body)
    with transaction(db) as session:
        quotas.admit_bytes(session, settings, key, quotas.spec_bytes(twins.data(twin)))
        return twins.public(twins.create(session, twin, key.id, key.workspace))


@router.post("/upload", status_code=status.HTTP_201_CREATED)
async def upload_twin(file: UploadFile, db: Db, settings: SettingsDep, key: Editor) -> TwinPublic:
    """Store a twin from an uploaded YAML file (at most `max_upload_bytes`)."""
    data = await file.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise TooLarge(f"file exceeds the limit max_upload_bytes = {settings.max_upload_bytes} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid([("file", "not UTF-8 text")]) from None
    return await run_in_threadpool(create_twin, TwinCreate(yaml=text), db, settings, key)


@router.post("/validate")
def validate_twin(body: TwinCreate, _: Viewer) -> Validation:
    """Check a twin without storing it: 200 when valid, else 422 naming every field."""
    return twins.validation(twins.parse(body))


@router.get("")
def list_twins(
    db: Db,
    key: Viewer,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> list[TwinPublic]:
    with transaction(db) as session:
        return [twins.public(row) for row in twins.listing(session, key.workspace, limit, offset)]


@router.get("/{twin_id}")
def get_twin(twin_id: str, db: Db, key: Viewer) -> TwinDetail:
    with transaction(db) as session:
        row = twins.get(session, twin_id, key.workspace)
        return TwinDetail(**twins.public(row).model_dump(), spec=row.spec)


@router.get("/{twin_id}/yaml", responses={200: {"content": {"application/yaml": {}}}})
def twin_yaml(twin_id: str, db: Db, key: Viewer) -> Response:
    """The stored spec as YAML text (to edit and save as a new twin)."""
    with transaction(db) as session:
        spec = twins.get(session, twin_id, key.workspace).spec
    return Response(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), media_type="application/yaml")


@router.get("/{twin_id}/paths")
def twin_paths(
    twin_id: str,
    db: Db,
    key: Viewer,
    prefix: Annotated[
        str | None, Query(max_length=300, pattern=r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$")
    ] = None,
) -> TwinPaths:
    """Every dotted spec path a scenario can change (`resources.nurse.capacity`) with its
    current value and type, under `prefix` when given; and every KPI targets can name."""
    with transaction(db) as session:
        spec = twins.get(session, twin_id, key.workspace).spec
    return paths.twin_paths(spec, prefix)


@router.delete("/{twin_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_twin(twin_id: str, db: Db, settings: SettingsDep, key: Editor) -> Response:
    """Delete a twin and its finished studies (409 while one is queued or running)."""
    with transaction(db) as session:
        removed = twins.delete(session, twin_id, key.workspace)
    for study in removed:
        studies.remove_folder(settings, study)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
