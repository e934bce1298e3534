// The campaign pages (list, edit, campaign) and the agent's preview panel.
// Live without polling: "campaigns_hello" joins the rooms, then outbound.* pushes
// update the page (campaign state and figures, import progress, preview offers).
import { api, ApiError, connectSocket, escapeHtml, formatDuration, notify, t } from "./common.js";

const root = document.querySelector("[data-page]");
const page = root?.dataset.page;

function live(socket, handlers) {
  const badge = document.getElementById("cmp-live");
  const mark = (on) => {
    if (!badge) return;
    badge.dataset.live = String(on);
    badge.textContent = on ? t("cmp_live") : t("cmp_reconnecting");
  };
  socket.on("connect", () => socket.emit("campaigns_hello", {}, (reply) => mark(!reply?.error)));
  socket.on("disconnect", () => mark(false));
  for (const [name, fn] of Object.entries(handlers)) socket.on(name, fn);
}

function showError(error) {
  notify(error instanceof ApiError ? error.message : String(error), "error");
}

/** The label of ``key``, or ``fallback`` (the server's code) when there is none. */
const labelOr = (key, fallback) => (t(key) === key ? fallback : t(key));

const percent = (x) => (x === null || x === undefined ? "—" : `${(x * 100).toFixed(1)}%`);

// -- the list ---------------------------------------------------------------------

function listPage() {
  live(connectSocket(), {
    "outbound.campaign": (event) => {
      const row = document.querySelector(`tr[data-campaign="${event.data.campaign_id}"]`);
      if (!row) return;
      row.querySelector('[data-field="state"]').textContent = t(`cmp_state_${event.data.state}`);
      if (event.data.kind === "stats") {
        row.querySelector('[data-field="contacts_left"]').textContent = event.data.contacts_left;
        row.querySelector('[data-field="abandon_rate"]').textContent = percent(event.data.abandon_rate);
      }
    },
  });
}

// -- create / edit ----------------------------------------------------------------

function setPath(target, path, value) {
  const keys = path.split(".");
  let node = target;
  for (const key of keys.slice(0, -1)) node = node[key] ??= {};
  node[keys.at(-1)] = value;
}

function readSettings(form) {
  const settings = JSON.parse(document.getElementById("cmp-settings").textContent || "{}");
  for (const input of form.querySelectorAll("[data-setting]")) {
    const path = input.dataset.setting;
    if (input.matches(".cmp-days")) {
      setPath(settings, path, [...input.querySelectorAll("input:checked")].map((i) => i.value));
    } else if ("bool" in input.dataset) {
      setPath(settings, path, input.checked);
    } else if ("percent" in input.dataset) {
      setPath(settings, path, Number(input.value) / 100);
    } else if ("optional" in input.dataset && input.value.trim() === "") {
      delete settings[path];
    } else if ("number" in input.dataset) {
      setPath(settings, path, Number(input.value));
    } else {
      setPath(settings, path, input.value);
    }
  }
  settings.schedule = [...document.querySelectorAll("#cmp-schedule .cmp-window")].map((row) => ({
    start: row.querySelector('[data-part="start"]').value,
    end: row.querySelector('[data-part="end"]').value,
    days: row.querySelector('[data-part="days"]').value.split(",").map((d) => d.trim()).filter(Boolean),
  }));
  const dispositions = document.getElementById("cmp-dispositions").value.split("\n").map((l) => l.trim()).filter(Boolean);
  if (dispositions.length) {
    settings.dispositions = dispositions.map((line) => {
      const [code, label, outcome] = line.split("|").map((p) => p.trim());
      return { code, label: label || code, outcome: outcome || "connected" };
    });
  } else {
    delete settings.dispositions;
  }
  settings.skills = Object.fromEntries(document.getElementById("cmp-skills").value.split("\n")
    .map((l) => l.split("=").map((p) => p.trim())).filter(([k]) => k).map(([k, v]) => [k, Number(v)]));
  return settings;
}

function addWindow(window = {}) {
  const row = document.getElementById("cmp-window-row").content.firstElementChild.cloneNode(true);
  if (window.start) row.querySelector('[data-part="start"]').value = window.start;
  if (window.end) row.querySelector('[data-part="end"]').value = window.end;
  if (window.days) row.querySelector('[data-part="days"]').value = window.days.join(",");
  row.querySelector('[data-part="remove"]').addEventListener("click", () => row.remove());
  document.getElementById("cmp-schedule").append(row);
}

