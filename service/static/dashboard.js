// twin dashboard: every call sends the API key kept in localStorage.
"use strict";
const KEY = "twin.apiKey";
const $ = (id) => document.getElementById(id);
let selected = null;      // id of the study shown in detail
let shownFigures = "";    // figure list already put into the picker
let twinNames = {};
let optSelected = null;   // id of the optimisation shown in detail
let optShown = "";        // the optimisation whose plan and figures are drawn
let optTwin = "";         // the twin whose spec the decision rows read current values from
let optSpec = null;       // that twin's spec
let myRole = "";          // the key's role: viewers list share links, editors make and revoke them
let sharesOf = "";        // the study whose share links are listed
const REPLAY = "One replication, played back";  // the report section of the replay animation

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
  const selects = [$("study-twin"), $("opt-twin"), $("fc-twin")];
  const chosen = selects.map((select) => select.value);
  for (const select of selects) select.replaceChildren();
  twinNames = {};
  for (const t of twins) {
    twinNames[t.id] = t.name;
    const edit = document.createElement("button"); edit.textContent = "Edit YAML"; edit.className = "edit-twin";
    edit.title = "Open in the YAML editor (saving adds a new twin)"; edit.onclick = () => editTwin(t.id);
    body.appendChild(row([t.name, t.time_unit, t.horizon, t.activities, t.id, edit], t.id));
    for (const select of selects) {
      const option = document.createElement("option"); option.value = t.id; option.textContent = t.name;
      select.appendChild(option);
    }
  }
  selects.forEach((select, i) => { if (chosen[i]) select.value = chosen[i]; });
  if ($("opt-twin").value !== optTwin) { optTwin = $("opt-twin").value; await loadOptTwin(); }
  if ($("study-twin").value !== planTwin) await loadPlanTwin();
  if ($("fc-twin").value !== fcTwin) await loadForecastTwin();
}

function progressBar(study) {
  const bar = document.createElement("progress");
  bar.max = Math.max(study.progress.total, 1); bar.value = study.progress.done;
  const span = document.createElement("span");
  const left = document.createElement("span"); left.className = "eta muted"; left.textContent = eta(study);
  span.append(bar, ` ${study.progress.done}/${study.progress.total} `, left);
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
    tr.onclick = () => { selected = s.id; shownFigures = ""; compared = ""; refresh(); };
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
    (s.resumed ? ` (${s.resumed} resumed after a restart)` : "") + (eta(s) ? `, ${eta(s)}` : "") +
    (s.error ? ` — ${s.error}` : "");
  $("detail-status").dataset.status = s.status;
  const done = s.status === "done";
  $("download-csv").hidden = !done;
  $("download-report").hidden = !(done && s.figures.length);
  $("download-pdf").hidden = !(done && s.figures.length);
  $("watch-replay").hidden = !(done && s.figures.some((f) => f.section === REPLAY));
  $("share").hidden = !(done && s.figures.length);
  $("no-figures").hidden = !(done && !s.figures.length);
  $("figure-picker").hidden = !(done && s.figures.length);
  $("compare").hidden = !done;
  if (!done) return;
  if (s.figures.length && sharesOf !== s.id) { sharesOf = s.id; showShares(); }
  await showComparison(s);
  const listed = JSON.stringify(s.figures);
  if (listed !== shownFigures) {
    shownFigures = listed;
    const select = $("figure-select"); select.replaceChildren();
    for (const f of s.figures) {
      const option = document.createElement("option"); option.value = f.index;
      // the replay's title carries the clock of its first frame: not a name for the picker
      const title = f.section === REPLAY ? f.title.replace(/ — t = .*$/, "") : f.title;
      option.textContent = `${f.section}: ${title}`; select.appendChild(option);
    }
    if (s.figures.length) drawFigure(); else $("figure").replaceChildren();
  }
}

async function drawFigure() {
  const figure = await json(`/studies/${selected}/figures/${$("figure-select").value}`);
  delete figure.layout.width;  // as wide as the page, never wider
  // frames too: the replay's play, pause and speed buttons and its slider animate through them
  if (window.Plotly) Plotly.newPlot("figure", {data: figure.data, layout: figure.layout, frames: figure.frames || [],
                                              config: {responsive: true, displaylogo: false}});
}

