// upheaval dashboard: the scenario form, the live run (frames over a WebSocket), the
// what-if variant and playback of stored runs. Plain JavaScript, no build step; charts
// by uPlot (vendored, MIT). window.dashboard exposes the page's state to tests.
"use strict";

const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const k of kids) e.append(k);
  return e;
};

const D = (window.dashboard = {
  schema: null,
  pal32: null,
  token: null,
  columns: [],
  tick: null,
  running: false,
  started: false,
  framesReceived: 0,
  framesDrawn: 0,
  drawTimes: [],
  fps: 0,
  serverMs: null,
  serverLog: [],         // server_ms of recent frames (benchmarks/dashboard_fps.py reads it)
  drawLog: [],           // ms to draw each recent frame's lattices in the page
  errors: [],
  variants: [],          // [{name, canvas, rows: {col: []}}]
  marks: [],
  marksB: [],
  shown: new Set(["quiet_blue", "active_blue", "jailed_blue", "cops"]),
  playback: null,
  country: null,         // the form's country (inline places and links), or null
  map: null,             // a country's map: {places, links, hits: [{name, x, y, r}]}
  place: null,           // the place whose lattice is shown
  mapDraws: 0,
});

// ---------------------------------------------------------------- the form --
function fieldInput(p) {
  let input;
  if (p.kind === "choice" || p.kind === "bool") {
    input = el("select");
    const opts = p.kind === "bool" ? ["true", "false"] : p.choices;
    for (const c of opts) input.append(el("option", { value: c, text: c }));
  } else {
    input = el("input", { type: "text", size: "10" });
  }
  input.name = p.location;
  input.id = "f-" + p.location;
  input.addEventListener("change", scheduleValidate);
  return input;
}

function rangeText(p) {
  if (p.kind === "choice") return "";
  if (p.kind === "term") return `ticks ≥ ${p.low ?? 0}, or inf`;
  if (p.low !== null && p.high !== null) return `${p.low} … ${p.high}`;
  return "";
}

function buildForm(schema) {
  const form = $("params");
  form.innerHTML = "";
  for (const s of schema.sections) {
    const det = el("details", { "data-section": s.name });
    if (["world", "population", "citizens", "run"].includes(s.name)) det.open = true;
    det.append(el("summary", { text: s.name }));
    for (const p of s.parameters) {
      const tags = [rangeText(p), p.timeline ? "timeline" : "", p.initial_only ? "initial only" : ""]
        .filter(Boolean).join(" · ");
      const f = el("div", { class: "field", "data-location": p.location },
        el("label", { for: "f-" + p.location, title: p.help, text: p.location }),
        fieldInput(p),
        el("small", { class: "help", text: p.help + (tags ? ` [${tags}]` : "") }),
        el("div", { class: "field-error", role: "alert" }));
      det.append(f);
    }
    form.append(det);
  }
  const tpl = $("timeline-template");
  tpl.innerHTML = "";
  const name = schema.timeline_parameters[0] || "legitimacy";
  tpl.append(el("option", { value: `tick = 10, set = { ${name} = 0.7 }`, text: "set a value" }));
  tpl.append(el("option", { value: `start = 10, end = 50, ramp = { ${name} = 0.6 }`, text: "ramp a value" }));
  for (const [a, spec] of Object.entries(schema.actions)) {
    tpl.append(el("option", { value: spec.example, text: "action " + a, title: spec.help }));
  }
  $("param-filter").addEventListener("input", (ev) => {
    const q = ev.target.value.toLowerCase();
    for (const f of form.querySelectorAll(".field")) {
      f.style.display = !q || f.textContent.toLowerCase().includes(q) ? "" : "none";
    }
    if (q) for (const d of form.querySelectorAll("details")) d.open = true;
  });
}

function timelineRow(text) {
  const input = el("input", { type: "text", class: "tl-text", value: text, size: "40" });
  input.addEventListener("change", scheduleValidate);
  const del = el("button", { type: "button", class: "tl-del", title: "remove", text: "✕" });
  const row = el("div", { class: "tl-row" }, input, del, el("div", { class: "field-error", role: "alert" }));
  del.addEventListener("click", () => { row.remove(); scheduleValidate(); });
  return row;
}