function editPage(form) {
  const stored = JSON.parse(document.getElementById("cmp-settings").textContent || "{}");
  (stored.schedule || []).forEach(addWindow);
  document.getElementById("cmp-add-window").addEventListener("click", () => addWindow());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const errorArea = document.getElementById("cmp-form-error");
    errorArea.textContent = "";
    form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    const body = {};
    for (const name of ["name", "display_name", "mode", "queue_name", "caller_id_number", "caller_id_name",
                        "compliance_profile", "starts_at", "ends_at"]) {
      const input = form.elements[name];
      if (input) body[name] = input.value;
    }
    body.settings = readSettings(form);
    const id = form.dataset.campaign;
    try {
      const saved = id ? await api("PUT", `/campaigns/${id}/data`, body) : await api("POST", "/campaigns/data", body);
      window.location.assign(`/campaigns/${saved.campaign.id}`);
    } catch (error) {
      errorArea.textContent = error.message;
      const field = error.field && (form.elements[error.field] || form.querySelector(`[data-setting="${error.field}"]`));
      if (field) {
        field.setAttribute("aria-invalid", "true");
        field.focus();
      }
    }
  });
}

// -- one campaign -----------------------------------------------------------------

const ACTIONS_BY_STATE = {
  draft: ["start", "schedule"], scheduled: ["start", "schedule", "stop"], running: ["pause", "stop"],
  paused: ["resume", "stop"], stopped: ["reopen"], finished: ["reopen"],
};

function showState(state) {
  root.dataset.state = state;
  document.getElementById("cmp-state").textContent = t(`cmp_state_${state}`);
  for (const button of document.querySelectorAll("#cmp-actions [data-action]")) {
    button.hidden = !(ACTIONS_BY_STATE[state] || []).includes(button.dataset.action);
  }
}

function showStats(data) {
  const set = (name, text) => {
    const cell = document.querySelector(`#cmp-stats [data-stat="${name}"]`);
    if (cell) cell.textContent = text;
  };
  for (const name of ["dials", "connects", "abandons", "contacts_left"]) set(name, data[name] ?? "—");
  set("abandon_rate", `${percent(data.abandon_rate)} / ${percent(data.abandon_limit)}`);
  set("occupancy", percent(data.occupancy));
  set("finish_in_seconds", data.finish_in_seconds === null ? t("cmp_unknown") : formatDuration(data.finish_in_seconds));
  set("lines", `${data.lines.ringing} / ${data.lines.waiting} / ${data.lines.connected}`);
  set("agents", `${data.agents.ready} / ${data.agents.talking + data.agents.wrapup + data.agents.reserved} / ${data.agents.paused}`);
  set("pacing", data.pacing ? data.pacing.reason : "—");
  document.getElementById("cmp-outside").hidden = data.in_schedule !== false;
}

function showLists(lists, imports) {
  document.querySelector("#cmp-lists tbody").innerHTML = lists.map((l) =>
    `<tr><td>${escapeHtml(l.name)}</td><td>${l.contacts}</td></tr>`).join("");
  document.querySelector("#cmp-imports tbody").innerHTML = imports.map((j) =>
    `<tr><td>${escapeHtml(j.file_name)}</td><td>${escapeHtml(labelOr(`cmp_job_${j.status}`, j.status))}</td>` +
    `<td>${j.rows_imported} ${t("cmp_imported")}, ${j.rows_bad} ${t("cmp_bad")}</td>` +
    `<td><a href="/campaigns/imports/${j.id}/issues.csv">${t("cmp_bad_report")}</a></td></tr>`).join("");
}

function showProgress(update) {
  const box = document.getElementById("cmp-progress");
  box.hidden = false;
  const text = document.getElementById("cmp-progress-text");
  if (update.status === "failed") {
    text.textContent = `${t("cmp_import_failed")}: ${update.error}`;
    return;
  }
  text.textContent = `${update.status}: ${update.rows_read} ${t("cmp_rows_read")}, ${update.bad} ${t("cmp_bad")}` +
    (update.status === "done" ? `, ${update.imported} ${t("cmp_imported")}, ${update.merged} ${t("cmp_merged")}, ` +
      `${update.duplicates} ${t("cmp_duplicates")}` : "");
  if (update.status === "done") {
    document.getElementById("cmp-progress-bar").value = 1;
    const link = document.getElementById("cmp-issues-link");
    link.href = `/campaigns/imports/${update.job_id}/issues.csv`;
    link.hidden = !update.issues.length;
    const table = document.getElementById("cmp-issues");
    table.hidden = !update.issues.length;
    table.querySelector("tbody").innerHTML = update.issues.map((i) =>
      `<tr><td>${i.row_number}</td><td>${escapeHtml(i.reason)}</td></tr>`).join("");
    notify(t("cmp_import_done"));
    refresh();
  }
}

