extension StatusPage {
    /// The page's script: fetches `/api/v1/status` every `refresh` seconds and draws it as SVG.
    static let script = #"""
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
          if (kind === "ratio") return v.toFixed(3);
          if (kind === "duration") return v < 60 ? Math.round(v) + " s" : v < 3600 ? Math.floor(v / 60) + " min " + Math.round(v % 60) + " s"
            : v < 86400 ? Math.floor(v / 3600) + " h " + Math.floor(v % 3600 / 60) + " min" : Math.floor(v / 86400) + " d " + Math.floor(v % 86400 / 3600) + " h";
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
        // Metrics that are bad when low (the alert fires under the threshold); the others when high.
        const floors = new Set(["accuracy", "precision", "recall", "f1", "auc", "macro_f1", "disparate_impact"]);
        const worse = (metric, v, threshold) => num(v) && num(threshold) && (floors.has(metric) ? v < threshold : v > threshold);
        const ratios = new Set([...floors, "demographic_parity_difference", "equalized_odds_difference", "equal_opportunity_difference"]);

        // The time axis every chart of one draw shares: from the oldest history step (at least a
        // minute back) to the newest.
        let axis = {t0: 0, t1: 60, t: [], xs: {}};
        function setAxis(t) {
          const t1 = t.length ? t[t.length - 1] : 0;
          axis = {t0: Math.min(t.length ? t[0] : t1, t1 - 60), t1, t, xs: {}};
        }
        // Each step's x in a chart W wide, as path text: worked out once per draw for all charts.
        function xsFor(W, P) {
          const key = W + "/" + P;
          if (!axis.xs[key]) axis.xs[key] = axis.t.map((tt) => (P + (W - 2 * P) * (axis.t1 > axis.t0 ? (tt - axis.t0) / (axis.t1 - axis.t0) : 1)).toFixed(1));
          return axis.xs[key];
        }
        function ago() {
          const s = axis.t1 - axis.t0;
          return s >= 5400 ? "−" + (s / 3600).toFixed(1) + " h" : s >= 120 ? "−" + Math.round(s / 60) + " min" : "−" + Math.round(s) + " s";
        }

        // A line chart of one or more series over the history, with a dashed threshold line and
        // the time axis under it. At most one point per two units of width: consecutive steps
        // share a point, the worst of them (the lowest with o.floor, else the highest), so a
        // spike still shows. data-v: the first series' values drawn.
        function line(key, lines, t, o) {
          const W = o.w || 220, H = o.h || 58, P = 3, A = o.bare ? 0 : 13;
          let lo = o.min != null ? o.min : 0, hi = o.max;
          if (hi == null) {
            hi = num(o.threshold) ? o.threshold * 1.3 : 0;
            for (const l of lines) for (const v of l.values) if (num(v)) hi = Math.max(hi, v * 1.08);
          }
          if (!(hi > lo)) hi = lo + 1;
          const xs = t === axis.t ? xsFor(W, P) : t.map((tt) => (P + (W - 2 * P) * (axis.t1 > axis.t0 ? (tt - axis.t0) / (axis.t1 - axis.t0) : 1)).toFixed(1));
          const y = (v) => P + (H - 2 * P) * (1 - (Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo));
          let body = "", drawn = 0;
          lines.forEach((l, n) => {
            let d = "", count = 0, open = false, firstX = "", lastX = "", lastY = "";
            const values = l.values, end = Math.min(values.length, xs.length), per = Math.max(1, Math.ceil(end / (W / 2)));
            for (let b = 0; b < end; b += per) {
              let pick = -1;
              for (let i = b; i < b + per && i < end; i++) {
                const v = values[i];
                if (typeof v !== "number" || !isFinite(v)) continue;
                count++;
                if (pick < 0 || (o.floor ? v < values[pick] : v > values[pick])) pick = i;
              }
              if (pick < 0) { open = false; continue; }
              lastX = xs[pick];
              lastY = y(values[pick]).toFixed(1);
              d += (open ? "L" : "M") + lastX + "," + lastY;
              if (!firstX) firstX = lastX;
              open = true;
            }
            if (n === 0) drawn = count;
            if (l.fill && count > 1) body += `<path d="${d}L${lastX},${H - P}L${firstX},${H - P}Z" fill="${l.color}" opacity=".12"/>`;
            body += `<path d="${d}" fill="none" stroke="${l.color}" stroke-width="1.6" stroke-linejoin="round"/>`;
            if (count) body += `<circle cx="${lastX}" cy="${lastY}" r="2.5" fill="${l.color}"/>`;
          });
          if (num(o.threshold)) {
            // The limit's label on the left, over the oldest values, so it never hides the newest;
            // on the right when the scale's label is in the way.
            const ty = y(o.threshold), ly = ty < 14 ? ty + 11 : ty - 3, left = ly >= 20;
            body += `<line x1="0" x2="${W}" y1="${ty.toFixed(1)}" y2="${ty.toFixed(1)}" stroke="#d93a3a" stroke-dasharray="4 3" stroke-width="1"/>`
              + `<text class="halo" x="${left ? 4 : W - 3}" y="${ly.toFixed(1)}" text-anchor="${left ? "start" : "end"}" style="fill:#d93a3a">limit ${fmt(o.threshold, o.kind)}</text>`;
          }
          if (drawn === 0 && !o.bare) body += `<text x="${W / 2}" y="${H / 2 + 4}" text-anchor="middle">no value yet</text>`;
          const scale = o.bare ? "" : `<text class="halo" x="4" y="13">${fmt(hi, o.kind)}</text>`;
          const under = o.bare ? "" : `<text x="2" y="${H + 11}">${ago()}</text><text x="${W - 2}" y="${H + 11}" text-anchor="end">now</text>`;
          return `<svg viewBox="0 0 ${W} ${H + A}" data-k="${esc(key)}" data-v="${drawn}"><rect x="0" y="0" width="${W}" height="${H}" fill="${o.bare ? "none" : "#fafbfc"}" stroke="${o.bare ? "none" : "#eceef1"}"/>${body}${scale}${under}</svg>`;
        }