function fillForm(content) {
  for (const [loc, text] of Object.entries(content.values)) {
    const input = document.getElementById("f-" + loc);
    if (input) input.value = text;
  }
  const tl = $("timeline");
  tl.innerHTML = "";
  for (const row of content.timeline) tl.append(timelineRow(row));
  D.scenarioName = content.name;
  D.description = content.description;
  D.country = content.country || null;
  $("scenario-name").textContent = `${content.name}: ${content.description || ""}`;
  clearErrors();
}

function readForm() {
  const values = {};
  for (const input of $("params").querySelectorAll("input, select")) values[input.name] = input.value;
  const timeline = [...$("timeline").querySelectorAll(".tl-text")].map((i) => i.value);
  const form = { name: D.scenarioName || "dashboard", description: D.description || "", values, timeline };
  if (D.country) form.country = D.country;
  return form;
}

function clearErrors() {
  for (const e of document.querySelectorAll(".field-error")) e.textContent = "";
  for (const e of document.querySelectorAll(".invalid")) e.classList.remove("invalid");
  $("run-error").textContent = "";
  $("scenario-error").textContent = "";
}

// Show the loader's message where it belongs: a parameter's field, a timeline row, or
// the run's error line.
function showError(msg) {
  D.errors.push(msg);
  const key = msg.key || "";
  let host = null;
  const tl = key.match(/^timeline\[(\d+)\]/);
  if (tl) {
    const row = $("timeline").querySelectorAll(".tl-row")[Number(tl[1]) - 1];
    if (row) host = row;
  } else if (key) {
    host = document.querySelector(`.field[data-location="${key}"]`);
  }
  if (host) {
    host.classList.add("invalid");
    host.querySelector(".field-error").textContent = `${key}: ${msg.message}`;
    const det = host.closest("details");
    if (det) det.open = true;
    host.scrollIntoView({ block: "nearest" });
  } else {
    $("run-error").textContent = key ? `${key}: ${msg.message}` : msg.message;
  }
}

let validateTimer = null;
function scheduleValidate() {
  clearTimeout(validateTimer);
  validateTimer = setTimeout(async () => {
    const r = await fetch("/api/validate", { method: "POST", body: JSON.stringify(readForm()) });
    const j = await r.json();
    clearErrors();
    if (!j.ok) showError(j);
  }, 250);
}

async function loadPreset(name) {
  const r = await fetch("/api/preset/" + encodeURIComponent(name));
  fillForm(await r.json());
}

async function upload(file) {
  const text = await file.arrayBuffer();
  const r = await fetch("/api/upload?filename=" + encodeURIComponent(file.name), { method: "POST", body: text });
  const j = await r.json();
  if (!j.ok) {
    $("scenario-error").textContent = (j.where ? j.where + ": " : "") + (j.key ? j.key + ": " : "") + j.message;
    D.errors.push(j);
    return;
  }
  fillForm(j);
}

// ---------------------------------------------------------------- lattices --
function drawLattice(canvas, bytes, width, height) {
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
    canvas._img = null;
  }
  const ctx = canvas.getContext("2d");
  if (!canvas._img) canvas._img = ctx.createImageData(width, height);
  const out = new Uint32Array(canvas._img.data.buffer);
  const pal = D.pal32;
  for (let i = 0; i < bytes.length; i++) out[i] = pal[bytes[i]];
  ctx.putImageData(canvas._img, 0, 0);
}

function drawLegend(host, entries) {
  host.innerHTML = "";
  for (const e of entries) {
    host.append(el("span", { class: "key" }, el("i", { style: `background:${e.hex}` }), e.label));
  }
}

function variantPanel(name) {
  const canvas = el("canvas", { class: "lattice", id: "lattice-" + name });
  const fig = el("figure", { "data-variant": name }, el("figcaption", { text: name === "A" ? "A" : "B (what-if)" }), canvas);
  $("lattices").append(fig);
  return { name, canvas, fig, rows: null };
}

