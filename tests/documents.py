"""The project's documents, for the tests that hold them to the code: README.md (the front door)
and the reference pages under docs/ (the site mkdocs.yml builds)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = (ROOT / "README.md").read_text()


def page(name: str) -> str:
    """The text of one reference page, `docs/NAME`."""
    return (DOCS / name).read_text()


def pages() -> dict[str, str]:
    """Every page under docs/, by its path there (`studies.md`)."""
    return {p.relative_to(DOCS).as_posix(): p.read_text() for p in sorted(DOCS.rglob("*.md"))}


def everything() -> dict[str, str]:
    """README.md and every page, by path from the repository root."""
    return {"README.md": README} | {f"docs/{name}": text for name, text in pages().items()}


def blocks(text: str, language: str) -> list[str]:
    """The fenced code blocks of `language` in `text`."""
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)