        // Horizontal bars (drift per feature now), largest first, with the threshold as a dashed line;
        // names starting with "_" (the importance-weighted score) are not features.
        function bars(key, values, o) {
          const keys = Object.keys(values).filter((k) => !k.startsWith("_")).sort((a, b) => values[b] - values[a]);
          if (!keys.length) return `<div class="none">no full window yet</div>`;
          const W = o.w || 220, row = 14, shown = keys.slice(0, 5), H = row * shown.length + 4, L = 78;
          let max = num(o.threshold) ? o.threshold * 1.15 : 0;
          for (const k of shown) max = Math.max(max, Math.abs(values[k]));
          if (!(max > 0)) max = 1;
          const x = (v) => L + (W - L - 34) * (Math.min(max, Math.abs(v)) / max);
          let s = `<svg viewBox="0 0 ${W} ${H}" data-k="${esc(key)}" data-v="${shown.length}">`;
          shown.forEach((k, i) => {
            const v = values[k], over = num(o.threshold) && v > o.threshold, yy = 2 + i * row;
            const short = k.replace(/^features\./, ""), label = short.length > 12 ? short.slice(0, 11) + "…" : short;
            s += `<text x="${L - 4}" y="${yy + 10}" text-anchor="end" style="fill:#3d4553">${esc(label)}<title>${esc(k)}</title></text>`;
            s += `<rect x="${L}" y="${yy + 2}" width="${Math.max(1, x(v) - L).toFixed(1)}" height="${row - 5}" rx="2" fill="${over ? "#d93a3a" : o.color}"/>`;
            s += `<text x="${(x(v) + 3).toFixed(1)}" y="${yy + 10}" style="fill:#3d4553">${fmt(v)}</text>`;
          });
          if (num(o.threshold)) s += `<line x1="${x(o.threshold).toFixed(1)}" x2="${x(o.threshold).toFixed(1)}" y1="0" y2="${H}" stroke="#d93a3a" stroke-dasharray="3 2"/>`;
          return s + "</svg>";
        }

