// Quality review: search recordings, play one, score it against a form; edit forms.
import { api, escapeHtml, formatDuration, notify, t } from "/static/js/common.js";

const PAGE = 50;
let offset = 0;
let forms = [];
let current = null;   // the recording being reviewed

const searchForm = document.getElementById("qa-search");
const scoreForm = document.getElementById("qa-score");
const formPick = document.getElementById("qa-form-pick");
const formEdit = document.getElementById("qa-form-edit");

function query() {
  const params = new URLSearchParams();
  for (const [key, value] of new FormData(searchForm)) if (value) params.set(key, value);
  params.set("limit", PAGE);
  params.set("offset", offset);
  return params;
}

/** The label the search form shows for a stored code (a queue's display name, a
 * disposition's label), so results read like the filters that found them. */
function optionLabel(field, code) {
  const option = [...searchForm.elements[field].options].find((o) => o.value && o.value === code);
  return option ? option.textContent : code ?? "";
}

async function search() {
  let data;
  try {
    data = await api("GET", `/quality/api/recordings?${query()}`);
  } catch (error) {
    notify(error.message, "error");
    return;
  }
  const body = document.querySelector("#qa-results tbody");
  body.innerHTML = data.recordings.map((r) => `<tr data-id="${escapeHtml(r.id)}"${current?.id === r.id ? ' aria-selected="true"' : ""}>
    <td>${escapeHtml(new Date(r.started_at).toLocaleString())}</td>
    <td>${escapeHtml(r.agent_name || "")} ${escapeHtml(r.agent_code || "")}</td>
    <td>${escapeHtml(optionLabel("queue", r.queue_name))}</td><td>${escapeHtml(r.caller_number)}</td>
    <td>${r.duration_ms === null ? "—" : formatDuration(r.duration_ms / 1000)}</td>
    <td>${escapeHtml(optionLabel("disposition", r.disposition))}</td>
    <td>${r.average_total === null ? "—" : r.average_total.toFixed(1)} (${r.reviews})</td>
    <td><button type="button" data-open="${escapeHtml(r.id)}">${escapeHtml(t("qa_play"))}</button></td>
  </tr>`).join("");
  document.getElementById("qa-empty").hidden = data.recordings.length > 0;
  document.getElementById("qa-prev").disabled = offset === 0;
  document.getElementById("qa-next").disabled = data.recordings.length < PAGE;
}

async function open(id) {
  let data;
  try {
    data = await api("GET", `/quality/api/recordings/${encodeURIComponent(id)}`);
  } catch (error) {
    notify(error.message, "error");
    return;
  }
  current = data.recording;
  document.querySelectorAll("#qa-results tbody tr").forEach((tr) => tr.setAttribute("aria-selected", String(tr.dataset.id === id)));
  const detail = document.getElementById("qa-detail");
  detail.hidden = false;
  document.getElementById("qa-detail-title").textContent =
    `${t("qa_playing")}: ${current.caller_number} · ${current.agent_name || ""} · ${new Date(current.started_at).toLocaleString()}`;
  document.getElementById("qa-player").innerHTML = current.audio_url
    ? `<audio controls preload="metadata" src="${escapeHtml(current.audio_url)}"></audio>` : "";
  renderScores(data.scores);
  renderScoreForm();
  detail.querySelector("audio, select")?.focus();
}

function renderScores(list) {
  document.getElementById("qa-scores").innerHTML = list.length ? list.map((s) => `<article class="qa-review">
    <p><strong>${escapeHtml(s.form_name)}</strong>: ${s.total.toFixed(2)} — ${escapeHtml(t("qa_scored_by"))} ${escapeHtml(s.scorer_name)}</p>
    <ul class="qa-score-items">${s.items.map((i) => `<li>${escapeHtml(i.label)}: ${i.points}/${i.max_points}${i.comment ? ` — ${escapeHtml(i.comment)}` : ""}</li>`).join("")}</ul>
    ${s.comments ? `<p>${escapeHtml(s.comments)}</p>` : ""}
  </article>`).join("") : `<p class="hint">${escapeHtml(t("qa_no_scores"))}</p>`;
}

function activeForms() { return forms.filter((f) => f.active); }

function renderScoreForm() {
  const select = scoreForm.elements.form_id;
  const previous = select.value;
  select.innerHTML = activeForms().map((f) => `<option value="${f.id}">${escapeHtml(f.name)}</option>`).join("");
  if (previous) select.value = previous;
  scoreForm.hidden = activeForms().length === 0;
  if (!activeForms().length) notify(t("qa_no_forms"));
  renderCriteria();
}

function renderCriteria() {
  const form = forms.find((f) => String(f.id) === scoreForm.elements.form_id.value);
  const body = scoreForm.querySelector(".qa-criteria tbody");
  body.innerHTML = form ? form.criteria.map((c, index) => `<tr>
    <th scope="row"><label for="qa-points-${index}">${escapeHtml(c.label)}</label> <span class="hint">×${c.weight}</span></th>
    <td><select id="qa-points-${index}" data-position="${index}">${Array.from({ length: c.max_points + 1 }, (_, p) => `<option value="${p}">${p}</option>`).join("")}</select> / ${c.max_points}</td>
    <td><input data-comment="${index}" aria-label="${escapeHtml(t("qa_comment"))}: ${escapeHtml(c.label)}" placeholder="${escapeHtml(t("qa_comment"))}"></td>
  </tr>`).join("") : "";
  updateTotal();
}

