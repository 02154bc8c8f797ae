"""Read and write twin specs as YAML (safe loader only)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from twin.errors import SpecError
from twin.spec import Twin


def parse_twin(data: Any, source: str = "") -> Twin:
    """Validate plain data (as read from YAML or JSON) into a Twin, or raise SpecError."""
    if not isinstance(data, dict):
        raise SpecError([("", "a twin spec must be a mapping of fields")], source)
    try:
        return Twin.model_validate(data)
    except ValidationError as error:
        from twin.problems import collect_problems  # only a spec with errors needs it

        raise SpecError(collect_problems(data, error), source) from None
    except SpecError as error:
        raise SpecError(error.problems, source) from None


MAX_DEPTH = 64  # nesting levels of a YAML document; a twin needs fewer than 10
MAX_NODES = 1_000_000  # nodes of a document with its aliases expanded ("billion laughs")


class _BoundedLoader(yaml.SafeLoader):
    """The safe loader, refusing documents nested deeper than MAX_DEPTH (the composer
    recurses: ~600 levels overflow Python's stack) or larger than MAX_NODES once aliases
    are expanded (a few lines of anchors can stand for billions of nodes)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested deeper than {MAX_DEPTH} levels", self.peek_event().start_mark
                )
            node: Any = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if id(node) not in self._sizes:
            children = node.value if isinstance(node, yaml.SequenceNode) else []
            if isinstance(node, yaml.MappingNode):
                children = [part for pair in node.value for part in pair]
            self._sizes[id(node)] = 1 + sum(self._sizes.get(id(child), 1) for child in children)
        if self._sizes[id(node)] > MAX_NODES:
            raise yaml.composer.ComposerError(
                None, None, f"over {MAX_NODES} nodes with its aliases expanded", node.start_mark
            )
        return node


def safe_yaml(text: str) -> Any:
    """YAML text as plain data: the safe loader within MAX_DEPTH and MAX_NODES."""
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def yaml_problem(error: yaml.YAMLError) -> tuple[str, str]:
    """(where, reason) of a YAML error, for a SpecError."""
    mark = getattr(error, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    return where, f"not valid YAML: {getattr(error, 'problem', error)}"


def read_text(path: Path) -> str:
    """A file's text (UTF-8), or SpecError saying why it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise SpecError([("", f"cannot read file: {error.strerror}")], str(path)) from None
    except UnicodeDecodeError as error:
        bad = error.object[error.start : error.start + 1]
        raise SpecError([("", f"not UTF-8 text (byte {error.start}: {bad!r})")], str(path)) from None


def loads_twin(text: str, source: str = "") -> Twin:
    try:
        data = safe_yaml(text)
    except yaml.YAMLError as error:
        raise SpecError([yaml_problem(error)], source) from None
    return parse_twin(data, source)


def load_twin(path: str | Path) -> Twin:
    path = Path(path)
    return loads_twin(read_text(path), str(path))


def twin_to_data(twin: Twin) -> dict[str, Any]:
    """Plain data that parses back to an equal Twin."""
    return twin.model_dump(mode="json", exclude_none=True)


def dumps_twin(twin: Twin) -> str:
    return yaml.safe_dump(twin_to_data(twin), sort_keys=False, allow_unicode=True)


def spec_sha256(twin: Twin) -> str:
    """Hash of the validated spec, independent of YAML layout and comments."""
    canonical = json.dumps(twin.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
