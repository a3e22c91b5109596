// localgpt web UI: plain JavaScript, no build step, nothing fetched but this server's own routes.
"use strict";

const $ = (id) => document.getElementById(id);
let history = [];          // [{question, standalone, answer}] for follow-ups, oldest first
let controller = null;     // aborts the answer being streamed

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else if (k === "text") node.textContent = v; else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
}

// "1 file", "2 files"
function count(n, word) {
  return `${n} ${n === 1 ? word : word + "s"}`;
}

async function errorText(response) {
  try { return (await response.json()).error || response.statusText; } catch (e) { return response.statusText; }
}

// --- Server-sent events from a POST (EventSource only does GET) ---------------------------
async function* readEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let name = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) name = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      yield { name, data: data ? JSON.parse(data) : null };
    }
  }
}

// --- Asking ---------------------------------------------------------------------------------
// A logged-in user's requests that change anything carry the session's CSRF token (its cookie is
// readable by this page only; the session cookie itself is not readable at all).
function csrfHeader() {
  const found = document.cookie.match(/(?:^|;\s*)localgpt_csrf=([^;]*)/);
  return found ? { "x-csrf-token": decodeURIComponent(found[1]) } : {};
}

async function ask(question) {
  const turn = el("div", { class: "turn" });
  const answer = el("div", { class: "answer", "data-role": "answer" });
  const queue = el("div", { class: "queue" });
  turn.append(el("div", { class: "q", text: question }), queue, answer);
  $("turns").append(turn);
  turn.scrollIntoView({ block: "end" });
  controller = new AbortController();
  $("ask-button").disabled = true;
  $("stop-button").disabled = false;
  try {
    const response = await fetch("/api/ask", {
      method: "POST", signal: controller.signal, headers: { "content-type": "application/json", ...csrfHeader() },
      body: JSON.stringify({ query: question, stream: true, history }),
    });
    if (!response.ok) throw new Error(await errorText(response));
    for await (const event of readEvents(response)) {
      if (event.name === "queue") {
        queue.textContent = event.data.position > 0 ? `Waiting for the model: ${event.data.position} ahead of you` : "";
      } else if (event.name === "searching") {
        turn.insertBefore(el("div", { class: "standalone", text: `(searching for: ${event.data.standalone})` }), queue);
      } else if (event.name === "token") {
        answer.textContent += event.data.text;
      } else if (event.name === "answer") {
        showAnswer(turn, answer, event.data);
        history.push({ question, standalone: event.data.question, answer: event.data.answer });
      } else if (event.name === "error") {
        throw new Error(event.data.error);
      }
    }
  } catch (err) {
    const stopped = err.name === "AbortError";
    turn.append(el("div", { class: stopped ? "muted" : "error", text: stopped ? "[stopped]" : `Error: ${err.message}` }));
  } finally {
    controller = null;
    $("ask-button").disabled = false;
    $("stop-button").disabled = true;
  }
}

function showAnswer(turn, answerNode, record) {
  answerNode.textContent = record.answer;
  if (record.refused) { answerNode.classList.add("refused"); return; }
  const passages = record.passages || [];
  if (record.evidence && record.evidence.length) {
    const list = el("ul", { class: "items", "data-role": "evidence" });
    for (const ev of record.evidence) {
      const passage = passages[ev.n - 1];
      const button = el("button", { type: "button", class: "evidence" },
        el("span", { class: "where", text: `[${ev.n}] ${ev.citation || ev.source}` }),
        ` “${ev.text.replace(/\s+/g, " ").trim()}”`);
      button.addEventListener("click", () => openViewer(passage, ev));
      list.append(el("li", {}, button));
    }
    turn.append(el("h3", { text: "Evidence (quoted from the documents)" }), list);
  }
  if (record.sources && record.sources.length) {
    const list = el("ul", { class: "items", "data-role": "sources" });
    for (const src of record.sources) {
      const passage = passages[src.n - 1] || src;
      const ev = (record.evidence || []).find((e) => e.n === src.n);
      const button = el("button", { type: "button", class: "citation" },
        el("span", { class: "where", text: `[${src.n}]` }), " " + (src.citation || src.source));
      button.addEventListener("click", () => openViewer(passage, ev));
      list.append(el("li", {}, button));
    }
    turn.append(el("h3", { text: "Sources" }), list);
  }
}