async function upload(form, path) {
  const response = await fetch(path, {
    method: "POST", body: new FormData(form), credentials: "same-origin",
    headers: { "X-CSRFToken": document.querySelector('meta[name="csrf-token"]').content, "Accept": "application/json" },
  });
  const data = await response.json();
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

function mappingForm(columns) {
  const options = (chosen) => [`<option value="">${t("cmp_map_skip")}</option>`,
    ...columns.map((c) => `<option${c === chosen ? " selected" : ""}>${escapeHtml(c)}</option>`)].join("");
  const guess = (words) => columns.find((c) => words.some((w) => c.toLowerCase().includes(w))) || "";
  const rows = [["phone", "cmp_map_phone", guess(["phone", "mobile", "tel", "电话", "手机"])],
    ["name", "cmp_map_name", guess(["name", "姓名"])], ["timezone", "cmp_map_timezone", guess(["zone", "tz", "时区"])]];
  const used = new Set(rows.map((r) => r[2]));
  document.getElementById("cmp-mapping-rows").innerHTML =
    rows.map(([key, label, chosen]) => `<label>${t(label)} <select data-map="${key}">${options(chosen)}</select></label>`).join("") +
    columns.filter((c) => !used.has(c)).map((c) =>
      `<label class="inline-check"><input type="checkbox" data-field-column="${escapeHtml(c)}" checked> ${t("cmp_map_field")}: ${escapeHtml(c)}</label>`).join("");
}

let refresh = () => {};

function detailPage() {
  const id = root.dataset.campaign;
  showState(root.dataset.state);
  refresh = async () => {
    const data = await api("GET", `/campaigns/${id}/data`);
    showState(data.campaign.state);
    showLists(data.lists, data.imports);
    if (data.stats) showStats(data.stats);
  };
  refresh().catch(showError);
  loadDnc();
  loadCompliance();
  live(connectSocket(), {
    "outbound.campaign": (event) => {
      if (String(event.data.campaign_id) !== id) return;
      showState(event.data.state);
      if (event.data.kind === "stats") showStats(event.data);
    },
    "outbound.import": (update) => { if (String(update.campaign_id) === id) showProgress(update); },
  });
  document.getElementById("cmp-actions").addEventListener("click", async (event) => {
    const action = event.target.closest("[data-action]")?.dataset.action;
    if (!action || (action === "stop" && !window.confirm(t("cmp_confirm_stop")))) return;
    try {
      const data = await api("POST", `/campaigns/${id}/${action}`);
      showState(data.campaign.state);
      await refresh();
    } catch (error) { showError(error); }
  });
  let uploaded = null;
  document.getElementById("cmp-upload").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      uploaded = await upload(event.target, `/campaigns/${id}/upload`);
      mappingForm(uploaded.columns);
      document.getElementById("cmp-mapping").hidden = false;
    } catch (error) { showError(error); }
  });
  document.getElementById("cmp-mapping").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = document.getElementById("cmp-upload");
    const pick = (key) => event.target.querySelector(`[data-map="${key}"]`).value;
    const fields = Object.fromEntries([...event.target.querySelectorAll("[data-field-column]:checked")]
      .map((c) => [c.dataset.fieldColumn, c.dataset.fieldColumn]));
    try {
      await api("POST", `/campaigns/${id}/import`, {
        upload: uploaded.upload, list_name: form.elements.list_name.value, region: form.elements.region.value,
        mapping: { phone: pick("phone"), name: pick("name"), timezone: pick("timezone"), fields },
      });
      event.target.hidden = true;
      showProgress({ status: "running", rows_read: 0, bad: 0 });
    } catch (error) { showError(error); }
  });
  document.getElementById("cmp-dnc-add").addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = event.target.elements;
    try {
      const result = await api("POST", "/campaigns/dnc/numbers", {
        numbers: f.numbers.value, region: f.region.value, scope: f.scope.value === "global" ? "global" : Number(id),
      });
      showDncResult(result);
      f.numbers.value = "";
    } catch (error) { showError(error); }
  });
  document.getElementById("cmp-dnc-upload").addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(event.target);
    const scopeForm = document.getElementById("cmp-dnc-add").elements;
    data.append("scope", scopeForm.scope.value === "global" ? "global" : id);
    data.append("region", scopeForm.region.value);
    try {
      const response = await fetch("/campaigns/dnc/upload", {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "X-CSRFToken": document.querySelector('meta[name="csrf-token"]').content, "Accept": "application/json" },
      });
      const result = await response.json();
      if (!response.ok) throw new ApiError(response.status, result);
      showDncResult(result);
    } catch (error) { showError(error); }
  });
  document.getElementById("cmp-compliance-range").addEventListener("submit", (event) => {
    event.preventDefault();
    loadCompliance(event.target.elements.from.value, event.target.elements.to.value);
  });

  function showDncResult(result) {
    document.getElementById("cmp-dnc-result").textContent = `${result.added} ${t("cmp_dnc_added")}` +
      result.invalid.map((i) => `; ${i.number}: ${i.reason}`).join("");
    loadDnc();
  }

  async function loadDnc() {
    try {
      const data = await api("GET", `/campaigns/dnc/data?campaign_id=${id}`);
      document.querySelector("#cmp-dnc-lists tbody").innerHTML = data.lists.map((l) =>
        `<tr><td>${escapeHtml(l.campaign_id ? t("cmp_dnc_campaign") : l.name)}</td><td>${l.numbers}</td></tr>`).join("");
    } catch (error) { showError(error); }
  }

  async function loadCompliance(from = "", to = "") {
    const query = new URLSearchParams(Object.entries({ from, to }).filter(([, v]) => v)).toString();
    document.getElementById("cmp-compliance-csv").href = `/campaigns/${id}/compliance.csv${query ? `?${query}` : ""}`;
    try {
      const data = await api("GET", `/campaigns/${id}/compliance${query ? `?${query}` : ""}`);
      document.querySelector("#cmp-compliance tbody").innerHTML = data.figures.reverse().map((f) =>
        `<tr><td>${escapeHtml(labelOr(`cmp_period_${f.period}`, f.period))}</td><td>${f.start}</td><td>${f.end}</td><td>${f.connected}</td>` +
        `<td>${f.abandoned}</td><td>${percent(f.abandon_rate)}</td><td>${f.within_limit ? "✓" : "✗"}</td></tr>`).join("");
    } catch (error) { showError(error); }
  }
}

