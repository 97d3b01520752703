// riskmodel explorer: edit a deal, show the engine's numbers for it (no computation here).
"use strict";

const state = { config: null, deal: {}, start: "", x: "", y: "", layer: "agreement", target: 0.9 };
const maps = new Map();          // "x|y|base" -> map payload (computed once per pair and base)
let evaluating = false, pending = false, leverTimer = null, leverToken = 0, mapToken = 0;

const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value; else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
};
const fmt3 = (v) => v.toFixed(3);
const signed = (v) => (v >= 0 ? "+" : "−") + Math.abs(v).toFixed(3);

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const response = await fetch(path, options);
  const payload = await response.json();
  if (!response.ok) throw new Error(payload.error || response.statusText);
  return payload;
}

async function poll(job, onProgress) {
  while (job.status === "queued" || job.status === "running") {
    onProgress(job);
    await new Promise((resolve) => setTimeout(resolve, 250));
    job = await api(`/api/jobs/${encodeURIComponent(job.id)}`);
  }
  if (job.status === "failed") throw new Error(job.error);
  return job.result;
}

function showProgress(node, text, job) {
  const bar = el("progress", job.total ? { max: job.total, value: job.done } : {});
  node.classList.remove("error");
  node.replaceChildren(bar, ` ${text}`);
}

function dealQuery(deal) {
  const params = new URLSearchParams();
  for (const issue of state.config.issues) params.set(issue.name, String(deal[issue.name]));
  return params.toString();
}

function writeUrl() {
  const params = new URLSearchParams(dealQuery(state.deal));
  params.set("start", state.start);
  params.set("x", state.x); params.set("y", state.y); params.set("layer", state.layer);
  params.set("target", String(state.target));
  history.replaceState(null, "", `?${params.toString()}`);
}

function startingPoints() {
  const points = state.config.deals.map((d) => ({ key: d.name, label: d.label, values: d.values }));
  for (const side of state.config.sides) {
    points.push({ key: `reversion:${side.name}`, label: `Reversion of ${side.label}`, values: side.reversion });
  }
  return points;
}

function baseDeal() {
  const named = state.config.deals.map((d) => d.name);
  return named.includes(state.start) ? state.start : named[0];
}

function buildControls() {
  const c = state.config;
  $("title").textContent = c.title;
  $("about").textContent = `${c.n_worlds.toLocaleString()} worlds (${c.n_draws.toLocaleString()} draws × ` +
    `${c.n_replicates} replicates), seed ${c.seed}, ${c.evidence} — ${c.scenario_file}`;
  const start = $("start");
  for (const p of startingPoints()) start.append(el("option", { value: p.key }, p.label));
  start.addEventListener("change", () => { state.start = start.value; applyStart(); });
  const box = $("issues");
  for (const issue of c.issues) {
    const unit = issue.unit ? ` (${issue.unit})` : "";
    const slider = el("input", { type: "range", min: issue.low, max: issue.high, step: issue.step,
      "data-issue": issue.name, "aria-label": issue.label });
    const number = el("input", { type: "number", min: issue.low, max: issue.high, step: "any",
      "data-issue": issue.name, "aria-label": `${issue.label} value` });
    slider.addEventListener("input", () => setIssue(issue, Number(slider.value), number));
    number.addEventListener("change", () => {
      const value = Number(number.value);
      if (number.value === "" || !Number.isFinite(value) || value < issue.low || value > issue.high) {
        $("timing").textContent = `— ${issue.label}: ${number.value || "(empty)"} is outside ${issue.low} – ${issue.high}`;
        number.value = state.deal[issue.name];
        return;
      }
      setIssue(issue, value, slider);
    });
    box.append(el("div", { class: "issue" },
      el("div", { class: "name" }, issue.label + unit),
      el("div", { class: "controls" }, slider, number),
      el("div", { class: "range" }, `${issue.low} – ${issue.high}`)));
  }
  for (const id of ["map-x", "map-y"]) {
    for (const issue of c.issues) $(id).append(el("option", { value: issue.name }, issue.label));
    $(id).addEventListener("change", () => { state.x = $("map-x").value; state.y = $("map-y").value; requestMap(); });
  }
  $("map-layer").append(el("option", { value: "agreement" }, "agreement (every side)"));
  for (const side of c.sides) $("map-layer").append(el("option", { value: side.name }, side.label));
  $("map-layer").addEventListener("change", () => { state.layer = $("map-layer").value; writeUrl(); drawMap(); });
  $("target").addEventListener("change", () => {
    const t = Number($("target").value);
    if (t > 0 && t <= 1) { state.target = t; scheduleLevers(); writeUrl(); }
  });
  $("save").addEventListener("click", () => keep("save"));
  $("report").addEventListener("click", () => keep("report"));
}

