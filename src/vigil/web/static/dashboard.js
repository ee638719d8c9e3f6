// vigil dashboard: one page, live through server-sent events (/events).
// Every value shown comes from the daemon's status document (docs/status.md)
// and its events log; every action is the control API's (vigil standby & co).
// Text is always set with textContent: nothing from the cluster is parsed as HTML.
"use strict";

const STATE_WORD = {
  up: "● up", late: "▲ late", dead: "✖ dead", unknown: "? unknown",
  running: "● running", stopped: "○ stopped", failed: "✖ failed", blocked: "✖ blocked",
  starting: "▲ starting", stopping: "▲ stopping", probing: "▲ probing",
};
let session = null;      // {user, role, may_act, csrf, node}
let snapshot = null;     // the last snapshot pushed by the daemon
let source = null;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

function badge(state, text) {
  return el("span", {class: "badge state", "data-state": state, text: text || STATE_WORD[state] || state});
}

function ago(ms) {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1000) return `${ms} ms ago`;
  if (ms < 120000) return `${(ms / 1000).toFixed(1)} s ago`;
  return `${Math.round(ms / 60000)} min ago`;
}

function clock(t) {
  if (typeof t !== "number") return "";
  const d = new Date(t * 1000);
  return d.toLocaleTimeString([], {hour12: false}) + "." + String(d.getMilliseconds()).padStart(3, "0");
}

async function loadSession() {
  const r = await fetch("/api/session", {credentials: "same-origin"});
  if (r.status === 401) { location.href = "/login"; return false; }
  session = await r.json();
  document.getElementById("whoami").textContent = `${session.user} (${session.role}) on ${session.node}`;
  document.getElementById("logout-csrf").value = session.csrf || "";
  document.body.dataset.role = session.role;
  return true;
}

function connect() {
  source = new EventSource("/events");
  const live = document.getElementById("live");
  source.addEventListener("snapshot", (e) => {
    snapshot = JSON.parse(e.data);
    live.dataset.state = "live";
    live.textContent = `live · ${clock(snapshot.time)}`;
    render(snapshot);
  });
  source.addEventListener("logout", () => { location.href = "/login"; });
  source.onerror = async () => {
    live.dataset.state = "reconnecting";
    live.textContent = "reconnecting…";
    const r = await fetch("/api/session", {credentials: "same-origin"}).catch(() => null);
    if (r && r.status === 401) location.href = "/login";
  };
}

function render(snap) {
  const st = snap.status;
  const error = document.getElementById("error");
  error.hidden = !snap.error;
  error.textContent = snap.error ? `The daemon did not answer: ${snap.error}` : "";
  if (!st) return;
  document.title = `vigil · ${st.cluster} · ${st.node}`;
  document.getElementById("cluster").textContent = `${st.cluster} · node ${st.node}`;
  const q = document.getElementById("quorum");
  q.dataset.state = st.quorate ? "quorate" : "no-quorum";
  q.textContent = st.quorate ? `✓ quorum ${st.quorum.votes}/${st.quorum.expected}`
    : `✖ NO QUORUM ${st.quorum.votes}/${st.quorum.expected}`;
  q.title = st.quorum.reason;
  const dc = document.getElementById("dc");
  dc.dataset.state = st.dc ? "ok" : "down";
  dc.textContent = st.dc ? `DC ${st.dc}` : "✖ no DC";
  renderWarnings(st.warnings || []);
  renderNodes(st);
  renderGroups(st);
  renderEvents(snap);
  renderFences(st, snap);
  document.getElementById("footer").textContent =
    `vigil ${st.version} · ${st.node} incarnation ${st.incarnation} · pid ${st.pid} · ` +
    `keepalive ${st.timing_ms.keepalive} ms, deadtime ${st.timing_ms.deadtime} ms`;
}

function renderWarnings(warnings) {
  const ul = document.getElementById("warnings");
  ul.replaceChildren(...warnings.map((w) => el("li", {text: w})));
}

