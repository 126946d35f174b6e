/// The console's style sheet.
enum ConsoleStyle {
    static let source = #"""
:root { --fg: #1d2330; --muted: #6b7385; --line: #dde1e8; --bg: #f6f7f9; --accent: #2a62c9; --bad: #b3261e; --warn: #a15c00; --ok: #1e7b34; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: #fff; border-bottom: 1px solid var(--line); }
header .brand { font-weight: 700; font-size: 17px; color: var(--fg); text-decoration: none; }
nav a { margin-right: 16px; color: var(--muted); text-decoration: none; }
nav a.active { color: var(--accent); font-weight: 600; }
.status { margin-left: auto; color: var(--muted); font-size: 12px; }
.status.error { color: var(--bad); }
main { padding: 20px 24px; max-width: 1400px; }
h1 { font-size: 20px; margin: 0 0 14px; }
h2 { font-size: 15px; margin: 22px 0 8px; }
a { color: var(--accent); }
.muted { color: var(--muted); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.card .label { color: var(--muted); font-size: 12px; }
.card .value { font-size: 20px; font-weight: 600; }
.cards > a { color: inherit; text-decoration: none; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 10px; margin-top: 10px; }
.chart-box { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; }
.chart-box .title { font-size: 12px; color: var(--muted); }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart .axis { stroke: var(--line); stroke-width: 1; }
svg.chart text { font-size: 10px; fill: var(--muted); }
svg.chart polyline { fill: none; stroke-width: 1.6; }
.legend span { margin-right: 12px; font-size: 12px; }
.legend i { display: inline-block; width: 10px; height: 3px; margin-right: 4px; vertical-align: middle; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; background: #fafbfc; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
pre.data { margin: 0; white-space: pre-wrap; word-break: break-all; max-height: 180px; overflow: auto; font: 12px/1.35 ui-monospace, monospace; }
.alerts p { margin: 4px 0; padding: 6px 10px; border-radius: 4px; }
.alerts .bad { background: #fde8e7; color: var(--bad); }
.alerts .warn { background: #fff3df; color: var(--warn); }
.alerts .ok { background: #e6f4ea; color: var(--ok); }
form.inline, .toolbar { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin: 8px 0; }
input, select, button { font: inherit; padding: 4px 8px; border: 1px solid var(--line); border-radius: 4px; background: #fff; }
button { cursor: pointer; background: var(--accent); color: #fff; border-color: var(--accent); }
button.secondary { background: #fff; color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
.message { margin: 8px 0; }
.message.error { color: var(--bad); }
.state-Stable { color: var(--ok); } .state-Empty { color: var(--muted); } .state-PreparingRebalance, .state-CompletingRebalance { color: var(--warn); }
.job-done { color: var(--ok); } .job-dead { color: var(--bad); font-weight: 600; } .job-retrying, .job-cancelled { color: var(--warn); }
"""#
}