async function watchReplay() {
  const select = $("figure-select");
  const option = [...select.options].find((o) => o.textContent.startsWith(REPLAY + ":"));
  if (!option) return;
  select.value = option.value;
  await drawFigure();
  $("figure-picker").scrollIntoView({behavior: "smooth", block: "start"});
}

// -- share links ----------------------------------------------------------------------

const shareTime = (iso) => new Date(iso).toLocaleString(undefined, {dateStyle: "medium", timeStyle: "short"});

async function showShares() {
  const study = selected, editor = myRole !== "viewer";
  $("share-form").hidden = !editor; $("share-viewer").hidden = editor;
  $("share-made").hidden = true; $("share-url").value = ""; $("share-copied").textContent = "";
  $("share-error").textContent = ""; $("pdf-status").textContent = "";
  await listShares(study);
}

async function listShares(study) {
  let links;
  try { links = await json(`/studies/${study}/shares`); }
  catch (error) { if (study === selected) $("share-error").textContent = error.message; return; }
  if (study !== selected) return;  // another study was picked meanwhile
  const body = $("shares").tBodies[0]; body.replaceChildren();
  const now = Date.now();
  for (const link of links.slice().reverse()) {  // the newest first
    const state = link.revoked_at ? "revoked" : (Date.parse(link.expires_at) <= now ? "expired" : "live");
    const status = {revoked: `revoked ${link.revoked_at ? shareTime(link.revoked_at) : ""}`, expired: "expired",
                    live: "live"}[state];
    const revoke = document.createElement("button"); revoke.textContent = "Revoke"; revoke.className = "revoke";
    revoke.hidden = state !== "live" || myRole === "viewer";
    revoke.onclick = () => revokeShare(study, link.id);
    const tr = row([link.id.slice(0, 8), shareTime(link.created_at), shareTime(link.expires_at), status, revoke], link.id);
    tr.cells[3].className = state; tr.dataset.state = state;
    body.appendChild(tr);
  }
  $("shares").hidden = !links.length; $("no-shares").hidden = links.length > 0;
}

async function createShare() {
  const study = selected;
  $("share-error").textContent = ""; $("share-copied").textContent = "";
  const days = Number($("share-days").value);
  if (!(days > 0 && days <= 90)) { $("share-error").textContent = "A link lasts more than 0 and at most 90 days."; return; }
  $("share-create").disabled = true;
  try {
    const link = await json(`/studies/${study}/shares`, {method: "POST", headers: {"Content-Type": "application/json"},
                                                        body: JSON.stringify({expires_in_hours: days * 24})});
    if (study !== selected) return;
    $("share-url").value = link.url; $("share-made").hidden = false;
    $("share-url").focus(); $("share-url").select();
    await listShares(study);
  } catch (error) { $("share-error").textContent = error.message; }
  finally { $("share-create").disabled = false; }
}

async function copyShare() {
  const field = $("share-url");
  field.focus(); field.select();
  try {
    await navigator.clipboard.writeText(field.value);
    $("share-copied").textContent = "Copied.";
  } catch (error) {  // no clipboard API (a page served over plain http from another host): the old way
    $("share-copied").textContent = document.execCommand("copy") ? "Copied." : "Selected: press Ctrl+C to copy.";
  }
}

async function revokeShare(study, id) {
  $("share-error").textContent = "";
  try {
    await json(`/studies/${study}/shares/${id}`, {method: "DELETE"});
    await listShares(study);
  } catch (error) { $("share-error").textContent = error.message; }
}

async function downloadPdf() {
  const study = selected, button = $("download-pdf"), status = $("pdf-status");
  button.disabled = true; status.className = "muted";
  status.textContent = "Printing the PDF (the first time takes a while)…";
  try {
    await save(`/studies/${study}/report.pdf`, `report-${study}.pdf`);
    status.textContent = "";
  } catch (error) { status.className = "error"; status.textContent = "PDF: " + error.message; }
  finally { button.disabled = false; }
}

