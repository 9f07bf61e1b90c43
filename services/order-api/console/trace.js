// The trace view: the waterfall of one order's trace, from GET /orders/{id}/trace (which reads Jaeger's query API).
// Polls while spans are still arriving (each service exports in batches), then stops.
"use strict";
const { byId, queryParam, getJson, el, colourOf, showError, fmtMs } = window.orderflowConsole;
const orderId = queryParam("order");
const POLL_MS = 2000;
const MAX_POLLS = 45;
let polls = 0;
let lastCount = -1;
let stableFor = 0;
const expanded = new Set();

function renderHeader(answer) {
  byId("title").textContent = `order ${answer.orderId}`;
  byId("flight-link").href = `/console/flight-recorder.html?order=${encodeURIComponent(answer.orderId)}`;
  byId("json-link").href = `/orders/${encodeURIComponent(answer.orderId)}/trace`;
  byId("jaeger-ui").replaceChildren(...(answer.jaegerUiUrl ? [" · ", el("a", { href: answer.jaegerUiUrl, target: "_blank", textContent: "Jaeger UI" })] : []));
}

function ticks(durationMs) {
  const steps = 5;
  return el(
    "div",
    { className: "ticks" },
    ...Array.from({ length: steps + 1 }, (_, i) =>
      el("span", { className: "tick", style: { left: `${(i / steps) * 100}%` } }, fmtMs((durationMs * i) / steps)),
    ),
  );
}

function detailOf(span) {
  const rows = Object.entries(span.attributes)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => el("tr", {}, el("td", {}, key), el("td", {}, el("code", {}, typeof value === "string" ? value : JSON.stringify(value)))));
  const events = span.events.map((event) =>
    el("tr", {}, el("td", {}, `+${fmtMs(event.offsetMs)}`), el("td", {}, el("code", {}, JSON.stringify(event.attributes)))),
  );
  return el(
    "div",
    { className: "span-detail" },
    el(
      "div",
      {},
      el("b", {}, span.name),
      ` · ${span.service} · ${span.kind || "internal"} · start +${fmtMs(span.startOffsetMs)} · ${fmtMs(span.durationMs)}`,
      span.hop ? ` · ${fmtMs(span.hop.gapMs)} after ${span.hop.fromService}` : "",
      span.error ? el("span", { className: "error" }, ` · error: ${span.errorMessage}`) : "",
    ),
    el("div", { className: "muted" }, `span ${span.spanId}${span.parentSpanId ? ` · parent ${span.parentSpanId}` : " · root"}`),
    el("table", {}, el("tbody", {}, ...rows)),
    events.length ? el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "event at"), el("th", {}, "attributes"))), el("tbody", {}, ...events)) : null,
  );
}

function spanRow(span, totalMs) {
  const left = totalMs > 0 ? (span.startOffsetMs / totalMs) * 100 : 0;
  const width = totalMs > 0 ? Math.max((span.durationMs / totalMs) * 100, 0.2) : 100;
  const label = el(
    "div",
    { className: "label", title: `${span.service}: ${span.name}`, style: { paddingLeft: `${0.4 + span.depth * 0.9}rem` } },
    el("span", { className: "svc", style: { background: colourOf(span.service) } }),
    el("span", { className: "service" }, span.service),
    el("span", { className: "name" }, span.name),
    span.parentMissing ? " ⚠" : "",
  );
  const textLeft = left + width > 70 ? { right: `${100 - left + 0.5}%` } : { left: `calc(${left + width}% + 4px)` };
  const lane = el(
    "div",
    { className: "lane" },
    el("div", { className: "bar", style: { left: `${left}%`, width: `${width}%`, background: span.error ? "#b3261e" : colourOf(span.service) } }),
    el("span", { className: "bar-text", style: textLeft }, `${fmtMs(span.durationMs)}${span.hop ? ` (hop ${fmtMs(span.hop.gapMs)})` : ""}`),
  );
  const row = el(
    "div",
    { className: `span-row${span.error ? " has-error" : ""}`, dataset: { spanId: span.spanId, service: span.service, depth: String(span.depth) } },
    label,
    lane,
  );
  if (expanded.has(span.spanId)) row.append(detailOf(span));
  row.addEventListener("click", (event) => {
    if (event.target.closest(".span-detail")) return;
    if (expanded.has(span.spanId)) expanded.delete(span.spanId);
    else expanded.add(span.spanId);
    row.replaceWith(spanRow(span, totalMs));
  });
  return row;
}

function renderTrace(trace) {
  byId("summary").hidden = false;
  byId("span-count").textContent = trace.spanCount;
  byId("duration").textContent = fmtMs(trace.durationMs);
  byId("error-count").textContent = trace.errorCount;
  byId("trace-id").textContent = trace.traceId;
  byId("services").replaceChildren(
    ...trace.services.map((service) =>
      el(
        "span",
        { className: "chip", style: { background: colourOf(service) }, dataset: { service } },
        `${service} ${trace.spans.filter((s) => s.service === service).length}`,
      ),
    ),
  );
  const waterfall = byId("waterfall");
  waterfall.hidden = false;
  waterfall.replaceChildren(
    el("div", { className: "ruler" }, el("div", { className: "label" }, "service · span"), ticks(trace.durationMs)),
    ...trace.spans.map((span) => spanRow(span, trace.durationMs)),
  );
}

async function load() {
  polls += 1;
  try {
    if (!orderId) throw new Error("open this page as /console/trace.html?order=<order id>");
    const answer = await getJson(`/orders/${encodeURIComponent(orderId)}/trace`);
    renderHeader(answer);
    if (answer.error) showError(`Jaeger: ${answer.error}`);
    if (!answer.trace) {
      byId("state").textContent = answer.traceId
        ? `trace ${answer.traceId} is not in Jaeger (yet); retrying…`
        : "no trace id is known for this order (its OrderPlaced row is gone and Jaeger has no span with order.id)";
    } else {
      renderTrace(answer.trace);
      stableFor = answer.trace.spanCount === lastCount ? stableFor + 1 : 0;
      lastCount = answer.trace.spanCount;
      byId("state").textContent =
        stableFor >= 2 ? `${answer.trace.services.length} services` : `${answer.trace.services.length} services · spans still arriving…`;
    }
  } catch (error) {
    showError(error);
  }
  document.body.dataset.loaded = String(polls);
  if (polls < MAX_POLLS && stableFor < 2) setTimeout(load, POLL_MS);
}
load();
