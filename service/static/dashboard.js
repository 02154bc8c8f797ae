// twin dashboard: every call sends the API key kept in localStorage.
"use strict";
const KEY = "twin.apiKey";
const $ = (id) => document.getElementById(id);
let selected = null;      // id of the study shown in detail
let shownFigures = "";    // figure list already put into the picker
let twinNames = {};

async function api(path, options = {}) {
  const headers = Object.assign({Authorization: "Bearer " + localStorage.getItem(KEY)}, options.headers || {});
  const response = await fetch(path, Object.assign({}, options, {headers}));
  if (response.status === 401) { showLogin("The key was refused: " + (await response.json()).detail); throw new Error("401"); }
  return response;
}

async function json(path, options) {
  const response = await api(path, options);
  const body = await response.json();
  if (!response.ok) throw new Error(describe(body));
  return body;
}

function describe(body) {
  if (Array.isArray(body.detail)) return body.detail.map((d) => (d.field || d.loc.join(".")) + ": " + d.msg).join("\n");
  return String(body.detail);
}

function showLogin(message) {
  $("app").hidden = true; $("login").hidden = false; $("login-error").textContent = message || "";
}

function row(cells, id) {
  const tr = document.createElement("tr");
  if (id) tr.dataset.id = id;
  for (const cell of cells) {
    const td = document.createElement("td");
    if (cell instanceof Node) td.appendChild(cell); else td.textContent = cell;
    tr.appendChild(td);
  }
  return tr;
}

async function loadTwins() {
  const twins = await json("/twins");
  const body = $("twins").tBodies[0]; body.replaceChildren();
  const select = $("study-twin"); const chosen = select.value; select.replaceChildren();
  twinNames = {};
  for (const t of twins) {
    twinNames[t.id] = t.name;
    body.appendChild(row([t.name, t.time_unit, t.horizon, t.activities, t.id], t.id));
    const option = document.createElement("option"); option.value = t.id; option.textContent = t.name;
    select.appendChild(option);
  }
  if (chosen) select.value = chosen;
}

function progressBar(study) {
  const bar = document.createElement("progress");
  bar.max = Math.max(study.progress.total, 1); bar.value = study.progress.done;
  const span = document.createElement("span");
  span.append(bar, ` ${study.progress.done}/${study.progress.total}`);
  return span;
}

async function loadStudies() {
  const studies = await json("/studies");
  const body = $("studies").tBodies[0]; body.replaceChildren();
  for (const s of studies) {
    const cancel = document.createElement("button"); cancel.textContent = "Cancel";
    cancel.hidden = !["queued", "running"].includes(s.status);
    cancel.onclick = async (event) => { event.stopPropagation(); await api(`/studies/${s.id}/cancel`, {method: "POST"}); refresh(); };
    const tr = row([twinNames[s.twin_id] || s.twin_id, s.scenarios.join(", "), s.status, progressBar(s),
                    new Date(s.created_at).toLocaleString(), cancel], s.id);
    tr.classList.toggle("selected", s.id === selected);
    tr.onclick = () => { selected = s.id; shownFigures = ""; refresh(); };
    body.appendChild(tr);
  }
}

async function loadCalibrations() {
  if (!$("calibrations").closest("details").open) return;
  const body = $("calibrations").tBodies[0]; body.replaceChildren();
  for (const c of await json("/calibrations?limit=20")) {
    const report = document.createElement("button"); report.textContent = "Report";
    report.hidden = c.status !== "done";
    report.onclick = () => download(`/calibrations/${c.id}/report`, `calibration-${c.id}.html`);
    body.appendChild(row([c.name, c.status + (c.error ? ` — ${c.error}` : ""), progressBar(c),
                          c.twin_id ? (twinNames[c.twin_id] || c.twin_id) : "", report], c.id));
  }
}