function actionButton(label, action, args, confirmText, choose) {
  const b = el("button", {type: "button", "data-action": action, text: label,
    disabled: !(session && session.may_act),
    title: session && session.may_act ? null : "read-only: you may only look"});
  for (const [k, v] of Object.entries(args)) b.dataset[k] = v;
  b.addEventListener("click", () => ask(label, action, args, confirmText, choose));
  return b;
}

function renderNodes(st) {
  const standby = new Set((st.coordinator && st.coordinator.standby) || []);
  const rows = st.nodes.map((n) => {
    const links = n.self ? [el("span", {class: "muted", text: "this node"})]
      : n.links.map((l) => el("span", {class: "link-state", "data-state": l.state, title: l.reason},
        `${l.name}: `, badge(l.state)));
    const name = el("td", {}, el("strong", {text: n.name}),
      standby.has(n.name) ? el("span", {text: " "}) : null,
      standby.has(n.name) ? el("span", {class: "badge", "data-state": "standby", text: "standby"}) : null);
    const act = el("td", {class: "act"},
      standby.has(n.name)
        ? actionButton("Online", "online", {node: n.name},
          `Take ${n.name} out of standby? It may run resources again (and groups that prefer it may move back).`)
        : actionButton("Standby", "standby", {node: n.name},
          `Put ${n.name} in standby? Its resources move to other nodes now.`));
    return el("tr", {"data-node": n.name, "data-state": n.state, title: n.reason},
      name,
      el("td", {}, badge(n.state), el("div", {class: "reason", text: n.reason})),
      el("td", {"data-label": "incarnation", text: n.incarnation === null ? "—" : String(n.incarnation)}),
      el("td", {}, ...links),
      el("td", {"data-label": "connectivity", text: n.connectivity === null || n.connectivity === undefined ? "—" : String(n.connectivity)}),
      el("td", {"data-label": "heard", text: n.self ? "—" : ago(n.last_heard_ms)}),
      act);
  });
  document.querySelector("#nodes tbody").replaceChildren(...rows);
}

function renderGroups(st) {
  const moves = (st.coordinator && st.coordinator.moves) || {};
  const groups = new Map();
  for (const r of st.resources || []) {
    const key = r.group || `resource ${r.id}`;
    if (!groups.has(key)) groups.set(key, {id: r.group || r.id, grouped: !!r.group, rows: []});
    groups.get(key).rows.push(r);
  }
  const blocks = [];
  for (const g of groups.values()) {
    const where = [...new Set(g.rows.map((r) => r.node).filter((n) => n))];
    const states = g.rows.map((r) => r.state);
    const all = states.every((s) => s === states[0]) ? states[0] : "mixed";
    const moved = moves[g.id];
    const head = el("div", {class: "group-head"},
      el("h3", {}, g.grouped ? `group ${g.id}` : g.id, " ",
        el("span", {class: "muted", text: where.length ? `on ${where.join(", ")}` : "nowhere"}),
        moved ? el("span", {class: "badge", "data-state": "standby", text: ` moved to ${moved}`}) : null),
      el("span", {class: "act"},
        actionButton("Move…", "move", {target: g.id}, `Move ${g.id} to another node? It stays there until Unmove.`, true),
        moved ? actionButton("Unmove", "unmove", {target: g.id},
          `Drop the move of ${g.id}? Its placement follows the usual scores again.`) : null));
    const rows = g.rows.map((r) => el("tr", {"data-resource": r.id, "data-state": r.state, "data-node": r.node || ""},
      el("td", {}, el("strong", {text: r.id})),
      el("td", {text: r.node || "—"}),
      el("td", {}, badge(r.state)),
      el("td", {text: `failcount ${r.failcount}`}),
      el("td", {class: "reason", text: r.reason}),
      el("td", {class: "act"}, actionButton("Cleanup", "cleanup", {target: r.id},
        `Forget the failures of ${r.id} on every node? Every node probes it again.`))));
    blocks.push(el("div", {class: "group", "data-group": g.id, "data-state": all}, head,
      el("div", {class: "scroll"}, el("table", {}, el("tbody", {}, ...rows)))));
  }
  document.getElementById("groups").replaceChildren(...blocks);
}

