// The supervisor wallboard: a snapshot on every (re)connect (`supervisor_hello`), then
// the server's `wallboard.*` pushes; no polling. The one-second timer only redraws the
// clocks (time in state, waits) from what the page already has.
import { api, callerName, connectSocket, escapeHtml, formatDuration, notify, t } from "/static/js/common.js";

const root = document.getElementById("wallboard");
const wall = root.dataset.wall === "true";
const ALERTS_KEY = "cti.wallboard.alerts";
const WAITING = new Set(["queued", "offering"]);
const MODE_KEYS = { "0": "listen", "2": "whisper", "3": "barge" };

const chinese = document.documentElement.lang.startsWith("zh");

const state = {
  queues: new Map(), agents: new Map(), calls: new Map(), sessions: new Map(), ended: new Set(), queueNames: {},
  offset: 0, extension: "", reasons: [], skills: [], alerts: { sl_target: 0.8, max_wait_s: 60 },
};

const serverNow = () => Date.now() / 1000 + state.offset;
const since = (epoch) => (epoch ? formatDuration(serverNow() - epoch) : t("sup_none"));
const pct = (value) => (value === null || value === undefined ? t("sup_none") : `${(100 * value).toFixed(1)}%`);

// --- live connection ---------------------------------------------------------------

const socket = connectSocket();
socket.on("connect", hello);
socket.on("disconnect", () => setLive(false));
socket.on("wallboard.call", (call) => {
  if (call.gone) state.calls.delete(call.id); else state.calls.set(call.id, call);
  renderCalls(); renderSession(); renderAlerts();
});
socket.on("wallboard.agent", (agent) => { state.agents.set(agent.id, agent); renderAgents(); });
socket.on("wallboard.queue", (queue) => { state.queues.set(queue.name, queue); renderQueues(); renderAlerts(); });
socket.on("supervision.session", onSession);

function hello() {
  socket.emit("supervisor_hello", {}, (snapshot) => {
    if (!snapshot || snapshot.error) {
      notify(snapshot?.error?.message ?? t("sup_reconnecting"), "error");
      setTimeout(() => socket.connected && hello(), 3000);
      return;
    }
    state.offset = snapshot.generated_at - Date.now() / 1000;
    state.queues = new Map(snapshot.queues.map((q) => [q.name, q]));
    state.agents = new Map(snapshot.agents.map((a) => [a.id, a]));
    state.calls = new Map(snapshot.calls.map((c) => [c.id, c]));
    state.sessions = new Map(snapshot.sessions.map((s) => [s.leg_uuid, s]));
    state.reasons = snapshot.reasons ?? [];
    state.queueNames = snapshot.queue_names ?? {};
    state.skills = snapshot.skills ?? [];
    state.alerts = { ...snapshot.alerts, ...loadAlertOverrides() };
    if (!state.extension) state.extension = snapshot.extension ?? "";
    setLive(true);
    renderAll();
  });
}

function setLive(live) {
  const status = document.getElementById("wb-status");
  status.dataset.live = String(live);
  status.textContent = live ? t("sup_live") : t("sup_reconnecting");
}

function onSession(session) {
  const what = session.what;
  if (what === "failed" || what === "ended") {
    state.sessions.delete(session.leg_uuid);
    state.ended.add(session.leg_uuid);
    if (what === "failed") notify(`${t("sup_session_failed")}: ${session.message}`, "error");
    else notify(t("sup_session_ended"));
  } else {
    state.sessions.set(session.leg_uuid, session);
    if (session.state === "active") notify(t("sup_session_active"));   // not "your phone is ringing" any more
  }
  renderSession(); renderCalls();
}

// --- rendering ---------------------------------------------------------------------

function renderAll() { renderQueues(); renderCalls(); renderAgents(); renderSession(); renderAlerts(); }

function renderQueues() {
  const box = document.getElementById("wb-queues");
  const queues = [...state.queues.values()].sort((a, b) => a.name.localeCompare(b.name));
  box.innerHTML = queues.length ? queues.map(queueTile).join("") : `<p class="hint">${escapeHtml(t("sup_empty_scope"))}</p>`;
}

