"""The customer directory: list and search, look up a caller by number (what a
screen-pop shows), create, change, delete, and manage a customer's numbers.
:mod:`cti.customers` does the work; numbers are normalised to E.164 with the site's
region (``CTI_PHONE_REGION``)."""

from __future__ import annotations

from typing import Any

from cti.customers import CustomerDirectory, region_from
from webapp.api.operations import ApiRequest, Reply, api_operation, path_param, query_param
from webapp.api.paging import PAGING, page
from webapp.api.schemas import ID, NUMBER_TEXT, closed, ref
from webapp.api.schemas import page as page_schema

CUSTOMER_ID = path_param("customer_id", ID)
_LABEL = {"type": "string", "maxLength": 100}
_NUMBER_ENTRY = {"anyOf": [NUMBER_TEXT, closed({"number": NUMBER_TEXT, "label": _LABEL}, ("number",))]}
_FIELDS: dict[str, Any] = {
    "name": {"type": "string", "minLength": 1, "maxLength": 2000, "pattern": "\\S"},
    "company": {"type": "string", "maxLength": 2000},
    "vip": {"type": "boolean"},
    "tags": {"type": "array", "maxItems": 100, "items": {"type": "string", "minLength": 1, "maxLength": 100,
                                                         "pattern": "\\S"}},
    "notes": {"type": "string", "maxLength": 2000},
    "email": {"type": "string", "maxLength": 2000},
}
NEW_CUSTOMER = closed({**_FIELDS, "numbers": {"type": "array", "maxItems": 50, "items": _NUMBER_ENTRY}}, ("name",))
CHANGE_CUSTOMER = closed(_FIELDS, (), minProperties=1)
NEW_NUMBER = closed({"number": NUMBER_TEXT, "label": _LABEL}, ("number",))

_LIST = """
SELECT c.id FROM customers c
 WHERE %(q)s::text IS NULL OR c.name ILIKE %(p)s OR c.company ILIKE %(p)s
    OR EXISTS (SELECT 1 FROM customer_numbers n WHERE n.customer_id = c.id AND n.number LIKE %(p)s)
 ORDER BY c.id LIMIT %(limit)s OFFSET %(offset)s"""


def directory(req: ApiRequest) -> CustomerDirectory:
    return CustomerDirectory(req.services.db, region=region_from(req.services.settings.extra))


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@api_operation("GET", "/customers", summary="List or search customers", tag="customers", scope="read",
               params=(query_param("q", {"type": "string", "minLength": 1, "maxLength": 100},
                                   "text in the name or company, or part of a number"), *PAGING),
               responses={200: ("Customers by id", page_schema(ref("Customer")))})
def list_customers(req: ApiRequest) -> Reply:
    text = req.query.get("q")
    pattern = f"%{_escape(text.strip())}%" if text else None
    found = directory(req)

    def fetch(limit: int, offset: int) -> list[dict[str, Any]]:
        rows = req.services.db.fetchall(_LIST, {"q": text, "p": pattern, "limit": limit, "offset": offset})
        return [found.get(int(r["id"])).to_dict() for r in rows]

    return page(req, fetch, lambda c: c)


@api_operation("GET", "/customers/lookup", summary="Who is calling: a number's customer and last calls",
               tag="customers", scope="read",
               params=(query_param("number", NUMBER_TEXT, "the caller's number, any format", required=True),
                       query_param("history", {"type": "integer", "minimum": 0, "maximum": 50},
                                   "how many past interactions (default 5)")),
               responses={200: ("The customer (null when unknown) and their last interactions",
                                ref("CustomerLookup"))})
def lookup_customer(req: ApiRequest) -> Reply:
    """The same data the agent's screen-pop shows for this number."""
    limit = int(req.query.get("history", 5))
    result = directory(req).screen_pop(req.query["number"], limit=max(limit, 1))
    return {**result, "history": result["history"][:limit]}


@api_operation("POST", "/customers", summary="Create a customer", tag="customers", scope="customers",
               body=NEW_CUSTOMER, conflicts=True, responses={201: ("The customer", ref("Customer"))})
def create_customer(req: ApiRequest) -> Reply:
    """409 when one of the numbers already belongs to another customer."""
    fields = dict(req.body)
    entries = [(e, "") if isinstance(e, str) else (e["number"], e.get("label", "")) for e in fields.pop("numbers", [])]
    found = directory(req)
    customer = found.create(**fields, numbers=[number for number, _ in entries])
    for number, label in entries:
        if label:
            customer = found.add_number(customer.id, number, label=label)
    return customer.to_dict(), 201


@api_operation("GET", "/customers/{customer_id}", summary="One customer", tag="customers", scope="read",
               params=(CUSTOMER_ID,), responses={200: ("The customer", ref("Customer"))})
def get_customer(req: ApiRequest) -> Reply:
    return directory(req).get(req.path["customer_id"]).to_dict()


@api_operation("PATCH", "/customers/{customer_id}", summary="Change a customer", tag="customers",
               scope="customers", params=(CUSTOMER_ID,), body=CHANGE_CUSTOMER,
               responses={200: ("The customer", ref("Customer"))})
def update_customer(req: ApiRequest) -> Reply:
    return directory(req).update(req.path["customer_id"], **req.body).to_dict()


@api_operation("DELETE", "/customers/{customer_id}", summary="Delete a customer", tag="customers",
               scope="customers", params=(CUSTOMER_ID,),
               responses={204: ("Deleted; their calls stay, without the link", None)})
def delete_customer(req: ApiRequest) -> Reply:
    directory(req).delete(req.path["customer_id"])
    return "", 204


@api_operation("POST", "/customers/{customer_id}/numbers", summary="Add a number to a customer", tag="customers",
               scope="customers", params=(CUSTOMER_ID,), body=NEW_NUMBER, conflicts=True,
               responses={200: ("The customer", ref("Customer"))})
def add_customer_number(req: ApiRequest) -> Reply:
    """409 when the number belongs to another customer. Calls already stored from the
    number are linked to the customer."""
    return directory(req).add_number(req.path["customer_id"], req.body["number"],
                                     label=req.body.get("label", "")).to_dict()


@api_operation("DELETE", "/customers/{customer_id}/numbers/{number}", summary="Remove a customer's number",
               tag="customers", scope="customers", params=(CUSTOMER_ID, path_param("number", NUMBER_TEXT)),
               responses={200: ("The customer", ref("Customer"))})
def remove_customer_number(req: ApiRequest) -> Reply:
    return directory(req).remove_number(req.path["customer_id"], req.path["number"]).to_dict()
