"""The top navigation: each area adds its entry, shown only to the roles it serves."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from cti.users import User


@dataclass(frozen=True)
class NavItem:
    label: str        # i18n key
    endpoint: str     # Flask endpoint, e.g. "agent.desktop"
    roles: tuple[str, ...]
    order: int = 50


_ITEMS: list[NavItem] = []


def add_nav_item(item: NavItem) -> None:
    if all(existing.endpoint != item.endpoint for existing in _ITEMS):
        _ITEMS.append(item)
        _ITEMS.sort(key=lambda i: i.order)


def items_for(user: User | None) -> list[NavItem]:
    if user is None:
        return []
    return [item for item in _ITEMS if user.has_role(*item.roles)]


def init_app(app: Flask) -> None:
    app.jinja_env.globals["nav_items"] = items_for
