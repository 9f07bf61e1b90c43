// The flight recorder of one order, from GET /orders/{id}/timeline. Refreshes while the order is not terminal.
"use strict";
const { byId, queryParam, getJson, el, colourOf, showError, fmtMs, money } = window.orderflowConsole;
const orderId = queryParam("order");
const REFRESH_MS = 3000;
const MAX_REFRESHES = 400;
let refreshes = 0;

const at = (iso) =>
  iso ? new Date(iso).toLocaleTimeString(undefined, { hour12: false }) + `.${String(new Date(iso).getMilliseconds()).padStart(3, "0")}` : "–";

function renderHeader(t) {
  byId("order-id").textContent = t.orderId;
  byId("status").textContent = t.status;
  byId("status").className = `pill status-${t.status}`;
  byId("trace-link").href = `/console/trace.html?order=${encodeURIComponent(t.orderId)}`;
  byId("json-link").href = `/orders/${encodeURIComponent(t.orderId)}/timeline`;
  byId("jaeger-ui").replaceChildren(
    ...(t.trace.jaegerUiUrl ? [" · ", el("a", { href: t.trace.jaegerUiUrl, target: "_blank", textContent: "Jaeger UI" })] : []),
  );
  byId("updated").textContent = new Date().toLocaleTimeString();
  const waiting = byId("waiting");
  waiting.hidden = t.waitingFor === null;
  byId("waiting-for").textContent = t.waitingFor || "";
  byId("more-reasons").replaceChildren(...t.waitingReasons.slice(1).map((reason) => el("p", { className: "muted" }, reason)));
  const trace = t.trace.found
    ? `${t.trace.spanCount} spans from ${t.trace.services.length} services over ${fmtMs(t.trace.durationMs)}`
    : t.traceId
      ? "trace not in Jaeger (yet)"
      : "no trace";
  byId("summary").replaceChildren(
    ...[
      el("span", {}, "customer ", el("b", {}, t.customerId)),
      el("span", {}, "total ", el("b", {}, money(t.totalMinor, t.currency))),
      el("span", {}, "placed ", el("b", {}, at(t.createdAt))),
      el("span", {}, "last change ", el("b", {}, at(t.updatedAt))),
      t.cancelReason ? el("span", {}, "cancelled: ", el("b", {}, t.cancelReason)) : null,
      el("span", {}, "trace: ", trace),
    ].filter(Boolean),
  );
}

function renderEvents(t) {
  const rows = t.events.map((e) =>
    el(
      "tr",
      { dataset: { eventType: e.eventType, outboxId: e.outboxId } },
      el("td", {}, e.eventType, el("div", { className: "muted" }, `outbox row ${e.outboxId}`)),
      el("td", {}, e.writtenBy),
      el("td", {}, e.topic),
      el("td", { className: "partition" }, e.partition ?? "–"),
      el("td", { className: "offset" }, e.offset ?? "–"),
      el("td", {}, at(e.createdAt)),
      el(
        "td",
        { className: e.failedAt ? "error" : "" },
        e.failedAt
          ? `failed after ${e.attempts} attempts: ${e.lastError}`
          : e.publishedAt
            ? `${at(e.publishedAt)} (+${fmtMs(e.relayLatencyMs)})`
            : e.lastError
              ? `retrying: ${e.lastError}`
              : "not yet",
      ),
      el(
        "td",
        {},
        ...e.consumers.map((c) => el("div", {}, `${c.group}: `, c.processedAt ? `+${fmtMs(c.latencyMs)}` : el("span", { className: "error" }, "not yet"))),
      ),
    ),
  );
  byId("events").tBodies[0].replaceChildren(...rows);
}

function renderEffects(t) {
  const f = t.effects;
  const lines = [
    ...f.reservations.map((r) => `stock: ${r.quantity} × ${r.sku} ${r.status}`),
    f.payment
      ? `payment: ${money(f.payment.amountMinor, f.payment.currency)} ${f.payment.status}${f.payment.declineReason ? ` (${f.payment.declineReason})` : ""}${f.payment.providerPaymentId ? ` · provider ${f.payment.providerPaymentId}` : ""}`
      : "payment: none yet",
    ...f.notifications.map((n) => `notification: ${n.kind} via ${n.channel} ${n.status}${n.lastError ? ` (${n.lastError})` : ""}`),
    f.outcome ? `order-state saw: stock ${f.outcome.stockStatus ?? "–"}, payment ${f.outcome.paymentStatus ?? "–"}` : "order-state: no outcome yet",
    f.deadlineAt ? `saga deadline: ${at(f.deadlineAt)}` : null,
    ...f.tombstones.map((ts) => `${ts.group} closed the order: ${ts.reason}`),
  ].filter(Boolean);
  byId("effects").replaceChildren(el("ul", {}, ...lines.map((line) => el("li", {}, line))));
}

function renderSteps(t) {
  byId("steps").tBodies[0].replaceChildren(
    ...t.steps.map((s) =>
      el(
        "tr",
        { dataset: { source: s.source, service: s.service } },
        el("td", {}, `${s.sinceOrderMs < 0 ? "−" : "+"}${fmtMs(Math.abs(s.sinceOrderMs))}`),
        el("td", {}, at(s.at)),
        el("td", {}, s.source),
        el("td", {}, el("span", { className: "chip", style: { background: colourOf(s.service) } }, s.service)),
        el("td", {}, s.what),
      ),
    ),
  );
}

async function load() {
  let terminal = false;
  try {
    if (!orderId) throw new Error("open this page as /console/flight-recorder.html?order=<order id>");
    const timeline = await getJson(`/orders/${encodeURIComponent(orderId)}/timeline`);
    renderHeader(timeline);
    renderEvents(timeline);
    renderEffects(timeline);
    renderSteps(timeline);
    byId("errors").hidden = timeline.errors.length === 0;
    byId("errors").textContent = timeline.errors.map((e) => `${e.source}: ${e.message}`).join(" · ");
    // Notifications and the last spans follow the decision: keep refreshing until every hop is in.
    terminal = timeline.terminal && timeline.trace.found && timeline.events.every((e) => e.consumers.every((c) => c.processedAt));
    document.body.dataset.status = timeline.status;
  } catch (error) {
    showError(error);
  }
  refreshes += 1;
  if (!terminal && refreshes < MAX_REFRESHES) setTimeout(load, REFRESH_MS);
}
load();