// --- The page viewer ------------------------------------------------------------------------
function openViewer(passage, evidence) {
  if (!passage) return;
  $("viewer").hidden = false;
  $("viewer-title").textContent = passage.source;
  const where = [passage.location, passage.heading && !String(passage.location || "").includes(passage.heading) ? passage.heading : ""]
    .filter(Boolean).join(" · ");
  $("viewer-location").textContent = where;
  const text = passage.passage ? passage.passage.text : passage.text;
  const sentence = evidence ? text.slice(evidence.start, evidence.end) : "";
  const image = $("viewer-image"), box = $("viewer-text"), viewer = $("viewer");
  viewer.scrollTop = 0;
  if (/\.pdf$/i.test(passage.source) && passage.page && !passage.attachment) {
    const params = new URLSearchParams({ source: passage.source, page: passage.page,
      highlight: sentence || passage.text.slice(0, 300) });
    image.hidden = false; box.hidden = true;
    image.src = "/api/page?" + params.toString();
  } else {
    image.hidden = true; image.removeAttribute("src"); box.hidden = false;
    box.replaceChildren();
    if (evidence) {
      box.append(text.slice(0, evidence.start), el("mark", { text: sentence }), text.slice(evidence.end));
    } else if (passage.passage) {
      const p = passage.passage;
      box.append(text.slice(0, p.start), el("mark", { text: text.slice(p.start, p.end) }), text.slice(p.end));
    } else {
      box.textContent = text;
    }
  }
  viewer.scrollIntoView({ block: "nearest" });
  const mark = box.hidden ? null : box.querySelector("mark");
  if (mark) showMarked(viewer, mark);
}

// The marked sentence in view: the viewer scrolls (a third from its top) where it has its own
// scroll bar; on a phone, where it is part of the page, the page scrolls.
function showMarked(viewer, mark) {
  if (viewer.scrollHeight > viewer.clientHeight + 1) {
    const offset = mark.getBoundingClientRect().top - viewer.getBoundingClientRect().top;
    viewer.scrollTop += offset - viewer.clientHeight / 3;
  } else {
    mark.scrollIntoView({ block: "center" });
  }
}

// --- Documents --------------------------------------------------------------------------------
async function loadDocuments() {
  const q = $("docs-query").value.trim();
  const response = await fetch("/api/documents" + (q ? "?q=" + encodeURIComponent(q) : ""));
  const body = $("docs-table").querySelector("tbody");
  body.replaceChildren();
  if (!response.ok) { $("docs-summary").textContent = "Error: " + await errorText(response); return; }
  const docs = await response.json();
  const failed = docs.filter((d) => d.last_failure).length;
  $("docs-summary").textContent = `${count(docs.length, "file")}${failed ? `, ${failed} with a failure` : ""}`;
  for (const d of docs) {
    const when = d.ingested_at ? new Date(d.ingested_at * 1000).toLocaleString() : (d.indexed ? "" : "not in the index");
    body.append(el("tr", {}, el("td", { text: d.source }), el("td", { text: String(d.chunks) }),
      el("td", { text: d.pages ? String(d.pages) : "" }), el("td", { text: when }),
      el("td", { class: "failure", text: d.last_failure ? d.last_failure + (d.failure_known ? " (acknowledged)" : "") : "" })));
  }
}

function showTab(name) {
  for (const [tab, view] of [["tab-ask", "ask-view"], ["tab-docs", "docs-view"], ["tab-keys", "keys-view"], ["tab-users", "users-view"]]) {
    const on = tab === name;
    $(tab).classList.toggle("active", on);
    $(view).hidden = !on;
  }
  if (name === "tab-docs") loadDocuments();
  if (name === "tab-users") loadUsers();
  if (name === "tab-keys") loadKeys();
}

// --- The user's own API keys ----------------------------------------------------------------------
async function loadKeys() {
  const response = await fetch("/api/keys");
  const rows = $("keys-table").querySelector("tbody");
  rows.replaceChildren();
  if (!response.ok) { $("keys-message").textContent = "Error: " + await errorText(response); return; }
  for (const k of await response.json()) {
    const revoke = el("button", { type: "button", text: "Revoke" });
    revoke.addEventListener("click", async () => {
      const done = await fetch("/api/keys/" + encodeURIComponent(k.id), { method: "DELETE", headers: csrfHeader() });
      $("keys-message").textContent = done.ok ? `Key ${k.id} revoked.` : "Error: " + await errorText(done);
      $("new-key").hidden = true;
      loadKeys();
    });
    rows.append(el("tr", {}, el("td", { text: k.id }), el("td", { text: k.scope }),
      el("td", { text: new Date(k.created_at * 1000).toLocaleString() }), el("td", {}, revoke)));
  }
}

// --- Users (members of the group admin, on a server with users) ------------------------------
async function sendJSON(method, url, body) {
  const response = await fetch(url, {
    method, headers: { "content-type": "application/json", ...csrfHeader() }, body: body ? JSON.stringify(body) : undefined,
  });
  $("users-message").textContent = response.ok ? "" : "Error: " + await errorText(response);
  return response.ok;
}

