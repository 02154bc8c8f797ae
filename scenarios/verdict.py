"""The study's verdict in words: which plan is best, and how sure, in one consistent account.

The summary holds several answers that a reader must not see contradict each other: `best`
(the best mean among the plans that meet every target, or among all when none does), the
subset for the best taken among the same plans (`subset_meeting_targets` when only some
meet them, else `subset`), and, when asked for, Kim-Nelson's selection, which ignores
targets. Each sentence says which plans it speaks of.
"""

from __future__ import annotations

from typing import Any

from twin.display import plain, short_name

GOALS = {"min": "lowest", "max": "highest"}


def verdict(summary: dict[str, Any]) -> list[str]:
    """Sentences: the best plan and what it was chosen among; how sure (the subset); KN."""
    ranking, best = summary["ranking"], summary["best"]
    names = list(summary["scenarios"])
    meeting = [n for n in names if summary["scenarios"][n]["meets_targets"]]
    targets = bool(summary["scenarios"][names[0]]["targets"])
    kpi = f"{GOALS[ranking['goal']]} mean {short_name(ranking['kpi'])}"
    lines = [_best_line(best, kpi, names, meeting, targets)]
    pool = " among the plans that meet every target" if "subset_meeting_targets" in ranking else ""
    subset = ranking.get("subset_meeting_targets", ranking["subset"])
    lines.append(_subset_line(best, subset, pool, ranking["confidence"]))
    kn = ranking.get("kn")
    if kn is not None:
        lines.append(_kn_line(kn, best, meeting if targets else names))
    return lines


def _best_line(best: str, kpi: str, names: list[str], meeting: list[str], targets: bool) -> str:
    if not targets:
        return f"Best plan: {best}, with the {kpi}."
    if len(meeting) == len(names):
        return f"Best plan: {best}, with the {kpi}; every plan meets every target."
    if meeting:
        return (f"Best plan: {best}, with the {kpi} among the {len(meeting)} of {len(names)} plans "
                "that meet every target.")
    return f"No plan meets every target. Setting the targets aside, the best is {best}, with the {kpi}."


def _subset_line(best: str, subset: list[str], pool: str, confidence: float) -> str:
    sure = f"{confidence:.0%}"
    others = [s for s in subset if s != best]
    if best in subset and not others:
        return f"With {sure} confidence it is the best{pool}: no other plan is in the subset for the best."
    if best in subset:
        return (f"With {sure} confidence it cannot be told apart from {_names(others)}{pool}: the "
                f"subset that holds the best has {len(subset)} plans.")
    return (f"Its lead is not significant: at {sure} confidence the subset that holds the best{pool} is "
            f"{_names(subset)}, without {best}.")


def _kn_line(kn: dict[str, Any], best: str, eligible: list[str]) -> str:
    within = f"{short_name(kn['kpi'])} within {plain(kn['indifference'])}"
    if not kn["done"]:
        return (f"Kim-Nelson has not finished after {kn['replications']} replications (it needs up to "
                f"{kn['needed']}); still in contention on {within}: {_names(kn['survivors'])}.")
    picked = kn["selected"]
    head = f"Kim-Nelson ({kn['confidence']:.0%}, {within}, {kn['replications']} replications)"
    if picked == best:
        return f"{head} selects the same plan, {picked}."
    aside = "" if picked in eligible else f"; {picked} does not meet every target"
    return f"{head}, which sets targets aside, selects {picked}{aside}."


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"
