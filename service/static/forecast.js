// The dashboard's Forecast section: a forecast from a state written here (POST
// /twins/{id}/forecast) or from a live twin (POST /live/{id}/forecast), what-if changes from
// the twin's own paths, a live twin's events sent one at a time, and the answer: the
// headline, the open jobs least sure first and the forecast report's two figures.
// Loaded after workbench.js and before dashboard.js; uses their helpers when called.
"use strict";
let fcTwin = "";        // the twin whose paths, activities and live twins the form offers
let fcSpec = null;      // its spec
let fcPaths = {};       // path -> {value, type} of that twin
let fcExampleText = ""; // the example state last put in the box (replaced on a new twin while unedited)

function exampleState(spec) {
  // Two jobs at the twin's first activity: one in service for a while, one waiting behind it.
  const first = ((spec && spec.activities) || [])[0];
  const activity = first ? first.name : "ACTIVITY";
  return {time: 0, entities: [
    {case: "job-1", activity, state: "in_service", since: -0.5},
    {case: "job-2", activity, state: "waiting", since: -0.2},
  ]};
}

function putExample(force) {
  const box = $("fc-state");
  if (!force && box.value.trim() && box.value !== fcExampleText) return;  // the user's own state stays
  fcExampleText = JSON.stringify(exampleState(fcSpec), null, 2);
  box.value = fcExampleText;
}

async function loadForecastTwin() {
  const id = fcTwin = $("fc-twin").value;
  const [found, twin] = id ? await Promise.all([json(`/twins/${id}/paths`), json(`/twins/${id}`)])
    : [{paths: []}, {spec: null, time_unit: ""}];
  if (id !== fcTwin) return;  // another twin was chosen meanwhile
  fcSpec = twin.spec;
  fcPaths = Object.fromEntries(found.paths.map((p) => [p.path, p]));
  $("fc-paths").replaceChildren(...found.paths.map((p) => option(p.path, `now ${display(p.value)}`)));
  for (const tr of $("fc-changes").tBodies[0].rows) showNow(tr, fcPaths);
  $("fc-unit").textContent = fcSpec ? `model time, in ${fcSpec.time_unit || "the twin's unit"}s (the state's time is now)` : "";
  $("ev-activity").replaceChildren(...((fcSpec && fcSpec.activities) || []).map((a) => option(a.name)));
  putExample(false);
  await loadLiveTwins();
}

async function loadLiveTwins(chosen) {
  const keep = chosen || $("fc-live").value;
  const mine = fcTwin ? (await json("/live?limit=200")).filter((l) => l.twin_id === fcTwin) : [];
  $("fc-live").replaceChildren(...mine.map((l) => option(l.id, `${l.name} (${l.events} events)`)));
  if (keep && mine.some((l) => l.id === keep)) $("fc-live").value = keep;
  showSource();
}

function showSource() {
  const live = $("fc-source").value === "live";
  $("fc-state-box").hidden = live;
  $("fc-live-box").hidden = !live;
  $("fc-live-events").hidden = !(live && $("fc-live").value);
}

function fcAddChange(path = "", value = "") {
  $("fc-changes").tBodies[0].appendChild(changeRow("fc-paths", "what-if spec path", () => fcPaths, path, value));
}

function fcChanges() {
  const changes = {};
  for (const tr of $("fc-changes").tBodies[0].rows) {
    const path = tr.querySelector(".change-path").value.trim();
    if (path) changes[path] = parsed(path, tr.querySelector(".change-value").value, fcPaths);
  }
  return changes;
}

class Refused extends Error {
  // An answer that is not OK: its detail, a list of {field, msg} (422) or a sentence.
  constructor(detail) { super(Array.isArray(detail) ? "refused" : String(detail)); this.detail = detail; }
}

async function send(path, body) {
  const response = await api(path, {method: "POST", headers: {"Content-Type": "application/json"},
                                    body: JSON.stringify(body)});
  const answer = await response.json();
  if (!response.ok) throw new Refused(answer.detail);
  return answer;
}

function showProblems(list, error) {
  // Each refused field as the YAML editor lists them: the field's path, then the reason.
  list.replaceChildren();
  const items = error instanceof Refused && Array.isArray(error.detail) ? error.detail
    : [{field: error.field || "", msg: error.message}];
  for (const d of items) {
    const li = document.createElement("li");
    const field = (d.field || (d.loc || []).join(".")).replace(/^body\./, "");
    if (field) {
      const code = document.createElement("code"); code.className = "field"; code.textContent = field;
      li.append(code, " ");
    }
    li.append(d.msg);
    list.appendChild(li);
  }
}

function stateFromBox() {
  try { return JSON.parse($("fc-state").value); } catch (error) {
    const bad = new Error(`not valid JSON (${error.message})`); bad.field = "state"; throw bad;
  }
}

async function runForecast() {
  $("fc-problems").replaceChildren();
  $("fc-running").textContent = "forecasting…";
  const common = {replications: Number($("fc-reps").value), seed: Number($("fc-seed").value), changes: fcChanges()};
  try {
    let summary;
    if ($("fc-source").value === "live") {
      if (!$("fc-live").value) { const none = new Error("make a live twin first (New live twin)"); none.field = "live"; throw none; }
      summary = await send(`/live/${$("fc-live").value}/forecast?figures=true`,
                           {...common, horizon: Number($("fc-horizon").value)});
    } else {
      summary = await send(`/twins/${$("fc-twin").value}/forecast?figures=true`,
                           {...common, state: stateFromBox(), until: Number($("fc-until").value)});
    }
    showForecast(summary);
  } catch (error) {
    if (error.message === "401") return;  // the login asks for a key
    showProblems($("fc-problems"), error);
  } finally { $("fc-running").textContent = ""; }
}

