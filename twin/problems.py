"""Every problem of a twin spec in one pass, where pydantic alone stops halfway.

Pydantic reports every field error at once, but a model's own checks run only once its
fields are valid, and the twin's wiring checks (twin.spec.check_wiring: names, references,
capacities, flow) only once the whole twin is. So a spec with a bad duration and a route to
a missing activity would report the first, then the second after it is fixed. Here the
spec is repaired step by step, each round setting aside what pydantic refused (the field,
a placeholder for a required distribution, or else the whole list item), until it
validates; the wiring checks then run on what is left. A problem that could be an echo of
a repair (about a field or item set aside, naming an item removed, or flow through a
changed route) is left out: every problem reported is one the user must fix.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from twin.distributions import Constant
from twin.errors import field_path, problem_of
from twin.spec import Twin, check_wiring

Loc = tuple[str | int, ...]
NAMED = ("arrivals", "activities", "resources", "materials", "stresses", "contingency")
REQUIRED = {"arrivals", "activities"}  # lists a twin cannot do without: nothing to wire when they fail
FLOW = {"route", "next", "class_next", "abandon_to", "lost_to", "patience", "class_patience",
        "queue_capacity", "join", "when_full", "classes", "action"}  # fields the flow checks follow
PLACEHOLDERS: dict[str, Any] = {"name": "twin", "horizon": 1e300}  # required top-level fields; a horizon
# longer than any warm-up, so that no check compares with it
ROUNDS = 12
SINGULAR = {"arrivals": "arrival", "activities": "activity", "resources": "resource", "materials": "material"}


def collect_problems(data: dict[str, Any], error: ValidationError) -> list[tuple[str, str]]:
    """(field path, reason) of every problem of `data`, whose validation raised `error`."""
    repair = _Repair(data)
    problems = repair.report(error, first=True)
    for _ in range(ROUNDS):
        if not repair.fix(error):
            break
        try:
            twin = Twin.model_validate(repair.view(), context={"wiring": False})
        except ValidationError as again:
            problems += repair.report(again)
            error = again
            continue
        problems += repair.wiring(twin)
        break
    return list(dict.fromkeys(problems))


class _Repair:
    """A working copy of the spec with what failed set aside, and a record of what was."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.original = data
        self.work = copy.deepcopy(data)
        self.removed: dict[str, set[int]] = {kind: set() for kind in NAMED}
        self.touched: list[Loc] = []  # in the original's indices
        self.order: dict[str, list[int]] = {}

    def view(self) -> dict[str, Any]:
        """The working copy without removed items; `order` maps its indices to the original's."""
        out = dict(self.work)
        for kind in NAMED:
            items = self.work.get(kind)
            if isinstance(items, list):
                self.order[kind] = [i for i in range(len(items)) if i not in self.removed[kind]]
                out[kind] = [items[i] for i in self.order[kind]]
        return out

    def original_loc(self, loc: Sequence[str | int]) -> Loc:
        loc = tuple(loc)
        order = self.order.get(str(loc[0])) if loc else None
        if order is not None and len(loc) > 1 and isinstance(loc[1], int) and loc[1] < len(order):
            return (loc[0], order[loc[1]], *loc[2:])
        return loc

    def report(self, error: ValidationError, first: bool = False) -> list[tuple[str, str]]:
        """The problems of `error`, less (after the first round) those a repair may have caused."""
        out = []
        for item in error.errors(include_url=False):
            raw, reason = problem_of(item)
            loc = self.original_loc(raw)
            if first or not any(_related(loc, t) for t in self.touched):
                out.append((field_path(loc, self.original), reason))
        return out

    def fix(self, error: ValidationError) -> bool:
        """Set aside what `error` refuses; False when nothing more can be set aside."""
        changed = False
        for item in error.errors(include_url=False):
            loc, _ = problem_of(item)
            changed = self._fix_one(self.original_loc(loc), item["type"] == "missing") or changed
        return changed

    def _fix_one(self, loc: Loc, missing: bool) -> bool:
        if not loc or (loc[0] in REQUIRED and len(loc) == 1):
            return False  # the twin itself, or no arrivals or activities: nothing to wire
        head = str(loc[0])
        if head in NAMED and len(loc) >= 2 and isinstance(loc[1], int):
            return self._fix_item(head, loc[1], loc[2:3], missing)
        target = loc[:2] if head == "costs" and len(loc) > 1 else loc[:1]
        if (missing or target in self.touched) and head in PLACEHOLDERS:
            if self.work.get(head) == PLACEHOLDERS[head]:
                return False
            self.work[head] = PLACEHOLDERS[head]
            return self._touch(target)
        if missing or target in self.touched:  # setting the field aside did not do: its parent
            target = target[:1]
        return _delete(self.work, target) and self._touch(target)

    def _fix_item(self, kind: str, index: int, field: Loc, missing: bool) -> bool:
        """A field of a list item: drop it; if it is required, a placeholder for a
        distribution, else the whole item."""
        if index in self.removed[kind]:
            return False
        items = self.work[kind]
        target = (kind, index, *field)
        if field and not missing and target not in self.touched and _delete(items[index], field):
            return self._touch(target)
        if field and _is_distribution(kind, str(field[0])) and items[index].get(field[0]) != 1.0:
            items[index][field[0]] = 1.0  # a constant: valid wherever a distribution is
            return self._touch(target)
        self.removed[kind].add(index)
        return self._touch((kind, index))

    def _touch(self, loc: Loc) -> bool:
        self.touched.append(loc)
        return True

    def wiring(self, twin: Twin) -> list[tuple[str, str]]:
        """The wiring problems of the repaired twin that cannot be echoes of a repair."""
        flow = not any(_changes_flow(loc) for loc in self.touched)
        paths = [field_path(loc, self.original) for loc in self.touched]
        names = [f"'{name}'" for name in self._names_touched()]
        names += [f"no {SINGULAR[str(loc[0])]} named" for loc in self.touched
                  if len(loc) == 1 and loc[0] in SINGULAR]  # a whole list set aside
        classes_changed = any(loc[0] == "arrivals" and (len(loc) == 2 or loc[2] == "classes")
                              for loc in self.touched)
        return [
            (path, reason) for path, reason in check_wiring(twin, flow=flow)
            if not any(path == p or path.startswith((f"{p}.", f"{p}[")) for p in paths)
            and not any(name in reason for name in names)
            and not (classes_changed and "no class named" in reason)
        ]

    def _names_touched(self) -> set[str]:
        """Names of the items removed or changed (another item's reference to one may be an echo)."""
        out = set()
        for loc in self.touched:
            if len(loc) >= 2 and isinstance(loc[1], int):
                item = self.original[str(loc[0])][loc[1]]
                if isinstance(item, dict) and isinstance(item.get("name"), str):
                    out.add(item["name"])
        return out


