// The dead-letter browser: per consumer group (the catalogue's, from GET /monitor/dead-letters), the newest letters
// with their error headers (GET /monitor/dead-letters/<group>), and a replay per letter
// (POST /monitor/dead-letters/<group>/replay, OPS_TOKEN: the same code path as npm run dlq -- replay).
"use strict";
(() => {
  const byId = (id) => document.getElementById(id);
  const monitorToken = sessionStorage.getItem("monitorToken");
  const opsInput = byId("ops-token");
  opsInput.value = sessionStorage.getItem("opsToken") ?? "";
  opsInput.addEventListener("change", () => sessionStorage.setItem("opsToken", opsInput.value));
  let selected = null;

  async function call(method, path, token, body) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 30_000);
    try {
      const headers = token ? { authorization: `Bearer ${token}` } : {};
      if (body !== undefined) headers["content-type"] = "application/json";
      const response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
        signal: controller.signal,
      });
      const json = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(`${response.status} ${json.detail ?? json.title ?? ""}`.trim());
      return json;
    } finally {
      clearTimeout(timer);
    }
  }

  const status = (text, bad = false) => {
    byId("dlq-status").textContent = text;
    byId("dlq-status").className = bad ? "error" : "muted";
  };

  const cell = (text, className) => {
    const td = document.createElement("td");
    td.textContent = text ?? "–";
    if (className) td.className = className;
    return td;
  };

  async function loadGroups() {
    try {
      const { groups } = await call("GET", "/monitor/dead-letters", monitorToken);
      byId("dlq-groups").replaceChildren(
        ...groups.map((g) => {
          const button = document.createElement("button");
          button.type = "button";
          button.dataset.group = g.group;
          button.className = g.group === selected ? "active" : "";
          button.textContent = `${g.group} (${g.depth ?? "?"})`;
          button.addEventListener("click", () => showGroup(g.group));
          return button;
        }),
      );
    } catch (error) {
      status(`dead-letter topics: ${error.message}`, true);
    }
  }

  async function showGroup(group) {
    selected = group;
    for (const button of byId("dlq-groups").querySelectorAll("button")) button.className = button.dataset.group === group ? "active" : "";
    status(`reading ${group}…`);
    try {
      const read = await call("GET", `/monitor/dead-letters/${encodeURIComponent(group)}`, monitorToken);
      const rows = read.letters.map((letter) => {
        const h = letter.headers;
        const row = document.createElement("tr");
        row.dataset.partition = String(letter.partition);
        row.dataset.offset = letter.offset;
        if (h["replayed-from"]) row.dataset.replayedFrom = h["replayed-from"];
        const replay = document.createElement("button");
        replay.type = "button";
        replay.textContent = "Replay";
        replay.addEventListener("click", () => replayLetter(group, letter));
        const action = document.createElement("td");
        action.append(replay);
        row.append(
          cell(`${letter.partition}@${letter.offset}`),
          cell(letter.key),
          cell(`${letter.eventType ?? "?"} · ${letter.valueBytes} B`),
          cell(`${letter.errorCode ?? "?"}: ${letter.errorMessage ?? ""}`, "error"),
          cell(h["dlq-attempts"]),
          cell(letter.deadLetteredAt),
          cell(
            `${letter.originalTopic ?? "?"} ${h["dlq-original-partition"] ?? "?"}@${h["dlq-original-offset"] ?? "?"}${h["replayed-from"] ? ` (replay of ${h["replayed-from"]})` : ""}`,
          ),
          action,
        );
        return row;
      });
      byId("dlq-letters").tBodies[0].replaceChildren(...rows);
      byId("dlq-letters").hidden = false;
      byId("dlq-letters").dataset.group = group;
      status(`${read.topic}: ${read.depth} letter(s)${read.truncated ? `, newest ${read.letters.length} shown` : ""}`);
    } catch (error) {
      status(`${group}: ${error.message}`, true);
    }
  }

  async function replayLetter(group, letter) {
    const opsToken = opsInput.value.trim();
    status(`replaying ${group} ${letter.partition}@${letter.offset}…`);
    try {
      const result = await call("POST", `/monitor/dead-letters/${encodeURIComponent(group)}/replay`, opsToken, {
        partition: letter.partition,
        offset: letter.offset,
      });
      status(`replayed ${result.from} to ${result.to}`);
      byId("dlq-status").dataset.replayed = result.from;
    } catch (error) {
      status(`replay refused: ${error.message}${opsToken ? "" : " (enter the ops token)"}`, true);
    }
  }

  byId("dead-letters")
    .querySelector("h2")
    .addEventListener("click", () => selected && showGroup(selected));
  loadGroups();
  setInterval(loadGroups, 5_000);
})();