// ---------------------------------------------------------------- the chart --
const COLOURS = ["#1f77b4", "#d62728", "#222222", "#7f7f7f", "#2ca02c", "#ff7f0e", "#9467bd",
  "#8c564b", "#e377c2", "#bcbd22", "#17becf"];

function marksPlugin(getMarks, getCursor) {
  return {
    hooks: {
      draw: [(u) => {
        const ctx = u.ctx;
        ctx.save();
        ctx.font = `${11 * devicePixelRatio}px sans-serif`;
        getMarks().forEach((m, k) => {
          const x = u.valToPos(m.tick, "x", true);
          if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
          ctx.strokeStyle = m.b ? "#9467bd" : "#e8a33d";
          ctx.setLineDash([5, 4]);
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
          ctx.fillStyle = "#555";
          // labels on four staggered rows, so that close events stay readable
          ctx.fillText(m.label, x + 3, u.bbox.top + (12 + 12 * (k % 4)) * devicePixelRatio);
        });
        const c = getCursor && getCursor();
        if (c !== null && c !== undefined) {
          const x = u.valToPos(c, "x", true);
          ctx.strokeStyle = "#000";
          ctx.setLineDash([]);
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
        }
        ctx.restore();
      }],
    },
  };
}

// Real-valued columns (legitimacy, framing) go on a second axis, on the right.
function makeChart(host, names, dashedFrom, getMarks, getCursor, floats) {
  host.innerHTML = "";
  const series = [{ label: "tick" }];
  let right = false;
  names.forEach((n, i) => {
    const b = i >= dashedFrom;
    const col = COLOURS[(b ? i - dashedFrom : i) % COLOURS.length];
    const real = (floats || []).includes(n.replace(/^B:/, ""));
    right = right || real;
    series.push({ label: b ? n.replace(/^B:/, "B ") : n, stroke: col, width: 1.5,
      dash: b ? [6, 3] : undefined, scale: real ? "real" : "y" });
  });
  const axes = [{ label: "tick" }, { scale: "y", label: "agents, events" }];
  if (right) axes.push({ scale: "real", side: 1, grid: { show: false } });
  const opts = {
    width: Math.max(400, host.clientWidth || 800),
    height: 260,
    series,
    scales: { x: { time: false }, real: { range: [0, 1] } },
    axes,
    plugins: [marksPlugin(getMarks, getCursor)],
    legend: { live: true },
  };
  return new uPlot(opts, [[], ...names.map(() => [])], host);
}

function buildPicker(host, columns, onChange) {
  host.innerHTML = "";
  for (const c of columns) {
    if (c === "tick") continue;
    const box = el("input", { type: "checkbox", value: c });
    box.checked = D.shown.has(c);
    box.addEventListener("change", () => {
      if (box.checked) D.shown.add(c); else D.shown.delete(c);
      onChange();
    });
    host.append(el("label", { class: "pick" }, box, c));
  }
}

function liveChartData() {
  const a = D.variants[0];
  if (!a) return null;
  const names = [...D.shown].filter((c) => D.columns.includes(c));
  const data = [a.rows.tick, ...names.map((c) => a.rows[c])];
  const b = D.variants[1];
  if (b) for (const c of names) data.push(b.rows[c].slice(0, a.rows.tick.length));
  return { names: b ? [...names, ...names.map((c) => "B:" + c)] : names, data, dashedFrom: names.length };
}

let chartKey = "";
function refreshLiveChart(force) {
  const d = liveChartData();
  if (!d) return;
  const key = d.names.join(",");
  if (force || key !== chartKey || !D.chart) {
    chartKey = key;
    D.chart = makeChart($("chart"), d.names, d.dashedFrom, () => [...D.marks, ...D.marksB], null, D.floatColumns);
  }
  D.chart.setData(d.data);
}

// ---------------------------------------------------------------- the run --
let ws = null;
let pending = null;      // the latest frame not yet drawn
let unacked = 0;         // frames received and not yet acknowledged
let lastChart = 0;

function send(op, arg) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ op, arg }));
}

