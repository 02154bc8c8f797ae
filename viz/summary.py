"""The report's text: executive summary (question, scenarios, KPIs vs targets, the
recommended plan with its statistical support, top risks) and the methods appendix.

Every number comes from the study folder (`summary.json`, `provenance.json`, `specs/`).
"""

from __future__ import annotations

from html import escape

from scenarios.spec import ScenarioStress
from twin.policies import QueueAbove, Rule, StockBelow
from viz.colors import BAD, GOOD, color_of
from viz.data import StudyData
from viz.labels import kpi_label, kpi_name, kpi_unit, number, target_text


def num(x: float | None, digits: int = 3) -> str:
    if digits == 3:
        return number(x)
    return "–" if x is None else f"{x:,.{digits}g}"


def chip(name: str, colors: dict[str, str]) -> str:
    return f"<span class='chip' style='background:{color_of(name, colors)}'></span>{escape(name)}"


def _tail(study: StudyData, plan: str) -> str:
    """How many runs the worst 5% is: with fewer than 20 replications, not even one."""
    n = int((study.table["scenario"] == plan).sum())
    tail = 0.05 * n
    if tail >= 2:
        return f"; the tail is {tail:.0f} of {n} runs"
    rests = "one run" if n >= 20 else "less than one run"
    return f"; with {n} runs the worst 5% rests on {rests}: read it as the worst run"


def question(study: StudyData) -> str:
    ranking = study.summary["ranking"]
    goal = "lowest" if ranking["goal"] == "min" else "highest"
    twin = study.twins[study.baseline].name
    targets = ", ".join(target_text(t.text, study.time_unit, study.currency) for t in study.targets)
    meets = f"meets the targets ({escape(targets)}) with" if targets else "has"
    return (
        f"Which of the {len(study.scenarios)} plans for <b>{escape(twin)}</b> {meets} the {goal} mean "
        f"{escape(kpi_name(ranking['kpi']))}?"
    )


def scenario_list(study: StudyData, colors: dict[str, str]) -> str:
    items = []
    for i, name in enumerate(study.scenarios):
        file = study.files.get(name, {})
        edits = [f"{escape(k)} = {escape(str(v))}" for k, v in file.get("changes", {}).items()]
        edits += [f"add to {escape(k)}: {escape(_items(v))}" for k, v in file.get("add", {}).items()]
        edits += [f"remove from {escape(k)}: {escape(_items(v))}" for k, v in file.get("remove", {}).items()]
        edits += [escape(_stress_text(s)) for s in file.get("stresses", [])]
        edits += [escape(_rule_text(r)) for r in file.get("contingency", [])]
        changes = "; ".join(edits)
        what = escape(file.get("description", "")) or ("today's operation" if i == 0 else "")
        role = " <i>(baseline)</i>" if i == 0 else ""
        detail = f"<span class='small'>{changes}</span>" if changes else ""
        parts = " — ".join(p for p in (what, detail) if p)
        items.append(f"<li>{chip(name, colors)}{role}{': ' if parts else ''}{parts}</li>")
    return f"<ul class='scenarios'>{''.join(items)}</ul>"


def _items(items: list) -> str:
    """Added or removed items by name where they have one: 'nurse_practitioner'."""
    return ", ".join(str(i.get("name", i)) if isinstance(i, dict) else str(i) for i in items)


def _stress_text(data: dict) -> str:
    """'stress blank-outage: supplier_outage of steel (p = 0.5)' from a scenario file's entry."""
    stress = ScenarioStress.model_validate(data)
    if stress.random is not None:
        when = f"p = {stress.random.probability:g}"
    else:
        assert stress.window is not None  # a scenario stress has one or the other
        when = f"from {stress.window.start:g}"
    factor = f" x{stress.factor:g}" if stress.factor else ""
    return f"stress {stress.name}: {stress.kind}{factor} of {stress.target} ({when})"


def _rule_text(data: dict) -> str:
    """'rule backup: when stock steel < 80, order 300 steel after 4' from a file's entry."""
    rule = Rule.model_validate(data)
    when, action = rule.when, rule.action
    if isinstance(when, StockBelow):
        condition = f"stock {when.stock} < {when.below}"
    elif isinstance(when, QueueAbove):
        condition = f"queue at {when.queue} > {when.above}"
    else:
        condition = f"{when.units} {when.down} down for {when.for_:g}"
    if action.order:
        act = f"order {action.order.quantity} {action.order.material}"
    elif action.overtime:
        act = f"+{action.overtime.units} {action.overtime.pool} on duty"
    elif action.switch:
        act = f"order {action.switch.material} from {action.switch.supplier} for {action.switch.duration:g}"
    else:
        assert action.reroute is not None
        act = f"send {action.reroute.from_} work to {action.reroute.to}"
    return f"rule {rule.name}: when {condition}, {act} after {rule.delay:g}"