function renderEvents(snap) {
  const events = (snap.events || []).slice().reverse();
  document.getElementById("events-source").textContent = snap.events_source || "";
  document.getElementById("events").replaceChildren(...events.map((e) =>
    el("li", {"data-kind": e.kind},
      el("span", {class: "time", text: clock(e.time)}),
      el("span", {class: "node", text: e.node}),
      el("span", {class: "kind", text: e.kind}),
      el("span", {class: "text", text: (e.resource ? `${e.resource}: ` : "") + e.text}))));
  const strip = document.getElementById("timeline-strip");
  const now = snap.time;
  strip.replaceChildren(...events.filter((e) => typeof e.time === "number").map((e) => {
    const mark = el("span", {"data-kind": e.kind, title: `${clock(e.time)} ${e.text}`});
    // through the CSSOM: the Content-Security-Policy allows no inline style attribute
    mark.style.left = `${Math.max(0, Math.min(99.5, 100 - ((now - e.time) / 3600) * 100))}%`;
    return mark;
  }));
}

function renderFences(st, snap) {
  const f = st.fencing || {};
  document.getElementById("fence-mode").textContent =
    `mode: ${f.mode || "unknown"}` + ((f.in_progress || []).length ? ` · fencing now: ${f.in_progress.join(", ")}` : "");
  const rows = [];
  for (const h of (f.history || []).slice().reverse()) {
    const ok = h.succeeded;
    rows.push(el("tr", {"data-state": ok ? "running" : "failed"},
      el("td", {text: clock(h.started_ms / 1000)}),
      el("td", {text: h.node}),
      el("td", {}, el("span", {class: "badge state", "data-state": ok ? "running" : "failed",
        text: ok ? (h.manual ? "✓ confirmed by hand" : "✓ fenced") : "✖ failed"})),
      el("td", {class: "reason", text: `${h.reason} — ${h.summary}`})));
  }
  for (const e of (snap.events || []).filter((x) => x.kind === "fence").reverse()) {
    rows.push(el("tr", {}, el("td", {text: clock(e.time)}), el("td", {text: e.node}),
      el("td", {text: "DC"}), el("td", {class: "reason", text: e.text})));
  }
  if (!rows.length) rows.push(el("tr", {}, el("td", {colspan: 4, class: "muted", text: "no fence operations"})));
  document.querySelector("#fences tbody").replaceChildren(...rows);
}

function ask(label, action, args, text, choose) {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-title").textContent = label.replace("…", "");
  document.getElementById("confirm-text").textContent = text;
  const chooser = document.getElementById("confirm-choose");
  const select = document.getElementById("confirm-node");
  chooser.hidden = !choose;
  if (choose && snapshot) {
    select.replaceChildren(...snapshot.status.nodes.map((n) =>
      el("option", {value: n.name, text: `${n.name} (${n.state})`})));
  }
  dialog.returnValue = "";
  dialog.onclose = () => {
    if (dialog.returnValue !== "ok") return;
    const body = {cmd: action, ...args};
    if (choose) body.node = select.value;
    act(body);
  };
  dialog.showModal();
}

async function act(body) {
  show(null, `${body.cmd} ${body.node || body.target || ""}: asking the cluster…`);
  let reply;
  try {
    const r = await fetch("/api/action", {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": session.csrf || ""},
      body: JSON.stringify(body)});
    if (r.status === 401) { location.href = "/login"; return; }
    reply = await r.json();
  } catch (err) {
    reply = {ok: false, error: `no answer: ${err}`};
  }
  if (reply.ok) show(true, `✓ ${(reply.result && reply.result.message) || body.cmd + ": accepted"}`);
  else show(false, `✖ ${reply.error}` + (reply.hint ? ` — ${reply.hint}` : ""));
}

let answerTimer = null;
function show(ok, text) {
  const box = document.getElementById("answer");
  box.hidden = false;
  box.dataset.ok = ok === null ? "" : String(ok);
  box.textContent = text;
  clearTimeout(answerTimer);
  if (ok !== null) answerTimer = setTimeout(() => { box.hidden = true; }, 10000);
}

document.addEventListener("DOMContentLoaded", async () => {
  if (await loadSession()) connect();
});