function connect() {
  ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  ws.binaryType = "arraybuffer";
  ws.onopen = () => { $("conn").textContent = "connected"; };
  ws.onclose = () => { $("conn").textContent = "disconnected (reload the page)"; D.connected = false; };
  ws.onmessage = (ev) => {
    if (typeof ev.data === "string") onMessage(JSON.parse(ev.data));
    else onFrame(ev.data);
  };
}

function setButtons() {
  const s = D.started;
  $("run").disabled = !s || D.running;
  $("pause").disabled = !s || !D.running;
  $("step").disabled = !s;
  $("reset").disabled = !s;
  $("branch").disabled = !s;
  $("unbranch").disabled = D.variants.length < 2;
  for (const a of [$("dl-parquet"), $("dl-figure")]) a.classList.toggle("disabled", !s);
}

function emptyRows() {
  const r = {};
  for (const c of D.columns) r[c] = [];
  return r;
}

function onMessage(m) {
  if (m.type === "hello") {
    D.token = m.token;
    D.connected = true;
    $("dl-parquet").href = `/api/live/${m.token}/ticks.parquet`;
    $("dl-figure").href = `/api/live/${m.token}/timeseries.png`;
  } else if (m.type === "error") {
    showError(m);
  } else if (m.type === "started") {
    clearErrors();
    D.started = true;
    D.running = false;
    D.columns = m.columns;
    D.floatColumns = m.float_columns;
    D.marks = m.timeline;
    D.marksB = [];
    D.steps = m.steps;
    $("lattices").innerHTML = "";
    D.variants = [variantPanel("A")];
    D.variants[0].rows = emptyRows();
    drawLegend($("legend"), m.legend);
    setupMap(m.places, m.links, m.place);
    buildPicker($("series-picker"), D.columns, () => refreshLiveChart(true));
    D.chart = null;
    chartKey = "";
    setButtons();
  } else if (m.type === "branched") {
    clearErrors();
    const b = variantPanel("B");
    b.rows = emptyRows();
    D.variants[1] = b;
    D.marksB = m.timeline.filter((t) => t.tick > m.tick).map((t) => ({ ...t, label: "B: " + t.label, b: true }));
    D.marksB.push({ tick: m.tick, label: "branch", b: true });
    setButtons();
  } else if (m.type === "status") {
    D.running = m.running;
    if (m.variants.length < 2 && D.variants.length > 1) {
      D.variants[1].fig.remove();
      D.variants.length = 1;
      D.marksB = [];
      refreshLiveChart(true);
    }
    setButtons();
  } else if (m.type === "finished") {
    D.running = false;
    D.finished = m.tick;
    setButtons();
  }
}

function onFrame(buf) {
  const dv = new DataView(buf);
  const n = dv.getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, n)));
  const body = 4 + n;
  D.framesReceived++;
  unacked++;
  D.running = header.running;
  D.serverMs = header.server_ms;
  D.serverLog.push(header.server_ms);
  if (D.serverLog.length > 5000) D.serverLog.splice(0, 1000);
  header.variants.forEach((v, i) => {
    const panel = D.variants[i];
    if (!panel) return;
    for (const row of v.rows) D.columns.forEach((c, k) => panel.rows[c].push(row[k]));
    const place = v.places.find((p) => p.lattice);
    if (place) {
      panel.place = place.name;
      panel.lattice = { bytes: new Uint8Array(buf, body + place.lattice[0], place.lattice[1]), width: place.width, height: place.height };
    }
  });
  pending = header;
  requestAnimationFrame(drawPending);
}

