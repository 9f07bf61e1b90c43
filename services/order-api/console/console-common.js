// Shared by the trace view and the flight recorder: the monitor token, bounded JSON fetches, DOM helpers.
// Plain browser JS, no build step (like the live page).
// In a function scope: the pages' scripts declare the same names from window.orderflowConsole.
(() => {
  "use strict";

  // With MONITOR_TOKEN set, open a page with #token=<token> once (kept in sessionStorage, never sent in a URL); the
  // live page stores it under the same name, so links from it work without the hash.
  (function keepToken() {
    const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
    if (fromHash) {
      sessionStorage.setItem("monitorToken", fromHash);
      history.replaceState(null, "", location.pathname + location.search);
    }
  })();

  const consoleToken = () => sessionStorage.getItem("monitorToken");
  const byId = (id) => document.getElementById(id);
  const queryParam = (name) => new URLSearchParams(location.search).get(name);

  async function getJson(path) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 10000);
    try {
      const token = consoleToken();
      const response = await fetch(path, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: controller.signal, cache: "no-store" });
      if (response.status === 401) throw new Error("unauthorized: open this page with #token=<MONITOR_TOKEN>");
      if (!response.ok) {
        const problem = await response.json().catch(() => ({}));
        throw new Error(`${path}: HTTP ${response.status}${problem.detail ? ` (${problem.detail})` : ""}`);
      }
      return await response.json();
    } finally {
      clearTimeout(timer);
    }
  }

  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    const { dataset, style, ...rest } = props;
    Object.assign(node, rest);
    if (dataset) Object.assign(node.dataset, dataset);
    if (style) Object.assign(node.style, style);
    for (const child of children)
      if (child !== null && child !== undefined) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    return node;
  }

  // One colour per service, the same on every page.
  const SERVICE_COLOURS = {
    "order-api": "#3b6fd8",
    "outbox-relay": "#8a56c9",
    inventory: "#1f8a4c",
    payment: "#c77d00",
    "order-state": "#c23b6d",
    notification: "#10849a",
  };
  const colourOf = (service) => SERVICE_COLOURS[service] || "#56657a";

  function showError(error) {
    const box = byId("errors");
    box.hidden = false;
    box.textContent = String(error && error.message ? error.message : error);
  }

  const fmtMs = (ms) => (ms === null || ms === undefined ? "–" : Math.abs(ms) >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);

  // The pages' scripts take what they use from here (one global, not one per helper).
  // Amounts are integers in the currency's minor unit, which is not always a hundredth (JPY has none, BHD a
  // thousandth): the number of digits comes from Intl, as the notification text does; "84.00 EUR", "500 JPY".
  const money = (minor, currency) => {
    let digits = 2;
    try {
      digits = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
    } catch {
      /* unknown code: show hundredths */
    }
    return `${(minor / 10 ** digits).toFixed(digits)} ${currency}`;
  };

  window.orderflowConsole = { byId, queryParam, getJson, el, colourOf, showError, fmtMs, money };
})();
