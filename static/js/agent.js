// The agent desktop. Everything shown comes from the server: /agent/api/me once, then
// the Socket.IO pushes (`hello` on every (re)connect, domain events, `screen_pop`,
// `notice`). After any push about the agent or their call the page asks
// /agent/api/state for the fresh picture, so buttons always reflect the call's real
// state; every action returns that same picture. The one-second timer only redraws
// clocks.
//
// Two things wait for the agent beside the call: a preview contact of an outbound
// campaign (pushed as `outbound.preview` to this agent only; dialled or skipped through
// /campaigns/preview/*), and "not ready after this call" (Not ready pressed during a
// call is queued by the server, shown on the state bar, pushed as `after_call`).
import { api, callerName, clearError, connectSocket, escapeHtml, formatDuration, notify, t } from "/static/js/common.js";

const $ = (id) => document.getElementById(id);
/** The label of ``key``, or ``fallback`` (the server's code) when there is none. */
const labelOr = (key, fallback) => (t(key) === key ? fallback : t(key));
const root = $("desktop");
const agentId = Number(root.dataset.agentId);
const CRM_KEY = "cti.agent.crmAuto";
const ON_A_CALL = new Set(["reserved", "on_call", "on_hold", "in_consult"]);

const state = {
  profile: null, agent: null, call: null, pop: null, offset: 0, preview: null, afterCall: null,
  colleagues: { agents: [], queues: [] }, vmStatus: "new", crmOpened: new Set(),
};

// Clocks: the server's time of the last state read, advanced by the local clock.
const serverNow = () => Date.now() / 1000 + state.offset;
const epoch = (iso) => (iso ? Date.parse(iso) / 1000 : null);

// --- errors -----------------------------------------------------------------------

// The server's sentence is the most precise; in Chinese the label of its code is shown
// when there is one (the server speaks English).
const chinese = document.documentElement.lang.startsWith("zh");
function translated(code, message) {
  const key = `ag_err_${code}`;
  return chinese && t(key) !== key ? t(key) : message;
}
function explain(error) {
  return error?.code ? translated(error.code, error.message) : (error?.message ?? String(error));
}

async function run(action) {
  try {
    const result = await action();
    clearError();
    if (result && "agent" in result) apply(result);
    return result;
  } catch (error) {
    notify(explain(error), "error");
    return null;
  }
}

// --- loading and pushes -----------------------------------------------------------

async function load() {
  const me = await run(() => api("GET", "/agent/api/me"));
  if (!me) return;
  state.profile = me;
  fillReasons(me.reason_codes);
  renderFigures(me.figures);
  apply(me);
  loadColleagues();
  loadVoicemail();
  loadRecent();
  loadPreview();
}

function apply(picture) {
  if (picture.server_time) state.offset = picture.server_time - Date.now() / 1000;
  state.agent = picture.agent;
  if ("after_call" in picture) state.afterCall = picture.after_call;
  const call = picture.call;
  if (call && call.screen_pop) state.pop = call.screen_pop;
  if (!call || (state.call && state.call.interaction_id !== call.interaction_id && !call.screen_pop)) {
    state.pop = call && state.pop && state.pop.interaction_id === call.interaction_id ? state.pop : null;
  }
  state.call = call;
  if (call && !state.pop) fetchPop(call.interaction_id);
  render();
}

// One read at a time; a push that arrives during a read asks for another one after it,
// so the last picture shown is never older than the last push.
let refreshing = false;
let again = false;
async function refresh() {
  if (refreshing) { again = true; return; }
  refreshing = true;
  try {
    do {
      again = false;
      apply(await api("GET", "/agent/api/state"));
    } while (again);
  } catch (error) {
    notify(explain(error), "error");
  } finally {
    refreshing = false;
  }
}

async function fetchPop(interactionId) {
  try {
    const pop = await api("GET", `/agent/api/calls/${interactionId}/screen-pop`);
    if (state.call && state.call.interaction_id === pop.interaction_id) { state.pop = pop; render(); }
  } catch (error) {
    if (error.status !== 404) notify(explain(error), "error");
  }
}