function updateTotal() {
  const form = forms.find((f) => String(f.id) === scoreForm.elements.form_id.value);
  if (!form) { document.getElementById("qa-total").textContent = "—"; return; }
  let weights = 0, earned = 0;
  form.criteria.forEach((c, index) => {
    const points = Number(scoreForm.querySelector(`[data-position="${index}"]`).value);
    weights += c.weight;
    earned += (c.weight * points) / c.max_points;
  });
  document.getElementById("qa-total").textContent = weights ? (100 * earned / weights).toFixed(2) : "—";
}

async function saveScore(event) {
  event.preventDefault();
  if (!current) return;
  const formId = Number(scoreForm.elements.form_id.value);
  const items = [...scoreForm.querySelectorAll("[data-position]")].map((select) => ({
    position: Number(select.dataset.position), points: Number(select.value),
    comment: scoreForm.querySelector(`[data-comment="${select.dataset.position}"]`).value,
  }));
  try {
    await api("POST", `/quality/api/recordings/${encodeURIComponent(current.id)}/scores`,
      { form_id: formId, items, comments: scoreForm.elements.comments.value });
    notify(t("qa_saved"));
    await open(current.id);
    await search();
  } catch (error) {
    notify(error.message, "error");
  }
}

// --- forms editor ---------------------------------------------------------------

async function loadForms() {
  try {
    forms = (await api("GET", "/quality/api/forms")).forms;
  } catch (error) {
    notify(error.message, "error");
    return;
  }
  formPick.innerHTML = `<option value="">${escapeHtml(t("qa_new_form"))}</option>`
    + forms.map((f) => `<option value="${f.id}">${escapeHtml(f.name)}${f.active ? "" : " ✕"}</option>`).join("");
  if (current) renderScoreForm();
}

function criterionRow(c = { label: "", weight: 1, max_points: 5 }) {
  return `<tr>
    <td><input name="label" value="${escapeHtml(c.label)}" aria-label="${escapeHtml(t("qa_label"))}" required maxlength="200"></td>
    <td><input name="weight" type="number" min="0.01" step="0.01" value="${c.weight}" aria-label="${escapeHtml(t("qa_weight"))}"></td>
    <td><input name="max_points" type="number" min="1" max="100" value="${c.max_points}" aria-label="${escapeHtml(t("qa_max_points"))}"></td>
    <td><button type="button" data-remove>${escapeHtml(t("qa_remove"))}</button></td></tr>`;
}

function editForm(id) {
  const form = forms.find((f) => String(f.id) === id);
  formEdit.elements.name.value = form?.name ?? "";
  formEdit.elements.description.value = form?.description ?? "";
  formEdit.elements.active.checked = form?.active ?? true;
  document.querySelector("#qa-form-criteria tbody").innerHTML = (form?.criteria ?? [undefined]).map(criterionRow).join("");
}

async function saveForm(event) {
  event.preventDefault();
  const id = formPick.value;
  const criteria = [...document.querySelectorAll("#qa-form-criteria tbody tr")].map((tr) => ({
    label: tr.querySelector("[name=label]").value, weight: Number(tr.querySelector("[name=weight]").value),
    max_points: Number(tr.querySelector("[name=max_points]").value),
  }));
  const body = { name: formEdit.elements.name.value, description: formEdit.elements.description.value,
    active: formEdit.elements.active.checked, criteria };
  try {
    const saved = await api(id ? "PUT" : "POST", id ? `/quality/api/forms/${id}` : "/quality/api/forms", body);
    notify(t("qa_form_saved"));
    await loadForms();
    formPick.value = String(saved.id);
    editForm(formPick.value);
  } catch (error) {
    notify(error.message, "error");
  }
}

searchForm.addEventListener("submit", (event) => { event.preventDefault(); offset = 0; search(); });
document.getElementById("qa-prev").addEventListener("click", () => { offset = Math.max(0, offset - PAGE); search(); });
document.getElementById("qa-next").addEventListener("click", () => { offset += PAGE; search(); });
document.querySelector("#qa-results tbody").addEventListener("click", (event) => {
  const button = event.target.closest("button[data-open]");
  if (button) open(button.dataset.open);
});
scoreForm.addEventListener("submit", saveScore);
scoreForm.addEventListener("change", (event) => {
  if (event.target.name === "form_id") renderCriteria(); else updateTotal();
});
formPick.addEventListener("change", () => editForm(formPick.value));
document.getElementById("qa-add-criterion").addEventListener("click", () => {
  document.querySelector("#qa-form-criteria tbody").insertAdjacentHTML("beforeend", criterionRow());
});
document.getElementById("qa-form-criteria").addEventListener("click", (event) => {
  if (event.target.closest("[data-remove]")) event.target.closest("tr").remove();
});
formEdit.addEventListener("submit", saveForm);

await loadForms();
editForm("");
search();