        // A feature's window histogram (filled bars) over the baseline's (outlined), bin by bin.
        function histogram(key, h, o) {
          const n = h.current.length, W = o.w || 220, H = o.h || 58, P = 3;
          if (!n) return `<div class="none">no bins</div>`;
          let max = 0;
          for (let i = 0; i < n; i++) max = Math.max(max, h.current[i] || 0, h.baseline[i] || 0);
          if (!(max > 0)) max = 1;
          max *= 1.1;
          const bw = (W - 2 * P) / n, y = (v) => H - P - (H - 2 * P) * (v / max);
          const edge = (e) => fmt(e);
          const name = (i) => h.categories ? h.categories[i]
            : i === 0 ? "≤ " + edge(h.edges[0]) : i === n - 1 ? "> " + edge(h.edges[n - 2]) : edge(h.edges[i - 1]) + " – " + edge(h.edges[i]);
          let s = `<svg viewBox="0 0 ${W} ${H + 13}" data-k="${esc(key)}" data-v="${n}"><rect x="0" y="0" width="${W}" height="${H}" fill="#fafbfc" stroke="#eceef1"/>`;
          for (let i = 0; i < n; i++) {
            const b = h.baseline[i] || 0, c = h.current[i] || 0, x0 = P + i * bw;
            const tip = `<title>${esc(name(i))}: now ${fmt(c, "pct")}, baseline ${fmt(b, "pct")}</title>`;
            s += `<rect x="${(x0 + 1).toFixed(1)}" y="${y(b).toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${(H - P - y(b)).toFixed(1)}" fill="#fff" stroke="#9aa3b2" stroke-width="1.2"/>`;
            s += `<rect data-k="${esc(key)}:${i}" data-v="${c}" x="${(x0 + bw * 0.25).toFixed(1)}" y="${y(c).toFixed(1)}" width="${Math.max(1, bw * 0.5).toFixed(1)}" height="${Math.max(0, H - P - y(c)).toFixed(1)}" fill="${o.color}">${tip}</rect>`;
          }
          // Under the bars: the categories when few, else the first, middle and last edges.
          if (h.categories) {
            if (n <= 8) for (let i = 0; i < n; i++) {
              const c = h.categories[i] === "__other__" ? "other" : h.categories[i];
              s += `<text x="${(P + (i + 0.5) * bw).toFixed(1)}" y="${H + 11}" text-anchor="middle">${esc(c.length > 6 ? c.slice(0, 5) + "…" : c)}</text>`;
            }
          } else if (h.edges.length) {
            const picks = [...new Set([0, Math.floor((h.edges.length - 1) / 2), h.edges.length - 1])];
            for (const j of picks) s += `<text x="${(P + (j + 1) * bw).toFixed(1)}" y="${H + 11}" text-anchor="middle">${edge(h.edges[j])}</text>`;
          }
          return s + "</svg>";
        }

        function chart(title, now, body, over) {
          return `<div class="chart"><div class="label"><span title="${esc(title)}">${esc(title)}</span><span class="now${over ? " over" : ""}">${now}</span></div>${body}</div>`;
        }

        function stageBox(s) {
          const cap = s.queue_capacity || 0, fill = cap ? Math.min(1, s.queue_events / cap) : 0;
          const q = s.kind === "input" ? "" : `<div class="qbar" title="queue ${s.queue_events} of ${cap}"><i class="${fill > 0.9 ? "full" : fill > 0.5 ? "hot" : ""}" style="width:${(fill * 100).toFixed(1)}%"></i></div>`;
          const k = "stage:" + s.id + ":";
          return `<div class="stage ${s.kind}${s.errors > 0 ? " err" : ""}">
        <div class="name" title="${esc(s.id)} (${esc(s.type)})">${esc(s.id)}${s.id.startsWith(s.type + "_") ? "" : `<span class="type">${esc(s.type)}</span>`}</div>
        <div class="nums">in <b>${val(k + "rate_in", s.rate_in, "rate")}</b> · out <b>${val(k + "rate_out", s.rate_out, "rate")}</b></div>
        <div class="nums small">${val(k + "events_out", s.events_out, "count")} events${s.kind === "input" ? "" : " · queue " + val(k + "queue_events", s.queue_events, "count")}${s.errors > 0 ? ` · <span style="color:#d93a3a">${val(k + "errors", s.errors, "count")} errors</span>` : `<span hidden>${val(k + "errors", s.errors, "count")}</span>`}<span hidden>${val(k + "events_in", s.events_in, "count")}</span></div>${q}</div>`;
        }

