/// The console's script: reads the JSON API and builds the page with DOM calls. Every value from
/// the broker (topic and group names, record keys, values and headers, errors) goes into the page
/// as text (`textContent`, `createTextNode`, attribute values), never as markup; the page's
/// Content-Security-Policy allows no inline script besides.
enum ConsoleScript {
    static let source = #"""
"use strict";
(function () {
  const api = "/api/v1";
  const REFRESH_MS = 2000;
  // A job topic's page reads the topic and its dead-letter and control topics from their start
  // for each state: it refreshes less often, so that an open tab does not keep the broker busy.
  const SLOW_REFRESH_MS = 10000;
  let renderedAt = 0;
  let timer = null;
  let generation = 0;

  // ---- DOM helpers: text only ----
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === "onclick" || name === "onsubmit" || name === "onchange") node.addEventListener(name.slice(2), value);
      else if (name === "text") node.textContent = String(value);
      else node.setAttribute(name, String(value));
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null) continue;
      node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  function svg(tag, attrs) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
    return node;
  }
  function replace(node, ...children) {
    while (node.firstChild) node.removeChild(node.firstChild);
    for (const child of children.flat()) if (child) node.appendChild(child);
  }
  function table(id, headers, rows) {
    return el("table", { id },
      el("thead", {}, el("tr", {}, headers.map(h => el("th", { class: h.num ? "num" : null, text: h.label || h })))),
      el("tbody", {}, rows.length ? rows : [el("tr", {}, el("td", { colspan: headers.length, class: "muted", text: "none" }))]));
  }
  function td(value, num) { return el("td", { class: num ? "num" : null }, value === undefined || value === null ? "–" : value); }
  function link(href, text) { return el("a", { href, text }); }
  function path(...segments) { return segments.map(encodeURIComponent).join("/"); }
  function number(value) { return value === undefined || value === null ? "–" : Number(value).toLocaleString("en-US"); }
  function fixed(value, digits) { return value === undefined || value === null ? "–" : Number(value).toFixed(digits); }
  function bytes(value) {
    if (value === undefined || value === null) return "–";
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let v = value, u = 0;
    while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
    return (u ? v.toFixed(1) : String(v)) + " " + units[u];
  }
  function time(ms) { return ms === undefined || ms === null ? "–" : new Date(ms).toISOString().replace("T", " ").replace("Z", " UTC"); }
  function status(text, isError) {
    const node = document.getElementById("status");
    node.textContent = text;
    node.className = "status" + (isError ? " error" : "");
  }

  // ---- API ----
  async function get(url) {
    const response = await fetch(api + url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error((body.error && body.error.message) || response.statusText);
    return body;
  }
  async function post(url, data) {
    const response = await fetch(api + url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(data || {}),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error((body.error && body.error.message) || response.statusText);
    return body;
  }

  // ---- record contents: text, JSON or hex ----
  function hexOf(base64) {
    const raw = atob(base64);
    let out = "";
    for (let i = 0; i < raw.length; i++) out += raw.charCodeAt(i).toString(16).padStart(2, "0") + (i % 16 === 15 ? "\n" : " ");
    return out.trim();
  }
  function shown(encoded, mode) {
    if (!encoded) return el("span", { class: "muted", text: "null" });
    let text;
    if (mode === "hex" || encoded.text === undefined) text = hexOf(encoded.base64);
    else if (mode === "json") {
      try { text = JSON.stringify(JSON.parse(encoded.text), null, 2); } catch (e) { text = encoded.text; }
    } else text = encoded.text;
    return el("pre", { class: "data", text });
  }
  function headerList(headers, mode) {
    if (!headers || !headers.length) return el("span", { class: "muted", text: "–" });
    return el("div", {}, headers.map(h => el("div", {}, el("b", { text: h.key + ": " }), shown(h.value, mode))));
  }

  // ---- SVG line chart of series over time ----
  const COLORS = ["#2a62c9", "#d9480f", "#2f9e44", "#ae3ec9"];
  function chart(id, title, points, series, unit) {
    const width = 600, height = 150, left = 46, right = 8, top = 8, bottom = 18;
    const box = el("div", { class: "chart-box" });
    box.appendChild(el("div", { class: "title", text: title }));
    const graph = svg("svg", { class: "chart", id, viewBox: `0 0 ${width} ${height}`, "data-samples": points.length });
    // The last 15 minutes, or since the first sample when the broker has run for less.
    const now = Date.now();
    const first = points.length ? points[0].time : now;
    const span = Math.min(15 * 60 * 1000, Math.max(60 * 1000, now - first));
    let max = 0;
    for (const p of points) for (const s of series) if (typeof p[s.key] === "number") max = Math.max(max, p[s.key]);
    max = max > 0 ? max * 1.1 : 1;
    graph.appendChild(svg("line", { class: "axis", x1: left, y1: height - bottom, x2: width - right, y2: height - bottom }));
    graph.appendChild(svg("line", { class: "axis", x1: left, y1: top, x2: left, y2: height - bottom }));
    const label = (x, y, text) => { const t = svg("text", { x, y }); t.textContent = text; graph.appendChild(t); };
    label(2, top + 8, fixed(max, max < 10 ? 2 : 0) + (unit ? " " + unit : ""));
    label(2, height - bottom, "0");
    label(left, height - 4, Math.round(span / 60000) + " min ago");
    label(width - right - 22, height - 4, "now");
    series.forEach((s, index) => {
      const coords = points.filter(p => typeof p[s.key] === "number" && p.time >= now - span).map(p => {
        const x = left + (width - left - right) * (1 - (now - p.time) / span);
        const y = height - bottom - (height - top - bottom) * (p[s.key] / max);
        return x.toFixed(1) + "," + y.toFixed(1);
      });
      graph.appendChild(svg("polyline", { points: coords.join(" "), stroke: COLORS[index % COLORS.length], "data-series": s.key }));
    });
    box.appendChild(graph);
    box.appendChild(el("div", { class: "legend" }, series.map((s, i) => {
      const last = [...points].reverse().find(p => typeof p[s.key] === "number");
      const swatch = el("i", {}); swatch.style.background = COLORS[i % COLORS.length];
      return el("span", {}, swatch, s.label + ": " + (last ? fixed(last[s.key], 2) : "–"));
    })));
    return box;
  }

  function card(label, value, id) { return el("div", { class: "card", id }, el("div", { class: "label", text: label }), el("div", { class: "value", text: value })); }

  // ---- pages ----
  async function overview(view) {
    const [o, h, jobs] = await Promise.all([get("/overview"), get("/history"), get("/jobs").catch(() => [])]);
    const last = h.samples[h.samples.length - 1] || {};
    const alerts = [];
    for (const j of jobs) if (j.deadLetters > 0) {
      alerts.push(el("p", { class: "bad" }, `${number(j.deadLetters)} dead letter(s) in `, link("#/dead-letters/" + path(j.topic), j.deadLetterTopic)));
    }
    for (const g of o.groups) if ((g.totalLag || 0) > 0) {
      alerts.push(el("p", { class: g.members ? "warn" : "bad" }, "group ", link("#/groups/" + path(g.group), g.group),
        ` is ${number(g.totalLag)} record(s) behind` + (g.members ? "" : " and has no members")));
    }
    if (!alerts.length) alerts.push(el("p", { class: "ok", text: "Nothing stuck: no dead letters waiting, every group caught up." }));
    replace(view,
      el("h1", { text: "Overview" }),
      el("div", { class: "alerts", id: "alerts" }, alerts),
      el("div", { class: "cards" },
        card("records in / s", fixed(last.recordsInPerSecond, 1), "card-in"),
        card("records out / s", fixed(last.recordsOutPerSecond, 1), "card-out"),
        card("enqueue→ack p50 / p99 (ms)", fixed(last.ackP50Ms, 2) + " / " + fixed(last.ackP99Ms, 2)),
        card("fsyncs / s (mean ms)", fixed(o.fsync.perSecond, 1) + " (" + fixed(o.fsync.meanMs, 2) + ")"),
        card("bytes on disk", bytes(o.bytesOnDisk)),
        card("Kafka connections", number(o.traffic.connections)),
        card("records held (delayed)", number(o.traffic.heldRecords))),
      el("div", { class: "charts" },
        chart("chart-records", "records per second (up to 15 minutes)", h.samples,
          [{ key: "recordsInPerSecond", label: "in" }, { key: "recordsOutPerSecond", label: "out" }], "/s"),
        chart("chart-latency", "enqueue-to-ack latency (ms)", h.samples,
          [{ key: "ackP50Ms", label: "p50" }, { key: "ackP99Ms", label: "p99" }], "ms"),
        chart("chart-fsync", "fsyncs per second and mean fsync (ms)", h.samples,
          [{ key: "fsyncsPerSecond", label: "fsyncs/s" }, { key: "fsyncMeanMs", label: "mean ms" }])),
      el("h2", { text: "Topics" }),
      table("topics-table", ["topic", { label: "partitions", num: 1 }, { label: "records", num: 1 }, { label: "bytes", num: 1 }],
        o.topics.map(t => el("tr", {}, td(link("#/topics/" + path(t.name), t.name)), td(number(t.partitions), 1), td(number(t.records), 1), td(bytes(t.bytes), 1)))),
      el("h2", { text: "Consumer groups" }),
      table("groups-table", ["group", "state", { label: "members", num: 1 }, { label: "total lag", num: 1 }],
        o.groups.map(g => el("tr", {}, td(link("#/groups/" + path(g.group), g.group)), el("td", { class: "state-" + g.state, text: g.state }),
          td(number(g.members), 1), td(number(g.totalLag), 1)))));
  }

  const browser = { partition: 0, mode: "offset", from: "", limit: 50, view: "text", page: null, error: null };

  async function topic(view, name, fresh) {
    if (fresh) Object.assign(browser, { partition: 0, mode: "offset", from: "", limit: 50, page: null, error: null });
    const t = await get("/topics/" + path(name));
    if (fresh) await loadRecords(name);
    const partitionSelect = el("select", { id: "browse-partition", onchange: e => { browser.partition = Number(e.target.value); } },
      t.partitions.map(p => el("option", { value: p.partition, selected: p.partition === browser.partition ? "selected" : null, text: "partition " + p.partition })));
    const modeSelect = el("select", { id: "browse-mode", onchange: e => { browser.mode = e.target.value; } },
      el("option", { value: "offset", selected: browser.mode === "offset" ? "selected" : null, text: "from offset" }),
      el("option", { value: "timestamp", selected: browser.mode === "timestamp" ? "selected" : null, text: "from time (ISO or ms)" }));
    const from = el("input", { id: "browse-from", placeholder: "first", value: browser.from, size: 24 });
    const limit = el("input", { id: "browse-limit", type: "number", min: 1, max: 500, value: browser.limit, size: 5 });
    const viewSelect = el("select", { id: "browse-view", onchange: e => { browser.view = e.target.value; rerender(); } },
      ["text", "json", "hex"].map(v => el("option", { value: v, selected: browser.view === v ? "selected" : null, text: "as " + v })));
    const form = el("form", { class: "inline", id: "browse-form", onsubmit: async e => {
      e.preventDefault();
      browser.from = from.value.trim();
      browser.limit = Number(limit.value) || 50;
      await loadRecords(name);
      rerender();
    } }, partitionSelect, modeSelect, from, "limit", limit, el("button", { type: "submit", text: "Show records" }), viewSelect);
    const page = browser.page;
    const records = page ? page.records : [];
    replace(view,
      el("h1", {}, "Topic ", el("span", { id: "topic-name", text: t.name })),
      el("p", { class: "muted", text: `retention.ms ${t.retentionMs ?? "–"} · retention.bytes ${t.retentionBytes ?? "–"} · id ${t.id}` }),
      table("partitions-table", [{ label: "partition", num: 1 }, { label: "start offset", num: 1 }, { label: "end offset", num: 1 }, { label: "size", num: 1 }],
        t.partitions.map(p => el("tr", {}, td(p.partition, 1), td(number(p.startOffset), 1), td(number(p.endOffset), 1), td(bytes(p.bytes), 1)))),
      el("h2", { text: "Records" }),
      form,
      browser.error ? el("p", { class: "message error", text: browser.error }) : null,
      table("records-table", [{ label: "offset", num: 1 }, "time", "key", "headers", "value"],
        records.map(r => el("tr", { "data-offset": r.offset }, td(r.offset, 1), td(time(r.timestamp)), el("td", { class: "key" }, shown(r.key, browser.view)),
          el("td", {}, headerList(r.headers, browser.view)), el("td", { class: "value" }, shown(r.value, browser.view))))),
      page && page.next !== undefined ? el("div", { class: "toolbar" }, el("button", { class: "secondary", id: "browse-next", text: "Next page", onclick: async () => {
        browser.mode = "offset"; browser.from = String(page.next); await loadRecords(name); rerender();
      } })) : null,
      el("h2", { text: "Configs" }),
      configForm(name, t.configs),
      configMessage.text ? el("p", { id: "config-message", class: "message" + (configMessage.error ? " error" : ""), text: configMessage.text }) : null,
      table("configs-table", ["name", "value", "source"],
        t.configs.map(c => el("tr", { "data-config": c.name }, td(c.name), td(c.value), td(c.isDefault ? "default" : c.source)))));
  }

  const configMessage = { text: null, error: false };

  // Sets a config, or deletes the topic's value so the default applies again (after a confirmation).
  function configForm(topicName, configs) {
    const editable = configs.filter(c => !c.readOnly);
    const nameSelect = el("select", { id: "config-name" }, editable.map(c => el("option", { value: c.name, text: c.name })));
    const value = el("input", { id: "config-value", placeholder: "new value", size: 20 });
    const send = async (body, question) => {
      if (!window.confirm(question)) return;
      try {
        await post("/topics/" + path(topicName) + "/configs", body);
        configMessage.text = "Changed " + nameSelect.value; configMessage.error = false;
      } catch (e) { configMessage.text = e.message; configMessage.error = true; }
      rerender();
    };
    return el("form", { class: "inline", id: "config-form", onsubmit: e => {
      e.preventDefault();
      send({ set: { [nameSelect.value]: value.value.trim() } }, `Set ${nameSelect.value} of ${topicName} to ${value.value.trim()}?`);
    } }, nameSelect, value, el("button", { type: "submit", text: "Set" }),
      el("button", { type: "button", class: "secondary", id: "config-default", text: "Back to default", onclick: () =>
        send({ delete: [nameSelect.value] }, `Give ${nameSelect.value} of ${topicName} its default value again?`) }));
  }

  async function loadRecords(name) {
    let query = `?partition=${browser.partition}&limit=${browser.limit}`;
    if (browser.from !== "") {
      if (browser.mode === "timestamp") {
        const ms = /^\d+$/.test(browser.from) ? Number(browser.from) : Date.parse(browser.from);
        if (isNaN(ms)) { browser.error = "not a time: " + browser.from; return; }
        query += "&timestamp=" + ms;
      } else query += "&offset=" + encodeURIComponent(browser.from);
    }
    try { browser.page = await get("/topics/" + path(name) + "/records" + query); browser.error = null; }
    catch (e) { browser.error = e.message; browser.page = null; }
  }

  const resetForm = { to: "earliest", value: "", topic: "", message: null, error: false };

  async function group(view, name) {
    const g = await get("/groups/" + path(name));
    const toSelect = el("select", { id: "reset-to", onchange: e => { resetForm.to = e.target.value; } },
      ["earliest", "latest", "timestamp", "offset"].map(v => el("option", { value: v, selected: resetForm.to === v ? "selected" : null, text: v })));
    const value = el("input", { id: "reset-value", placeholder: "offset, or time (ISO or ms)", value: resetForm.value, size: 24 });
    const topicInput = el("input", { id: "reset-topic", placeholder: "topic (default: all committed)", value: resetForm.topic, size: 24 });
    const form = el("form", { class: "inline", id: "reset-form", onsubmit: async e => {
      e.preventDefault();
      resetForm.value = value.value.trim();
      resetForm.topic = topicInput.value.trim();
      const body = { to: resetForm.to };
      if (resetForm.topic) body.topic = resetForm.topic;
      if (resetForm.to === "offset") body.offset = Number(resetForm.value);
      if (resetForm.to === "timestamp") body.timestamp = /^\d+$/.test(resetForm.value) ? Number(resetForm.value) : Date.parse(resetForm.value);
      if (!window.confirm(`Reset the offsets of group ${name} to ${resetForm.to}${resetForm.value ? " " + resetForm.value : ""}?`)) return;
      try {
        const result = await post("/groups/" + path(name) + "/reset", body);
        resetForm.message = "Reset " + result.partitions.map(p => `${p.topic}[${p.partition}] ${p.previous ?? "–"} → ${p.offset}`).join(", ");
        resetForm.error = false;
      } catch (error) { resetForm.message = error.message; resetForm.error = true; }
      rerender();
    } }, toSelect, value, topicInput, el("button", { type: "submit", class: "danger", text: "Reset offsets", disabled: g.members.length ? "disabled" : null }));
    replace(view,
      el("h1", {}, "Group ", el("span", { id: "group-name", text: g.group })),
      el("p", {}, "state ", el("b", { id: "group-state", class: "state-" + g.state, text: g.state }), ` · generation ${g.generation} · total lag `,
        el("b", { id: "group-lag", text: number(g.totalLag) })),
      el("div", { class: "charts" }, chart("chart-lag", "total lag (up to 15 minutes)", g.lagHistory, [{ key: "lag", label: "lag" }], "records")),
      el("h2", { text: "Partitions" }),
      table("group-partitions", ["topic", { label: "partition", num: 1 }, "owner", { label: "committed", num: 1 }, { label: "end offset", num: 1 }, { label: "lag", num: 1 }],
        g.partitions.map(p => el("tr", {}, td(link("#/topics/" + path(p.topic), p.topic)), td(p.partition, 1), td(p.owner), td(number(p.committed), 1),
          td(number(p.endOffset), 1), td(number(p.lag), 1)))),
      el("h2", { text: "Members" }),
      table("group-members", ["member", "client", "host", "assignment"],
        g.members.map(m => el("tr", {}, td(m.memberId), td(m.clientId), td(m.clientHost), td(m.assignment.map(a => `${a.topic}[${a.partition}]`).join(", "))))),
      el("h2", { text: "Reset offsets" }),
      el("p", { class: "muted", text: g.members.length ? "Offsets can be reset only while the group has no members: stop its consumers first." :
        "Moves the group's committed offsets; its consumers start there when they next join." }),
      form,
      resetForm.message ? el("p", { id: "reset-message", class: "message" + (resetForm.error ? " error" : ""), text: resetForm.message }) : null);
  }

  async function jobs(view) {
    const list = await get("/jobs");
    replace(view,
      el("h1", { text: "Jobs" }),
      el("p", { class: "muted", text: "Job topics (a topic with a .dlq companion) with their dead letters: jobs that used up their attempts." }),
      table("jobs-table", ["job topic", { label: "partitions", num: 1 }, { label: "jobs stored", num: 1 }, { label: "dead letters waiting", num: 1 }, ""],
        list.map(j => el("tr", {}, td(link("#/topics/" + path(j.topic), j.topic)), td(number(j.partitions), 1), td(number(j.records), 1),
          td(link("#/dead-letters/" + path(j.topic), number(j.deadLetters)), 1), td(link("#/jobs/" + path(j.topic), "jobs by state"))))));
  }

  const JOB_STATES = ["scheduled", "retrying", "running", "dead", "cancelled"];
  const JOB_LIST_LIMIT = 100;

  // One job topic: counts by state (queued per group), and the jobs waiting to run again, held
  // for later, running and cancelled. Ids, keys and errors are text from producers and workers.
  async function jobTopic(view, name) {
    const [counts, ...lists] = await Promise.all([get("/jobs/" + path(name)),
      ...["retrying", "scheduled", "running", "cancelled"].map(s => get("/jobs/" + path(name) + "?state=" + s + "&limit=" + JOB_LIST_LIMIT))]);
    const [retrying, scheduled, running, cancelled] = lists;
    const shownOf = page => page.next !== undefined ? ` (first ${JOB_LIST_LIMIT} of ${number(page.total)} shown)` : "";
    const jobRows = (page, cells) => page.jobs.map(j => el("tr", { "data-id": j.id }, cells(j)));
    const jobLink = j => td(link("#/jobs/" + path(name, j.id), j.id));
    const idInput = el("input", { id: "job-id", placeholder: "job id", size: 24 });
    const openJob = el("form", { class: "inline", id: "job-open", onsubmit: e => {
      e.preventDefault();
      if (idInput.value.trim()) location.hash = "#/jobs/" + path(name, idInput.value.trim());
    } }, idInput, el("button", { type: "submit", text: "Show the job by group" }));
    const place = j => j.partition === undefined || j.partition === null ? "held" : `[${j.partition}]@${j.offset ?? "?"}`;
    const error = j => el("td", { class: "error" }, j.lastError ? el("pre", { class: "data", text: j.lastError }) : "–");
    replace(view,
      el("h1", {}, "Jobs of ", el("span", { id: "jobs-topic", text: counts.topic })),
      el("p", { id: "jobs-rate", text: "enqueued per second over the last minute: " + fixed(counts.enqueuedPerSecond, 1) }),
      el("div", { class: "cards", id: "job-counts" }, JOB_STATES.map(s => {
        const value = number(counts.counts[s]);
        return s === "dead" ? el("a", { href: "#/dead-letters/" + path(name) }, card("dead", value, "count-dead")) : card(s, value, "count-" + s);
      })),
      el("h2", { text: "Queued, by worker group" }),
      table("job-groups", ["group", { label: "queued", num: 1 }, { label: "retrying in place", num: 1 }, { label: "finished/s (last minute)", num: 1 }],
        counts.groups.map(g => el("tr", { "data-group": g.group }, td(link("#/groups/" + path(g.group), g.group)), td(number(g.queued), 1),
          td(number(g.retryingInPlace), 1), td(fixed(g.finishedPerSecond, 1), 1)))),
      el("p", { class: "muted", text: "A job's state for each group (done, queued, running, retrying or dead for that group):" }), openJob,
      el("h2", { text: "Retrying" + shownOf(retrying) }),
      table("jobs-retrying", ["job id", "key", { label: "attempts", num: 1 }, "next run", "last error"],
        jobRows(retrying, j => [jobLink(j), td(j.key), td(j.attempts, 1), td(time(j.nextRunAtMs)), error(j)])),
      el("h2", { text: "Scheduled" + shownOf(scheduled) }),
      table("jobs-scheduled", ["job id", "key", { label: "attempts", num: 1 }, "next run", "last error"],
        jobRows(scheduled, j => [jobLink(j), td(j.key), td(j.attempts, 1), td(time(j.nextRunAtMs)), error(j)])),
      el("h2", { text: "Running" + shownOf(running) }),
      table("jobs-running", ["job id", "key", { label: "attempts", num: 1 }, "place"],
        jobRows(running, j => [jobLink(j), td(j.key), td(j.attempts, 1), td(place(j))])),
      el("h2", { text: "Cancelled" + shownOf(cancelled) }),
      table("jobs-cancelled", ["job id", "key", "place", "cancelled at"],
        jobRows(cancelled, j => [jobLink(j), td(j.key), td(place(j)), td(time(j.cancelledAtMs))])));
  }

  // One job: its records in the topic, and per group with committed offsets on its topic, what
  // the job is for that group (done, queued, running, retrying, dead: a group can have
  // dead-lettered it above its commit point with its dead letter gone since), from the same
  // listings as the topic's page.
  async function jobDetail(view, topicName, id) {
    const job = await get("/jobs/" + path(topicName, id));
    const place = j => !j || j.partition === undefined || j.partition === null ? "–" : `[${j.partition}]@${j.offset ?? "?"}`;
    replace(view,
      el("h1", {}, "Job ", el("span", { id: "job-detail-id", text: job.id }), " of ", link("#/jobs/" + path(topicName), job.topic)),
      el("p", { id: "job-detail-states" }, job.states.length ? "In the topic's listings: " + job.states.join(", ") :
        "In none of the topic's group-less listings (scheduled, retrying in the broker, running, dead letters, cancelled)."),
      el("h2", { text: "Records in the topic" }),
      table("job-detail-records", ["place", "enqueued at", { label: "attempt", num: 1 }, "key", "value"],
        job.records.map(r => el("tr", { "data-offset": r.offset }, td(`${r.topic}[${r.partition}]@${r.offset}`), td(time(r.enqueuedAtMs)),
          td(r.attempt, 1), el("td", { class: "key" }, shown(r.key, "text")), el("td", { class: "value" }, shown(r.value, "text"))))),
      job.recordsOmitted ? el("p", { class: "muted", text: `${job.recordsOmitted} earlier record(s) of the job not shown.` }) : null,
      el("h2", { text: "By worker group" }),
      table("job-detail-groups", ["group", "state for the group", { label: "attempts", num: 1 }, "place", "last error"],
        job.groups.map(g => el("tr", { "data-group": g.group, "data-state": g.state }, td(link("#/groups/" + path(g.group), g.group)),
          el("td", { class: "job-" + g.state, text: g.state }), td(g.job ? g.job.attempts : null, 1), td(place(g.job)),
          el("td", { class: "error" }, g.job && g.job.lastError ? el("pre", { class: "data", text: g.job.lastError }) : "–")))),
      el("p", { class: "muted", text: "done: behind the group's committed offset, or finished above it. dead: in the dead-letter topic, or " +
        "dead-lettered by the group above its commit point (its attempts and error went with the dead letter). Groups with committed offsets on the topic or its priority topics, at most 20." }));
  }

  const letters = { selected: new Set(), message: null, error: false, all: false };

  async function deadLetters(view, topicName) {
    const page = await get("/dead-letters/" + path(topicName) + "?limit=500" + (letters.all ? "&all=true" : ""));
    const act = async (label, work) => {
      try { letters.message = await work(); letters.error = false; } catch (e) { letters.message = label + ": " + e.message; letters.error = true; }
      letters.selected.clear();
      rerender();
    };
    const redrive = body => act("redrive", async () => {
      const result = await post("/dead-letters/" + path(topicName) + "/redrive", body);
      return `Sent back ${result.redriven.length} job(s)` + (result.missing.length ? `; not waiting: ${result.missing.join(", ")}` : "");
    });
    const rows = page.letters.map(d => el("tr", { "data-id": d.id },
      el("td", {}, d.redriven ? null : el("input", { type: "checkbox", class: "select-letter", checked: letters.selected.has(d.id) ? "checked" : null,
        onchange: e => { if (e.target.checked) letters.selected.add(d.id); else letters.selected.delete(d.id); } })),
      td(d.id), el("td", { class: "key" }, shown(d.key, "text")), td(d.attempts, 1), el("td", { class: "error" }, el("pre", { class: "data", text: d.error })),
      td(`${d.originTopic}[${d.originPartition ?? "?"}]@${d.originOffset ?? "?"}`), td(time(d.failedAtMs)),
      td(d.hold ? d.hold + (d.parkedBehind ? " (parked)" : " (dead)") : ""),
      el("td", { class: "value" }, shown(d.value, "text")),
      el("td", {}, d.redriven ? el("span", { class: "muted", text: "sent back" }) :
        el("button", { class: "secondary redrive-one", text: "Redrive", onclick: () => redrive({ ids: [d.id] }) }))));
    replace(view,
      el("h1", {}, "Dead letters of ", el("span", { id: "dlq-topic", text: page.topic })),
      el("p", {}, el("b", { id: "dlq-total", text: number(page.total) }), ` waiting in ${page.deadLetterTopic}` + (page.next !== undefined ? " (first 500 shown)" : "")),
      el("div", { class: "toolbar" },
        el("button", { id: "redrive-selected", text: "Redrive selected", onclick: () => {
          if (!letters.selected.size) { letters.message = "Select dead letters first."; letters.error = true; return rerender(); }
          redrive({ ids: [...letters.selected] });
        } }),
        el("button", { id: "redrive-all", class: "secondary", text: "Redrive all", onclick: () => {
          if (window.confirm(`Send every dead letter of ${page.topic} back?`)) redrive({ all: true });
        } }),
        el("button", { id: "purge", class: "danger", text: "Purge", onclick: () => {
          if (window.confirm(`Delete every record of ${page.deadLetterTopic}? This cannot be undone.`)) {
            act("purge", async () => `Purged ${(await post("/dead-letters/" + path(topicName) + "/purge")).purged} record(s)`);
          }
        } }),
        el("label", {}, el("input", { type: "checkbox", id: "show-all", checked: letters.all ? "checked" : null,
          onchange: e => { letters.all = e.target.checked; rerender(); } }), " include sent back")),
      page.holds.length ? el("ul", { id: "dlq-holds" }, ...page.holds.map(h => el("li", {},
        `Key ${h.key} is held for group ${h.group} since ${h.deadJobId} dead-lettered (${time(h.heldAtMs)}); its later jobs are parked. `,
        el("button", { class: "secondary redrive-hold", text: "Redrive in order", onclick: () => redrive({ ids: [(page.letters.find(d => d.hold === h.id && !d.redriven) || { id: h.deadJobId }).id] }) })))) : null,
      letters.message ? el("p", { id: "dlq-message", class: "message" + (letters.error ? " error" : ""), text: letters.message }) : null,
      table("dlq-table", ["", "job id", "key", { label: "attempts", num: 1 }, "error", "origin", "failed at", "hold", "value", ""], rows));
  }

  // ---- routing ----
  function route() {
    const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
    switch (parts[0]) {
      case "topics": return parts[1] !== undefined ? { nav: "overview", render: (v, fresh) => topic(v, parts[1], fresh) } : null;
      case "groups": return parts[1] !== undefined ? { nav: "overview", render: v => group(v, parts[1]) } : null;
      case "jobs":
        if (parts[2] !== undefined) return { nav: "jobs", slow: true, render: v => jobDetail(v, parts[1], parts[2]) };
        return parts[1] !== undefined ? { nav: "jobs", slow: true, render: v => jobTopic(v, parts[1]) } : { nav: "jobs", render: jobs };
      case "dead-letters": return parts[1] !== undefined ? { nav: "jobs", render: v => deadLetters(v, parts[1]) } : null;
      default: return { nav: "overview", render: overview };
    }
  }
  // Pages with a form the user is filling in are not refreshed under them.
  function typing() {
    const active = document.activeElement;
    return active && (active.tagName === "INPUT" || active.tagName === "SELECT");
  }
  async function render(fresh) {
    const current = ++generation;
    const target = route() || { nav: "overview", render: overview };
    for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.nav === target.nav);
    const view = document.getElementById("view");
    try {
      const staging = document.createElement("div");
      await target.render(staging, fresh);
      if (current !== generation) return;
      renderedAt = Date.now();
      replace(view, ...Array.from(staging.childNodes));
      status("updated " + new Date().toLocaleTimeString());
    } catch (error) {
      if (current !== generation) return;
      status(error.message, true);
      if (fresh) replace(view, el("p", { class: "message error", text: error.message }));
    }
  }
  function rerender() { return render(false); }
  function schedule() {
    clearInterval(timer);
    timer = setInterval(() => {
      const r = route();
      if (r && r.slow && Date.now() - renderedAt < SLOW_REFRESH_MS) return;
      if (!typing() && !(r && r.nav === "jobs" && location.hash.startsWith("#/dead-letters") && letters.selected.size)) rerender();
    }, REFRESH_MS);
  }
  window.addEventListener("hashchange", () => {
    letters.selected.clear(); letters.message = null; resetForm.message = null; configMessage.text = null;
    render(true);
  });
  document.addEventListener("DOMContentLoaded", () => { render(true); schedule(); });
})();
"""#
}