const socket = connectSocket();
socket.on("connect", () => setLive(true));
socket.on("disconnect", () => setLive(false));
socket.on("hello", (hello) => { if (hello.agent) apply(hello); });
socket.on("screen_pop", (pop) => {
  state.pop = pop;
  if (!state.call || state.call.interaction_id !== pop.interaction_id) refresh();
  render();
  autoOpenCrm(pop);
});
socket.on("notice", (notice) => {
  if (notice.code !== "session") notify(translated(notice.code, notice.message), notice.code === "transferred" ? "info" : "error");
  refresh();
});
socket.on("agent.state_changed", (event) => {
  if (event.agent_id !== agentId) return;
  refresh();
  if (event.data.previous_state === "wrap_up" || event.data.state === "wrap_up") { loadFigures(); loadRecent(); }
});
socket.onAny((name, event) => {
  if (!name.startsWith("call.") || !event) return;
  if (name === "call.offered" && event.agent_id === agentId) {
    state.pop = state.pop && state.pop.interaction_id === event.interaction_id ? state.pop : basicPop(event);
  }
  refresh();
});
socket.on("voicemail.created", () => loadVoicemail());
socket.on("after_call", (payload) => {
  state.afterCall = payload.after_call;
  if (payload.refused) notify(`${t("ag_after_call_refused")} ${payload.refused}`, "error");
  renderState();
});
socket.on("outbound.preview", (event) => {
  if (event.agent_id !== agentId) return;
  if (event.data.kind === "preview") {
    showPreview({ campaign_id: event.data.campaign_id, name: event.data.display_name || event.data.name,
                  script: event.data.script, contact: event.data.contact });
  } else if (state.preview && state.preview.contact.id === event.data.contact_id) {
    showPreview(null);
    notify(t("ag_pv_withdrawn"));
  }
});

function setLive(live) {
  const box = $("ag-live");
  box.dataset.live = String(live);
  box.textContent = live ? t("ag_live") : t("ag_reconnecting");
  if (live) { refresh(); loadPreview(); }
}

function basicPop(event) {
  const pop = event.data.screen_pop ?? {};
  return {
    interaction_id: event.interaction_id, direction: pop.direction,
    number: pop.direction === "outbound" ? pop.callee_number : pop.caller_number, caller_name: pop.caller_name,
    did: pop.did, queue: event.data.queue ?? pop.queue, queue_name: event.data.queue ?? pop.queue,
    ivr: (pop.ivr_path ?? []).map((node) => ({ node, digits: "" })), digits: pop.digits,
    customer: null, history: [], caller_lists: [], contact: null, crm_url: null, new_customer: null,
  };
}

// --- rendering --------------------------------------------------------------------

function render() { renderState(); renderCall(); }

function renderState() {
  const agent = state.agent ?? { state: "logged_out" };
  const loggedOut = agent.state === "logged_out";
  $("ag-login").hidden = !loggedOut;
  $("ag-statebar").hidden = loggedOut;
  const box = $("ag-state");
  box.dataset.state = agent.state;
  box.textContent = t(`ag_st_${agent.state}`);
  $("ag-reason").textContent = agent.reason && agent.state === "not_ready" ? `(${reasonLabel(agent.reason)})` : "";
  $("ag-phone").textContent = agent.extension || "";
  $("ag-available").disabled = !["not_ready", "wrap_up"].includes(agent.state);
  const onCall = ON_A_CALL.has(agent.state);
  const notReady = $("ag-not-ready");
  notReady.disabled = !(onCall || ["available", "not_ready", "wrap_up"].includes(agent.state));
  notReady.textContent = onCall ? t("ag_after_call") : t("ag_go_not_ready");
  $("ag-logout").disabled = !["available", "not_ready", "wrap_up"].includes(agent.state);
  const pending = state.afterCall;
  $("ag-after-call").hidden = !pending;
  $("ag-after-call-text").textContent = pending ? `${t("ag_after_call")} (${reasonLabel(pending.reason)})` : "";
  $("ag-wrapup-save").textContent = pending ? t("ag_save_wrapup_not_ready") : t("ag_save_wrapup");
  tick();
}

function reasonLabel(code) {
  const found = (state.profile?.reason_codes ?? []).find((r) => r.code === code);
  return found ? found.label : labelOr(`ag_reason_${code}`, code);   // a system reason (missed, restored ...)
}

