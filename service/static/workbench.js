// The workbench parts of the dashboard: plans built from a form, the YAML editor checked as
// you type, the side-by-side comparison of a finished study, and a study's time left.
// Loaded before dashboard.js; it uses that file's helpers ($, api, json, row) when called.
"use strict";
const STRESSES = {  // stress kind -> [what it acts on, its amount: units, factor or none]
  staff_absence: ["resources", "units"], equipment_down: ["resources", "units"],
  failure_rate: ["resources", "factor"], demand_surge: ["arrivals", "factor"],
  supplier_outage: ["materials", ""], lead_time: ["materials", "factor"],
};
const TRIGGERS = {queue: ["activities", "above"], stock: ["materials", "below"]};  // when: what it watches
const ACTIONS = {  // contingency action -> [what it acts on, its amount field, its time field]
  overtime: ["resources", "units", "duration"], reroute: ["activities", "", "duration"],
  order: ["materials", "quantity", "lead_time"],
};
const COMPARISON = "Scenario comparison and risk";  // the report section with the forest plot and risk table
let planTwin = "";     // the twin whose paths and KPIs the plan builder offers
let planPaths = {};    // path -> {value, type} of that twin
let planSpec = null;   // its spec (names of resources, materials, arrivals for stresses)
let compared = "";     // the study whose comparison is drawn

// -- time left ------------------------------------------------------------------------