def _related(loc: Loc, touched: Loc) -> bool:
    """Whether a problem at `loc` may come from setting aside `touched` (one holds the other)."""
    n = min(len(loc), len(touched))
    return loc[:n] == touched[:n]


def _changes_flow(loc: Loc) -> bool:
    if not loc or loc[0] not in ("arrivals", "activities", "contingency"):
        return False
    return len(loc) <= 2 or loc[2] in FLOW


def _delete(node: Any, loc: Loc) -> bool:
    """Delete the key at `loc` below `node`; False when there is none."""
    for key in loc[:-1]:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return False
    if isinstance(node, dict) and loc and loc[-1] in node:
        del node[loc[-1]]
        return True
    return False


def _is_distribution(kind: str, field: str) -> bool:
    """Whether `field` of a `kind` item (an Activity's `duration`) takes a distribution."""
    model = _item_model(kind)
    info = model.model_fields.get(field) if model is not None else None
    return info is not None and Constant in _flatten(info.annotation)


def _item_model(kind: str) -> type[BaseModel] | None:
    (item,) = get_args(Twin.model_fields[kind].annotation) or (None,)
    return item if isinstance(item, type) and issubclass(item, BaseModel) else None


def _flatten(annotation: Any) -> set[Any]:
    out = {annotation}
    for arg in get_args(annotation):
        out |= _flatten(arg)
    return out