function renderCall() {
  const call = state.call;
  const pop = state.pop;
  renderPreview(call || pop ? null : state.preview);
  $("ag-no-call").hidden = Boolean(call || pop || state.preview);
  $("ag-pop").hidden = !pop;
  if (pop) renderPop(pop);
  const controls = $("ag-controls");
  controls.hidden = !call || call.wrapup;
  if (call && !call.wrapup) renderControls(call);
  renderWrapup(call);
}

function renderPop(pop) {
  $("ag-direction").textContent = pop.direction === "outbound" ? t("ag_outgoing") : t("ag_incoming");
  $("ag-number").textContent = pop.number ?? "";
  $("ag-name").textContent = pop.customer?.name || callerName(pop.caller_name, pop.number);
  const flags = [];
  if (pop.vip) flags.push(`<span class="ag-flag vip">${escapeHtml(t("ag_vip"))}</span>`);
  if ((pop.caller_lists ?? []).includes("blacklist")) flags.push(`<span class="ag-flag blacklist">${escapeHtml(t("ag_blacklist"))}</span>`);
  $("ag-flags").innerHTML = flags.join(" ");
  $("ag-did").textContent = [pop.did, pop.did_label].filter(Boolean).join(" · ");
  $("ag-queue").textContent = pop.queue_name || pop.queue || "";
  $("ag-waited").textContent = pop.wait_seconds != null ? formatDuration(pop.wait_seconds) : t("ag_none");
  $("ag-ivr").innerHTML = (pop.ivr ?? []).map((step) =>
    `<span class="tag">${escapeHtml(step.node)}${step.digits ? ` · ${escapeHtml(step.digits)}` : ""}</span>`).join(" ") || escapeHtml(t("ag_none"));
  $("ag-digits").textContent = pop.digits || t("ag_none");
  $("ag-crm").hidden = !pop.crm_url;
  if (pop.crm_url) $("ag-crm-link").href = pop.crm_url;
  renderCustomer(pop.customer);
  renderContact(pop.contact);
  const form = $("ag-new-customer");
  form.hidden = !pop.new_customer;
  if (pop.new_customer) form.elements.number.value = pop.new_customer.number ?? "";
  renderHistory(pop.history ?? []);
}

function renderCustomer(customer) {
  $("ag-customer").hidden = !customer;
  if (!customer) return;
  $("ag-cust-name").textContent = customer.name;
  $("ag-cust-company").textContent = customer.company || t("ag_none");
  $("ag-cust-tags").innerHTML = (customer.tags ?? []).map((tag) => `<span class="tag">${escapeHtml(tag)}</span>`).join("") || escapeHtml(t("ag_none"));
  $("ag-cust-notes").textContent = customer.notes || t("ag_none");
}

function renderContact(contact) {
  $("ag-contact").hidden = !contact;
  if (!contact) return;
  const rows = [[t("ag_name"), contact.name], [t("ag_campaign"), contact.campaign_name || contact.campaign],
    [t("ag_attempts"), contact.attempts], ...Object.entries(contact.fields ?? {})];
  $("ag-contact-fields").innerHTML = rows.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join("");
}

function renderHistory(history) {
  $("ag-history-box").hidden = history.length === 0;
  $("ag-history").tBodies[0].innerHTML = history.map((item) => `<tr>
    <td>${escapeHtml(new Date(item.started_at).toLocaleString())}</td><td>${escapeHtml(item.queue)}</td>
    <td>${escapeHtml(item.agent_name ?? item.agent_code ?? "")}</td><td>${escapeHtml(item.disposition)}</td>
    <td>${escapeHtml(item.notes)}</td><td>${playButtons("recording", item.recording_ids ?? [])}</td></tr>`).join("");
}

function playButtons(kind, ids) {
  return ids.map((id) => `<button type="button" data-play="${kind}" data-id="${escapeHtml(id)}">${escapeHtml(t("ag_play"))}</button>`).join(" ");
}

// --- preview dialling ----------------------------------------------------------------