function setIssue(issue, value, other) {
  state.deal[issue.name] = value;
  other.value = value;
  changed();
}

function showDeal() {
  for (const node of document.querySelectorAll("#issues input")) node.value = state.deal[node.dataset.issue];
}

function applyStart() {
  const point = startingPoints().find((p) => p.key === state.start) || startingPoints()[0];
  state.start = point.key;
  state.deal = { ...point.values };
  showDeal();
  changed();
  requestMap();
}

function changed() {
  writeUrl();
  evaluate();
  drawMap();
  scheduleLevers();
}

async function evaluate() {
  if (evaluating) { pending = true; return; }
  evaluating = true;
  const query = dealQuery(state.deal);
  try {
    const result = await api(`/api/evaluate?${query}`);
    renderOutcomes(result);
    renderVotes(result.votes);
    $("timing").textContent = `— updated in ${result.elapsed_ms.toFixed(0)} ms on the server`;
    document.body.dataset.shown = query;
  } catch (error) {
    $("timing").textContent = `— ${error.message}`;
  } finally {
    evaluating = false;
    if (pending) { pending = false; evaluate(); }
  }
}

function renderOutcomes(result) {
  const body = $("outcomes").querySelector("tbody");
  body.replaceChildren();
  for (const o of result.outcomes) {
    const risk = o.rating.risk.replace(" ", "-");
    const badge = el("span", { class: `badge risk-${risk}` }, `${o.rating.label} (${o.rating.risk} risk)`);
    const rating = el("td", {}, badge);
    if (o.rating.borderline) rating.append(el("div", { class: "borderline" }, "near a band edge"));
    body.append(el("tr", { class: o.side === "joint" ? "joint" : "", "data-side": o.side },
      el("td", {}, o.label),
      el("td", { class: "num", id: `p-${o.side}` }, o.text),
      rating,
      el("td", { class: "num" }, `${o.pe_median.toFixed(2)} [${o.pe_interval[0].toFixed(2)}, ${o.pe_interval[1].toFixed(2)}]`)));
  }
}

function renderVotes(votes) {
  const box = $("votes");
  box.replaceChildren();
  for (const v of votes) {
    const canvas = el("canvas", { width: 250, height: 90 });
    const caption = el("div", { class: "caption" },
      el("strong", {}, v.name), ` — P(passes) ${fmt3(v.probability)} ± ${fmt3(v.mcse)}`, el("br"),
      el("span", { class: "dim" }, `${v.rule}; ${v.kind === "count" ? `${v.needed} of ${v.seats} needed with full attendance` : `share needed ${v.needed}`}`));
    box.append(el("div", { class: "vote" }, canvas, caption));
    drawVote(canvas, v);
  }
}

function drawVote(canvas, v) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height, pad = 14;
  ctx.clearRect(0, 0, w, h);
  if (!v.histogram) {
    ctx.fillStyle = "#333"; ctx.font = "11px sans-serif";
    ctx.fillText(`yes share: median ${v.quantiles[2].toFixed(3)}, 90% [${v.quantiles[0].toFixed(3)}, ${v.quantiles[4].toFixed(3)}]`, 4, h / 2);
    return;
  }
  const hist = v.histogram, n = hist.length, top = Math.max(...hist) || 1;
  const scale = (w - 8) / n;
  for (let i = 0; i < n; i++) {
    if (hist[i] <= 0) continue;
    const bh = (h - pad - 4) * hist[i] / top;
    ctx.fillStyle = i >= v.needed ? "#3b7d3b" : "#b03a2e";
    ctx.fillRect(4 + i * scale, h - pad - bh, Math.max(scale, 1.5), bh);
  }
  const tx = 4 + v.needed * scale;
  ctx.strokeStyle = "#111"; ctx.setLineDash([3, 2]);
  ctx.beginPath(); ctx.moveTo(tx, 2); ctx.lineTo(tx, h - pad); ctx.stroke(); ctx.setLineDash([]);
  ctx.fillStyle = "#333"; ctx.font = "10px sans-serif";
  ctx.fillText("0", 2, h - 2); ctx.fillText(String(n - 1), w - 22, h - 2);
  ctx.fillText(`needed ${v.needed}`, Math.min(tx + 3, w - 60), 11);
}

function mapDone(result) {
  const status = $("map-status");
  status.classList.remove("error");
  status.textContent = `Agreement zone (P ≥ ${result.tau}): ${(100 * result.zone_share).toFixed(1)}% of the map ` +
    `(other issues at ${result.base}).`;
  drawMap();
}