function queueTile(q) {
  const breached = queueAlerts(q).length > 0;
  const states = Object.entries(q.agents_by_state ?? {}).filter(([, n]) => n > 0)
    .map(([s, n]) => `<span class="wb-pill" data-state="${escapeHtml(s)}">${escapeHtml(t(`sup_state_${s}`))} ${n}</span>`).join(" ");
  return `<article class="wb-tile${breached ? " wb-breach" : ""}" data-queue="${escapeHtml(q.name)}" aria-label="${escapeHtml(q.display_name)}">
    <h3>${escapeHtml(q.display_name)}</h3>
    <dl>
      <div><dt>${escapeHtml(t("sup_waiting"))}</dt><dd class="wb-waiting">${q.waiting}</dd></div>
      <div><dt>${escapeHtml(t("sup_longest_wait"))}</dt><dd class="wb-clock" data-since="${q.longest_waiting_since ?? ""}">${since(q.longest_waiting_since)}</dd></div>
      <div><dt>${escapeHtml(t("sup_service_level"))}</dt><dd class="wb-sl">${pct(q.service_level)}</dd></div>
      <div><dt>${escapeHtml(t("sup_abandon_rate"))}</dt><dd>${pct(q.abandon_rate)}</dd></div>
      <div><dt>${escapeHtml(t("sup_answered"))} / ${escapeHtml(t("sup_offered"))}</dt><dd>${q.answered ?? 0} / ${q.offered ?? 0}</dd></div>
    </dl>
    <p class="hint">${escapeHtml(t("sup_within"))} ${q.sl_threshold_s}s</p>
    <p class="wb-states" aria-label="${escapeHtml(t("sup_agents_by_state"))}">${states}</p>
  </article>`;
}

/** A queue as people know it (its display name), in scope or not. */
function queueName(name) {
  return state.queues.get(name)?.display_name ?? state.queueNames[name] ?? name ?? "";
}

function reasonLabel(code) {
  const listed = state.reasons.find((r) => r.code === code)?.label;
  const system = t(`sup_reason_${code}`);   // missed, restored ... are set by the system, not listed
  return listed ?? (system === `sup_reason_${code}` ? code : system);
}

/** Why a button is off: the server's sentence; in Chinese, the same from labels. */
function refusalText(action, call, why) {
  if (!chinese) return why;
  const stateKey = `sup_call_${call.state}`;
  if (action === "hangup" || t(stateKey) === stateKey) return t("sup_why_ended");
  return `${t(stateKey)}：${t(action === "intercept" ? "sup_why_intercept" : "sup_why_monitor")}`;
}

function agentName(id) {
  const agent = state.agents.get(id);
  return agent ? `${agent.name} (${agent.code})` : (id ? `#${id}` : t("sup_none"));
}

function mySessionOn(callId) {
  return [...state.sessions.values()].find((s) => s.interaction_id === callId);
}

function renderCalls() {
  const body = document.querySelector("#wb-calls tbody");
  const calls = [...state.calls.values()].sort((a, b) => a.started_at - b.started_at);
  document.getElementById("wb-no-calls").hidden = calls.length > 0;
  body.innerHTML = calls.map(callRow).join("");
}

function callRow(c) {
  const waiting = WAITING.has(c.state);
  const started = waiting ? c.waiting_since : (c.answered_at ?? c.started_at);
  const agent = c.state === "offering" && c.ringing_agents.length
    ? `${c.ringing_agents.map(agentName).join(", ")} (${t("sup_ringing")})` : agentName(c.agent_id);
  const supervisors = c.supervisors.map((s) => `${escapeHtml(s.extension)}: ${escapeHtml(t(`sup_mode_${s.mode}`))}`).join("<br>");
  return `<tr data-call="${escapeHtml(c.id)}" data-state="${escapeHtml(c.state)}">
    <td>${escapeHtml([callerName(c.caller_name, c.caller_number), c.caller_number].filter(Boolean).join(" "))}</td>
    <td>${escapeHtml(t(`sup_call_${c.state}`))}</td>
    <td>${escapeHtml(queueName(c.queue))}</td>
    <td>${escapeHtml(agent)}</td>
    <td class="wb-clock" data-since="${started ?? ""}">${since(started)}</td>
    <td>${supervisors || escapeHtml(t("sup_none"))}</td>
    ${wall ? "" : `<td class="wb-actions">${callActions(c, waiting)}</td>`}
  </tr>`;
}