def kpi_rows(study: StudyData) -> list[str]:
    """The KPIs worth a row: objective, targets, throughput/cycle time/WIP, risk KPIs."""
    first = study.summary["scenarios"][study.baseline]
    picked = [
        study.summary["ranking"]["kpi"],
        *(t.kpi for t in study.targets),
        *(k for k in ("cost", "on_time", "tardiness") if k != study.summary["ranking"]["kpi"]),
        "throughput",
        "cycle_time",
        "wip",
        *first["var95"],
    ]
    return [k for k in dict.fromkeys(picked) if k in first["kpis"]]


def kpi_table(study: StudyData, colors: dict[str, str]) -> str:
    """Targets (P(miss), coloured met/missed) and KPI means ± CI half-width; Δ vs baseline."""
    s, unit = study.summary, study.time_unit
    head = "".join(f"<th>{chip(n, colors)}</th>" for n in study.scenarios)
    rows = []
    for target in study.targets:
        cells = ""
        for name in study.scenarios:
            r = s["scenarios"][name]["targets"][target.text]
            lo, hi = r["ci95"]
            stat = (
                f"<br><span class='small'>{r['statistic']} = {num(r['value'])}</span>"
                if "statistic" in r
                else ""
            )
            mark = "met" if r["met"] else "missed"
            cells += (
                f"<td style='background:{GOOD if r['met'] else BAD}'><b>{mark}</b>: "
                f"P(miss) {r['p_miss']:.0%} <span class='small'>[{lo:.0%}, {hi:.0%}]</span>{stat}</td>"
            )
        words = escape(target_text(target.text, unit, study.currency))
        rows.append(f"<tr><th title='{escape(target.text)}'>target: {words}</th>{cells}</tr>")
    for kpi in kpi_rows(study):
        cells = ""
        for name in study.scenarios:
            k = s["scenarios"][name]["kpis"][kpi]
            lo, hi = k["ci95"]
            half = f" ± {number((hi - lo) / 2)}" if lo is not None else ""
            d = s["differences"].get(name, {}).get(kpi)
            delta = ""
            if d and d["mean"] is not None and d["ci95"][0] is not None:
                ci = f"[{num(d['ci95'][0])}, {num(d['ci95'][1])}]"
                delta = f"<br><span class='small'>Δ {number(d['mean'], sign=True)} {ci}</span>"
            cells += f"<td>{num(k['mean'])}{half}{delta}</td>"
        rows.append(f"<tr><th>{escape(kpi_label(kpi, unit, study.currency))}</th>{cells}</tr>")
    return (
        f"<table class='kpis'><thead><tr><th></th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        "<p class='small'>Mean ± 95% CI half-width over replications; Δ = paired change vs the baseline "
        "with its 95% CI. P(miss) = share of replications missing the target, with its Wilson 95% CI.</p>"
    )


def recommendation(study: StudyData, colors: dict[str, str]) -> str:
    s = study.summary
    best, ranking = s["best"], s["ranking"]
    kpi, unit = ranking["kpi"], kpi_unit(ranking["kpi"], study.time_unit, study.currency)
    unit = "" if unit.startswith("fraction") else f" {unit}"  # a share needs no unit in a sentence
    meets = s["scenarios"][best]["meets_targets"]
    lines = []
    if best == study.baseline:
        lines.append(
            f"<b>Keep {chip(best, colors)}</b>: no option does better on the objective "
            f"among those meeting the targets."
        )
    else:
        d = s["differences"][best][kpi]
        lines.append(
            f"<b>Recommended: {chip(best, colors)}</b>. Mean {escape(kpi_name(kpi))} changes by "
            f"<b>{number(d['mean'], sign=True)}{unit}</b> vs the baseline "
            f"(paired 95% CI {num(d['ci95'][0])} to "
            f"{num(d['ci95'][1])})."
        )
    n_met = sum(s["scenarios"][n]["meets_targets"] for n in study.scenarios)
    if study.targets:
        lines.append(
            f"It {'meets every target' if meets else 'does not meet every target'}; "
            f"{n_met} of {len(study.scenarios)} plans meet all targets."
        )
    kn = ranking.get("kn")
    if kn is not None:
        lines.append(_kn_text(kn, best, colors))
    subset = ranking.get("subset_meeting_targets", ranking["subset"])
    among = " among the plans meeting every target" if "subset_meeting_targets" in ranking else ""
    if subset == [best]:
        lines.append(
            f"It is the only plan in the {ranking['confidence']:.0%} subset for the best "
            f"{escape(kpi_name(kpi))}{among} ({escape(ranking['method'])})."
        )
    else:
        others = ", ".join(escape(x) for x in subset if x != best) or "none"
        lines.append(f"At {ranking['confidence']:.0%} confidence it cannot be separated{among} "
                     f"from: {others}.")
    return "<p>" + "<br>".join(lines) + "</p>"