async function loadUsers() {
  const [users, grants] = await Promise.all([fetch("/api/admin/users"), fetch("/api/admin/grants")]);
  if (!users.ok || !grants.ok) { $("users-message").textContent = "Error: " + await errorText(users.ok ? grants : users); return; }
  const userRows = $("users-table").querySelector("tbody");
  userRows.replaceChildren();
  for (const u of await users.json()) {
    const remove = el("button", { type: "button", text: "Remove" });
    remove.addEventListener("click", async () => {
      if (await sendJSON("DELETE", "/api/admin/users/" + encodeURIComponent(u.name))) loadUsers();
    });
    userRows.append(el("tr", {}, el("td", { text: u.name }), el("td", { text: u.groups.join(", ") }),
      el("td", { text: u.folders.join(", ") }), el("td", { text: String(u.keys) }), el("td", {}, remove)));
  }
  const grantRows = $("grants-table").querySelector("tbody");
  grantRows.replaceChildren();
  for (const g of await grants.json()) {
    const revoke = el("button", { type: "button", text: "Revoke" });
    revoke.addEventListener("click", async () => {
      if (await sendJSON("DELETE", "/api/admin/grants", { group: g.group, folder: g.folder })) loadUsers();
    });
    grantRows.append(el("tr", {}, el("td", { text: g.group }), el("td", { text: g.shown }), el("td", {}, revoke)));
  }
}

async function loadMe() {
  const response = await fetch("/api/me");
  if (!response.ok) return;
  const me = await response.json();
  $("tab-users").hidden = !(me.user && me.via !== "key" && me.groups.includes("admin"));
  $("tab-keys").hidden = !(me.user && me.via !== "key");
}

// The index's size; with a watcher (serve --watch), when it last synced, looked at every 5 s,
// and "index updated" for a while after the files or chunks changed.
let lastCounts = null;
let statusTimer = null;
async function loadStatus() {
  const response = await fetch("/api/health");
  if (!response.ok) return;
  const h = await response.json();
  const counts = h.files === undefined ? `logged in as ${h.user}` : `${count(h.files, "file")}, ${count(h.chunks, "chunk")}`;
  const changed = lastCounts !== null && counts !== lastCounts;
  lastCounts = counts;
  const w = h.watcher || {};
  let text = counts;
  if (w.running) {
    const synced = w.last_sync ? new Date(w.last_sync * 1000).toLocaleTimeString() : "not yet";
    text += ` · watching, synced ${synced}`;
    if (!statusTimer) statusTimer = setInterval(loadStatus, 5000);
  }
  if (changed) {
    text += " · index updated";
    if (!$("docs-view").hidden) loadDocuments();
  }
  $("status").textContent = text;
  $("status").classList.toggle("updated", changed);
}

document.addEventListener("DOMContentLoaded", () => {
  $("ask-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const q = $("question").value.trim();
    if (!q || controller) return;
    $("question").value = "";
    ask(q);
  });
  $("question").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("ask-form").requestSubmit(); }
  });
  $("stop-button").addEventListener("click", () => controller && controller.abort());
  $("new-button").addEventListener("click", () => { history = []; $("turns").replaceChildren(); $("viewer").hidden = true; });
  $("viewer-close").addEventListener("click", () => { $("viewer").hidden = true; });
  $("tab-ask").addEventListener("click", () => showTab("tab-ask"));
  $("tab-docs").addEventListener("click", () => showTab("tab-docs"));
  $("tab-users").addEventListener("click", () => showTab("tab-users"));
  $("tab-keys").addEventListener("click", () => showTab("tab-keys"));
  $("key-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const response = await fetch("/api/keys", {
      method: "POST", headers: { "content-type": "application/json", ...csrfHeader() }, body: JSON.stringify({ scope: $("key-scope").value }),
    });
    if (!response.ok) { $("keys-message").textContent = "Error: " + await errorText(response); return; }
    const made = await response.json();
    $("new-key-text").textContent = made.key;
    $("new-key").hidden = false;
    $("keys-message").textContent = "";
    loadKeys();
  });
  $("user-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const groups = $("new-groups").value.split(",").map((g) => g.trim()).filter(Boolean);
    if (await sendJSON("POST", "/api/admin/users", { name: $("new-user").value.trim(), password: $("new-password").value, groups })) {
      $("user-form").reset();
      loadUsers();
    }
  });
  $("grant-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (await sendJSON("POST", "/api/admin/grants", { group: $("grant-group").value.trim(), folder: $("grant-folder").value.trim() })) {
      $("grant-form").reset();
      loadUsers();
    }
  });
  let timer = null;
  $("docs-query").addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(loadDocuments, 200); });
  $("docs-form").addEventListener("submit", (e) => { e.preventDefault(); loadDocuments(); });
  loadStatus();
  loadMe();
});
