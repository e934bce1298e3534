// Shared by every page: JSON calls with the CSRF token, the live socket, labels.
import { io } from "/vendor/socket.io.esm.min.js";

const csrfToken = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
const labels = JSON.parse(document.getElementById("labels")?.textContent ?? "{}");

/** The label for `key` in the page's language (the key itself when missing). */
export function t(key) {
  return labels[key] ?? key;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
    this.field = body?.error?.field;
  }
}

/** Call a JSON endpoint of this site; throws ApiError with the server's message. */
export async function api(method, url, body) {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** The live connection (the session cookie authenticates it; refused without one). */
export function connectSocket() {
  return io({ transports: ["websocket", "polling"], withCredentials: true });
}

/** 75 -> "1:15", 3725 -> "1:02:05". */
export function formatDuration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return (h ? `${h}:` : "") + `${mm}:${String(r).padStart(2, "0")}`;
}

/** Show a short message in the page's status area (role=status, read by screen readers). */
export function notify(message, kind = "info") {
  const area = document.getElementById("notice");
  if (!area) return;
  area.textContent = message;
  area.dataset.kind = kind;
}

/** Take an error off the status area once the user's next action has worked, so an
 * old refusal is not read as the outcome of what they just did. */
export function clearError() {
  const area = document.getElementById("notice");
  if (area?.dataset.kind !== "error") return;
  area.textContent = "";
  area.dataset.kind = "info";
}

/** Escape text for insertion into HTML built from strings. */
export function escapeHtml(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

/** The caller's name worth showing beside their number: "" when there is none or when
 * it only repeats the number (switches often send the number as the name). */
export function callerName(name, number) {
  const text = String(name ?? "").trim();
  if (!text) return "";
  const digits = (value) => String(value ?? "").replace(/\D/g, "");
  const onlyNumber = /^[\d\s+().-]+$/.test(text);
  const [a, b] = [digits(text), digits(number)];
  return onlyNumber && a && b && (a.endsWith(b) || b.endsWith(a)) ? "" : text;
}
