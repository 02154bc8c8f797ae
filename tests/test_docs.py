"""The reference site (mkdocs.yml, docs/) and the front door (README.md): every page is in the
nav, every link and picture resolves (anchors included), pictures stay small, every `twin`
command shown is a real command with real options, and the site builds with --strict."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import typer
import yaml
from documents import DOCS, README, ROOT, blocks, everything, pages
from markdown.extensions.toc import slugify

from twin.cli import app

CONFIG = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
IMAGE_BYTES, ALL_IMAGES_BYTES = 250_000, 1_500_000


def _nav_pages(entries: list[Any]) -> list[str]:
    found: list[str] = []
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        found += _nav_pages(value) if isinstance(value, list) else [value]
    return found


def _prose(text: str) -> str:
    """`text` without its code: fenced blocks and inline code."""
    return re.sub(r"`[^`\n]*`", "", re.sub(r"```.*?```", "", text, flags=re.S))


def _anchors(text: str) -> set[str]:
    """The ids mkdocs gives the headings of a page (its toc slugs)."""
    headings = re.findall(r"^#{1,6} (.+)$", re.sub(r"```.*?```", "", text, flags=re.S), flags=re.M)
    return {slugify(h.strip(), "-") for h in headings}


def test_every_page_is_in_the_nav_once() -> None:
    listed = _nav_pages(CONFIG["nav"])
    assert len(listed) == len(set(listed))
    assert sorted(listed) == sorted(pages())
    assert CONFIG["validation"]["anchors"] == "warn"  # so that --strict fails on a broken anchor


def test_every_link_and_picture_resolves() -> None:
    for name, text in everything().items():
        here = (ROOT / name).parent
        for target in re.findall(r"\]\(([^)\s]+)\)", _prose(text)):
            if re.match(r"https?://", target):
                continue
            path, _, anchor = target.partition("#")
            file = (here / path).resolve() if path else ROOT / name
            assert file.is_file(), (name, target)
            if name == "README.md":
                assert file.is_relative_to(DOCS), (name, target)  # the front door leads into the docs
            if anchor:
                assert file.suffix == ".md" and anchor in _anchors(file.read_text()), (name, target)


def test_pictures_are_small_pngs_and_each_is_shown() -> None:
    shown = {((ROOT / name).parent / target).resolve()
             for name, text in everything().items()
             for target in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", _prose(text))}
    images = sorted((DOCS / "images").iterdir())
    assert images and set(images) == shown
    readme = re.findall(r"!\[[^\]]*\]\(docs/images/[\w.-]+\.png\)", README)
    assert len(readme) >= 4  # the tour has its pictures
    for image in images:
        assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", image
        assert image.stat().st_size <= IMAGE_BYTES, image
    assert sum(image.stat().st_size for image in images) <= ALL_IMAGES_BYTES


def _twin_commands(text: str) -> list[list[str]]:
    """Each `twin ...` command shown in `text` (bash blocks, `$ ` sessions, inline code) as its
    words from the subcommand on, up to the end of the command."""
    code = [*blocks(text, "bash"), *[b for b in blocks(text, "text") if b.startswith("$ ")],
            *re.findall(r"`(twin [^`]+)`", re.sub(r"```.*?```", "", text, flags=re.S))]
    commands = []
    for piece in code:
        for line in piece.replace("\\\n", " ").splitlines():
            words = re.sub(r"(^|\s)#.*", "", line).split()
            for i, word in enumerate(words):
                if word == "twin" or word.endswith("/twin"):
                    rest = words[i + 1:]
                    end = next((j for j, w in enumerate(rest) if w in {"&&", "||", ";", "|"}), len(rest))
                    commands.append(rest[:end])
    return commands


def test_every_twin_command_shown_is_real() -> None:
    group: Any = typer.main.get_command(app)  # typer's own click: groups have `commands`
    seen: set[str] = set()
    for name, text in everything().items():
        for words in _twin_commands(text):
            command = group
            while words and words[0] in getattr(command, "commands", {}):
                command, words = command.commands[words[0]], words[1:]
            assert command is not group or words == ["--help"], (name, words)
            seen.add(command.name or "")
            options = {o for p in command.params for o in [*p.opts, *p.secondary_opts]} | {"--help"}
            for word in words:
                option = word.strip("[]()'\"").split("=")[0]
                if option.startswith("--"):
                    assert option in options, (name, command.name, option)
    assert {"validate", "run", "study", "report", "serve", "forecast", "optimize", "calibrate"} <= seen


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    """`mkdocs build --strict`: a broken link or anchor, or a page left out of the nav, fails it."""
    site = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
                           str(ROOT / "mkdocs.yml"), "--site-dir", str(site)],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert done.returncode == 0, done.stderr
    for name in pages():
        built = site / ("index.html" if name == "index.md" else name.removesuffix(".md") + "/index.html")
        assert built.is_file(), name
    for image in (DOCS / "images").iterdir():
        assert (site / "images" / image.name).is_file()