async function save(path, filename) {  // the API's answer as a file; an Error with its message if refused
  const response = await api(path);
  if (!response.ok) throw new Error(describe(await response.json()));
  const url = URL.createObjectURL(await response.blob());
  const a = document.createElement("a"); a.href = url; a.download = filename; a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

async function download(path, filename) {
  try { await save(path, filename); } catch (error) { alert(error.message); }
}

// -- optimisation -------------------------------------------------------------------

function walk(spec, path) {
  // A dotted spec path's value: list items by their name (resources.pa.capacity) or index.
  let value = spec;
  for (const part of path.split(".")) {
    if (value === null || value === undefined) return undefined;
    if (Array.isArray(value)) {
      value = value.find((item) => item && item.name === part) ?? (/^\d+$/.test(part) ? value[Number(part)] : undefined);
    } else if (typeof value === "object") value = value[part];
    else return undefined;
  }
  return value;
}

function showCurrent(tr) {
  const path = tr.querySelector(".opt-path").value.trim();
  const value = optSpec && path ? walk(optSpec, path) : undefined;
  tr.querySelector(".opt-now").textContent = value === undefined ? "" : (typeof value === "object" ? JSON.stringify(value) : String(value));
}

async function loadOptTwin() {
  optSpec = optTwin ? (await json(`/twins/${optTwin}`)).spec : null;
  for (const tr of $("opt-decisions").tBodies[0].rows) showCurrent(tr);
}

function numberInput(cls, value, label) {
  const input = document.createElement("input");
  input.type = "number"; input.className = cls; input.style.width = "5rem"; input.setAttribute("aria-label", label);
  if (value !== undefined) input.value = value;
  return input;
}

function addDecision(path = "", low = 1, high = 5, step = 1) {
  const input = document.createElement("input");
  input.className = "opt-path"; input.size = 36; input.value = path; input.setAttribute("aria-label", "decision path");
  input.placeholder = "resources.NAME.capacity";
  const now = document.createElement("span"); now.className = "opt-now muted";
  const remove = document.createElement("button"); remove.textContent = "Remove";
  const tr = row([input, now, numberInput("opt-low", low, "low"), numberInput("opt-high", high, "high"),
                  numberInput("opt-step", step, "step"), remove]);
  input.oninput = () => showCurrent(tr);
  remove.onclick = () => tr.remove();
  $("opt-decisions").tBodies[0].appendChild(tr);
  showCurrent(tr);
}

function optimizationBody() {
  const decisions = {};
  for (const tr of $("opt-decisions").tBodies[0].rows) {
    const path = tr.querySelector(".opt-path").value.trim();
    if (!path) continue;
    const value = (cls) => Number(tr.querySelector(cls).value);
    decisions[path] = {low: value(".opt-low"), high: value(".opt-high"), step: value(".opt-step") || 1};
  }
  const targets = $("opt-targets").value.split("\n").map((line) => line.trim()).filter((line) => line);
  const reps = Number($("opt-reps").value), most = Math.max(Number($("opt-max-reps").value), reps);
  return {twin_id: $("opt-twin").value, name: `optimise ${twinNames[$("opt-twin").value] || ""}`.trim(),
          decisions, objective: {kpi: $("opt-kpi").value.trim() || "cost", goal: $("opt-goal").value}, targets,
          experiment: {budget: Number($("opt-budget").value), replications: reps, max_replications: most,
                       seed: Number($("opt-seed").value)}};
}

async function loadOptimizations() {
  const body = $("optimizations").tBodies[0]; body.replaceChildren();
  for (const o of await json("/optimizations?limit=50")) {
    const cancel = document.createElement("button"); cancel.textContent = "Cancel";
    cancel.hidden = !["queued", "running"].includes(o.status);
    cancel.onclick = async (event) => { event.stopPropagation(); await api(`/optimizations/${o.id}/cancel`, {method: "POST"}); refresh(); };
    const tr = row([o.name, twinNames[o.twin_id] || o.twin_id, o.status, progressBar(o),
                    new Date(o.created_at).toLocaleString(), cancel], o.id);
    tr.classList.toggle("selected", o.id === optSelected);
    tr.onclick = () => { optSelected = o.id; optShown = ""; refresh(); };
    body.appendChild(tr);
  }
}

const shown = (value) => value === null || value === undefined ? "-" :
  (typeof value === "number" ? Number(value).toPrecision(4) : (typeof value === "object" ? JSON.stringify(value) : String(value)));

async function loadOptDetail() {
  if (!optSelected) { $("opt-detail").hidden = true; return; }
  const o = await json(`/optimizations/${optSelected}`);
  $("opt-detail").hidden = false; $("opt-detail-id").textContent = `${o.name} (${o.id})`;
  $("opt-status").textContent = `${o.status}: ${o.progress.done} of ${o.progress.total} plans simulated` +
    (o.stopped ? ` (stopped: ${o.stopped})` : "") + (o.error ? ` — ${o.error}` : "");
  $("opt-status").dataset.status = o.status;
  const done = o.status === "done" && o.best;
  $("opt-plan").hidden = !done;
  if (!done || optShown === o.id) return;
  optShown = o.id;
  $("opt-statement").textContent = o.best.statement;
  const changes = $("opt-changes").tBodies[0]; changes.replaceChildren();
  const entries = Object.entries(o.best.changes);
  for (const [path, change] of entries) changes.appendChild(row([path, shown(change.from), shown(change.to)]));
  if (!entries.length) changes.appendChild(row(["none: the base is best", "", ""]));
  const targets = $("opt-target-status").tBodies[0]; targets.replaceChildren();
  for (const [text, check] of Object.entries(o.best.targets)) {
    const estimate = check.value !== null && check.value !== undefined ? `${check.statistic || ""} ${shown(check.value)}`
      : (check.p_miss === null || check.p_miss === undefined ? "no data" : `P(miss) ${shown(check.p_miss)}`);
    targets.appendChild(row([text, estimate, check.status]));
  }
  for (const [n, target] of [[0, "opt-frontier"], [1, "opt-convergence"]]) {
    if (!o.figures.some((f) => f.index === n)) { $(target).replaceChildren(); continue; }
    const figure = await json(`/optimizations/${o.id}/figures/${n}`);
    if (window.Plotly) Plotly.newPlot(target, figure.data, figure.layout, {responsive: true, displaylogo: false});
  }
}

async function refresh() {
  try {
    await loadTwins(); await loadCalibrations(); await loadStudies(); await loadDetail();
    await loadOptimizations(); await loadOptDetail();
  } catch (error) { console.log(error); }
}

async function start() {
  if (!localStorage.getItem(KEY)) { showLogin(); return; }
  try {
    const me = await json("/keys/me");
    $("role").textContent = `${me.role}${me.name ? " (" + me.name + ")" : ""}`;
    myRole = me.role; sharesOf = "";
    $("workspace").textContent = me.workspace;
  } catch (error) { return; }
  $("login").hidden = true; $("app").hidden = false;
  await refresh();
}

$("save-key").onclick = () => { localStorage.setItem(KEY, $("key").value.trim()); start(); };
$("forget-key").onclick = () => { localStorage.removeItem(KEY); showLogin(); };
$("figure-select").onchange = drawFigure;
$("download-report").onclick = () => download(`/studies/${selected}/report`, `report-${selected}.html`);
$("download-pdf").onclick = downloadPdf;
$("watch-replay").onclick = watchReplay;
$("share-create").onclick = createShare;
$("share-copy").onclick = copyShare;
$("download-csv").onclick = () => download(`/studies/${selected}/results.csv`, `results-${selected}.csv`);
$("add-twin").onclick = async () => {
  $("twin-error").textContent = "";
  try {
    await json("/twins", {method: "POST", headers: {"Content-Type": "application/json"},
                          body: JSON.stringify({yaml: $("twin-yaml").value})});
    $("twin-yaml").value = ""; checkYaml(); refresh();
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
  try {
    const body = studyBody();
    const study = await json("/studies", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
    selected = study.id; shownFigures = ""; compared = ""; refresh();
  } catch (error) { $("study-error").textContent = error.message; }
};
$("opt-add-decision").onclick = () => addDecision();
$("opt-twin").onchange = async () => { optTwin = $("opt-twin").value; await loadOptTwin(); };
$("opt-download-plan").onclick = () => download(`/optimizations/${optSelected}/plan`, `plan-${optSelected}.scenario.yaml`);
$("opt-download-report").onclick = () => download(`/optimizations/${optSelected}/report`, `optimization-${optSelected}.html`);
$("start-optimization").onclick = async () => {
  $("opt-error").textContent = "";
  try {
    const job = await json("/optimizations", {method: "POST", headers: {"Content-Type": "application/json"},
                                              body: JSON.stringify(optimizationBody())});
    optSelected = job.id; optShown = ""; refresh();
  } catch (error) { $("opt-error").textContent = error.message; }
};
// plotly rejects an animation's promise, with no reason, when another interrupts it (pause, the
// slider, a second play) and its buttons leave that unhandled: not an error of the page
window.addEventListener("unhandledrejection", (event) => { if (event.reason === undefined) event.preventDefault(); });
addDecision();
setupWorkbench();
setupForecast();
setInterval(() => { if (!$("app").hidden) refresh(); }, 1000);
start();
