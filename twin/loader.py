"""Read and write twin specs as YAML (safe loader only)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from twin.errors import SpecError, from_validation_error
from twin.spec import Twin


def parse_twin(data: Any, source: str = "") -> Twin:
    """Validate plain data (as read from YAML or JSON) into a Twin, or raise SpecError."""
    if not isinstance(data, dict):
        raise SpecError([("", "a twin spec must be a mapping of fields")], source)
    try:
        return Twin.model_validate(data)
    except ValidationError as error:
        raise from_validation_error(error, data, source) from None
    except SpecError as error:
        raise SpecError(error.problems, source) from None


def loads_twin(text: str, source: str = "") -> Twin:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SpecError([(where, f"not valid YAML: {getattr(error, 'problem', error)}")], source) from None
    return parse_twin(data, source)


def load_twin(path: str | Path) -> Twin:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SpecError([("", f"cannot read file: {error.strerror}")], str(path)) from None
    return loads_twin(text, str(path))


def twin_to_data(twin: Twin) -> dict[str, Any]:
    """Plain data that parses back to an equal Twin."""
    return twin.model_dump(mode="json", exclude_none=True)


def dumps_twin(twin: Twin) -> str:
    return yaml.safe_dump(twin_to_data(twin), sort_keys=False, allow_unicode=True)


def spec_sha256(twin: Twin) -> str:
    """Hash of the validated spec, independent of YAML layout and comments."""
    canonical = json.dumps(twin.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
