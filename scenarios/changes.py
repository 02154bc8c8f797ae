"""Change a twin's plain data by dotted path: set values, add and remove whole items.

Paths walk mappings by key and lists by item `name` (`resources.clerk.capacity`), or by
position for unnamed items (`resources.nurse.shifts.0.capacity`). Everything here works on
a deep copy of canonical plain data (`twin.loader.twin_to_data`), so the result
re-validates through `twin.loader.parse_twin`. Order: remove, then add, then set.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

Problem = tuple[str, str]


class PathError(ValueError):
    """A path does not lead to a value; the message says where it stopped."""


def _step(node: Any, key: str, walked: str) -> Any:
    if isinstance(node, dict):
        if key not in node:
            fields = ", ".join(map(str, node))
            raise PathError(f"{walked or 'the twin'} has no field '{key}' (fields: {fields})")
        return node[key]
    if isinstance(node, list):
        return node[_index(node, key, walked)]
    raise PathError(f"{walked} is a value ({node!r}), not a mapping: it has no field '{key}'")


def _index(items: list[Any], key: str | int, walked: str) -> int:
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("name") == key:
            return i
    if isinstance(key, int) or re.fullmatch(r"\d+", key):
        i = int(key)
        if i < len(items):
            return i
        raise PathError(f"{walked} has {len(items)} item(s); there is no item {i}")
    names = [str(item.get("name")) for item in items if isinstance(item, dict) and "name" in item]
    have = f" (have: {', '.join(names)})" if names else ""
    raise PathError(f"{walked} has no item named '{key}'{have}")


def walk(data: Any, path: str) -> Any:
    """The value at `path`."""
    node, walked = data, ""
    for key in path.split("."):
        node = _step(node, key, walked)
        walked = f"{walked}.{key}" if walked else key
    return node


def set_value(data: dict[str, Any], path: str, value: Any) -> None:
    """Set the value at `path`; the last key of a mapping may be new (e.g. `failures`)."""
    head, _, last = path.rpartition(".")
    parent = walk(data, head) if head else data
    if isinstance(parent, list):
        parent[_index(parent, last, head)] = value
    elif isinstance(parent, dict):
        parent[last] = value
    else:
        raise PathError(f"{head} is a value ({parent!r}), not a mapping: set '{head}' as a whole instead")


def add_items(data: dict[str, Any], path: str, items: Sequence[Any]) -> None:
    target = walk(data, path)
    if not isinstance(target, list):
        raise PathError(f"{path} is not a list, so items cannot be added to it")
    target.extend(copy.deepcopy(list(items)))


def remove_items(data: dict[str, Any], path: str, keys: Sequence[str | int]) -> None:
    """Remove list items (by name or position) or mapping keys."""
    target = walk(data, path)
    if isinstance(target, dict):
        for key in keys:
            if key not in target:
                raise PathError(f"{path} has no field '{key}'")
            del target[key]
    elif isinstance(target, list):
        doomed = {_index(target, key, path) for key in keys}
        target[:] = [item for i, item in enumerate(target) if i not in doomed]
    else:
        raise PathError(f"{path} is a value, not a list or mapping to remove from")


def apply(
    data: Mapping[str, Any],
    changes: Mapping[str, Any],
    add: Mapping[str, Sequence[Any]] | None = None,
    remove: Mapping[str, Sequence[str | int]] | None = None,
) -> tuple[dict[str, Any], list[Problem]]:
    """A changed deep copy of `data`, and every problem as (scenario field, reason)."""
    out = copy.deepcopy(dict(data))
    problems: list[Problem] = []
    edits: list[tuple[str, str, Any, Callable[[dict[str, Any], str, Any], None]]]
    edits = [("remove", p, v, remove_items) for p, v in (remove or {}).items()]
    edits += [("add", p, v, add_items) for p, v in (add or {}).items()]
    edits += [("changes", p, v, set_value) for p, v in changes.items()]
    for field, path, value, edit in edits:
        try:
            edit(out, path, value)
        except PathError as error:
            problems.append((f"{field}.{path}", str(error)))
    return out, problems


def blame(
    problems: Sequence[Problem],
    changes: Mapping[str, Any],
    add: Mapping[str, Sequence[Any]] | None = None,
    remove: Mapping[str, Any] | None = None,
) -> list[Problem]:
    """Name the scenario field behind each problem the changed twin has ('resources[x].capacity').

    A problem no single edit explains (a cross-field check) keeps its twin path and lists
    the scenario's edits: 'warmup (after this scenario's changes: horizon)'.
    """
    edited = [*changes, *(f"add.{p}" for p in add or {}), *(f"remove.{p}" for p in remove or {})]
    return [(_culprit(path, changes, add or {}, edited), reason) for path, reason in problems]


def _culprit(twin_path: str, changes: Mapping[str, Any], add: Mapping[str, Sequence[Any]],
             edited: list[str]) -> str:
    dotted = re.sub(r"\[([^\]]*)\]", r".\1", twin_path).lstrip(".")
    for path in changes:
        if dotted == path or dotted.startswith(path + ".") or path.startswith(dotted + "."):
            return f"changes.{path}"
    for path, items in add.items():
        for item in items:
            name = item.get("name") if isinstance(item, dict) else None
            if name is not None and dotted.startswith(f"{path}.{name}"):
                return f"add.{path}[{name}]{dotted[len(path) + len(str(name)) + 1:]}"
    return f"{twin_path or '(twin)'} (after this scenario's changes: {', '.join(edited)})"
