/// The status page `GET /` serves: one self-contained HTML document (styles and script inline,
/// nothing fetched but `/api/v1/status` on the same address, so it works offline). It draws the
/// pipeline as inputs → filters → outputs with rates and queue fill, one card per model with
/// charts over the last hour (error rate, latency, largest drift score, each with its threshold
/// line, drift per feature now, and performance and fairness when `evaluate` runs), and the
/// alerts, firing first. It refreshes itself every 2 s (`?refresh=SECONDS` to change).
///
/// Every number shown sits in an element with `data-k` (what it is, like
/// `stage:parse_0:events_in`) and `data-v` (the value as the API gave it), so a test can hold the
/// page against `/api/v1/status`.
enum StatusPage {
    static let bytes: [UInt8] = Array(html.utf8)

    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>driftwood status</title>
<link rel="icon" href="data:,">
<style>
:root { --bg:#f4f5f7; --card:#fff; --ink:#1d2430; --muted:#6b7383; --line:#e3e6eb; --accent:#2f6fdf;
  --accent2:#12a07a; --bad:#d93a3a; --warn:#e39a19; --ok:#1f9d55; }
* { box-sizing:border-box; }
body { margin:0; font:13px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
  background:var(--bg); color:var(--ink); }
header { display:flex; align-items:center; gap:18px; padding:10px 20px; background:#1d2430; color:#fff; }
header h1 { font-size:16px; margin:0; font-weight:600; letter-spacing:.2px; }
header .meta { color:#b8c0cc; font-size:12px; }
header .grow { flex:1; }
.pill { display:inline-block; padding:1px 9px; border-radius:10px; font-size:11px; font-weight:600;
  text-transform:uppercase; letter-spacing:.4px; }
.pill.ok { background:#dff3e8; color:#13723d; } .pill.degraded,.pill.retrying { background:#fdf0d5; color:#8a5a00; }
.pill.bad,.pill.blocked,.pill.firing { background:#fbe0e0; color:#a11d1d; } .pill.resolved { background:#eceef1; color:#5b6371; }
header .pill.ok { background:#1f9d55; color:#fff; } header .pill.degraded { background:#e39a19; color:#fff; }
main { padding:14px 20px 30px; }
.row { display:flex; gap:14px; align-items:stretch; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:12px 14px; }
.card h2 { font-size:13px; margin:0 0 8px; font-weight:600; color:#333b48; display:flex; align-items:center; gap:8px; }
.card h2 .sub { font-weight:400; color:var(--muted); }
#flowcard { flex:1 1 auto; min-width:0; }
#alertcard { flex:0 0 370px; max-height:330px; overflow:auto; }
#flow { display:flex; align-items:stretch; gap:6px; }
.col { display:flex; flex-direction:column; gap:6px; min-width:0; }
.col .title { font-size:11px; text-transform:uppercase; letter-spacing:.6px; color:var(--muted); margin-bottom:2px; }
.col.filters { flex:1.6; display:grid; grid-template-columns:repeat(auto-fill,minmax(150px,1fr)); align-content:start; gap:6px; }
.col.filters .title { grid-column:1/-1; }
.col.io { flex:1; }
.arrow { align-self:center; color:#a5adba; font-size:20px; padding:0 2px; }
.stage { border:1px solid var(--line); border-left:4px solid var(--accent); border-radius:6px; padding:5px 8px; background:#fbfcfd; }
.stage.input { border-left-color:#7a5cd6; } .stage.output { border-left-color:var(--accent2); }
.stage.err { border-left-color:var(--bad); }
.stage .name { font-weight:600; white-space:nowrap; overflow:hidden; text-overflow:ellipsis; }
.stage .type { color:var(--muted); font-weight:400; margin-left:4px; }
.stage .nums { color:#3d4553; font-size:12px; white-space:nowrap; font-variant-numeric:tabular-nums; }
.stage .nums b { font-weight:600; }
.qbar { height:5px; background:#eceef1; border-radius:3px; margin-top:4px; overflow:hidden; }
.qbar i { display:block; height:100%; background:var(--accent); }
.qbar i.hot { background:var(--warn); } .qbar i.full { background:var(--bad); }
.small { font-size:11px; color:var(--muted); }
#throughput { margin-top:10px; }
.alert { display:flex; gap:8px; padding:6px 0; border-top:1px solid var(--line); }
.alert:first-child { border-top:0; }
.alert .what { font-weight:600; } .alert .msg { color:#3d4553; font-size:12px; }
.alert .when { color:var(--muted); font-size:11px; white-space:nowrap; }
.none { color:var(--muted); padding:8px 0; }
#models { display:grid; grid-template-columns:repeat(auto-fill,minmax(600px,1fr)); gap:14px; margin-top:14px; }
.model h2 .health { margin-left:auto; }
.model .kpis { display:flex; gap:16px; margin:-2px 0 8px; color:#3d4553; font-variant-numeric:tabular-nums; }
.model .kpis span b { font-weight:600; }
.charts { display:grid; grid-template-columns:repeat(4,1fr); gap:10px; }
.chart .label { font-size:11px; color:var(--muted); display:flex; justify-content:space-between; gap:4px; }
.chart .label .now { color:var(--ink); font-weight:600; font-variant-numeric:tabular-nums; }
.chart .label .now.over { color:var(--bad); }
svg { display:block; width:100%; overflow:visible; }
svg text { font-size:9px; fill:#8a92a0; paint-order:stroke; stroke:#fff; stroke-width:2.5px; stroke-linejoin:round; }
#banner { display:none; padding:8px 20px; background:#fbe0e0; color:#a11d1d; font-weight:600; }
</style>
</head>
<body>
<header>
  <h1>driftwood</h1>
  <span class="meta" id="pipe">connecting…</span>
  <span id="status"></span>
  <span class="grow"></span>
  <span class="meta" id="totals"></span>
  <span class="meta" id="updated"></span>
</header>
<div id="banner"></div>
<main>
  <div class="row">
    <section class="card" id="flowcard"><h2>Pipeline <span class="sub">events per second over the last 10 s · queue fill</span></h2>
      <div id="flow"></div>
      <div id="throughput"></div>
    </section>
    <section class="card" id="alertcard"><h2>Alerts <span class="sub" id="alertcount"></span></h2><div id="alerts"></div></section>
  </div>
  <div id="models"></div>
</main>
<script>
"use strict";
const refresh = Math.max(0.5, Number(new URLSearchParams(location.search).get("refresh")) || 2) * 1000;
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;","'":"&#39;"}[c]));
const num = (v) => typeof v === "number" && isFinite(v);
function fmt(v, kind) {
  if (!num(v)) return "–";
  if (kind === "rate") return compact(v) + "/s";
  if (kind === "count") return Math.round(v).toLocaleString("en-US");
  if (kind === "pct") return (v * 100).toFixed(v < 0.1 ? 2 : 1) + "%";
  if (kind === "ms") return v >= 100 ? v.toFixed(0) + " ms" : v.toFixed(1) + " ms";
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 1) return v.toFixed(2);
  return v.toFixed(3);
}
function compact(v) {
  if (v >= 1e6) return (v / 1e6).toFixed(v >= 1e7 ? 0 : 1) + "M";
  if (v >= 1e3) return (v / 1e3).toFixed(v >= 1e4 ? 0 : 1) + "k";
  return v >= 10 ? v.toFixed(0) : v.toFixed(1);
}
// A number with what it is and its raw value, for the eye and for the tests.
const val = (k, v, kind, cls) => `<span data-k="${esc(k)}" data-v="${num(v) ? v : ""}"${cls ? ` class="${cls}"` : ""}>${fmt(v, kind)}</span>`;

// A line chart of one series over the history, with a dashed threshold line.
function line(series, t, o) {
  const W = o.w || 140, H = o.h || 64, P = 2;
  const pts = [];
  for (let i = 0; i < series.length; i++) if (num(series[i])) pts.push([t[i], series[i]]);
  let max = o.threshold != null ? o.threshold * 1.15 : 0;
  for (const p of pts) max = Math.max(max, p[1]);
  if (o.max != null) max = o.max;
  if (!(max > 0)) max = 1;
  const t1 = t.length ? t[t.length - 1] : 0, t0 = Math.min(t.length ? t[0] : 0, t1 - 600);
  const x = (tt) => P + (W - 2 * P) * (t1 > t0 ? (tt - t0) / (t1 - t0) : 1);
  const y = (v) => H - P - (H - 2 * P) * (v / max);
  let d = "", prev = -1;
  for (let i = 0; i < series.length; i++) {
    if (!num(series[i])) { prev = -1; continue; }
    d += (prev < 0 ? "M" : "L") + x(t[i]).toFixed(1) + "," + y(series[i]).toFixed(1);
    prev = i;
  }
  let area = "";
  if (o.fill && pts.length > 1) area = `<path d="${d}L${x(pts[pts.length-1][0]).toFixed(1)},${H-P}L${x(pts[0][0]).toFixed(1)},${H-P}Z" fill="${o.color}" opacity=".12"/>`;
  const dot = pts.length ? `<circle cx="${x(pts[pts.length-1][0]).toFixed(1)}" cy="${y(pts[pts.length-1][1]).toFixed(1)}" r="2.5" fill="${o.color}"/>` : "";
  const ty = o.threshold != null ? y(o.threshold) : 0, tl = ty < 22 ? ty + 10 : ty - 3;
  const th = o.threshold != null ? `<line x1="0" x2="${W}" y1="${ty.toFixed(1)}" y2="${ty.toFixed(1)}" stroke="#d93a3a" stroke-dasharray="4 3" stroke-width="1"/><text x="${W-2}" y="${tl.toFixed(1)}" text-anchor="end" fill="#d93a3a">limit ${fmt(o.threshold, o.kind)}</text>` : "";
  const span = Math.round((t1 - t0) / 60), axis = `<text x="3" y="${H-3}">−${span} min</text><text x="${W-3}" y="${H-3}" text-anchor="end">now</text>`;
  const empty = pts.length < 2 ? `<text x="${W/2}" y="${H/2+3}" text-anchor="middle">${W < 300 ? "collecting history" : "collecting history (a point every 10 s)"}</text>` : "";
  return `<svg viewBox="0 0 ${W} ${H}">
<rect x="0" y="0" width="${W}" height="${H}" fill="#fafbfc" stroke="#eceef1"/>${area}
<path d="${d}" fill="none" stroke="${o.color}" stroke-width="1.6" vector-effect="non-scaling-stroke"/>${dot}${th}${empty}
${o.bare ? "" : `<text x="3" y="10">${fmt(max, o.kind)}</text>${axis}`}</svg>`;
}

// Horizontal bars (drift per feature, fairness), with the threshold as a dashed line.
function bars(values, o) {
  const keys = Object.keys(values).sort((a, b) => values[b] - values[a]);
  if (!keys.length) return `<div class="none">none yet</div>`;
  const W = o.w || 140, row = 13, H = Math.max(row * keys.length + 4, 20), L = 62;
  let max = o.threshold != null ? o.threshold * 1.15 : 0;
  for (const k of keys) max = Math.max(max, Math.abs(values[k]));
  if (!(max > 0)) max = 1;
  const x = (v) => L + (W - L - 26) * (Math.abs(v) / max);
  let s = `<svg viewBox="0 0 ${W} ${H}">`;
  keys.forEach((k, i) => {
    const v = values[k], over = o.threshold != null && v > o.threshold;
    const short = k.replace(/^features\./, ""), yy = 2 + i * row, label = short.length > 11 ? short.slice(0, 10) + "…" : short;
    s += `<text x="${L-4}" y="${yy+9}" text-anchor="end" fill="#3d4553">${esc(label)}</text>`;
    s += `<rect x="${L}" y="${yy+1}" width="${Math.max(1, x(v) - L).toFixed(1)}" height="${row-4}" rx="2" fill="${over ? "#d93a3a" : o.color}"/>`;
    s += `<text x="${(x(v)+3).toFixed(1)}" y="${yy+9}" fill="#3d4553">${fmt(v)}</text>`;
  });
  if (o.threshold != null) s += `<line x1="${x(o.threshold).toFixed(1)}" x2="${x(o.threshold).toFixed(1)}" y1="0" y2="${H}" stroke="#d93a3a" stroke-dasharray="3 2"/>`;
  return s + "</svg>";
}

function chart(title, now, body, over) {
  return `<div class="chart"><div class="label"><span>${esc(title)}</span><span class="now${over ? " over" : ""}">${now}</span></div>${body}</div>`;
}

function stageBox(s) {
  const cap = s.queue_capacity || 0, fill = cap ? Math.min(1, s.queue_events / cap) : 0;
  const q = s.kind === "input" ? "" : `<div class="qbar" title="queue ${s.queue_events} of ${cap}"><i class="${fill > 0.9 ? "full" : fill > 0.5 ? "hot" : ""}" style="width:${(fill * 100).toFixed(1)}%"></i></div>`;
  const k = "stage:" + s.id + ":";
  return `<div class="stage ${s.kind}${s.errors > 0 ? " err" : ""}">
<div class="name">${esc(s.id)}<span class="type">${esc(s.type)}</span></div>
<div class="nums">in <b>${val(k + "rate_in", s.rate_in, "rate")}</b> · out <b>${val(k + "rate_out", s.rate_out, "rate")}</b></div>
<div class="nums small">${val(k + "events_out", s.events_out, "count")} events${s.kind === "input" ? "" : " · queue " + val(k + "queue_events", s.queue_events, "count")}${s.errors > 0 ? ` · <span style="color:#d93a3a">${val(k + "errors", s.errors, "count")} errors</span>` : `<span hidden>${val(k + "errors", s.errors, "count")}</span>`}<span hidden>${val(k + "events_in", s.events_in, "count")}</span></div>${q}</div>`;
}

function drawFlow(st) {
  const by = (kind) => st.stages.filter((s) => s.kind === kind).map(stageBox).join("");
  $("flow").innerHTML = `<div class="col io"><div class="title">Inputs</div>${by("input")}</div><div class="arrow">→</div>
<div class="col filters"><div class="title">Filters (in order)</div>${by("filter") || '<div class="none">none</div>'}</div><div class="arrow">→</div>
<div class="col io"><div class="title">Outputs</div>${by("output")}</div>`;
  const h = st.history;
  const top = Math.max(1, ...h.rate_in.filter(num), ...h.rate_out.filter(num)) * 1.1;
  $("throughput").innerHTML = `<div class="chart"><div class="label"><span>Events per second, last hour: <span style="color:#7a5cd6">■</span> read <span style="color:#12a07a">■</span> delivered</span></div>
<div style="position:relative">${line(h.rate_in, h.t, {color:"#7a5cd6", kind:"rate", fill:true, w:820, h:56, max:top})}<div style="position:absolute;inset:0">${line(h.rate_out, h.t, {color:"#12a07a", kind:"rate", w:820, h:56, max:top, bare:true}).replace('fill="#fafbfc"', 'fill="none"')}</div></div></div>`;
}

function drawAlerts(st) {
  const list = st.alerts.map((a, i) => ({a, i})).sort((p, q) => (q.a.firing_now - p.a.firing_now) || (p.i - q.i));
  const firing = st.alerts.filter((a) => a.firing_now).length;
  $("alertcount").innerHTML = `<span data-k="alerts:firing" data-v="${firing}">${firing} firing</span> · last ${st.alerts.length}`;
  if (!list.length) { $("alerts").innerHTML = `<div class="none">No alerts.</div>`; return; }
  $("alerts").innerHTML = list.map(({a, i}) => {
    const cls = a.firing_now ? "firing" : "resolved";
    const time = a.time.replace("T", " ").replace(/\.\d+Z$/, "Z");
    return `<div class="alert"><div><span class="pill ${cls}" data-k="alert:${i}:state" data-v="${esc(a.state)}">${esc(a.state)}</span></div>
<div><div class="what">${esc(a.type)}${a.group != null ? " · " + esc(a.group) : ""}${a.feature != null ? " · " + esc(a.feature) : ""}</div>
<div class="msg">${esc(a.message)}</div><div class="when">${esc(time)} · ${esc(a.stage)}</div></div></div>`;
  }).join("");
}

function drawModels(st) {
  const names = Object.keys(st.models).sort();
  const firingBy = {};
  for (const a of st.alerts) if (a.firing_now) firingBy[a.group ?? ""] = (firingBy[a.group ?? ""] || 0) + 1;
  const hm = st.history.models || {}, t = st.history.t;
  $("models").innerHTML = names.map((g) => {
    const m = st.models[g], h = hm[g] || {rate: [], error_rate: [], latency: [], drift_max: [], performance: {}};
    const th = m.thresholds || {}, k = "model:" + g + ":";
    const latTh = m.latency_statistic ? th["latency_" + m.latency_statistic] : undefined;
    const d = m.drift, driftTh = d ? th[d.metric] : undefined;
    const firing = firingBy[g] || 0;
    let charts = chart("error rate", val(k + "error_rate", m.error_rate, "pct"), line(h.error_rate, t, {color:"#d9653a", threshold: th.error_rate, kind:"pct", fill:true}), num(m.error_rate) && th.error_rate != null && m.error_rate > th.error_rate)
      + chart("latency" + (m.latency_statistic ? " " + m.latency_statistic : ""), val(k + "latency", m.latency, "ms"), line(h.latency, t, {color:"#2f6fdf", threshold: latTh, kind:"ms", fill:true}), num(m.latency) && latTh != null && m.latency > latTh)
      + chart("max drift" + (d ? " (" + d.metric + ")" : ""), val(k + "drift_max", d ? d.max : null), line(h.drift_max, t, {color:"#8a4fd6", threshold: driftTh, fill:true}), d && driftTh != null && d.max > driftTh)
      + chart("drift now", "", d ? bars(d.features, {threshold: driftTh, color:"#8a4fd6"}) : `<div class="none">no drift filter</div>`);
    const ev = m.evaluation;
    if (ev) {
      const perf = Object.keys(ev.metrics || {}).sort();
      perf.forEach((p, i) => {
        charts += chart(p, val(k + "performance:" + p, ev.metrics[p]), line((h.performance || {})[p] || [], t, {color: ["#12a07a", "#0e7fa6", "#b5862a", "#5b6bd6"][i % 4], threshold: th[p], fill:true}));
      });
      for (const attr of Object.keys(ev.fairness || {}).sort()) {
        charts += chart("fairness by " + attr, "", bars(ev.fairness[attr], {threshold: th[attr], color:"#0e7fa6"}));
      }
    }
    return `<section class="card model"><h2>${g === "" ? "all events" : esc(g)}<span class="pill ${firing ? "firing" : "ok"} health" data-k="${esc(k)}firing" data-v="${firing}">${firing ? firing + " firing" : "healthy"}</span></h2>
<div class="kpis"><span>${val(k + "events", m.events, "count")} events</span><span>${val(k + "rate", m.rate, "rate")}</span></div>
<div class="charts">${charts}</div></section>`;
  }).join("") || `<section class="card"><div class="none">No model seen yet: the models appear once a drift, monitor or evaluate filter has counted their events.</div></section>`;
}

function draw(st) {
  $("pipe").innerHTML = `pipeline <b style="color:#fff">${esc(st.pipeline)}</b> · v${esc(st.version)} · up ${val("uptime_seconds", st.uptime_seconds, "count")} s`;
  $("status").innerHTML = `<span class="pill ${esc(st.status)}" data-k="status" data-v="${esc(st.status)}">${esc(st.status)}</span>`;
  const rin = st.stages.filter((s) => s.kind === "input").reduce((a, s) => a + s.rate_in, 0);
  const rout = st.stages.filter((s) => s.kind === "output").reduce((a, s) => a + s.rate_out, 0);
  $("totals").innerHTML = `read ${fmt(rin, "rate")} · delivered ${fmt(rout, "rate")}`;
  $("updated").textContent = "updated " + new Date().toLocaleTimeString();
  drawFlow(st);
  drawAlerts(st);
  drawModels(st);
}

let first = true;
async function tick() {
  try {
    const started = performance.now();
    const r = await fetch("api/v1/status", {cache: "no-store"});
    if (!r.ok) throw new Error("HTTP " + r.status);
    const st = await r.json();
    draw(st);
    $("banner").style.display = "none";
    if (first) {
      first = false;
      document.body.dataset.firstDrawMs = (performance.now()).toFixed(1);
      document.body.dataset.drawMs = (performance.now() - started).toFixed(1);
    }
    document.body.dataset.drawn = String((Number(document.body.dataset.drawn) || 0) + 1);
  } catch (e) {
    $("banner").textContent = "driftwood is not answering at " + location.host + " (" + e.message + "); retrying…";
    $("banner").style.display = "block";
  }
  setTimeout(tick, refresh);
}
tick();
</script>
</body>
</html>
"""#
}