const num = (x, none = "not by until") => x === null || x === undefined ? none : String(Number(Number(x).toPrecision(4)));
const pct = (x) => x === null || x === undefined ? "–" : `${Math.round(100 * x)}%`;

function showForecast(summary) {
  $("fc-result").hidden = false;
  $("fc-until-shown").textContent = `${num(summary.until)}` + (summary.clock ? ` (now: ${summary.clock} UTC)` : "");
  const changed = Object.keys(fcChanges()).length;
  const plans = [summary, ...(summary.what_if || [])];
  $("fc-headline").tBodies[0].replaceChildren(...plans.map((p, i) => row([
    p.twin + (i === 0 && changed ? ` (with ${changed} change${changed === 1 ? "" : "s"})` : ""),
    p.drain_time === null ? "not all by until" : `${num(p.drain_time)}` + (p.drain_time_ci ? ` ± ${num(p.drain_time_ci)}` : ""),
    pct(p.p_drained), num(p.fan.wip.p50[p.fan.wip.p50.length - 1]),
    num(p.fan.completions.p50[p.fan.completions.p50.length - 1])])));
  const late = summary.entities.filter((e) => "p_on_time" in e && e.p_on_time < 0.5).length;
  const stock = Object.entries(summary.stockouts || {}).filter(([, s]) => s.p_stockout > 0)
    .map(([name, s]) => `${name}: P(stockout) ${pct(s.p_stockout)}`);
  $("fc-note").textContent = `${summary.entities.length} open jobs, ${summary.replications} replications.` +
    (late ? ` ${late} jobs with a due date are more likely late than not.` : "") +
    (stock.length ? ` Stock ahead: ${stock.join("; ")}.` : "");
  const dues = summary.entities.some((e) => "p_on_time" in e);
  const head = ["case", "where", "finish p50", "finish p90", "P(done by until)", ...(dues ? ["P(on time)"] : [])];
  $("fc-jobs").tHead.replaceChildren(row(head));
  const sure = (e) => Math.min(e.p_done, "p_on_time" in e ? e.p_on_time : 1);
  const order = summary.entities.map((e, k) => [e, k]).sort(([a], [b]) => sure(a) - sure(b) || a.p_done - b.p_done);
  $("fc-jobs").tBodies[0].replaceChildren(...order.map(([e, k]) => {
    const tr = row([e.case || `job ${k + 1}`, `${e.activity || ""} (${e.state.replace("_", " ")})`, num(e.finish_p50),
                    num(e.finish_p90), pct(e.p_done), ...(dues ? ["p_on_time" in e ? pct(e.p_on_time) : "–"] : [])]);
    if (sure(e) < 0.5) tr.classList.add("unsure");
    return tr;
  }));
  const box = $("fc-figures"); box.replaceChildren();
  for (const figure of summary.figures || []) {
    const div = document.createElement("div"); div.className = "fc-figure"; box.appendChild(div);
    delete figure.layout.width;  // as wide as the page, never wider
    if (window.Plotly) Plotly.newPlot(div, figure.data, Object.assign(figure.layout, {autosize: true}), {responsive: true, displaylogo: false});
  }
}

function showCases(state) {
  $("fc-clock").textContent = state.clock ? `State at ${state.clock} UTC (model time ${num(state.time)}).` : "";
  const since = (e) => `${num(e.since)} ${fcSpec && fcSpec.time_unit ? fcSpec.time_unit + "s" : ""}`;
  $("fc-cases").tBodies[0].replaceChildren(...state.entities.map((e) => row([
    e.case || "", e.activity || (e.after ? `after ${e.after}` : ""), e.state.replace("_", " "), since(e),
    e.resource || "", e.due === null || e.due === undefined ? "" : num(e.due)])));
}

async function newLive() {
  $("fc-problems").replaceChildren();
  try {
    const made = await send("/live", {twin_id: $("fc-twin").value});
    await loadLiveTwins(made.id);
    $("fc-cases").tBodies[0].replaceChildren(); $("fc-clock").textContent = "No events yet.";
  } catch (error) { if (error.message !== "401") showProblems($("fc-problems"), error); }
}

async function sendEvent() {
  $("ev-problems").replaceChildren();
  const event = {case: $("ev-case").value.trim(), activity: $("ev-activity").value, start: $("ev-start").value.trim(),
                 closes: $("ev-closes").checked};
  if ($("ev-resource").value.trim()) event.resource = $("ev-resource").value.trim();
  if ($("ev-end").value.trim()) event.end = $("ev-end").value.trim();
  try {
    const answer = await send(`/live/${$("fc-live").value}/events`, {events: [event]});
    showCases(answer.state);
    await loadLiveTwins($("fc-live").value);
  } catch (error) { if (error.message !== "401") showProblems($("ev-problems"), error); }
}

async function showLiveState() {
  showSource();
  if (!$("fc-live").value) return;
  const response = await api(`/live/${$("fc-live").value}/state`);
  if (response.ok) showCases(await response.json());
  else { $("fc-cases").tBodies[0].replaceChildren(); $("fc-clock").textContent = "No events yet."; }
}

function setupForecast() {
  $("fc-twin").addEventListener("change", loadForecastTwin);
  $("fc-source").onchange = showLiveState;
  $("fc-live").onchange = showLiveState;
  $("fc-example").onclick = () => putExample(true);
  $("fc-add-change").onclick = () => fcAddChange();
  $("fc-run").onclick = runForecast;
  $("fc-new-live").onclick = newLive;
  $("ev-send").onclick = sendEvent;
  $("ev-start").value = new Date().toISOString().replace(/\.\d+Z$/, "+00:00");
}