async function requestMap() {
  writeUrl();
  const key = `${state.x}|${state.y}|${baseDeal()}`;
  const token = ++mapToken;
  if (state.x === state.y) { $("map-status").textContent = "Choose two different issues."; drawMap(); return; }
  if (maps.has(key)) { mapDone(maps.get(key)); return; }
  try {
    const job = await api("/api/map", { x: state.x, y: state.y, base: baseDeal() });
    const result = await poll(job, (j) => {
      if (token === mapToken) showProgress($("map-status"), `${j.message || "Win-set map"}: computing… ${j.elapsed.toFixed(1)} s`, j);
    });
    maps.set(key, result);
    if (token === mapToken) mapDone(result);
  } catch (error) {
    if (token === mapToken) { $("map-status").textContent = error.message; $("map-status").classList.add("error"); }
  }
}

function colour(p) {
  const r = Math.round(247 - 200 * p), g = Math.round(251 - 140 * p), b = Math.round(255 - 75 * p);
  return `rgb(${r},${g},${b})`;
}

function drawMap() {
  const canvas = $("map"), ctx = canvas.getContext("2d");
  const data = maps.get(`${state.x}|${state.y}|${baseDeal()}`);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!data) return;
  const left = 62, bottom = 40, W = canvas.width - left - 60, H = canvas.height - bottom - 10;
  const grid = state.layer === "agreement" ? data.agreement : data.sides[state.layer];
  const nx = data.xs.length, ny = data.ys.length, cw = W / nx, ch = H / ny;
  for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
    ctx.fillStyle = colour(grid[j][i]);
    ctx.fillRect(left + i * cw, 10 + H - (j + 1) * ch, cw + 0.5, ch + 0.5);
  }
  const x0 = data.xs[0], x1 = data.xs[nx - 1], y0 = data.ys[0], y1 = data.ys[ny - 1];
  const px = (v) => left + (v - x0) / (x1 - x0) * W, py = (v) => 10 + H - (v - y0) / (y1 - y0) * H;
  ctx.fillStyle = "#222"; ctx.font = "11px sans-serif";
  for (const t of [0, 0.5, 1]) {
    ctx.fillText(String(+(x0 + t * (x1 - x0)).toPrecision(4)), px(x0 + t * (x1 - x0)) - 10, 10 + H + 14);
    ctx.fillText(String(+(y0 + t * (y1 - y0)).toPrecision(4)), 22, py(y0 + t * (y1 - y0)) + 4);
  }
  const label = (name) => state.config.issues.find((i) => i.name === name).label;
  ctx.fillText(label(state.x), left + W / 2 - ctx.measureText(label(state.x)).width / 2, canvas.height - 6);
  ctx.save(); ctx.translate(12, 10 + H / 2 + ctx.measureText(label(state.y)).width / 2); ctx.rotate(-Math.PI / 2); ctx.fillText(label(state.y), 0, 0); ctx.restore();
  for (let t = 0; t <= 10; t++) {   // legend
    ctx.fillStyle = colour(t / 10); ctx.fillRect(left + W + 14, 10 + H - (t + 1) * H / 11, 16, H / 11 + 0.5);
  }
  ctx.fillStyle = "#222"; ctx.fillText("P=1", left + W + 34, 20); ctx.fillText("P=0", left + W + 34, 10 + H);
  state.config.deals.forEach((d, n) => {
    const dx = px(d.values[state.x]), dy = py(d.values[state.y]);
    ctx.beginPath(); ctx.arc(dx, dy, 4, 0, 2 * Math.PI); ctx.fill();
    // labels stagger at two heights so that neighbouring deals stay readable
    ctx.fillText(d.name, Math.min(dx + 6, left + W - ctx.measureText(d.name).width), Math.max(22, dy - 5 - 12 * (n % 2)));
  });
  for (const s of state.config.sides) {
    ctx.fillRect(px(s.reversion[state.x]) - 4, py(s.reversion[state.y]) - 4, 8, 8);
  }
  const cx = px(state.deal[state.x]), cy = py(state.deal[state.y]);
  ctx.strokeStyle = "#d0021b"; ctx.lineWidth = 2;
  ctx.beginPath(); ctx.moveTo(cx - 8, cy); ctx.lineTo(cx + 8, cy); ctx.moveTo(cx, cy - 8); ctx.lineTo(cx, cy + 8); ctx.stroke();
  ctx.lineWidth = 1;
}

function scheduleLevers() {
  clearTimeout(leverTimer);
  leverTimer = setTimeout(requestLevers, 500);
}