function callActions(c, waiting) {
  const mine = mySessionOn(c.id);
  const button = (action, label, extra = "") => {
    const why = c.actions?.[action];
    const pressed = mine && mine.kind === "monitor" && mine.mode === action ? ' aria-pressed="true"' : "";
    return `<button type="button" data-action="${action}"${why ? ` disabled title="${escapeHtml(refusalText(action, c, why))}"` : ""}${pressed} ${extra}>${escapeHtml(t(label))}</button>`;
  };
  let html = ["listen", "whisper", "barge"].map((m) => button(m, `sup_${m}`)).join("")
    + button("intercept", "sup_intercept") + button("hangup", "sup_hangup", 'class="danger"');
  if (waiting) {
    html += `<button type="button" data-action="move">${escapeHtml(t("sup_move"))}</button>`
      + `<button type="button" data-action="priority">${escapeHtml(t("sup_priority"))}</button>`;
  }
  return html;
}

function renderAgents() {
  const body = document.querySelector("#wb-agents tbody");
  const agents = [...state.agents.values()].sort((a, b) => a.code.localeCompare(b.code, undefined, { numeric: true }));
  body.innerHTML = agents.map((a) => {
    const call = a.interaction_id ? state.calls.get(a.interaction_id) : null;
    const callText = a.interaction_id ? `${call ? call.caller_number : ""} ${a.call_queue ? `· ${queueName(a.call_queue)}` : ""}` : t("sup_none");
    const reason = a.reason && a.state === "not_ready" ? ` (${reasonLabel(a.reason)})` : "";
    const loggedIn = a.state !== "logged_out";
    return `<tr data-agent="${a.id}" data-state="${escapeHtml(a.state)}">
      <td>${escapeHtml(a.name)} <span class="hint">${escapeHtml(a.code)}</span></td>
      <td>${escapeHtml(a.team)}</td>
      <td><span class="wb-pill" data-state="${escapeHtml(a.state)}">${escapeHtml(t(`sup_state_${a.state}`))}</span>${escapeHtml(reason)}</td>
      <td class="wb-clock" data-since="${a.since ?? ""}">${since(a.since)}</td>
      <td>${escapeHtml(callText)}</td>
      <td>${a.calls_today}</td>
      ${wall ? "" : `<td class="wb-actions">
        <button type="button" data-action="not_ready"${loggedIn && a.state !== "not_ready" ? "" : " disabled"}>${escapeHtml(t("sup_force_not_ready"))}</button>
        <button type="button" data-action="logout"${loggedIn ? "" : " disabled"}>${escapeHtml(t("sup_force_logout"))}</button>
        <button type="button" data-action="skills">${escapeHtml(t("sup_skills"))}</button></td>`}
    </tr>`;
  }).join("");
}

function renderSession() {
  const box = document.getElementById("wb-session");
  if (!box) return;
  const sessions = [...state.sessions.values()];
  if (!sessions.length) { box.textContent = t("sup_no_session"); return; }
  box.innerHTML = sessions.map((s) => {
    const call = state.calls.get(s.interaction_id);
    const status = s.state === "ringing" ? t("sup_session_ringing") : `${t("sup_session_active")} ${t(`sup_mode_${s.mode}`)}`;
    const modes = s.kind === "monitor" ? ["listen", "whisper", "barge"].map((m) =>
      `<button type="button" data-session="${escapeHtml(s.leg_uuid)}" data-mode="${m}"${s.mode === m ? ' aria-pressed="true"' : ""}>${escapeHtml(t(`sup_${m}`))}</button>`).join("") : "";
    return `<div class="wb-my-session" data-leg="${escapeHtml(s.leg_uuid)}" data-mode="${escapeHtml(s.mode)}" data-state="${escapeHtml(s.state)}">
      <p><strong>${escapeHtml(call ? call.caller_number : s.interaction_id)}</strong> — <span class="wb-session-status">${escapeHtml(status)}</span></p>
      <p>${modes}<button type="button" data-session="${escapeHtml(s.leg_uuid)}" data-leave="1">${escapeHtml(t("sup_leave"))}</button></p>
    </div>`;
  }).join("");
}

function queueAlerts(q) {
  const found = [];
  if (q.service_level !== null && q.service_level !== undefined && q.service_level < state.alerts.sl_target) {
    found.push(`${q.display_name}: ${t("sup_alert_sl")} (${pct(q.service_level)} < ${pct(state.alerts.sl_target)})`);
  }
  if (q.longest_waiting_since && serverNow() - q.longest_waiting_since > state.alerts.max_wait_s) {
    found.push(`${q.display_name}: ${t("sup_alert_wait")} (${since(q.longest_waiting_since)})`);
  }
  return found;
}

