"""Share links: a study's report opened in a browser without a key, until the link expires
or an editor revokes it.

A link is `/shared/TOKEN`, TOKEN = `ID.EXPIRES.SIGNATURE`: the link's id, its expiry (Unix
seconds) and an HMAC-SHA256 of id, study and expiry under a secret of this server, kept in
`TWIN_HOME/share.key` (made on first use, readable by the server's user only). A forged or
altered token fails the HMAC; an expired one fails its date; a revoked one its record. Each
link's record (study, expiry, who made it, revoked when) is a small JSON file in
`TWIN_HOME/shares/`, so links need no database table: any server sharing TWIN_HOME (and so
the studies) honours them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from service.errors import NotFound
from service.settings import Settings

ID = re.compile(r"[0-9a-f]{32}")


class Gone(Exception):
    """The link was real but has expired or been revoked -> 410; `link` says which."""

    def __init__(self, reason: str, link: Link) -> None:
        super().__init__(reason)
        self.link = link


@dataclass
class Link:
    id: str
    study_id: str
    expires: int  # Unix seconds
    created_at: str
    created_by: str  # the editor key's id
    revoked_at: str | None = None

    @property
    def expires_at(self) -> datetime:
        return datetime.fromtimestamp(self.expires, UTC)


def secret(settings: Settings) -> bytes:
    """The server's signing key, made once (32 random bytes, mode 0600; first writer wins)."""
    path = settings.home / "share.key"
    if not path.exists():
        settings.home.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another server process made it just now
        else:
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


def signature(settings: Settings, link_id: str, study_id: str, expires: int) -> str:
    mac = hmac.new(secret(settings), f"{link_id}.{study_id}.{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def create(settings: Settings, study_id: str, hours: float, key_id: str) -> tuple[Link, str]:
    """A new link to the study's report, valid for `hours`; (its record, its token)."""
    now = datetime.now(UTC)
    expires = int((now + timedelta(hours=hours)).timestamp())
    link = Link(id=secrets.token_hex(16), study_id=study_id, expires=expires, created_at=now.isoformat(),
                created_by=key_id)
    _save(settings, link)
    return link, f"{link.id}.{link.expires}.{signature(settings, link.id, study_id, link.expires)}"


def verify(settings: Settings, token: str) -> Link:
    """The live link a token stands for: NotFound when it is not one of ours (forged, altered,
    unknown), Gone when it has expired or been revoked."""
    parts = token.split(".")
    if len(parts) != 3 or not ID.fullmatch(parts[0]) or not re.fullmatch(r"[0-9]{1,12}", parts[1]):
        raise NotFound("no such link")
    link = load(settings, parts[0])
    expected = signature(settings, link.id, link.study_id, link.expires)
    if int(parts[1]) != link.expires or not hmac.compare_digest(expected, parts[2]):
        raise NotFound("no such link")
    if link.revoked_at is not None:
        raise Gone(f"this link was revoked at {link.revoked_at}", link)
    if datetime.now(UTC) >= link.expires_at:
        raise Gone(f"this link expired at {link.expires_at.isoformat()}", link)
    return link


def revoke(settings: Settings, study_id: str, link_id: str) -> Link:
    link = load(settings, link_id)
    if link.study_id != study_id:
        raise NotFound(f"study '{study_id}' has no link '{link_id}'")
    if link.revoked_at is None:
        link.revoked_at = datetime.now(UTC).isoformat()
        _save(settings, link)
    return link


def listing(settings: Settings, study_id: str) -> list[Link]:
    links = (_read(path) for path in _folder(settings).glob("*.json"))
    return sorted((x for x in links if x is not None and x.study_id == study_id), key=lambda x: x.created_at)


def load(settings: Settings, link_id: str) -> Link:
    link = _read(_folder(settings) / f"{link_id}.json") if ID.fullmatch(link_id) else None
    if link is None:
        raise NotFound(f"no link '{link_id}'")
    return link


def _folder(settings: Settings) -> Path:
    return settings.home / "shares"


def _read(path: Path) -> Link | None:
    try:
        return Link(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _save(settings: Settings, link: Link) -> None:
    folder = _folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{link.id}.{os.getpid()}.partial"
    partial.write_text(json.dumps(asdict(link)))
    os.replace(partial, folder / f"{link.id}.json")  # a reader sees the old record or the new, whole
