// The live console's charts: 15 minutes of samples from GET /monitor/console/stream (server-sent events, read with
// fetch so the bearer token goes in a header, not the URL), drawn with uPlot. History arrives on connect, then one
// sample per period; a dropped stream reconnects and gets the history again. Plain browser JS, no build step.
"use strict";
(() => {
  const RECONNECT_MS = 3000;
  const monitorToken = sessionStorage.getItem("monitorToken");
  const byId = (id) => document.getElementById(id);
  const GROUP_COLOURS = ["#2f6fdb", "#d9822b", "#1f8a4c", "#8e44ad", "#b3261e", "#56657a"];

  let samples = [];
  let historyMs = 15 * 60_000;
  const charts = [];

  // One chart per question; each series reads one value of a sample (null = the source did not answer: a gap).
  function chartSpecs(groups) {
    return [
      {
        id: "orders",
        title: "Orders per second (10 s average)",
        series: [
          { label: "placed", value: (s) => s.placedPerSecond, stroke: "#2f6fdb" },
          { label: "confirmed", value: (s) => s.confirmedPerSecond, stroke: "#1f8a4c" },
          { label: "cancelled", value: (s) => s.cancelledPerSecond, stroke: "#b3261e" },
        ],
      },
      {
        id: "accept",
        title: "Accept p99 over 10 s (POST /orders, this API process), ms",
        series: [{ label: "p99", value: (s) => s.acceptP99Ms, stroke: "#d9822b" }],
      },
      {
        id: "confirm-latency",
        title: "Placed → CONFIRMED over 10 s, ms",
        series: [
          { label: "p50", value: (s) => s.confirmedP50Ms, stroke: "#1f8a4c" },
          { label: "p99", value: (s) => s.confirmedP99Ms, stroke: "#b3261e" },
        ],
      },
      {
        id: "lag",
        title: "Consumer lag per group, messages",
        series: groups.map((group, i) => ({ label: group, key: group, value: (s) => s.lag[group] ?? null, stroke: GROUP_COLOURS[i % GROUP_COLOURS.length] })),
      },
      {
        id: "outbox",
        title: "Outbox backlog (rows) and oldest age (s)",
        series: [
          { label: "backlog", value: (s) => s.outboxBacklog, stroke: "#2f6fdb" },
          { label: "oldest age s", value: (s) => s.outboxOldestAgeSeconds, stroke: "#d9822b", scale: "s" },
        ],
      },
      {
        id: "problems",
        title: "Dead letters and stuck orders",
        series: [
          { label: "dead letters", value: (s) => s.deadLetters, stroke: "#b3261e" },
          { label: "stuck", value: (s) => s.stuckOrders, stroke: "#a66a00" },
        ],
      },
    ];
  }

  const fmt = (v) => (v === null || v === undefined ? "–" : Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 2 : 1));

  function buildCharts(groups) {
    const container = byId("charts");
    container.replaceChildren();
    charts.length = 0;
    for (const spec of chartSpecs(groups)) {
      const box = document.createElement("div");
      box.className = "chart";
      box.id = `chart-${spec.id}`;
      box.dataset.points = "0";
      const title = document.createElement("h3");
      title.textContent = spec.title;
      const latest = document.createElement("div");
      latest.className = "latest";
      box.append(title);
      container.append(box);
      const scales = { x: { time: true }, y: { auto: true, range: (_u, min, max) => [Math.min(0, min ?? 0), Math.max(1, max ?? 1)] } };
      const axes = [{}, { size: 50 }];
      if (spec.series.some((s) => s.scale === "s")) {
        scales.s = { auto: true, range: (_u, min, max) => [0, Math.max(1, max ?? 1)] };
        axes.push({ scale: "s", side: 1, grid: { show: false }, size: 40 });
      }
      const plot = new uPlot(
        {
          width: Math.max(320, box.clientWidth - 14),
          height: 150,
          legend: { show: true, live: false },
          cursor: { drag: { x: false, y: false } },
          scales,
          axes,
          series: [
            {},
            ...spec.series.map((s) => ({ label: s.label, stroke: s.stroke, width: 1.5, scale: s.scale ?? "y", spanGaps: false, points: { show: false } })),
          ],
        },
        [[], ...spec.series.map(() => [])],
        box,
      );
      box.append(latest);
      charts.push({ spec, plot, box, latest });
    }
  }

  function render() {
    const xs = samples.map((s) => s.t / 1000);
    const newest = samples[samples.length - 1];
    for (const { spec, plot, box, latest } of charts) {
      plot.setData([xs, ...spec.series.map((series) => samples.map(series.value))]);
      box.dataset.points = String(xs.length);
      box.dataset.newest = newest ? String(newest.t) : "";
      latest.replaceChildren(
        ...spec.series.flatMap((series, i) => {
          const value = newest ? series.value(newest) : null;
          const b = document.createElement("b");
          b.textContent = fmt(value);
          b.id = `latest-${spec.id}-${(series.key ?? series.label).replace(/[^a-z0-9]+/gi, "-")}`;
          return [i === 0 ? "now: " : " · ", `${series.label} `, b];
        }),
      );
    }
    byId("charts").dataset.points = String(xs.length);
  }

  const ago = (iso) => {
    const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    return s < 90
      ? `${s.toFixed(0)} s ago`
      : s < 5400
        ? `${(s / 60).toFixed(0)} min ago`
        : s < 172800
          ? `${(s / 3600).toFixed(1)} h ago`
          : `${(s / 86400).toFixed(0)} days ago`;
  };

  function renderAudit(audit) {
    const box = byId("audit");
    const title = document.createElement("h2");
    title.textContent = "Last audit ";
    if (!audit) {
      const none = document.createElement("p");
      none.className = "muted";
      none.textContent = "no verdict recorded: npm run audit records one";
      box.replaceChildren(title, none);
      box.dataset.verdict = "none";
      return;
    }
    const pill = document.createElement("span");
    pill.className = `pill ${audit.ok ? "ok" : "bad"}`;
    pill.id = "audit-verdict";
    pill.textContent = audit.ok ? "PASSED" : `FAILED: ${audit.violations} violations`;
    const when = document.createElement("span");
    when.className = "muted";
    when.id = "audit-age";
    when.title = audit.finishedAt;
    when.textContent = ` finished ${ago(audit.finishedAt)} · ${audit.notices} notices`;
    title.append(pill, when);
    const list = document.createElement("ul");
    for (const check of audit.checks.filter((c) => c.count > 0 || !c.ran)) {
      const item = document.createElement("li");
      item.dataset.code = check.code;
      item.textContent = `${check.code} (${check.severity}): ${check.ran ? check.count : "not run"}${check.title ? ` · ${check.title}` : ""}`;
      list.append(item);
    }
    const passed = audit.checks.filter((c) => c.count === 0 && c.ran).length;
    const summary = document.createElement("p");
    summary.className = "muted";
    summary.textContent = `${passed} of ${audit.checks.length} checks found nothing`;
    box.replaceChildren(title, summary, list);
    box.dataset.verdict = audit.ok ? "passed" : "failed";
    box.dataset.auditId = audit.id;
    box.dataset.finishedAt = audit.finishedAt;
    box.dataset.startedAt = audit.startedAt;
  }

  function onEvent(event, data) {
    if (event === "history") {
      historyMs = data.historyMs;
      byId("console-interval").textContent = (data.intervalMs / 1000).toFixed(1);
      if (charts.length === 0) buildCharts(data.groups);
      samples = data.samples;
      render();
    } else if (event === "sample") {
      samples.push(data);
      const oldest = data.t - historyMs;
      while (samples.length > 0 && samples[0].t < oldest) samples.shift();
      render();
    } else if (event === "audit") {
      lastAudit = data;
      renderAudit(data);
    }
  }

  let lastAudit = null;
  // The audit's age keeps moving between verdicts.
  setInterval(() => lastAudit && renderAudit(lastAudit), 10_000);

  function setStatus(text, ok) {
    byId("console-status").textContent = text;
    byId("console-status").className = `pill ${ok ? "ok" : "bad"}`;
  }

  async function follow() {
    const response = await fetch("/monitor/console/stream", { headers: monitorToken ? { authorization: `Bearer ${monitorToken}` } : {}, cache: "no-store" });
    if (response.status === 401) throw new Error("unauthorized: open this page as /#token=<MONITOR_TOKEN>");
    if (!response.ok) throw new Error(`console stream: HTTP ${response.status}`);
    setStatus("live", true);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error("console stream ended");
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = "message";
        let data = "";
        for (const line of frame.split("\n")) {
          if (line.startsWith("event: ")) event = line.slice(7);
          else if (line.startsWith("data: ")) data += line.slice(6);
        }
        if (data) onEvent(event, JSON.parse(data));
      }
    }
  }

  async function run() {
    for (;;) {
      try {
        await follow();
      } catch (error) {
        setStatus(`${error.message || error}; reconnecting`, false);
      }
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
    }
  }

  window.addEventListener("resize", () => {
    for (const { plot, box } of charts) plot.setSize({ width: Math.max(320, box.clientWidth - 14), height: 150 });
  });
  run();
})();