function drawPending(now) {
  if (!pending) return;
  const header = pending;
  pending = null;
  const t0 = performance.now();
  for (const panel of D.variants) {
    if (panel.lattice) drawLattice(panel.canvas, panel.lattice.bytes, panel.lattice.width, panel.lattice.height);
    if (D.map && panel.place) {
      panel.fig.querySelector("figcaption").textContent =
        (panel.name === "A" ? "A" : "B (what-if)") + ` · ${panel.place} ${panel.lattice.width}×${panel.lattice.height}`;
    }
  }
  if (D.map) drawMap(header.variants[0].places, header.variants[0].links);
  D.drawLog.push(performance.now() - t0);
  if (D.drawLog.length > 5000) D.drawLog.splice(0, 1000);
  D.tick = header.tick;
  $("tick").textContent = `tick ${header.tick}` + (D.steps ? ` / ${D.steps}` : "");
  D.framesDrawn++;
  const t = performance.now();
  D.drawTimes.push(t);
  while (D.drawTimes.length && D.drawTimes[0] < t - 1000) D.drawTimes.shift();
  D.fps = D.drawTimes.length;
  if (t - lastChart > 100 || !D.running) {
    lastChart = t;
    refreshLiveChart(false);
    const ms = header.server_ms;
    $("fps").textContent = `${D.fps} frames/s · server ${ms.total.toFixed(1)} ms/frame`;
  }
  setButtons();
  // Acknowledge every frame received up to this one: the server sends more.
  for (; unacked > 0; unacked--) send("ack");
}

// ------------------------------------------------------------- country map --
// Places at their longitude and latitude (equirectangular, x shrunk by the cosine of
// the mean latitude), circle area ∝ population, colour the share of citizens active
// (white none, full red at half or more, as upheaval map draws it), a red ring where
// links are blocked, a black one past its onset (upheaval map's rings), "+N" the forces on their way there; links grey, air dotted.
// As upheaval map draws them: forces on a link in blue, activists travelling on it in orange beside them (width by count
// against the most seen on one link so far), and a blue square with "unit N" around a place holding members of a named unit.
const FORCES_COLOUR = "#1f4e9c", TRAVELLERS_COLOUR = "#e07b00";
const MAP_PAD = 46;

function setupMap(places, links, shown) {
  const box = $("country");
  const pick = $("place-pick");
  if (!places || places.length < 2 || places[0].lat === undefined) {
    D.map = null;
    box.classList.add("hidden");
    return;
  }
  const canvas = $("map");
  const W = canvas.width, H = canvas.height;
  const k = Math.cos((places.reduce((s, p) => s + p.lat, 0) / places.length) * Math.PI / 180);
  const xs = places.map((p) => p.lon * Math.max(0.2, k)), ys = places.map((p) => p.lat);
  const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
  const scale = Math.min((W - 2 * MAP_PAD) / Math.max(x1 - x0, 1e-6), (H - 2 * MAP_PAD) / Math.max(y1 - y0, 1e-6));
  const ox = (W - scale * (x1 - x0)) / 2, oy = (H - scale * (y1 - y0)) / 2;
  const maxPop = Math.max(...places.map((p) => p.population));
  const rMax = Math.max(6, Math.min(28, 0.45 * Math.sqrt((W * H) / places.length) / 2));
  const hits = places.map((p, i) => ({
    name: p.name,
    region: p.region,
    population: p.population,
    x: ox + scale * (xs[i] - x0),
    y: H - (oy + scale * (ys[i] - y0)),
    r: Math.max(3, rMax * Math.sqrt(p.population / maxPop)),
  }));
  const at = Object.fromEntries(hits.map((h) => [h.name, h]));
  const biggest = new Set([...hits].sort((a, b) => b.population - a.population).slice(0, 12).map((h) => h.name));
  D.map = { places, links: links.map((l) => ({ ...l, a: at[l.from], b: at[l.to] })), hits, biggest, most: [0, 0], seen: [false, false, false] };
  pick.innerHTML = "";
  for (const p of places) pick.append(el("option", { value: p.name, text: `${p.name} (${p.region})` }));
  D.place = shown || places[0].name;
  pick.value = D.place;
  box.classList.remove("hidden");
  drawMapLegend();
}

function choosePlace(name) {
  if (!D.map || !D.map.hits.some((h) => h.name === name)) return;
  D.place = name;
  $("place-pick").value = name;
  send("place", name);
}

function shareColour(share) {
  const t = Math.min(1, share / 0.5);  // 0 → white, ≥ 0.5 → red
  const g = Math.round(255 - t * (255 - 39)), r = Math.round(255 - t * (255 - 214));
  return `rgb(${r},${g},${Math.round(255 - t * (255 - 40))})`;
}