function duration(seconds) {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  const minutes = Math.round(seconds / 60);
  return minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function eta(job, now = Date.now()) {
  // Time left of a running job at the rate so far: elapsed since it started / share done.
  const fraction = job.progress.fraction;
  if (job.status !== "running" || !job.started_at || !(fraction > 0) || fraction >= 1) return "";
  const elapsed = (now - Date.parse(job.started_at)) / 1000;
  if (!(elapsed > 0)) return "";
  return `about ${duration(elapsed * (1 - fraction) / fraction)} left`;
}

// -- plans ------------------------------------------------------------------------------

function option(value, text = value) {
  const o = document.createElement("option"); o.value = value; o.textContent = text; return o;
}

function input(cls, label, size = 8) {
  const i = document.createElement("input");
  i.className = cls; i.size = size; i.setAttribute("aria-label", label);
  return i;
}

function withRemove(cells, what) {
  // A table row of `cells` and a button that removes it.
  const remove = document.createElement("button"); remove.textContent = "Remove"; remove.title = `Remove this ${what}`;
  const tr = row([...cells, remove]);
  remove.onclick = () => tr.remove();
  return tr;
}

const display = (value) => value === undefined ? "" : (typeof value === "object" ? JSON.stringify(value) : String(value));

async function loadPlanTwin() {
  const id = planTwin = $("study-twin").value;
  const [found, twin] = id ? await Promise.all([json(`/twins/${id}/paths`), json(`/twins/${id}`)])
    : [{paths: [], kpis: []}, {spec: null}];
  if (id !== planTwin) return;  // another twin was chosen meanwhile
  planSpec = twin.spec;
  planPaths = Object.fromEntries(found.paths.map((p) => [p.path, p]));
  $("twin-paths").replaceChildren(...found.paths.map((p) => option(p.path, `now ${display(p.value)}`)));
  $("twin-kpis").replaceChildren(...found.kpis.map((k) => option(k)));
  for (const tr of document.querySelectorAll("#plans .plan-changes tbody tr")) showNow(tr, planPaths);
  for (const tr of document.querySelectorAll("#plans .plan-stresses tbody tr")) stressTargets(tr);
  for (const tr of document.querySelectorAll("#plans .plan-rules tbody tr")) ruleChoices(tr);
}

function showNow(tr, paths) {
  // The current value of the row's spec path, from `paths` (path -> {value, type}).
  const known = paths[tr.querySelector(".change-path").value.trim()];
  tr.querySelector(".change-now").textContent = known ? display(known.value) : "";
}

function changeRow(list, label, paths, path = "", value = "") {
  // A change row: a spec path picked from the datalist `list`, its current value, a new value;
  // `paths()` gives the paths of the twin chosen now.
  const pathInput = input("change-path", label, 34); pathInput.setAttribute("list", list);
  pathInput.placeholder = "resources.NAME.capacity"; pathInput.value = path;
  const now = document.createElement("span"); now.className = "change-now muted";
  const valueInput = input("change-value", "new value", 10); valueInput.value = value;
  const tr = withRemove([pathInput, now, valueInput], "change");
  pathInput.oninput = () => showNow(tr, paths());
  showNow(tr, paths());
  return tr;
}

function addChange(plan, path = "", value = "") {
  plan.querySelector(".plan-changes tbody").appendChild(changeRow("twin-paths", "spec path", () => planPaths, path, value));
}

function names(select, group) {
  // Offer the names of the twin's items of `group` (resources, materials, ...), keeping the choice.
  const chosen = select.value;
  select.replaceChildren(...((planSpec && planSpec[group]) || []).map((item) => option(item.name)));
  if (chosen) select.value = chosen;
}

function stressTargets(tr) {
  names(tr.querySelector(".stress-target"), STRESSES[tr.querySelector(".stress-kind").value][0]);
  const amount = STRESSES[tr.querySelector(".stress-kind").value][1];
  const box = tr.querySelector(".stress-amount");
  box.disabled = !amount; box.placeholder = amount; if (!amount) box.value = "";
}

function addStress(plan) {
  const kind = select("stress-kind", "stress kind", Object.keys(STRESSES));
  const target = select("stress-target", "stress target", []);
  const amount = input("stress-amount", "units or factor", 5);
  const start = input("stress-start", "start", 6), length = input("stress-length", "length", 6);
  const tr = withRemove([kind, target, amount, start, length], "stress");
  kind.onchange = () => stressTargets(tr);
  plan.querySelector(".plan-stresses tbody").appendChild(tr);
  stressTargets(tr);
}

function select(cls, label, values) {
  const s = document.createElement("select"); s.className = cls; s.setAttribute("aria-label", label);
  s.append(...values.map((v) => option(v)));
  return s;
}

function ruleChoices(tr) {
  names(tr.querySelector(".rule-watch"), TRIGGERS[tr.querySelector(".rule-when").value][0]);
  const [group, amount, time] = ACTIONS[tr.querySelector(".rule-action").value];
  names(tr.querySelector(".rule-target"), group);
  const box = tr.querySelector(".rule-amount");
  box.disabled = !amount; box.placeholder = amount; if (!amount) box.value = "";
  tr.querySelector(".rule-time").placeholder = time;
}

function addRule(plan) {
  // A contingency rule: when a queue grows above (or a stock falls below) a level, after a
  // delay, bring on overtime, send the queue's work elsewhere, or place a backup order.
  const cells = [select("rule-when", "when", Object.keys(TRIGGERS)), select("rule-watch", "watched", []),
                 input("rule-level", "level", 4), input("rule-delay", "delay", 4),
                 select("rule-action", "action", Object.keys(ACTIONS)), select("rule-target", "action on", []),
                 input("rule-amount", "amount", 4), input("rule-time", "duration or lead time", 5)];
  const tr = withRemove(cells, "rule");
  cells[0].onchange = cells[4].onchange = () => ruleChoices(tr);
  plan.querySelector(".plan-rules tbody").appendChild(tr);
  ruleChoices(tr);
}

function ruleOf(tr, i) {
  const value = (cls) => tr.querySelector(cls).value, when = value(".rule-when"), kind = value(".rule-action");
  const [, amountField, timeField] = ACTIONS[kind], target = value(".rule-target");
  const action = {[timeField]: Number(value(".rule-time"))};
  if (amountField) action[amountField] = Number(value(".rule-amount"));
  if (kind === "overtime") action.pool = target;
  if (kind === "order") action.material = target;
  if (kind === "reroute") Object.assign(action, {from: when === "queue" ? value(".rule-watch") : "", to: target});
  return {name: `${kind}-${i + 1}`, when: {[when]: value(".rule-watch"), [TRIGGERS[when][1]]: Number(value(".rule-level"))},
          delay: Number(value(".rule-delay")), action: {[kind]: action}};
}

function table(cls, heads) {
  const t = document.createElement("table"); t.className = cls;
  t.createTHead().appendChild(row(heads)); t.createTBody();
  return t;
}

function button(text, cls, onclick) {
  const b = document.createElement("button"); b.textContent = text; b.className = cls; b.onclick = onclick; return b;
}

function addPlan() {
  const plan = document.createElement("fieldset"); plan.className = "plan";
  const n = $("plans").children.length + 1;
  const legend = document.createElement("legend"); legend.textContent = `Plan ${n}`;
  const name = input("plan-name", "plan name", 24); name.value = `plan-${n}`;
  const label = document.createElement("label"); label.append("Name ", name);
  plan.append(legend, label, button("Remove plan", "remove-plan", () => plan.remove()),
    table("plan-changes", ["change (spec path)", "now", "new value", ""]),
    button("Add change", "add-change", () => addChange(plan)),
    table("plan-stresses", ["stress", "on", "units / factor", "start", "length", ""]),
    button("Add stress", "add-stress", () => addStress(plan)),
    table("plan-rules", ["contingency: when", "at", "level", "delay", "then", "on", "amount", "for / lead", ""]),
    button("Add rule", "add-rule", () => addRule(plan)));
  $("plans").appendChild(plan);
  addChange(plan);
  return plan;
}

function addTarget(kpi = "", statistic = "mean", op = "<=", value = "") {
  const kpiInput = input("target-kpi", "target KPI", 30); kpiInput.setAttribute("list", "twin-kpis"); kpiInput.value = kpi;
  kpiInput.placeholder = "activities.NAME.wait";
  const stat = document.createElement("select"); stat.className = "target-stat"; stat.setAttribute("aria-label", "statistic");
  stat.append(option("mean"), option("p50"), option("p90"), option("p95"), option("", "each replication"));
  stat.value = statistic;
  const ops = document.createElement("select"); ops.className = "target-op"; ops.setAttribute("aria-label", "comparison");
  ops.append(...["<=", ">=", "<", ">"].map((o) => option(o)));
  ops.value = op;
  const threshold = input("target-value", "threshold", 8); threshold.value = value;
  const tr = withRemove([kpiInput, stat, ops, threshold], "target");
  $("targets").tBodies[0].appendChild(tr);
}

function parsed(path, text, paths = planPaths) {
  // The typed value of a change: as the path's current value is, else as it reads.
  const type = (paths[path] || {}).type;
  const number = text.trim() !== "" && !isNaN(Number(text)) ? Number(text) : undefined;
  if (type === "boolean" || (!type && /^(true|false)$/.test(text))) return text === "true";
  if (type === "list") { try { return JSON.parse(text); } catch { return text.split(",").map((s) => s.trim()); } }
  if (type === "string") return text;
  return number === undefined ? text : number;
}

function targetTexts() {
  const texts = [];
  for (const tr of $("targets").tBodies[0].rows) {
    const kpi = tr.querySelector(".target-kpi").value.trim(), value = tr.querySelector(".target-value").value.trim();
    if (!kpi && !value) continue;
    const stat = tr.querySelector(".target-stat").value;
    texts.push(`${kpi}${stat ? "." + stat : ""} ${tr.querySelector(".target-op").value} ${value}`);
  }
  return texts;
}

function stressOf(tr, i) {
  const kind = tr.querySelector(".stress-kind").value, target = tr.querySelector(".stress-target").value;
  const stress = {name: `${kind}-${target || "none"}-${i + 1}`, kind, target,
                  window: {start: Number(tr.querySelector(".stress-start").value),
                           length: Number(tr.querySelector(".stress-length").value)}};
  const amount = tr.querySelector(".stress-amount").value.trim(), [, field] = STRESSES[kind];
  if (field && amount) stress[field] = Number(amount);
  return stress;
}

function planScenarios() {
  // Each plan as a scenario mapping (without base: the twin is every plan's base).
  const targets = targetTexts();
  return [...document.querySelectorAll("#plans .plan")].map((plan) => {
    const scenario = {name: plan.querySelector(".plan-name").value.trim()};
    const changes = {};
    for (const tr of plan.querySelectorAll(".plan-changes tbody tr")) {
      const path = tr.querySelector(".change-path").value.trim();
      if (path) changes[path] = parsed(path, tr.querySelector(".change-value").value);
    }
    if (Object.keys(changes).length) scenario.changes = changes;
    const stresses = [...plan.querySelectorAll(".plan-stresses tbody tr")].map(stressOf);
    if (stresses.length) scenario.stresses = stresses;
    const rules = [...plan.querySelectorAll(".plan-rules tbody tr")].map(ruleOf);
    if (rules.length) scenario.contingency = rules;
    if (targets.length) scenario.targets = targets;
    return scenario;
  });
}

function studyBody() {
  const scenarios = planScenarios();
  if (targetTexts().length && !scenarios.length) throw new Error("targets: add a plan; targets are checked on every plan and on the twin as it is");
  return {twin_id: $("study-twin").value, replications: Number($("study-reps").value),
          seed: Number($("study-seed").value), engine: $("study-engine").value, scenarios};
}

// -- YAML editor ----------------------------------------------------------------------

let checkTimer = null;
let checkedText = null;

function checkSoon() {
  clearTimeout(checkTimer);
  checkTimer = setTimeout(checkYaml, 500);  // after a pause in typing, not on every key
}

async function checkYaml() {
  const text = $("twin-yaml").value;
  if (text === checkedText) return;
  checkedText = text;
  const list = $("twin-problems"), status = $("twin-check");
  if (!text.trim()) { list.replaceChildren(); status.textContent = ""; status.dataset.state = ""; return; }
  status.textContent = "checking…"; status.dataset.state = "checking";
  let response, body;
  try {
    response = await api("/twins/validate", {method: "POST", headers: {"Content-Type": "application/json"},
                                             body: JSON.stringify({yaml: text})});
    body = await response.json();
  } catch (error) {
    if (error.message === "401") return;  // the login asks for a key
    response = {ok: false}; body = {detail: `cannot check now (${error.message}); retrying`};
  }
  if (text !== $("twin-yaml").value) return;  // typed on meanwhile: a newer check follows
  list.replaceChildren();
  if (response.ok) {
    status.textContent = `valid: twin '${body.name}' (${body.activities} activities, ${body.resources} resources, ${body.materials} materials)`;
    status.dataset.state = "valid";
  } else if (Array.isArray(body.detail)) {
    for (const d of body.detail) {
      const li = document.createElement("li"), field = document.createElement("code");
      field.className = "field"; field.textContent = (d.field || "").replace(/^yaml\.?/, "") || "(document)";
      li.append(field, " ", d.msg);
      list.appendChild(li);
    }
    status.textContent = `${body.detail.length} problem${body.detail.length === 1 ? "" : "s"}:`; status.dataset.state = "invalid";
  } else {
    // Not an answer about the text (over the rate limit, the body limit, no connection): say so, try again.
    status.textContent = String(body.detail); status.dataset.state = "error"; checkedText = null;
    if (response.status !== 413) checkTimer = setTimeout(checkYaml, 3000);
  }
}

async function editTwin(id) {
  const response = await api(`/twins/${id}/yaml`);
  if (!response.ok) return;
  $("twin-yaml").value = await response.text();
  $("twin-editor").open = true;
  $("twin-yaml").focus();
  checkYaml();
}

// -- comparison -------------------------------------------------------------------------

const fmt = (x) => x === null || x === undefined ? "–" : Number(x).toPrecision(4);

function kpiRows(summary) {
  // As the report's KPI table: objective, targets' KPIs, cost and due dates, flow, risk KPIs.
  const first = Object.values(summary.scenarios)[0];
  const targetKpis = Object.keys(first.targets).map((t) => t.trim().split(/\s*[<>]=?\s*/)[0].replace(/\.(mean|p\d{1,2})$/, ""));
  const picked = [summary.ranking.kpi, ...targetKpis, "cost", "on_time", "tardiness", "throughput", "cycle_time", "wip",
                  ...Object.keys(first.var95 || {})];
  return [...new Set(picked)].filter((k) => k in first.kpis);
}

function cell(text, best, detail) {
  const td = document.createElement("td"); td.textContent = text;
  if (detail) { const small = document.createElement("div"); small.className = "muted"; small.textContent = detail; td.appendChild(small); }
  if (best) td.classList.add("best");
  return td;
}

function compareTable(summary) {
  const names = Object.keys(summary.scenarios), t = document.createElement("table");
  t.id = "compare-table";
  const head = t.createTHead().insertRow();
  head.appendChild(document.createElement("th"));
  names.forEach((name, i) => {
    const th = document.createElement("th");
    th.textContent = name + (i === 0 ? " (twin as it is)" : "") + (name === summary.best ? " ★ best" : "");
    if (name === summary.best) th.classList.add("best");
    head.appendChild(th);
  });
  const body = t.createTBody(), line = (label) => { const tr = body.insertRow(); const th = document.createElement("th"); th.textContent = label; tr.appendChild(th); return tr; };
  const meets = line("meets every target");
  for (const name of names) meets.appendChild(cell(summary.scenarios[name].meets_targets ? "yes" : "no", name === summary.best));
  for (const text of Object.keys(summary.scenarios[names[0]].targets)) {
    const tr = line(`target: ${text}`);
    for (const name of names) {
      const r = summary.scenarios[name].targets[text];
      const td = cell(`${r.met ? "met" : "missed"}: P(miss) ${fmt(r.p_miss)}`, name === summary.best,
                      r.statistic ? `${r.statistic} = ${fmt(r.value)}` : "");
      td.classList.add(r.met ? "met" : "missed");
      tr.appendChild(td);
    }
  }
  for (const kpi of kpiRows(summary)) {
    const tr = line(kpi + (kpi === summary.ranking.kpi ? ` (objective: ${summary.ranking.goal})` : ""));
    for (const name of names) {
      const k = summary.scenarios[name].kpis[kpi], d = (summary.differences[name] || {})[kpi];
      const delta = d && d.mean !== null && d.ci95[0] !== null ? `Δ ${fmt(d.mean)} [${fmt(d.ci95[0])}, ${fmt(d.ci95[1])}]` : "";
      tr.appendChild(cell(`${fmt(k.mean)} [${fmt(k.ci95[0])}, ${fmt(k.ci95[1])}]`, name === summary.best, delta));
    }
  }
  return t;
}

async function showComparison(study) {
  if (compared === study.id) return;
  compared = study.id;
  const summary = await json(`/studies/${study.id}/summary`);
  $("best-plan").textContent = `Best plan: ${summary.best}` +
    (summary.scenarios[summary.best].meets_targets ? "" : " (no plan meets every target: best on the objective)");
  $("compare-scroll").replaceChildren(compareTable(summary));
  const box = $("compare-figures"); box.replaceChildren();
  for (const f of study.figures.filter((f) => f.section === COMPARISON)) {
    const div = document.createElement("div"); div.className = "compare-figure"; box.appendChild(div);
    const figure = await json(`/studies/${study.id}/figures/${f.index}`);
    delete figure.layout.width;  // as wide as the page, never wider
    if (window.Plotly) Plotly.newPlot(div, figure.data, Object.assign(figure.layout, {autosize: true}), {responsive: true, displaylogo: false});
  }
}

function setupWorkbench() {
  $("add-plan").onclick = () => addPlan();
  $("add-target").onclick = () => addTarget();
  $("study-twin").addEventListener("change", loadPlanTwin);
  $("twin-yaml").oninput = checkSoon;
}
