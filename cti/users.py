"""Users who sign in, their roles and their password hashes (argon2id).

Roles are fixed: agent, supervisor, campaign_manager, admin. Passwords are only ever
stored as argon2 hashes (argon2-cffi's defaults, which follow RFC 9106's guidance);
:func:`verify_password` also tells when a stored hash should be upgraded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from cti.db import Database

ROLES = ("agent", "supervisor", "campaign_manager", "admin")
MIN_PASSWORD_LENGTH = 8

_hasher = PasswordHasher()


class UserError(ValueError):
    """A user could not be created or changed; the message says what to fix."""


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    roles: tuple[str, ...]
    language: str
    active: bool

    def has_role(self, *roles: str) -> bool:
        return "admin" in self.roles or any(r in self.roles for r in roles)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> User:
        return cls(
            id=row["id"],
            username=row["username"],
            display_name=row["display_name"] or row["username"],
            roles=tuple(row["roles"]),
            language=row["language"],
            active=row["active"],
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> tuple[bool, bool]:
    """Return (matches, needs_rehash)."""
    try:
        _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, False
    return True, _hasher.check_needs_rehash(stored_hash)


def check_roles(roles: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise UserError(f"roles must be one or more of {', '.join(ROLES)}; got {', '.join(roles) or 'none'}")
    return tuple(dict.fromkeys(roles))


def check_password_strength(password: str, *, allow_weak: bool = False) -> None:
    if not allow_weak and len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")


def upsert_user(
    cur: Any,
    username: str,
    *,
    roles: tuple[str, ...],
    display_name: str = "",
    password: str | None = None,
    password_hash: str | None = None,
    language: str = "en",
    keep_existing_password: bool = False,
) -> int:
    """Create the user or update roles/name/language; the password only when given.

    ``keep_existing_password`` makes the password an initial one: set for a new user,
    left alone for an existing one (so re-provisioning never undoes a password change).
    """
    check_roles(roles)
    cur.execute("SELECT id FROM users WHERE username = %s", (username,))
    row = cur.fetchone()
    if row is not None and keep_existing_password:
        password = password_hash = None
    new_hash = password_hash or (hash_password(password) if password is not None else None)
    if row is None:
        if new_hash is None:
            raise UserError(f"user {username}: a new user needs a password")
        cur.execute(
            """INSERT INTO users (username, display_name, password_hash, roles, language)
               VALUES (%s, %s, %s, %s, %s) RETURNING id""",
            (username, display_name, new_hash, list(roles), language),
        )
        return int(cur.fetchone()["id"])
    cur.execute(
        """UPDATE users SET display_name = %s, roles = %s, language = %s,
                  password_hash = COALESCE(%s, password_hash), updated_at = now()
           WHERE id = %s""",
        (display_name, list(roles), language, new_hash, row["id"]),
    )
    return int(row["id"])


def authenticate(db: Database, username: str, password: str) -> User | None:
    """The active user with this username and password, or None (same cost either way)."""
    row = db.fetchone("SELECT * FROM users WHERE username = %s", (username,))
    if row is None or not row["active"]:
        # Spend the same time as a real check so usernames cannot be probed by timing.
        verify_password(_DUMMY_HASH, password)
        return None
    matches, needs_rehash = verify_password(row["password_hash"], password)
    if not matches:
        return None
    if needs_rehash:
        db.execute("UPDATE users SET password_hash = %s WHERE id = %s", (hash_password(password), row["id"]))
    return User.from_row(row)


def get_user(db: Database, user_id: int) -> User | None:
    row = db.fetchone("SELECT * FROM users WHERE id = %s AND active", (user_id,))
    return User.from_row(row) if row else None


_DUMMY_HASH = hash_password("not-a-real-password")