// -- the agent's preview panel ----------------------------------------------------------

function previewPage() {
  let offer = null;
  const show = (data) => {
    offer = data;
    document.getElementById("pv-offer").hidden = !offer;
    document.getElementById("pv-empty").hidden = Boolean(offer);
    if (!offer) return;
    const c = offer.contact;
    document.getElementById("pv-name").textContent = c.name || c.e164;
    document.getElementById("pv-number").textContent = c.e164;
    document.getElementById("pv-campaign").textContent = offer.name;
    document.getElementById("pv-script").textContent = offer.script || "";
    document.getElementById("pv-script").hidden = !offer.script;
    document.getElementById("pv-details").innerHTML =
      `<dt>${t("cmp_attempts")}</dt><dd>${c.attempts}</dd><dt>${t("cmp_last_outcome")}</dt><dd>${escapeHtml(c.last_outcome || "—")}</dd>` +
      Object.entries(c.fields || {}).map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join("");
    document.getElementById("pv-dial").focus();
  };
  const load = () => api("GET", "/campaigns/preview/data").then((d) => show(d.offer)).catch(showError);
  live(connectSocket(), {
    "outbound.preview": (event) => {
      if (event.data.kind === "preview") {
        show({ campaign_id: event.data.campaign_id, name: event.data.display_name, script: event.data.script,
               contact: event.data.contact });
      } else if (offer && event.data.contact_id === offer.contact.id) {
        show(null);
        notify(t("cmp_preview_withdrawn"));
      }
    },
  });
  load();
  for (const choice of ["dial", "skip"]) {
    document.getElementById(`pv-${choice}`).addEventListener("click", async () => {
      if (!offer) return;
      try {
        await api("POST", `/campaigns/preview/${choice}`, { contact_id: offer.contact.id });
        if (choice === "dial") notify(t("cmp_preview_dialling"));
        show(null);
      } catch (error) { showError(error); }
    });
  }
}

if (page === "campaign-list") listPage();
else if (page === "campaign-edit") editPage(root);
else if (page === "campaign-detail") detailPage();
else if (page === "campaign-preview") previewPage();