def _kn_text(kn: dict, best: str, colors: dict[str, str]) -> str:
    what = f"{escape(kpi_name(kn['kpi']))} within {number(kn['indifference'])}"
    if not kn["done"]:
        return (f"Kim–Nelson selection ({kn['confidence']:.0%}, {what}) has not finished after "
                f"{kn['replications']} replications: still in contention "
                f"{', '.join(escape(s) for s in kn['survivors'])}; it needs up to {kn['needed']}.")
    picked = kn["selected"]
    note = "" if picked == best else " (among all plans, targets aside)"
    return (f"Kim–Nelson selection picks {chip(picked, colors)}{note} as the best on {what}, "
            f"with {kn['confidence']:.0%} confidence, after {kn['replications']} replications.")


def risks(study: StudyData, colors: dict[str, str]) -> str:
    """Top risks of the recommended plan: targets at risk, tails vs baseline, warm-up warnings."""
    s, unit = study.summary, study.time_unit
    best = s["best"]
    plan = s["scenarios"][best]
    items = []
    for spec, r in plan["targets"].items():
        text = target_text(spec, unit, study.currency)
        hi = r["ci95"][1]
        if not r["met"]:
            items.append(
                (2.0 + r["p_miss"], f"Target <b>{escape(text)}</b> is missed: P(miss) {r['p_miss']:.0%}.")
            )
        elif hi > 0.1:
            items.append(
                (
                    hi,
                    f"Target <b>{escape(text)}</b>: {r['p_miss']:.0%} of {r['n']} runs missed, but "
                    f"the data cannot rule out a miss rate up to {hi:.0%} (Wilson 95% bound); "
                    "more replications would narrow this.",
                )
            )
    base = s["scenarios"][study.baseline]
    for kpi, var in plan["var95"].items():
        cvar, bvar = plan["cvar95"].get(kpi), base["var95"].get(kpi)
        if var is None:
            continue
        compare = (
            f" (baseline: {num(bvar)}{', worse' if var > (bvar or var) else ''})"
            if best != study.baseline and bvar is not None
            else ""
        )
        worse = bvar is not None and var > bvar and best != study.baseline
        items.append(
            (
                1.5 if worse else 0.5,
                f"In the worst 5% of runs {escape(kpi_label(kpi, unit, study.currency))} exceeds "
                f"<b>{num(var)}</b>{compare} and averages {num(cvar)} there "
                f"(VaR95 / CVaR95{_tail(study, best)}).",
            )
        )
    for name, check in s["warmup"].items():
        if not check["ok"]:
            items.append(
                (
                    3.0,
                    f"Warm-up of {escape(name)} looks too short: {num(check['warmup'])} vs "
                    f"MSER-5's {num(check['mser5'])}; early transients may bias the means.",
                )
            )
    items.sort(key=lambda x: -x[0])
    return "<ul>" + "".join(f"<li>{text}</li>" for _, text in items[:5]) + "</ul>"


def methods(study: StudyData) -> str:
    p, s = study.provenance, study.summary
    rows = [
        ("seed", p["seed"]),
        ("replications per scenario", p["replications"]),
        ("engine", p["engine"]),
        ("twin version", p["version"]),
        ("sequential precision", p.get("precision") or "off"),
        ("events simulated", f"{p['events']:,}"),
        ("study wall time", f"{p['wall_seconds']:.1f} s"),
    ]
    general = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in rows)
    units = []
    for name, info in p["scenarios"].items():
        twin = study.twins[name]
        check = s["warmup"].get(name)
        mser = f"{num(check['mser5'])}" if check and check["mser5"] is not None else "–"
        units.append(
            f"<tr><td>{escape(name)}</td><td>{num(twin.horizon, 6)}</td><td>{num(twin.warmup, 6)}</td>"
            f"<td>{mser}</td><td><code>{info['spec_sha256']}</code></td></tr>"
        )
    return (
        f"<table class='meta'>{general}</table>"
        f"<table class='meta'><thead><tr><th>run unit</th><th>horizon ({study.time_unit}s)</th>"
        f"<th>warm-up</th><th>MSER-5 truncation</th><th>spec sha256</th></tr></thead>"
        f"<tbody>{''.join(units)}</tbody></table>"
    )