function renderPreview(offer) {
  $("ag-preview").hidden = !offer;
  if (!offer) return;
  const contact = offer.contact;
  $("ag-pv-campaign").textContent = offer.name ?? "";
  $("ag-pv-number").textContent = contact.e164 ?? "";
  $("ag-pv-name").textContent = callerName(contact.name, contact.e164);
  const rows = [[t("ag_attempts"), contact.attempts ?? 0],
    [t("ag_pv_last_outcome"), contact.last_outcome || t("ag_none")],
    [t("ag_pv_local_time"), localTime(contact.timezone)],
    ...Object.entries(contact.fields ?? {}).map(([k, v]) => [k, typeof v === "object" && v !== null ? JSON.stringify(v) : v])];
  $("ag-pv-fields").innerHTML = rows.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join("");
  $("ag-pv-script").textContent = offer.script || t("ag_none");
}

function localTime(zone) {
  if (!zone) return t("ag_none");
  try {
    const time = new Intl.DateTimeFormat(document.documentElement.lang, { timeZone: zone, hour: "2-digit", minute: "2-digit" }).format(new Date());
    return `${time} (${zone})`;
  } catch {
    return zone;
  }
}

function showPreview(offer) {
  const fresh = offer && (!state.preview || state.preview.contact.id !== offer.contact.id);
  state.preview = offer;
  renderCall();
  if (fresh && !state.call && !document.activeElement?.matches("input, textarea, select")) $("ag-pv-dial").focus();
}

async function loadPreview() {
  try {
    showPreview((await api("GET", "/campaigns/preview/data")).offer);
  } catch (error) {
    if (error.status !== 404) notify(explain(error), "error");
  }
}

async function choosePreview(choice) {
  const offer = state.preview;
  if (!offer) return;
  const done = await run(() => api("POST", `/campaigns/preview/${choice}`, { contact_id: offer.contact.id }));
  if (done) {
    if (state.preview === offer) showPreview(null);
    notify(t(choice === "dial" ? "ag_pv_dialling" : "ag_pv_skipped"));
    if (choice === "dial") refresh();
  } else {
    loadPreview();   // refused: the offer may have been taken back meanwhile
  }
}
$("ag-pv-dial").addEventListener("click", () => choosePreview("dial"));
$("ag-pv-skip").addEventListener("click", () => choosePreview("skip"));

function renderControls(call) {
  const actions = call.actions ?? {};
  for (const button of document.querySelectorAll("#ag-controls [data-action]")) {
    const why = actions[button.dataset.action];
    button.disabled = why !== null && why !== undefined;
    button.title = why ? translated(why.code, why.message) : "";
    button.hidden = why?.code === "recording-policy" || (why?.code === "no-consultation" && !call.session);
  }
  const session = call.session;
  const box = $("ag-session");
  box.hidden = !session;
  if (session) box.textContent = `${t("ag_session")}: ${session.target_name} — ${t(`ag_sess_${session.state}`)}`;
}

function renderWrapup(call) {
  const form = $("ag-wrapup");
  const wrapping = Boolean(call && call.wrapup);
  form.hidden = !wrapping;
  if (!wrapping) return;
  const queue = call.record?.queue ?? "";
  const codes = (state.profile?.dispositions ?? []).filter((d) => d.queue === "" || d.queue === queue);
  const select = $("ag-disposition");
  if (select.dataset.for !== call.interaction_id) {
    select.dataset.for = call.interaction_id;
    select.innerHTML = `<option value="">—</option>` + codes.map((d) => `<option value="${escapeHtml(d.code)}">${escapeHtml(d.label)}</option>`).join("");
    $("ag-notes").value = "";
    $("ag-callback-on").checked = false;
    $("ag-callback-number").value = state.pop?.number ?? "";
    $("ag-callback-at").value = "";
  }
  const rules = (state.profile?.profile?.queues ?? []).find((q) => q.name === queue);
  const required = Boolean(rules?.disposition_required);
  select.required = required;
  $("ag-disposition-required").hidden = !required;
}

function renderFigures(figures) {
  $("ag-handled").textContent = String(figures?.handled ?? 0);
  $("ag-aht").textContent = figures?.aht_seconds != null ? formatDuration(figures.aht_seconds) : "–";
}

function fillReasons(reasons) {
  $("ag-reason-code").innerHTML = reasons.map((r) => `<option value="${escapeHtml(r.code)}">${escapeHtml(r.label)}</option>`).join("");
}