async function requestLevers() {
  const token = ++leverToken;
  const status = $("lever-status");
  status.classList.remove("error");
  try {
    const job = await api("/api/levers", { values: state.deal, target: state.target });
    const result = await poll(job, (j) => {
      if (token === leverToken) showProgress(status, `Computing levers on the current deal… ${j.done}/${j.total || "?"} (${j.elapsed.toFixed(1)} s)`, j);
    });
    if (token !== leverToken) return;
    status.textContent = `Levers of the current deal (${result.n_constituencies} constituencies with uncertain ideal points).`;
    renderLevers(result);
  } catch (error) {
    if (token === leverToken) { status.textContent = error.message; status.classList.add("error"); }
  }
}

function bar(value) {
  const node = el("span", { class: `bar ${value >= 0 ? "pos" : "neg"}` });
  node.style.width = `${Math.min(80, Math.abs(value) * 200)}px`;  // CSSOM, allowed by the CSP
  return node;
}

function renderLevers(result) {
  const body = $("tornado").querySelector("tbody");
  body.replaceChildren();
  for (const row of result.tornado) {
    body.append(el("tr", {},
      el("td", {}, row.constituency),
      el("td", { class: "num" }, bar(row.toward.agreement), ` ${signed(row.toward.agreement)} / `,
        bar(row.away.agreement), ` ${signed(row.away.agreement)} ±${fmt3(Math.max(row.toward.agreement_mcse, row.away.agreement_mcse))}`),
      el("td", { class: "num" }, `${row.side}: ${signed(row.toward.side)} / ${signed(row.away.side)}`)));
  }
  const pay = result.side_payments, pbody = $("payments").querySelector("tbody");
  pbody.replaceChildren();
  for (const s of pay.sides) {
    pbody.append(el("tr", {}, el("td", {}, s.side), el("td", { class: "num" }, fmt3(s.unpaid)),
      el("td", { class: "num" }, s.budget === null ? "out of reach" : fmt3(s.budget))));
  }
  pbody.append(el("tr", { class: "joint" }, el("td", {}, "agreement (every chief pays)"), el("td", {}, ""),
    el("td", { class: "num" }, pay.agreement === null ? "out of reach" : fmt3(pay.agreement))));
  $("payment-note").textContent = `Smallest budget with P ≥ ${pay.target} that the chief's purchases carry the side; ${pay.unit}.`;
}

async function keep(kind) {
  const status = $("save-status");
  status.classList.remove("error");
  const body = { name: $("deal-name").value.trim(), values: state.deal };
  if ($("deal-label").value.trim()) body.label = $("deal-label").value.trim();
  for (const id of ["save", "report"]) $(id).disabled = true;
  try {
    if (kind === "save") {
      const saved = await api("/api/save", body);
      status.textContent = `Wrote ${saved.scenario}`;
    } else {
      const job = await api("/api/report", body);
      const result = await poll(job, (j) => showProgress(status, `${j.message || "Report"}… ${j.elapsed.toFixed(1)} s`, j));
      status.textContent = `Wrote ${result.html} and ${result.pdf} (scenario ${result.scenario})`;
    }
    status.dataset.written = "yes";
  } catch (error) {
    status.textContent = error.message;
    status.classList.add("error");
  } finally {
    for (const id of ["save", "report"]) $(id).disabled = false;
  }
}

function readUrl() {
  const params = new URLSearchParams(location.search);
  const issues = state.config.issues.map((i) => i.name);
  const points = startingPoints();
  state.start = points.some((p) => p.key === params.get("start")) ? params.get("start") : points[0].key;
  state.x = issues.includes(params.get("x")) ? params.get("x") : issues[0];
  state.y = issues.includes(params.get("y")) && params.get("y") !== state.x ? params.get("y") : issues.find((i) => i !== state.x) || issues[0];
  const layers = ["agreement", ...state.config.sides.map((s) => s.name)];
  state.layer = layers.includes(params.get("layer")) ? params.get("layer") : "agreement";
  const target = Number(params.get("target"));
  if (target > 0 && target <= 1) state.target = target;
  state.deal = { ...points.find((p) => p.key === state.start).values };
  for (const issue of state.config.issues) {
    const raw = params.get(issue.name), value = Number(raw);
    if (raw !== null && raw !== "" && Number.isFinite(value) && value >= issue.low && value <= issue.high) state.deal[issue.name] = value;
  }
}

async function main() {
  state.config = await api("/api/config");
  buildControls();
  readUrl();
  $("start").value = state.start; $("map-x").value = state.x; $("map-y").value = state.y;
  $("map-layer").value = state.layer; $("target").value = state.target;
  showDeal();
  changed();
  requestMap();
}

main().catch((error) => { $("about").textContent = `Could not load the explorer: ${error.message}`; });