function drawMap(counts, onLinks) {
  const m = D.map;
  const canvas = $("map");
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.lineWidth = 1;
  ctx.strokeStyle = "#8a8a8a";
  for (const l of m.links) {
    ctx.setLineDash(l.mode === "air" ? [2, 4] : []);
    ctx.beginPath();
    ctx.moveTo(l.a.x, l.a.y);
    ctx.lineTo(l.b.x, l.b.y);
    ctx.stroke();
  }
  ctx.setLineDash([]);
  // forces (blue) and travellers (orange, 3 px beside) on the links at this tick
  const seenBefore = m.seen.join();
  m.onLinks = onLinks || [];
  m.onLinks.forEach((pair, k) => pair.forEach((n, j) => { m.most[j] = Math.max(m.most[j], n); if (n) m.seen[j] = true; }));
  [[0, FORCES_COLOUR, 0], [1, TRAVELLERS_COLOUR, 3]].forEach(([j, colour, shift]) => {
    m.onLinks.forEach((pair, k) => {
      const n = pair[j], l = m.links[k];
      if (!n || !l) return;
      const len = Math.hypot(l.b.x - l.a.x, l.b.y - l.a.y) || 1;
      const dx = (-shift * (l.b.y - l.a.y)) / len, dy = (shift * (l.b.x - l.a.x)) / len;
      ctx.globalAlpha = 0.85;
      ctx.lineWidth = 1.5 + (4.5 * n) / Math.max(m.most[j], 1);
      ctx.strokeStyle = colour;
      ctx.beginPath();
      ctx.moveTo(l.a.x + dx, l.a.y + dy);
      ctx.lineTo(l.b.x + dx, l.b.y + dy);
      ctx.stroke();
      ctx.globalAlpha = 1;
    });
  });
  const byName = Object.fromEntries(counts.map((c) => [c.name, c]));
  ctx.font = "11px system-ui, sans-serif";
  for (const h of m.hits) {
    const c = byName[h.name] || {};
    const citizens = (c.quiet || 0) + (c.active || 0) + (c.jailed || 0);
    h.share = citizens > 0 ? (c.active || 0) / citizens : 0;
    h.blocked = c.links_blocked || 0;
    h.inTransit = c.forces_in_transit || 0;
    ctx.beginPath();
    ctx.arc(h.x, h.y, h.r, 0, 2 * Math.PI);
    ctx.fillStyle = shareColour(h.share);
    ctx.fill();
    h.onset = !!c.onset;
    ctx.lineWidth = h.blocked || h.onset ? 2.5 : 1;
    ctx.strokeStyle = h.blocked ? "#d62728" : h.onset ? "#000" : "#777";
    ctx.stroke();
    if (h.name === D.place) {
      ctx.beginPath();
      ctx.arc(h.x, h.y, h.r + 4, 0, 2 * Math.PI);
      ctx.lineWidth = 2;
      ctx.strokeStyle = "#1f5fbf";
      ctx.stroke();
    }
    let text = m.biggest.has(h.name) || h.name === D.place ? h.name : "";
    if (h.inTransit) text = `${text} +${h.inTransit}`.trim();
    if (text) {
      ctx.fillStyle = "#222";
      ctx.fillText(text, h.x + h.r + 3, h.y - 3);
    }
    // members of named units here: a blue square and "unit N" below the name
    h.units = c.units || [];
    if (h.units.length) {
      m.seen[2] = true;
      const side = h.r + 5;
      ctx.lineWidth = 1.6;
      ctx.strokeStyle = FORCES_COLOUR;
      ctx.strokeRect(h.x - side, h.y - side, 2 * side, 2 * side);
      ctx.font = "bold 11px system-ui, sans-serif";
      const label = h.units.map(([u, n]) => `${u} ${n}`).join(", ");
      ctx.lineWidth = 3;
      ctx.strokeStyle = "#fff";  // a white halo over the links beneath
      ctx.strokeText(label, h.x + h.r + 3, h.y + 11);
      ctx.fillStyle = FORCES_COLOUR;
      ctx.fillText(label, h.x + h.r + 3, h.y + 11);
      ctx.font = "11px system-ui, sans-serif";
    }
  }
  if (m.seen.join() !== seenBefore) drawMapLegend();  // a new kind of thing to name
  D.mapDraws++;
}