        function drawFlow(st) {
          const by = (kind) => st.stages.filter((s) => s.kind === kind).map(stageBox).join("");
          const outputs = st.stages.filter((s) => s.kind === "output").length;
          $("flow").innerHTML = `<div class="col io"><div class="title">Inputs</div>${by("input")}</div><div class="arrow">→</div>
        <div class="col grid"><div class="title">Filters (in order)</div>${by("filter") || '<div class="none">none</div>'}</div><div class="arrow">→</div>
        <div class="col ${outputs > 2 ? "grid" : "io"}"><div class="title">Outputs</div>${by("output")}</div>`;
          const h = st.history;
          $("throughput").innerHTML = chart("Events per second, last hour", `<span class="key" style="background:#7a5cd6"></span>read <span class="key" style="background:#12a07a"></span>delivered`,
            line("chart:pipeline:rate", [{values: h.rate_in, color: "#7a5cd6", fill: true}, {values: h.rate_out, color: "#12a07a"}], h.t, {kind: "rate", w: 820, h: 50}));
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
        <div><div class="what" title="${esc(a.type)}">${esc(a.type)}</div><div class="who">${[a.group, a.feature].filter((x) => x != null).map(esc).join(" · ")}</div>
        <div class="msg">${esc(a.message)}</div><div class="when">${esc(time)} · ${esc(a.stage)}</div></div></div>`;
          }).join("");
        }

        const palette = ["#12a07a", "#0e7fa6", "#b5862a", "#5b6bd6", "#c2477f"];

        function modelCard(g, m, h, t, firing) {
          const th = m.thresholds || {}, k = "model:" + g + ":", c = "chart:" + g + ":";
          const latTh = m.latency_statistic ? th["latency_" + m.latency_statistic] : undefined;
          const d = m.drift, driftTh = d ? th[d.metric] : undefined;
          let html = chart("error rate", val(k + "error_rate", m.error_rate, "pct"), line(c + "error_rate", [{values: h.error_rate || [], color: "#d9653a", fill: true}], t, {threshold: th.error_rate, kind: "pct"}), worse("error_rate", m.error_rate, th.error_rate))
            + chart("latency" + (m.latency_statistic ? " " + m.latency_statistic : ""), val(k + "latency", m.latency, "ms"), line(c + "latency", [{values: h.latency || [], color: "#2f6fdf", fill: true}], t, {threshold: latTh, kind: "ms"}), worse("latency", m.latency, latTh))
            + chart("largest drift" + (d ? " (" + d.metric + ")" : ""), val(k + "drift_max", d ? d.max : null), line(c + "drift_max", [{values: h.drift_max || [], color: "#8a4fd6", fill: true}], t, {threshold: driftTh}), d && worse("drift", d.max, driftTh))
            + chart("drift per feature now", d && num(d.features._weighted) ? "weighted " + val(k + "drift_weighted", d.features._weighted) : "",
              d ? bars(c + "drift_features", d.features, {threshold: driftTh, color: "#8a4fd6"})
                : `<div class="none">${["psi", "kl", "js"].some((x) => x in th) ? "no full window yet" : "no drift filter"}</div>`);
          const dist = m.distributions || {};
          for (const f of Object.keys(dist).sort()) {
            const short = f.replace(/^features\./, "");
            html += chart(short, `<span class="key" style="background:#8a4fd6"></span>now<span class="key ghost"></span>baseline`, histogram(c + "distribution:" + f, dist[f], {color: "#8a4fd6"}));
          }
          const ev = m.evaluation;
          if (ev) {
            const perf = Object.keys(ev.metrics || {}).sort();
            if (perf.length) html += `<div class="section">Performance, labelled predictions</div>`;
            perf.forEach((p, i) => {
              const kind = ratios.has(p) ? "ratio" : undefined;
              html += chart(p, val(k + "performance:" + p, ev.metrics[p], kind), line(c + "performance:" + p, [{values: (h.performance || {})[p] || [], color: palette[i % palette.length], fill: true}], t,
                {threshold: th[p], max: kind ? 1 : undefined, kind, floor: floors.has(p)}), worse(p, ev.metrics[p], th[p]));
            });
            for (const attr of Object.keys(ev.fairness || {}).sort()) {
              html += `<div class="section">Fairness across ${esc(attr.replace(/^features\./, ""))}</div>`;
              const metrics = ev.fairness[attr], hist = ((h.fairness || {})[attr]) || {};
              Object.keys(metrics).sort().forEach((f, i) => {
                const kind = ratios.has(f) ? "ratio" : undefined;
                html += chart(f.replace(/_/g, " "), val(k + "fairness:" + attr + ":" + f, metrics[f], kind), line(c + "fairness:" + attr + ":" + f, [{values: hist[f] || [], color: palette[(i + 1) % palette.length], fill: true}], t,
                  {threshold: th[f], max: kind ? 1 : undefined, kind, floor: floors.has(f)}), worse(f, metrics[f], th[f]));
              });
            }
          }
          return `<section class="card model"><h2>${g === "" ? "all events" : esc(g)}<span class="kpis"><span><b>${val(k + "events", m.events, "count")}</b> events</span><span><b>${val(k + "rate", m.rate, "rate")}</b></span></span><span class="pill ${firing ? "firing" : "ok"} health" data-k="${esc(k)}firing" data-v="${firing}">${firing ? firing + " firing" : "healthy"}</span></h2>
        <div class="charts">${html}</div></section>`;
        }

        // One card per model, those with alerts firing first (the most firing first), then by name.
        function modelCards(st) {
          const firingBy = {};
          for (const a of st.alerts) if (a.firing_now) firingBy[a.group ?? ""] = (firingBy[a.group ?? ""] || 0) + 1;
          const names = Object.keys(st.models).sort((a, b) => ((firingBy[b] || 0) - (firingBy[a] || 0)) || (a < b ? -1 : a > b ? 1 : 0));
          const hm = st.history.models || {};
          return names.map((g) => () => modelCard(g, st.models[g], hm[g] || {}, st.history.t, firingBy[g] || 0));
        }
        const noModel = `<section class="card"><div class="none">No model seen yet: the models appear once a drift, monitor or evaluate filter has counted their events.</div></section>`;

        // Draws everything but the model cards past the first `shown` (all when undefined);
        // returns the cards left to draw.
        function draw(st, shown) {
          $("pipe").innerHTML = `pipeline <b style="color:#fff">${esc(st.pipeline)}</b> · v${esc(st.version)} · up ${val("uptime_seconds", st.uptime_seconds, "duration")}`;
          $("status").innerHTML = `<span class="pill ${esc(st.status)}" data-k="status" data-v="${esc(st.status)}">${esc(st.status)}</span>`;
          const rl = st.last_reload;
          $("reload").innerHTML = rl ? `<span title="${esc(rl.message)}">reloaded ${esc(new Date(rl.time).toLocaleTimeString())} `
            + `<span class="pill ${rl.result === "ok" ? "ok" : "bad"}" data-k="reload" data-v="${esc(rl.result)}">${esc(rl.result)}</span>`
            + `<span hidden data-k="reload:count" data-v="${rl.reloads}"></span></span>` : "";
          const rin = st.stages.filter((s) => s.kind === "input").reduce((a, s) => a + s.rate_in, 0);
          const rout = st.stages.filter((s) => s.kind === "output").reduce((a, s) => a + s.rate_out, 0);
          $("totals").innerHTML = `read ${fmt(rin, "rate")} · delivered ${fmt(rout, "rate")}`;
          $("updated").innerHTML = `updated ${esc(new Date().toLocaleTimeString())}<span hidden data-k="history:steps" data-v="${st.history.t.length}"></span>`;
          setAxis(st.history.t);
          drawFlow(st);
          drawAlerts(st);
          const cards = modelCards(st), now = shown === undefined ? cards.length : shown;
          $("models").innerHTML = cards.slice(0, now).map((c) => c()).join("") || noModel;
          return cards.slice(now);
        }

        // After the frame with what was just drawn has been painted.
        const afterPaint = (f) => requestAnimationFrame(() => setTimeout(f, 0));
        const mark = (name, value) => { document.body.dataset[name] = value; };

        let first = true;
        async function tick() {
          try {
            const started = performance.now();
            const r = await fetch("api/v1/status", {cache: "no-store"});
            if (!r.ok) throw new Error("HTTP " + r.status);
            const st = await r.json();
            $("banner").style.display = "none";
            const drawn = () => mark("drawn", String((Number(document.body.dataset.drawn) || 0) + 1));
            if (first) {
              // The first draw paints what fits the window (the pipeline, the alerts, two
              // cards) before the cards further down: firstDrawMs is when that was painted.
              first = false;
              const rest = draw(st, 2);
              afterPaint(() => {
                mark("firstDrawMs", performance.now().toFixed(1));
                mark("drawMs", (performance.now() - started).toFixed(1));
                if (rest.length) $("models").insertAdjacentHTML("beforeend", rest.map((c) => c()).join(""));
                afterPaint(drawn);
              });
            } else {
              draw(st);
              afterPaint(drawn);
            }
          } catch (e) {
            $("banner").textContent = "driftwood is not answering at " + location.host + " (" + e.message + "); retrying…";
            $("banner").style.display = "block";
          }
          setTimeout(tick, refresh);
        }
        tick();
        """#
}
