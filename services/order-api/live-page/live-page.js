// The live page: polls the monitor every POLL_MS and re-renders. Plain browser JS, no build step.
"use strict";
const POLL_MS = 2000;
const $ = (id) => document.getElementById(id);

// With MONITOR_TOKEN set, open the page as /#token=<token> (kept in sessionStorage, never sent in a URL);
// /#token=<MONITOR_TOKEN>&ops=<OPS_TOKEN> also fills the dead-letter browser's ops token.
const hashParams = new URLSearchParams(location.hash.slice(1));
if (hashParams.get("token")) sessionStorage.setItem("monitorToken", hashParams.get("token"));
if (hashParams.get("ops")) sessionStorage.setItem("opsToken", hashParams.get("ops"));
if (hashParams.get("token") || hashParams.get("ops")) history.replaceState(null, "", location.pathname);
const token = sessionStorage.getItem("monitorToken");
// A new tab does not inherit sessionStorage: the trace and flight recorder links carry the token in their hash.
const tokenHash = token ? `#token=${encodeURIComponent(token)}` : "";

async function getJson(path) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 8000);
  try {
    const response = await fetch(path, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: controller.signal, cache: "no-store" });
    if (response.status === 401) throw new Error("unauthorized: open this page as /#token=<MONITOR_TOKEN>");
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return await response.json();
  } finally {
    clearTimeout(timer);
  }
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  const { dataset, ...rest } = props;
  Object.assign(node, rest);
  if (dataset) Object.assign(node.dataset, dataset); // dataset itself is read-only
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

// The console pages' money format (minor units per currency), loaded after this script: used only once data arrives.
const money = (minor, currency) => window.orderflowConsole.money(minor, currency);
const age = (iso) => {
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  return s < 90 ? `${s.toFixed(0)} s ago` : `${(s / 60).toFixed(0)} min ago`;
};

function renderOrders(recent) {
  $("placed").textContent = recent.placedLastMinute;
  $("confirmed").textContent = recent.confirmedLastMinute;
  $("cancelled").textContent = recent.cancelledLastMinute;
  const rows = recent.orders.map((order) => {
    const trace = order.traceId
      ? el(
          "td",
          {},
          el("a", { href: `/console/trace.html?order=${order.orderId}${tokenHash}`, target: "_blank", textContent: "trace" }),
          " · ",
          el("a", { href: `/console/flight-recorder.html?order=${order.orderId}${tokenHash}`, target: "_blank", textContent: "flight recorder" }),
          " · ",
          el("a", { href: `${recent.jaegerQueryUrl}/api/traces/${order.traceId}`, target: "_blank", textContent: "JSON" }),
          " ",
          el("code", { textContent: order.traceId.slice(0, 8) }),
        )
      : el("td", { className: "muted" }, "no trace");
    return el(
      "tr",
      { dataset: { orderId: order.orderId } },
      el("td", {}, el("code", { textContent: order.orderId })),
      el("td", { className: `status-${order.status}` }, order.status),
      el("td", {}, money(order.totalMinor, order.currency)),
      el("td", { title: order.createdAt }, age(order.createdAt)),
      trace,
    );
  });
  $("orders").tBodies[0].replaceChildren(...rows);
}

function renderLag(report) {
  $("total-lag").textContent = report.totalLag;
  $("outbox").textContent = report.outbox.unpublishedRows;
  $("outbox-detail").textContent = `oldest ${report.outbox.oldestAgeSeconds.toFixed(1)} s · failed ${report.outbox.failedRows}`;
  $("dlq-total").textContent = report.deadLetters.reduce((sum, d) => sum + d.depth, 0);
  $("dlq-detail").textContent = report.deadLetters.map((d) => `${d.topic.split(".").pop()} ${d.depth}`).join(" · ");
  $("stuck").textContent = report.stuckOrders.count;
  $("stuck-detail").textContent =
    `older than ${report.stuckOrders.thresholdSeconds} s` + (report.stuckOrders.oldest[0] ? ` · oldest ${report.stuckOrders.oldest[0].ageSeconds} s` : "");
  const groups = report.groups.map((group) => {
    const rows = group.partitions.map((p) =>
      el(
        "tr",
        { className: p.lag > 0 ? "lagging" : "" },
        el("td", {}, p.topic),
        el("td", {}, p.partition),
        el("td", {}, p.committedOffset ?? "–"),
        el("td", {}, p.logEndOffset),
        el("td", {}, p.lag ?? "–"),
        el("td", {}, p.owner ? `${p.owner.clientId} ${p.owner.host}` : "–"),
      ),
    );
    const head = el("thead", {}, el("tr", {}, ...["Topic", "Partition", "Committed", "Log end", "Lag", "Owner"].map((h) => el("th", {}, h))));
    return el(
      "div",
      {},
      el("h2", {}, `${group.group} `, el("span", { className: "muted" }, `${group.state} · ${group.members} member(s) · lag ${group.totalLag}`)),
      rows.length ? el("table", {}, head, el("tbody", {}, ...rows)) : el("p", { className: "muted" }, "no committed offsets yet"),
    );
  });
  $("groups").replaceChildren(...groups);
  $("errors").hidden = report.errors.length === 0;
  $("errors").textContent = report.errors.map((e) => `${e.source}: ${e.message}`).join(" · ");
}

async function tick() {
  try {
    const [report, recent] = await Promise.all([getJson("/monitor/lag"), getJson("/monitor/recent-orders")]);
    renderLag(report);
    renderOrders(recent);
    $("status").textContent = "live";
    $("status").className = "pill ok";
    $("updated").textContent = new Date().toLocaleTimeString();
  } catch (error) {
    $("status").textContent = String(error.message || error);
    $("status").className = "pill bad";
  } finally {
    setTimeout(tick, POLL_MS);
  }
}
tick();
