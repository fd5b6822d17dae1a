"""The one stylesheet every page inlines (light and dark, no web fonts)."""

CSS = """
:root{--fg:#1d232a;--muted:#5d6670;--bg:#fff;--panel:#f5f7f9;--line:#d5dbe1;--accent:#2f6fb2;
--accent2:#c2571a;--band:#eef2f6;--warn:#8a5a00}
@media (prefers-color-scheme:dark){:root{--fg:#e3e7eb;--muted:#9aa4ae;--bg:#15191d;--panel:#1e2429;
--line:#38414a;--accent:#6aa6e6;--accent2:#f08a4b;--band:#20272d;--warn:#e0b050}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,
"Segoe UI",Roboto,sans-serif}
main{max-width:1100px;margin:0 auto;padding:16px 20px 40px}
h1{font-size:1.5em;margin:.3em 0}h2{font-size:1.25em;margin:1.4em 0 .4em;border-bottom:1px solid var(--line)}
h3{font-size:1.05em;margin:1.2em 0 .3em}
p,li{overflow-wrap:anywhere}.meta,.note,.hint{color:var(--muted)}.note,.hint{font-size:.9em}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.92em}
nav ul{margin:.2em 0;padding-left:1.2em}
.warnings{color:var(--warn)}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{padding:2px 8px;text-align:left;vertical-align:top}
td.num{text-align:right;white-space:nowrap}
table.totals th{font-weight:600;white-space:nowrap}table.totals td.detail{color:var(--muted);
overflow-wrap:anywhere}
table.layers,table.comparison{font-size:12.5px;width:100%}
table.layers thead th,table.comparison thead th{border-bottom:1px solid var(--line);white-space:nowrap}
table.layers tbody tr:nth-child(even),table.comparison tbody tr:nth-child(even){background:var(--panel)}
td.path{overflow-wrap:anywhere;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
td.best{font-weight:700}
.scroll{overflow-x:auto;max-width:100%}
details>summary{cursor:pointer}
details.layers>summary{margin:.6em 0;color:var(--accent)}
svg.chart{display:block;width:100%;height:auto;margin:.3em 0 .8em;font-size:11px}
svg.chart text{fill:var(--fg)}svg.chart .tick,svg.chart .axis-label{fill:var(--muted)}
svg.chart .grid{stroke:var(--line);stroke-width:1}
svg.chart .band{fill:var(--band)}svg.chart .band-label{fill:var(--muted);font-size:10px}
svg.chart .bar{fill:var(--accent)}svg.chart.params .bar{fill:var(--accent2)}
svg.chart .bar:hover,svg.chart .hit:hover{opacity:.6}
svg.chart .hit{fill:transparent}
svg.chart .rf,svg.chart .jump{fill:none;stroke-width:2}
svg.chart .s0{stroke:var(--accent)}svg.chart .s1{stroke:var(--accent2)}svg.chart .s2{stroke:#3a9a5b}
svg.chart .jump{stroke-dasharray:5 3;stroke-width:1.5}
svg.chart .input-size{stroke-dasharray:2 3;stroke-width:1.5}
svg.chart .global{fill:var(--band)}svg.chart .unknown{fill:var(--panel)}
svg.chart .covers{stroke:var(--fg);stroke-width:1;stroke-dasharray:3 3}
svg.chart .live{fill:var(--accent);fill-opacity:.35;stroke:var(--accent);stroke-width:1}
svg.chart .peak{fill:var(--accent2)}
svg.chart .front{fill:none;stroke:var(--accent2);stroke-width:2}
svg.chart .point{fill:var(--accent)}svg.chart .point.on-front{fill:var(--accent2)}
svg.chart .point-label{font-size:11px}
.diagram{margin:.4em 0 1em;font-size:12px}
.flow{display:flex;flex-wrap:wrap;align-items:center;gap:4px 0;min-width:0}
.node,details.group>summary,details.merge>summary{border:1px solid var(--line);border-radius:5px;
background:var(--panel);padding:2px 6px;max-width:15em;overflow-wrap:anywhere}
.node .name,summary .name{font-weight:600}
.node .kind,summary .kind{color:var(--accent)}
.node .figures,summary .figures{display:block;color:var(--muted);font-size:11px}
.node.io{background:transparent;border-style:dashed}
.node.step{border-color:var(--accent2)}
.node.folded{border-style:double;border-width:3px}
.link{display:flex;align-items:center;min-width:0;max-width:100%}
.link:has(>details[open]){align-items:flex-start}.link:has(>details[open])>.arrow{padding-top:6px}
.arrow{color:var(--muted);padding:0 3px}
.identity{color:var(--muted);font-style:italic}
details.group,details.merge{min-width:0;max-width:100%}
details.group[open],details.merge[open]{border:1px solid var(--line);border-radius:6px;padding:3px}
details.group[open]>summary,details.merge[open]>summary{display:inline-block;max-width:100%}
details.group:not([open])>summary{border-width:2px}
details.merge>summary{border-color:var(--accent2)}
.branches{display:flex;flex-direction:column;gap:3px;margin:3px 0 0 6px;padding-left:6px;
border-left:2px solid var(--line)}
.branch{display:flex;align-items:flex-start;gap:4px;min-width:0}
.branch-name{color:var(--muted);font-size:11px;min-width:3em;max-width:8em;overflow-wrap:anywhere;
padding-top:6px}
.branch>.flow{flex:1}
""".strip()
"""Custom properties make the dark scheme one block; every chart colour comes from here."""
