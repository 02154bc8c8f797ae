"""User-facing errors: every problem names the field path and the reason."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError


class SpecError(Exception):
    """A twin (or scenario) spec is invalid; `problems` lists (field path, reason)."""

    def __init__(self, problems: Sequence[tuple[str, str]], source: str = "") -> None:
        self.problems = list(problems)
        self.source = source
        where = f"{source}: " if source else ""
        lines = [f"  {path or '(top level)'}: {reason}" for path, reason in self.problems]
        super().__init__(f"{where}{len(self.problems)} problem(s)\n" + "\n".join(lines))


class DeadlockError(RuntimeError):
    """Blocking after service locked a replication: full activities whose every unit is held
    by work blocked in front of one of them. (Its args are (time, activities): SimPy re-raises
    an exception from a process by calling its type with its args.)"""

    def __init__(self, time: float, activities: Sequence[str]) -> None:
        super().__init__(time, list(activities))

    @property
    def time(self) -> float:
        return float(self.args[0])

    @property
    def activities(self) -> list[str]:
        return list(self.args[1])

    def __str__(self) -> str:
        return (f"deadlock at t = {self.time:g}: {', '.join(self.activities)} are full and every unit "
                "they need is held by work blocked in front of them (when_full: block); give a buffer "
                "more room, or let work renege or be lost")


def field_path(loc: Sequence[str | int], data: Any) -> str:
    """('activities', 0, 'duration') -> 'activities[serve].duration', naming list items."""
    parts: list[str] = []
    node = data
    for key in loc:
        if isinstance(key, int):
            name = node[key].get("name") if _is_named_list_item(node, key) else None
            parts.append(f"[{name}]" if name is not None else f"[{key}]")
        else:
            parts.append(f".{key}" if parts else str(key))
        node = _child(node, key)
    return "".join(parts)


def _is_named_list_item(node: Any, key: int) -> bool:
    return (
        isinstance(node, list) and 0 <= key < len(node)
        and isinstance(node[key], Mapping) and isinstance(node[key].get("name"), str)
    )


def _child(node: Any, key: str | int) -> Any:
    try:
        return node[key]
    except (KeyError, IndexError, TypeError):
        return None


def from_validation_error(error: ValidationError, data: Any, source: str = "") -> SpecError:
    """Translate pydantic's errors into field paths a user recognises."""
    problems = []
    for item in error.errors(include_url=False):
        loc, message = problem_of(item)
        problems.append((field_path(loc, data), message))
    return SpecError(problems, source)


def problem_of(item: Mapping[str, Any]) -> tuple[list[str | int], str]:
    """(where in the data, reason) of one of pydantic's errors."""
    # Drop the union tag pydantic inserts for discriminated unions ('exponential' ...).
    loc = [k for k in item["loc"] if not _is_union_tag(k)]
    if item["type"] == "extra_forbidden":
        return loc, "unknown field"
    return loc, item["msg"].removeprefix("Value error, ")


def _is_union_tag(key: str | int) -> bool:
    from twin.distributions import DIST_NAMES

    return isinstance(key, str) and (key in DIST_NAMES or key.startswith("function-"))
