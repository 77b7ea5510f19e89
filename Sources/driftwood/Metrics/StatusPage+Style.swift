extension StatusPage {
    /// The page's styles: cards on a light grey ground, one model per row so the same chart sits
    /// in the same column for every model, text no smaller than 10 px at 1280 px wide.
    static let style = #"""
        :root { --bg:#f4f5f7; --card:#fff; --ink:#1d2430; --muted:#6b7383; --line:#e3e6eb; --accent:#2f6fdf;
          --accent2:#12a07a; --bad:#d93a3a; --warn:#e39a19; --ok:#1f9d55; }
        * { box-sizing:border-box; }
        body { margin:0; font:13px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
          background:var(--bg); color:var(--ink); }
        header { display:flex; align-items:center; gap:18px; padding:10px 20px; background:#1d2430; color:#fff; }
        header h1 { font-size:16px; margin:0; font-weight:600; letter-spacing:.2px; }
        header .meta { color:#b8c0cc; font-size:12px; }
        header .meta:empty { display:none; }
        header .grow { flex:1; }
        .pill { display:inline-block; padding:1px 9px; border-radius:10px; font-size:11px; font-weight:600;
          text-transform:uppercase; letter-spacing:.4px; white-space:nowrap; }
        .pill.ok { background:#dff3e8; color:#13723d; } .pill.degraded,.pill.retrying { background:#fdf0d5; color:#8a5a00; }
        .pill.bad,.pill.blocked,.pill.firing { background:#fbe0e0; color:#a11d1d; } .pill.resolved { background:#eceef1; color:#5b6371; }
        header .pill.ok { background:#1f9d55; color:#fff; } header .pill.degraded { background:#e39a19; color:#fff; } header .pill.bad { background:#c53030; color:#fff; }
        main { padding:14px 20px 30px; }
        .row { display:flex; gap:14px; align-items:flex-start; }
        .card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:12px 14px; }
        .card h2 { font-size:13px; margin:0 0 8px; font-weight:600; color:#333b48; display:flex; align-items:center; gap:8px; }
        .card h2 .sub { font-weight:400; color:var(--muted); }
        #flowcard { flex:1 1 auto; min-width:0; }
        #alertcard { flex:0 0 350px; max-height:360px; overflow-y:auto; overflow-x:hidden; }
        #flow { display:flex; align-items:stretch; gap:6px; }
        .col { display:flex; flex-direction:column; gap:6px; min-width:0; }
        .col .title { font-size:11px; text-transform:uppercase; letter-spacing:.6px; color:var(--muted); margin-bottom:2px; }
        .col.grid { flex:2; display:grid; grid-template-columns:repeat(auto-fill,minmax(145px,1fr)); align-content:start; gap:6px; }
        .col.grid .title { grid-column:1/-1; }
        .col.io { flex:0.8; min-width:150px; max-width:200px; }
        .arrow { align-self:center; color:#a5adba; font-size:20px; padding:0 2px; }
        .stage { border:1px solid var(--line); border-left:4px solid var(--accent); border-radius:6px; padding:5px 7px; background:#fbfcfd; min-width:0; }
        .stage.input { border-left-color:#7a5cd6; } .stage.output { border-left-color:var(--accent2); }
        .stage.err { border-left-color:var(--bad); }
        .stage .name { font-weight:600; white-space:nowrap; overflow:hidden; text-overflow:ellipsis; }
        .stage .type { color:var(--muted); font-weight:400; margin-left:4px; font-size:12px; }
        .stage .nums { color:#3d4553; font-size:12px; white-space:nowrap; overflow:hidden; text-overflow:ellipsis;
          font-variant-numeric:tabular-nums; }
        .stage .nums b { font-weight:600; }
        .qbar { height:5px; background:#eceef1; border-radius:3px; margin-top:4px; overflow:hidden; }
        .qbar i { display:block; height:100%; background:var(--accent); }
        .qbar i.hot { background:var(--warn); } .qbar i.full { background:var(--bad); }
        .small, .stage .nums.small { font-size:11px; color:var(--muted); }
        #throughput { margin-top:10px; }
        .alert { display:flex; gap:8px; padding:6px 0; border-top:1px solid var(--line); }
        .alert:first-child { border-top:0; }
        .alert > div:last-child { min-width:0; }
        .alert .what { font-weight:600; font-size:12px; overflow:hidden; text-overflow:ellipsis; white-space:nowrap; }
        .alert .who { color:#3d4553; overflow-wrap:anywhere; } .alert .msg { color:#3d4553; font-size:12px; }
        .alert .when { color:var(--muted); font-size:11px; white-space:nowrap; }
        .none { color:var(--muted); padding:8px 0; font-size:12px; }
        #models { display:flex; flex-direction:column; gap:14px; margin-top:14px; }
        /* Cards out of sight are laid out only when scrolled to: 20 models draw as fast as two. */
        .model { content-visibility:auto; contain-intrinsic-size:auto 190px; }
        .model h2 { margin-bottom:6px; }
        .model h2 .kpis { font-weight:400; color:#3d4553; display:flex; gap:14px; margin-left:10px; font-variant-numeric:tabular-nums; }
        .model h2 .kpis b { font-weight:600; }
        .model h2 .health { margin-left:auto; }
        .charts { display:grid; grid-template-columns:repeat(auto-fill,minmax(200px,1fr)); gap:6px 16px; }
        .charts .section { grid-column:1/-1; font-size:10px; text-transform:uppercase; letter-spacing:.6px; color:var(--muted);
          border-top:1px solid var(--line); padding-top:6px; margin-top:4px; }
        .chart { min-width:0; }
        .chart .label { font-size:11px; color:var(--muted); display:flex; justify-content:space-between; gap:6px;
          white-space:nowrap; }
        .chart .label > span:first-child { overflow:hidden; text-overflow:ellipsis; }
        .chart .label .now { color:var(--ink); font-weight:600; font-variant-numeric:tabular-nums; }
        .chart .label .now.over { color:var(--bad); }
        .key { display:inline-block; width:9px; height:9px; border-radius:2px; vertical-align:-1px; margin:0 2px 0 6px; }
        .key.ghost { background:#fff; border:1.5px solid #9aa3b2; }
        svg { display:block; width:100%; overflow:visible; }
        svg text { font-size:10px; fill:#7a8394; }
        svg text.halo { paint-order:stroke; stroke:#fff; stroke-width:3px; stroke-linejoin:round; }
        #banner { display:none; padding:8px 20px; background:#fbe0e0; color:#a11d1d; font-weight:600; }
        """#
}