function drawMapLegend() {
  const host = $("map-legend");
  host.innerHTML = "";
  const key = (style, cls, label) => {
    const i = el("i", { class: cls });
    i.setAttribute("style", style);
    host.append(el("span", { class: "key" }, i, label));
  };
  key(`background:${shareColour(0)}`, "dot", "no citizen active");
  key(`background:${shareColour(0.25)}`, "dot", "a quarter active");
  key(`background:${shareColour(0.5)}`, "dot", "half or more active");
  key("", "ring", "links blocked");
  key("border-color:#000", "ring", "past its onset (2 % active)");
  host.append(el("span", { class: "key", text: "+N forces on their way" }));
  // what the run has shown so far: forces, travellers on the links; named units
  const seen = D.map ? D.map.seen : [false, false, false];
  if (seen[0]) key(`background:${FORCES_COLOUR}`, "bar", "forces on a link");
  if (seen[1]) key(`background:${TRAVELLERS_COLOUR}`, "bar", "activists travelling on a link");
  if (seen[2]) key(`border-color:${FORCES_COLOUR}`, "square", "a named unit here (members)");
  host.append(el("span", { class: "key", text: "area ∝ population · ── road/rail · ┈┈ air · blue ring: lattice shown" }));
}

function mapClick(ev) {
  if (!D.map) return;
  const canvas = $("map");
  const rect = canvas.getBoundingClientRect();
  const x = ((ev.clientX - rect.left) * canvas.width) / rect.width;
  const y = ((ev.clientY - rect.top) * canvas.height) / rect.height;
  let best = null, bestD = Infinity;
  for (const h of D.map.hits) {
    const d = Math.hypot(h.x - x, h.y - y);
    if (d <= h.r + 5 && d < bestD) { best = h; bestD = d; }
  }
  if (best) choosePlace(best.name);
}

// ---------------------------------------------------------------- playback --
async function loadStoredList() {
  const r = await fetch("/api/stored");
  const j = await r.json();
  const host = $("stored-list");
  host.innerHTML = "";
  $("stored-none").textContent = j.runs.length ? "" : "No stored runs under this server's results folder (upheaval serve --results DIR).";
  for (const run of j.runs) {
    const b = el("button", { class: "stored", "data-id": run.id, text: `${run.id} — ${run.label}` });
    b.addEventListener("click", () => openStored(run.id));
    host.append(b);
  }
}

async function openStored(id) {
  const r = await fetch("/api/stored/" + id.split("/").map(encodeURIComponent).join("/"));
  const run = await r.json();
  if (!run.ok) { $("pb-title").textContent = run.message; return; }
  const rows = {};
  run.columns.forEach((c, i) => { rows[c] = run.rows[i]; });
  D.playback = { run, rows, tick: rows.tick[0], snaps: new Map(), snapTick: null, shown: false };
  $("pb-title").textContent = `${run.id}: ${run.title}`;
  $("pb-controls").classList.remove("hidden");
  const slider = $("pb-slider");
  slider.min = rows.tick[0];
  slider.max = rows.tick[rows.tick.length - 1];
  slider.value = slider.min;
  const files = $("pb-files");
  files.innerHTML = "";
  for (const f of run.files) {
    files.append(el("a", { class: "dl", href: `/api/stored/${id}/file/${f}`, download: f, text: f }));
  }
  // snapshots keep no unit or faction: citizens (Green too in Model II) and one cop colour
  const keys = run.variant === "II" ? ["empty", "quiet", "active", "jailed", "quiet_green", "active_green", "cop_unit_0"]
    : ["empty", "quiet", "active", "jailed", "cop_unit_0"];
  drawLegend($("pb-legend"), D.schema.legend.filter((e) => keys.includes(e.key)));
  const names = [...D.shown].filter((c) => run.columns.includes(c));
  D.pbChart = makeChart($("pb-chart"), names, names.length, () => run.timeline, () => D.playback && D.playback.tick, run.float_columns);
  D.pbChart.setData([rows.tick, ...names.map((c) => rows[c])]);
  await showStoredTick(Number(slider.min));
}