async function loadDetail() {
  if (!selected) { $("detail").hidden = true; return; }
  const s = await json(`/studies/${selected}`);
  $("detail").hidden = false; $("detail-id").textContent = s.id;
  $("detail-status").textContent = `${s.status}: ${s.progress.done} of ${s.progress.total} replications` +
    (s.resumed ? ` (${s.resumed} resumed after a restart)` : "") + (s.error ? ` — ${s.error}` : "");
  $("detail-status").dataset.status = s.status;
  const done = s.status === "done";
  $("download-csv").hidden = !done;
  $("download-report").hidden = !(done && s.figures.length);
  $("no-figures").hidden = !(done && !s.figures.length);
  $("figure-picker").hidden = !(done && s.figures.length);
  if (!done) { $("kpis").replaceChildren(); return; }
  const listed = JSON.stringify(s.figures);
  if (listed !== shownFigures) {
    shownFigures = listed;
    await showSummary(s.id);
    const select = $("figure-select"); select.replaceChildren();
    for (const f of s.figures) {
      const option = document.createElement("option"); option.value = f.index;
      option.textContent = `${f.section}: ${f.title}`; select.appendChild(option);
    }
    if (s.figures.length) drawFigure(); else $("figure").replaceChildren();
  }
}

async function showSummary(id) {
  const summary = await json(`/studies/${id}/summary`);
  const table = document.createElement("table");
  table.id = "kpi-table";
  table.appendChild(row(["scenario", "throughput", "cycle time", "WIP"]));
  const fmt = (s) => s ? `${Number(s.mean).toPrecision(4)} [${s.ci95.map((x) => x === null ? "-" : Number(x).toPrecision(4)).join(", ")}]` : "-";
  for (const [name, s] of Object.entries(summary.scenarios)) {
    table.appendChild(row([name, fmt(s.kpis.throughput), fmt(s.kpis.cycle_time), fmt(s.kpis.wip)]));
  }
  $("kpis").replaceChildren(table);
}

async function drawFigure() {
  const figure = await json(`/studies/${selected}/figures/${$("figure-select").value}`);
  if (window.Plotly) Plotly.newPlot("figure", figure.data, figure.layout, {responsive: true, displaylogo: false});
}

async function download(path, filename) {
  const response = await api(path);
  if (!response.ok) { alert(describe(await response.json())); return; }
  const url = URL.createObjectURL(await response.blob());
  const a = document.createElement("a"); a.href = url; a.download = filename; a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

async function refresh() {
  try { await loadTwins(); await loadCalibrations(); await loadStudies(); await loadDetail(); } catch (error) { console.log(error); }
}

async function start() {
  if (!localStorage.getItem(KEY)) { showLogin(); return; }
  try {
    const me = await json("/keys/me");
    $("role").textContent = `${me.role}${me.name ? " (" + me.name + ")" : ""}`;
    $("workspace").textContent = me.workspace;
  } catch (error) { return; }
  $("login").hidden = true; $("app").hidden = false;
  await refresh();
}

$("save-key").onclick = () => { localStorage.setItem(KEY, $("key").value.trim()); start(); };
$("forget-key").onclick = () => { localStorage.removeItem(KEY); showLogin(); };
$("figure-select").onchange = drawFigure;
$("download-report").onclick = () => download(`/studies/${selected}/report`, `report-${selected}.html`);
$("download-csv").onclick = () => download(`/studies/${selected}/results.csv`, `results-${selected}.csv`);
$("add-twin").onclick = async () => {
  $("twin-error").textContent = "";
  try {
    await json("/twins", {method: "POST", headers: {"Content-Type": "application/json"},
                          body: JSON.stringify({yaml: $("twin-yaml").value})});
    $("twin-yaml").value = ""; refresh();
  } catch (error) { $("twin-error").textContent = error.message; }
};
$("start-calibration").onclick = async () => {
  $("cal-error").textContent = "";
  const form = new FormData();
  for (const field of ["events", "failures", "deliveries"]) {
    const file = $("cal-" + field).files[0];
    if (file) form.append(field, file);
  }
  if ($("cal-name").value.trim()) form.append("name", $("cal-name").value.trim());
  if ($("cal-validation").checked) form.append("validation", "true");
  try { await json("/calibrations", {method: "POST", body: form}); refresh(); }
  catch (error) { $("cal-error").textContent = error.message; }
};
$("start-study").onclick = async () => {
  $("study-error").textContent = "";
  const body = {twin_id: $("study-twin").value, replications: Number($("study-reps").value),
                seed: Number($("study-seed").value), engine: $("study-engine").value};
  try {
    const study = await json("/studies", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
    selected = study.id; shownFigures = ""; refresh();
  } catch (error) { $("study-error").textContent = error.message; }
};
setInterval(() => { if (!$("app").hidden) refresh(); }, 1000);
start();