function tick() {
  const agent = state.agent;
  const since = epoch(agent?.since);
  $("ag-since").textContent = since ? formatDuration(serverNow() - since) : "0:00";
  const ends = epoch(agent?.wrapup?.ends_at);
  $("ag-wrapup-left").textContent = ends ? formatDuration(ends - serverNow()) : "∞";
}
setInterval(tick, 1000);

function autoOpenCrm(pop) {
  if (!pop.crm_url || !$("ag-crm-auto").checked || state.crmOpened.has(pop.interaction_id)) return;
  state.crmOpened.add(pop.interaction_id);
  window.open(pop.crm_url, "cti-crm", "noopener");
}

// --- actions ----------------------------------------------------------------------

$("ag-login").addEventListener("submit", (event) => {
  event.preventDefault();
  run(() => api("POST", "/agent/api/login", { extension: $("ag-extension").value.trim() }));
});
$("ag-available").addEventListener("click", () => {
  if (state.agent?.state === "wrap_up") { $("ag-wrapup").requestSubmit(); return; }
  run(() => api("POST", "/agent/api/state", { state: "available" }));
});
$("ag-not-ready").addEventListener("click", async () => {
  const done = await run(() => api("POST", "/agent/api/state", { state: "not_ready", reason: $("ag-reason-code").value }));
  if (done?.after_call && ON_A_CALL.has(done.agent?.state)) notify(t("ag_after_call_queued"));
});
$("ag-after-call-cancel").addEventListener("click", () => run(() => api("DELETE", "/agent/api/after-call")));
$("ag-logout").addEventListener("click", () => run(() => api("POST", "/agent/api/state", { state: "logged_out" })));

$("ag-controls").addEventListener("click", (event) => {
  const button = event.target.closest("[data-action]");
  if (button && !button.disabled) act(button.dataset.action);
});

function act(action) {
  const call = state.call;
  if (!call) return;
  const body = {};
  if (action === "transfer" || action === "consult") {
    body.target = targetValue();
    if (!body.target) { $("ag-target").focus(); notify(t("ag_target_hint"), "error"); return; }
  }
  if (action === "dtmf") body.digits = $("ag-dtmf").value.trim();
  run(() => api("POST", `/agent/api/calls/${call.interaction_id}/${action}`, body)).then((done) => {
    if (done && action === "dtmf") $("ag-dtmf").value = "";
  });
}

function targetValue() {
  const text = $("ag-target").value.trim();
  const option = [...$("ag-targets").options].find((o) => o.value === text);
  return option?.dataset.target ?? text;
}

async function loadColleagues() {
  try {
    state.colleagues = await api("GET", "/agent/api/colleagues");
  } catch { return; }
  const options = [
    ...state.colleagues.agents.map((a) => `<option value="${escapeHtml(`${a.name} (${a.code})`)}" data-target="agent:${a.id}">${escapeHtml(t(`ag_st_${a.state}`))}</option>`),
    ...state.colleagues.queues.map((q) => `<option value="${escapeHtml(`${t("ag_queue")}: ${q.display_name}`)}" data-target="queue:${escapeHtml(q.name)}"></option>`),
  ];
  $("ag-targets").innerHTML = options.join("");
}
$("ag-target").addEventListener("focus", loadColleagues);

$("ag-wrapup").addEventListener("submit", (event) => {
  event.preventDefault();
  const call = state.call;
  const body = { interaction_id: call?.interaction_id, disposition: $("ag-disposition").value, notes: $("ag-notes").value };
  if ($("ag-callback-on").checked) body.callback = { number: $("ag-callback-number").value.trim(), at: $("ag-callback-at").value };
  run(() => api("POST", "/agent/api/wrapup", body)).then((done) => { if (done) { notify(t("ag_saved")); loadFigures(); loadRecent(); } });
});

$("ag-dial").addEventListener("submit", (event) => {
  event.preventDefault();
  run(() => api("POST", "/agent/api/dial", { number: $("ag-dial-number").value.trim() }));
});

$("ag-new-customer").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target;
  const body = { number: form.elements.number.value, name: form.elements.name.value.trim(),
    company: form.elements.company.value.trim(), notes: form.elements.notes.value.trim() };
  run(() => api("POST", "/agent/api/customers", body)).then((done) => {
    if (done) { notify(t("ag_created")); form.reset(); if (state.call) fetchPop(state.call.interaction_id); }
  });
});