async function showStoredTick(tick) {
  const pb = D.playback;
  pb.tick = tick;
  const i = pb.rows.tick.indexOf(tick);
  const active = i >= 0 ? pb.rows.active_blue[i] + pb.rows.active_green[i] : "–";
  $("pb-tick").textContent = `tick ${tick}: active ${active}`;
  const snaps = pb.run.snapshots.filter((t) => t <= tick);
  const snap = snaps.length ? snaps[snaps.length - 1] : null;
  if (snap === null) {
    $("pb-canvas").classList.add("hidden");
    pb.snapTick = null;
    $("pb-snap").textContent = pb.run.snapshots.length ? "no snapshot yet at this tick"
      : pb.run.status === "sweep run" ? "a sweep keeps no lattice snapshots: time series only"
      : "this run kept no snapshots (upheaval run --snapshot-every K)";
  } else {
    if (!pb.snaps.has(snap)) {
      const r = await fetch(`/api/stored/${pb.run.id}/snapshot/${snap}`);
      pb.snaps.set(snap, new Uint8Array(await r.arrayBuffer()));
    }
    $("pb-canvas").classList.remove("hidden");
    drawLattice($("pb-canvas"), pb.snaps.get(snap), pb.run.width, pb.run.height);
    pb.snapTick = snap;
    $("pb-snap").textContent = `lattice: snapshot at tick ${snap}`;
  }
  if (D.pbChart) D.pbChart.redraw(false, false);
  pb.shown = true;
}

// ---------------------------------------------------------------- wiring --
async function main() {
  const r = await fetch("/api/schema");
  D.schema = await r.json();
  D.pal32 = new Uint32Array(new Uint8Array(D.schema.palette).buffer);
  buildForm(D.schema);
  const sel = $("preset");
  for (const p of D.schema.presets) sel.append(el("option", { value: p.name, text: p.name, title: p.description }));
  sel.value = D.schema.presets.some((p) => p.name === "epstein2002-run2") ? "epstein2002-run2" : D.schema.presets[0].name;
  sel.addEventListener("change", () => loadPreset(sel.value));
  $("upload").addEventListener("change", (ev) => { if (ev.target.files[0]) upload(ev.target.files[0]); });
  $("timeline-add").addEventListener("click", () => { $("timeline").append(timelineRow($("timeline-template").value)); scheduleValidate(); });
  await loadPreset(sel.value);
  connect();
  $("start").addEventListener("click", () => { clearErrors(); send("start", readForm()); });
  $("run").addEventListener("click", () => send("run"));
  $("pause").addEventListener("click", () => send("pause"));
  $("step").addEventListener("click", () => send("step", 1));
  $("reset").addEventListener("click", () => send("reset"));
  $("speed").addEventListener("change", (ev) => send("speed", Number(ev.target.value)));
  $("draw-every").addEventListener("change", (ev) => send("draw_every", Math.max(1, Math.round(Number(ev.target.value)) || 1)));
  $("branch").addEventListener("click", () => { clearErrors(); send("branch", readForm()); });
  $("unbranch").addEventListener("click", () => send("unbranch"));
  $("map").addEventListener("click", mapClick);
  $("place-pick").addEventListener("change", (ev) => choosePlace(ev.target.value));
  for (const b of document.querySelectorAll(".tab")) {
    b.addEventListener("click", () => {
      for (const t of document.querySelectorAll(".tab")) t.classList.toggle("on", t === b);
      for (const p of document.querySelectorAll(".pane")) p.classList.toggle("hidden", p.id !== b.dataset.tab);
      if (b.dataset.tab === "playback") loadStoredList();
    });
  }
  $("pb-slider").addEventListener("input", (ev) => showStoredTick(Number(ev.target.value)));
  D.ready = true;
}

main();