let shownAlerts = "";
function renderAlerts() {
  const alerts = [...state.queues.values()].flatMap(queueAlerts);
  const text = alerts.join("\n");
  if (text === shownAlerts) return;   // re-announce only on change (role=alert)
  shownAlerts = text;
  const box = document.getElementById("wb-alerts");
  box.innerHTML = alerts.map((a) => `<p class="wb-alert">${escapeHtml(a)}</p>`).join("");
  box.hidden = alerts.length === 0;
  document.querySelectorAll(".wb-tile").forEach((tile) => {
    const q = state.queues.get(tile.dataset.queue);
    tile.classList.toggle("wb-breach", Boolean(q && queueAlerts(q).length));
  });
}

// Clocks tick locally; waits crossing the limit raise their alert without a push.
setInterval(() => {
  document.querySelectorAll(".wb-clock").forEach((cell) => {
    const epoch = Number(cell.dataset.since);
    cell.textContent = epoch ? formatDuration(serverNow() - epoch) : t("sup_none");
  });
  renderAlerts();
}, 1000);

// --- actions -----------------------------------------------------------------------

async function run(method, url, body, done = t("sup_done")) {
  try {
    const result = await api(method, url, body);
    if (done) notify(done);
    return result;
  } catch (error) {
    notify(error.message, "error");
    return null;
  }
}

// An action's reply and the session's pushes race: a reply saying "ringing" must not
// undo a "joined" push that overtook it.
const SESSION_RANK = { ringing: 0, active: 1 };
function remember(result) {
  const session = result?.session;
  if (!session || state.ended.has(session.leg_uuid)) return;
  const known = state.sessions.get(session.leg_uuid);
  const stale = known && SESSION_RANK[known.state] > SESSION_RANK[session.state];
  state.sessions.set(session.leg_uuid, stale ? { ...session, state: known.state } : session);
  renderSession(); renderCalls();
}

async function onCallAction(callId, action) {
  const call = state.calls.get(callId);
  if (!call) return;
  if (["listen", "whisper", "barge", "intercept"].includes(action) && !state.extension) {
    notify(t("sup_need_extension"), "error");
    document.querySelector("#wb-extension input")?.focus();
    return;
  }
  if (action === "hangup" && !confirm(t("sup_confirm_hangup"))) return;
  if (action === "intercept" && !confirm(t("sup_confirm_intercept"))) return;
  const url = `/supervisor/api/calls/${encodeURIComponent(callId)}`;
  if (action === "move") {
    const queues = [...state.queues.values()].filter((q) => q.name !== call.queue);
    const answer = await ask(t("sup_move"), [{ name: "queue", label: t("sup_col_queue"), options: queues.map((q) => [q.name, q.display_name]) }]);
    if (answer) await run("POST", `${url}/queue`, { queue: answer.queue });
  } else if (action === "priority") {
    const answer = await ask(t("sup_priority"), [{ name: "priority", label: t("sup_priority"), type: "number", value: call.priority }]);
    if (answer) await run("POST", `${url}/priority`, { priority: Number(answer.priority) });
  } else {
    const done = action === "hangup" ? t("sup_done") : t("sup_session_ringing");
    remember(await run("POST", `${url}/${action}`, undefined, done));
  }
}

async function onAgentAction(agentId, action) {
  const url = `/supervisor/api/agents/${agentId}`;
  if (action === "logout") {
    if (confirm(t("sup_confirm_logout"))) await run("POST", `${url}/state`, { state: "logged_out" });
  } else if (action === "not_ready") {
    const answer = await ask(t("sup_force_not_ready"), [{ name: "reason", label: t("sup_reason"), options: state.reasons.map((r) => [r.code, r.label]) }]);
    if (answer) await run("POST", `${url}/state`, { state: "not_ready", reason: answer.reason });
  } else if (action === "skills") {
    const current = await run("GET", `${url}/skills`, undefined, "");
    if (!current) return;
    const text = Object.entries(current.skills).map(([k, v]) => `${k}=${v}`).join("\n");
    const answer = await ask(`${t("sup_skills")} · ${agentName(agentId)}`, [{ name: "skills", label: t("sup_skills_hint"), type: "textarea", value: text }]);
    if (!answer) return;
    const skills = {};
    for (const line of answer.skills.split("\n").map((l) => l.trim()).filter(Boolean)) {
      const [name, level] = line.split("=").map((p) => p.trim());
      skills[name] = Number.isInteger(Number(level)) && level !== "" ? Number(level) : level;
    }
    await run("PUT", `${url}/skills`, { skills });
  }
}

