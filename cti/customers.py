"""The customer directory: who is calling, and what happened on their last calls.

A number belongs to at most one customer (``customer_numbers``). Numbers are kept in
E.164 when ``phonenumbers`` can read them (national formats with the site's region,
``CTI_PHONE_REGION``, e.g. ``CN``); anything else (an internal extension, a withheld
or malformed caller id) is kept as the trimmed raw text, so a lookup never fails just
because a number is odd. Lookups try both spellings, because rows loaded by
``cti provision`` keep the number exactly as the site file wrote it.

The store writer resolves ``interactions.customer_id`` with the same
:func:`number_candidates` when it writes a call, and adding a number here back-fills
the calls already stored from that number, so ``customer_id`` is what the history
(the screen-pop's "last calls") reads.

Errors a user can fix raise :class:`CustomerError` (status, kebab-case ``error_id``,
message saying what to change), ready for the web's one error handler.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

if TYPE_CHECKING:
    from cti.db import Database

#: Where the site's default region comes from (settings.extra, a ``CTI_`` variable).
REGION_SETTING = "CTI_PHONE_REGION"

_EDITABLE = ("name", "company", "vip", "tags", "notes", "email")
_MAX_TEXT = 2000


class CustomerError(ValueError):
    """A request about customers that cannot be done as asked."""

    def __init__(self, message: str, *, error_id: str = "invalid-customer", status: int = 400,
                 details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.error_id = error_id
        self.status = status
        self.details = dict(details or {})


@dataclass(frozen=True, slots=True)
class Customer:
    id: int
    name: str
    company: str
    vip: bool
    tags: tuple[str, ...]
    notes: str
    email: str
    numbers: tuple[tuple[str, str], ...]  # (number, label)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "company": self.company, "vip": self.vip,
            "tags": list(self.tags), "notes": self.notes, "email": self.email,
            "numbers": [{"number": n, "label": label} for n, label in self.numbers],
        }


# --- numbers (pure) --------------------------------------------------------------------


def check_region(region: str | None) -> str | None:
    """``None`` or a region ``phonenumbers`` knows; raises :class:`CustomerError` otherwise."""
    if region is None or region == "":
        return None
    region = region.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise CustomerError(f"{REGION_SETTING}: unknown region {region!r}; use a two-letter code such as US or CN",
                            error_id="unknown-region")
    return region


def region_from(extra: Mapping[str, str]) -> str | None:
    """The site's default region from settings' extra ``CTI_`` variables.

    Raises:
        ConfigError: the variable names a region ``phonenumbers`` does not know.
    """
    from cti.config import ConfigError

    try:
        return check_region(extra.get(REGION_SETTING))
    except CustomerError as exc:
        raise ConfigError(str(exc)) from None


def normalize_number(raw: str, region: str | None = None) -> str:
    """E.164 when the number parses as a possible number, else the trimmed raw text.

    Numbers written with ``+`` need no region; national ones are read with ``region``
    (and kept raw when there is none).
    """
    text = raw.strip()
    if not text or (region is None and not text.startswith("+")):
        return text
    try:
        parsed = phonenumbers.parse(text, region)
    except NumberParseException:
        return text
    if not phonenumbers.is_possible_number(parsed):
        return text
    return str(phonenumbers.format_number(parsed, PhoneNumberFormat.E164))


def number_candidates(raw: str, region: str | None = None) -> list[str]:
    """The spellings a stored number may have: normalised first, then as given."""
    text = raw.strip()
    if not text:
        return []
    normal = normalize_number(text, region)
    return [normal] if normal == text else [normal, text]


# --- the directory (I/O) -----------------------------------------------------------------

_SELECT = """
SELECT c.id, c.name, c.company, c.vip, c.tags, c.notes, c.email,
       COALESCE((SELECT json_agg(json_build_array(n.number, n.label) ORDER BY n.number)
                   FROM customer_numbers n WHERE n.customer_id = c.id), '[]'::json) AS numbers
  FROM customers c
 WHERE c.id = ANY(%(ids)s)
 ORDER BY c.name, c.id"""

_BY_NUMBER = """
SELECT customer_id FROM customer_numbers
 WHERE number = ANY(%(numbers)s) ORDER BY array_position(%(numbers)s, number) LIMIT 1"""

_SEARCH = """
SELECT c.id FROM customers c
 WHERE c.name ILIKE %(p)s OR c.company ILIKE %(p)s
    OR EXISTS (SELECT 1 FROM customer_numbers n WHERE n.customer_id = c.id AND n.number LIKE ANY(%(prefixes)s))
 ORDER BY c.name, c.id LIMIT %(limit)s"""

_UPDATE = """
UPDATE customers SET name = COALESCE(%(name)s, name), company = COALESCE(%(company)s, company),
       vip = COALESCE(%(vip)s, vip), tags = COALESCE(%(tags)s, tags), notes = COALESCE(%(notes)s, notes),
       email = COALESCE(%(email)s, email), updated_at = now()
 WHERE id = %(id)s"""

_HISTORY = """
SELECT i.id::text AS interaction_id, i.direction, i.started_at, i.ended_at, i.outcome,
       i.queue_name AS queue, i.agent_id, a.code AS agent_code, u.display_name AS agent_name,
       i.disposition, i.notes, i.caller_number, i.callee_number, i.talk_seconds,
       ARRAY(SELECT r.id::text FROM recordings r
              WHERE r.interaction_id = i.id AND r.deleted_at IS NULL ORDER BY r.started_at) AS recording_ids
  FROM interactions i
  LEFT JOIN agents a ON a.id = i.agent_id
  LEFT JOIN users u ON u.id = a.user_id
 WHERE i.customer_id = %(customer)s
 ORDER BY i.started_at DESC
 LIMIT %(limit)s"""

_BACKFILL = """
UPDATE interactions SET customer_id = %(customer)s
 WHERE customer_id IS NULL AND caller_number = ANY(%(numbers)s) AND direction = 'inbound'"""

_BACKFILL_OUTBOUND = """
UPDATE interactions SET customer_id = %(customer)s
 WHERE customer_id IS NULL AND callee_number = ANY(%(numbers)s) AND direction = 'outbound'"""


def _customer(row: Mapping[str, Any]) -> Customer:
    return Customer(
        id=int(row["id"]), name=row["name"], company=row["company"], vip=bool(row["vip"]),
        tags=tuple(row["tags"] or ()), notes=row["notes"], email=row["email"],
        numbers=tuple((str(n), str(label)) for n, label in row["numbers"]),
    )


def _check_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(fields) - set(_EDITABLE))
    if unknown:
        raise CustomerError(f"unknown customer field(s) {', '.join(unknown)}; editable: {', '.join(_EDITABLE)}",
                            error_id="unknown-field")
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "vip":
            if not isinstance(value, bool):
                raise CustomerError("vip must be true or false", error_id="invalid-field")
            out[key] = value
        elif key == "tags":
            if isinstance(value, str) or not all(isinstance(t, str) and t.strip() for t in value):
                raise CustomerError("tags must be a list of non-empty texts", error_id="invalid-field")
            out[key] = sorted({t.strip() for t in value})
        else:
            if not isinstance(value, str) or len(value) > _MAX_TEXT:
                raise CustomerError(f"{key} must be a text of at most {_MAX_TEXT} characters", error_id="invalid-field")
            out[key] = value.strip()
    return out


class CustomerDirectory:
    """Customers and their numbers in the site database (see the module docstring)."""

    def __init__(self, db: Database, *, region: str | None = None) -> None:
        self.db = db
        self.region = check_region(region)

    def normalize(self, number: str) -> str:
        return normalize_number(number, self.region)

    # -- reading ------------------------------------------------------------------------

    def get(self, customer_id: int) -> Customer:
        """Raises CustomerError (404) when there is no such customer."""
        found = self._load([customer_id])
        if not found:
            raise CustomerError(f"no customer {customer_id}", error_id="customer-not-found", status=404)
        return found[0]

    def _load(self, ids: Sequence[int]) -> list[Customer]:
        if not ids:
            return []
        by_id = {c.id: c for c in map(_customer, self.db.fetchall(_SELECT, {"ids": list(ids)}))}
        return [by_id[i] for i in ids if i in by_id]

    def lookup(self, number: str) -> Customer | None:
        """The customer owning ``number`` (any spelling), or None."""
        candidates = number_candidates(number, self.region)
        if not candidates:
            return None
        row = self.db.fetchone(_BY_NUMBER, {"numbers": candidates})
        found = self._load([int(row["customer_id"])]) if row is not None else []
        return found[0] if found else None

    def search(self, text: str, *, limit: int = 20) -> list[Customer]:
        """Customers whose name or company contains ``text``, or with a number starting with it."""
        text = text.strip()
        if not text:
            return []
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        prefixes = [c.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                    for c in number_candidates(text, self.region)]
        rows = self.db.fetchall(_SEARCH, {"p": pattern, "prefixes": prefixes, "limit": max(1, min(limit, 200))})
        return self._load([int(r["id"]) for r in rows])

    def history(self, customer_id: int, *, limit: int = 10) -> list[dict[str, Any]]:
        """The customer's last ``limit`` interactions, newest first: queue, agent,
        disposition, notes, outcome and recording ids (what the screen-pop shows)."""
        rows = self.db.fetchall(_HISTORY, {"customer": customer_id, "limit": max(1, min(limit, 100))})
        out = []
        for row in rows:
            item = dict(row)
            for key in ("started_at", "ended_at"):
                item[key] = item[key].isoformat() if item[key] is not None else None
            item["recording_ids"] = list(item["recording_ids"] or [])
            out.append(item)
        return out

    def screen_pop(self, number: str, *, limit: int = 5) -> dict[str, Any]:
        """``{"number", "customer", "history"}`` for an incoming or outgoing call."""
        customer = self.lookup(number)
        return {
            "number": self.normalize(number),
            "customer": None if customer is None else customer.to_dict(),
            "history": [] if customer is None else self.history(customer.id, limit=limit),
        }

    # -- writing ------------------------------------------------------------------------

    def create(self, *, name: str, numbers: Iterable[str] = (), **fields: Any) -> Customer:
        """A new customer with its numbers (each must not belong to anyone yet)."""
        values = _check_fields({"name": name, **fields})
        if not values["name"]:
            raise CustomerError("a customer needs a name", error_id="invalid-field")
        with self.db.transaction() as cur:
            cur.execute(
                """INSERT INTO customers (name, company, vip, tags, notes, email)
                   VALUES (%(name)s, %(company)s, %(vip)s, %(tags)s, %(notes)s, %(email)s) RETURNING id""",
                {"company": "", "vip": False, "tags": [], "notes": "", "email": "", **values},
            )
            customer_id = int(cur.fetchone()["id"])
            for number in numbers:
                self._add_number(cur, customer_id, number, "")
        return self.get(customer_id)

    def update(self, customer_id: int, **fields: Any) -> Customer:
        values = _check_fields(fields)
        if "name" in values and not values["name"]:
            raise CustomerError("a customer needs a name", error_id="invalid-field")
        if values:
            count = self.db.execute(_UPDATE, {**dict.fromkeys(_EDITABLE), **values, "id": customer_id})
            if count == 0:
                raise CustomerError(f"no customer {customer_id}", error_id="customer-not-found", status=404)
        return self.get(customer_id)

    def delete(self, customer_id: int) -> None:
        """Delete the customer and its numbers; its calls stay, without the link."""
        if self.db.execute("DELETE FROM customers WHERE id = %s", (customer_id,)) == 0:
            raise CustomerError(f"no customer {customer_id}", error_id="customer-not-found", status=404)

    def add_number(self, customer_id: int, number: str, *, label: str = "") -> Customer:
        self.get(customer_id)
        with self.db.transaction() as cur:
            self._add_number(cur, customer_id, number, label)
        return self.get(customer_id)

    def remove_number(self, customer_id: int, number: str) -> Customer:
        candidates = number_candidates(number, self.region)
        removed = self.db.execute(
            "DELETE FROM customer_numbers WHERE customer_id = %s AND number = ANY(%s)", (customer_id, candidates)
        )
        if removed == 0:
            raise CustomerError(f"customer {customer_id} has no number {number.strip()!r}",
                                error_id="number-not-found", status=404)
        return self.get(customer_id)

    def _add_number(self, cur: Any, customer_id: int, number: str, label: str) -> None:
        candidates = number_candidates(number, self.region)
        if not candidates:
            raise CustomerError("a customer number cannot be empty", error_id="invalid-number")
        if len(label) > 100:
            raise CustomerError("a number's label is at most 100 characters", error_id="invalid-field")
        cur.execute("SELECT customer_id FROM customer_numbers WHERE number = ANY(%s) LIMIT 1", (candidates,))
        owner = cur.fetchone()
        if owner is not None and int(owner["customer_id"]) != customer_id:
            raise CustomerError(
                f"number {candidates[0]} already belongs to customer {owner['customer_id']}; remove it there first",
                error_id="number-taken", status=409, details={"customer_id": owner["customer_id"]},
            )
        cur.execute(
            """INSERT INTO customer_numbers (number, customer_id, label) VALUES (%s, %s, %s)
               ON CONFLICT (number) DO UPDATE SET label = EXCLUDED.label""",
            (candidates[0], customer_id, label.strip()),
        )
        _backfill(cur, customer_id, candidates)


def _backfill(cur: Any, customer_id: int, numbers: Sequence[str]) -> None:
    """Link calls already stored from/to these numbers to the customer."""
    params = {"customer": customer_id, "numbers": list(numbers)}
    cur.execute(_BACKFILL, params)
    cur.execute(_BACKFILL_OUTBOUND, params)


__all__ = [
    "REGION_SETTING", "Customer", "CustomerDirectory", "CustomerError", "check_region", "normalize_number",
    "number_candidates", "region_from",
]