$("ag-crm-auto").checked = localStorage.getItem(CRM_KEY) === "true";
$("ag-crm-auto").addEventListener("change", (event) => localStorage.setItem(CRM_KEY, String(event.target.checked)));

// --- voicemail and recent calls ----------------------------------------------------

async function loadVoicemail() {
  let data;
  try { data = await api("GET", `/agent/api/voicemail?status=${state.vmStatus}`); } catch { return; }
  $("ag-voicemail").tBodies[0].innerHTML = data.voicemails.map((vm) => `<tr>
    <td>${escapeHtml(shortTime(vm.created_at))}</td><td>${escapeHtml(vm.caller_number)}</td>
    <td>${escapeHtml(vm.event_code)}</td><td>${vm.duration_ms != null ? formatDuration(vm.duration_ms / 1000) : ""}</td>
    <td>${playButtons("voicemail", [vm.id])}
      ${vm.status === "new" ? `<button type="button" data-vm="take" data-id="${escapeHtml(vm.id)}">${escapeHtml(t("ag_vm_take"))}</button>` : ""}
      ${vm.status !== "handled" ? `<button type="button" data-vm="handled" data-id="${escapeHtml(vm.id)}">${escapeHtml(t("ag_vm_done"))}</button>` : ""}
      <button type="button" data-vm="call-back" data-id="${escapeHtml(vm.id)}">${escapeHtml(t("ag_vm_call_back"))}</button></td></tr>`).join("");
}

document.querySelector(".ag-tabs").addEventListener("click", (event) => {
  const tab = event.target.closest("[data-vm-status]");
  if (!tab) return;
  state.vmStatus = tab.dataset.vmStatus;
  for (const other of document.querySelectorAll("[data-vm-status]")) other.setAttribute("aria-selected", String(other === tab));
  loadVoicemail();
});

$("ag-voicemail").addEventListener("click", (event) => {
  const button = event.target.closest("[data-vm]");
  if (!button) return;
  run(() => api("POST", `/agent/api/voicemail/${button.dataset.id}/${button.dataset.vm}`)).then((done) => { if (done) loadVoicemail(); });
});

async function loadRecent() {
  let data;
  try { data = await api("GET", "/agent/api/recent"); } catch { return; }
  $("ag-recent").tBodies[0].innerHTML = data.calls.map((c) => `<tr>
    <td>${escapeHtml(shortTime(c.started_at))}</td>
    <td>${escapeHtml(c.direction === "outbound" ? c.callee_number : c.caller_number)}</td>
    <td>${escapeHtml(labelOr(`ag_out_${c.outcome}`, c.outcome))}</td>
    <td>${escapeHtml(dispositionLabel(c.disposition, c.queue))}</td>
    <td>${playButtons("recording", c.recording_ids)}</td></tr>`).join("");
}

// The codes the server stores, as the labels the agent chose them by.
function dispositionLabel(code, queue) {
  const codes = state.profile?.dispositions ?? [];
  const found = codes.find((d) => d.code === code && (d.queue === "" || d.queue === queue)) ?? codes.find((d) => d.code === code);
  return found ? found.label : code ?? "";
}

// Today's calls by their time only, older ones with the date: the side column is narrow.
function shortTime(iso) {
  const when = new Date(iso);
  const today = when.toDateString() === new Date().toDateString();
  return today ? when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : when.toLocaleString([], { month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

async function loadFigures() {
  try { renderFigures(await api("GET", "/agent/api/figures")); } catch { /* shown on the next load */ }
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-play]");
  if (!button) return;
  const player = $("ag-player");
  player.hidden = false;
  player.src = `/media/${button.dataset.play === "voicemail" ? "voicemail" : "recordings"}/${button.dataset.id}`;
  player.play().catch(() => notify(t("ag_err_call-ended"), "error"));
});

// --- keyboard ---------------------------------------------------------------------

document.addEventListener("keydown", (event) => {
  if (!event.altKey || event.ctrlKey || event.metaKey) return;
  const key = event.key.toLowerCase();
  const target = document.querySelector(`[data-shortcut="${CSS.escape(key)}"]`);
  if (!target) return;
  event.preventDefault();
  if (target.tagName === "INPUT") target.focus();
  else if (!target.disabled && !target.closest("[hidden]")) target.click();
});

load();