async function onSessionAction(leg, mode, leave) {
  if (leave) { await run("POST", `/supervisor/api/sessions/${encodeURIComponent(leg)}/end`); return; }
  remember(await run("POST", `/supervisor/api/sessions/${encodeURIComponent(leg)}/mode`, { mode }));
}

/** A small form in the page's <dialog>; resolves to the values, or null if cancelled. */
function ask(title, fields) {
  const dialog = document.getElementById("wb-dialog");
  document.getElementById("wb-dialog-title").textContent = title;
  document.getElementById("wb-dialog-fields").innerHTML = fields.map((f) => {
    const id = `wb-field-${f.name}`;
    let input;
    if (f.options) input = `<select id="${id}" name="${f.name}">${f.options.map(([v, l]) => `<option value="${escapeHtml(v)}">${escapeHtml(l)}</option>`).join("")}</select>`;
    else if (f.type === "textarea") input = `<textarea id="${id}" name="${f.name}" rows="6">${escapeHtml(f.value ?? "")}</textarea>`;
    else input = `<input id="${id}" name="${f.name}" type="${f.type ?? "text"}" value="${escapeHtml(f.value ?? "")}">`;
    return `<label for="${id}">${escapeHtml(f.label)}</label>${input}`;
  }).join("");
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      if (dialog.returnValue !== "ok") { resolve(null); return; }
      resolve(Object.fromEntries(fields.map((f) => [f.name, dialog.querySelector(`[name="${f.name}"]`).value])));
    }, { once: true });
    dialog.returnValue = "";
    dialog.showModal();
  });
}

if (!wall) {
  document.getElementById("wb-calls").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (button) onCallAction(button.closest("tr").dataset.call, button.dataset.action);
  });
  document.getElementById("wb-agents").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (button) onAgentAction(Number(button.closest("tr").dataset.agent), button.dataset.action);
  });
  document.getElementById("wb-session").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-session]");
    if (button) onSessionAction(button.dataset.session, button.dataset.mode, button.dataset.leave);
  });
  document.getElementById("wb-extension").addEventListener("submit", async (event) => {
    event.preventDefault();
    const extension = event.target.elements.extension.value.trim();
    const result = await run("POST", "/supervisor/api/extension", { extension }, t("sup_saved"));
    if (result) state.extension = result.extension;
  });
  const settings = document.getElementById("wb-alert-settings");
  settings.addEventListener("submit", (event) => {
    event.preventDefault();
    const overrides = { sl_target: Number(settings.elements.sl_target.value) / 100, max_wait_s: Number(settings.elements.max_wait_s.value) };
    localStorage.setItem(ALERTS_KEY, JSON.stringify(overrides));
    state.alerts = { ...state.alerts, ...overrides };
    shownAlerts = null;
    renderQueues(); renderAlerts();
    notify(t("sup_saved"));
  });
  settings.closest("details").addEventListener("toggle", () => {
    settings.elements.sl_target.value = Math.round(state.alerts.sl_target * 100);
    settings.elements.max_wait_s.value = state.alerts.max_wait_s;
  });
  // The phone's eavesdrop keys, on the keyboard: 0 listen, 2 whisper, 3 barge, X leave.
  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, textarea, select, dialog") || event.ctrlKey || event.metaKey || event.altKey) return;
    const session = [...state.sessions.values()].find((s) => s.kind === "monitor");
    if (!session) return;
    if (MODE_KEYS[event.key]) { event.preventDefault(); onSessionAction(session.leg_uuid, MODE_KEYS[event.key]); }
    else if (event.key === "x" || event.key === "X") { event.preventDefault(); onSessionAction(session.leg_uuid, null, true); }
  });
} else {
  document.getElementById("wb-fullscreen").addEventListener("click", () => document.documentElement.requestFullscreen?.());
}

function loadAlertOverrides() {
  try {
    const saved = JSON.parse(localStorage.getItem(ALERTS_KEY) ?? "{}");
    const valid = {};
    if (Number.isFinite(saved.sl_target) && saved.sl_target >= 0 && saved.sl_target <= 1) valid.sl_target = saved.sl_target;
    if (Number.isFinite(saved.max_wait_s) && saved.max_wait_s > 0) valid.max_wait_s = saved.max_wait_s;
    return valid;
  } catch {
    return {};
  }
}
