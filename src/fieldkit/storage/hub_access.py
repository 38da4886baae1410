"""Who may read what on a hub's PostgreSQL: a login role per person, two group roles per hub,
and row-level security that lets a lawyer's role read only the cases shared with it.

Every statement here is PostgreSQL's; none runs on SQLite. Role names are made from the hub's
profile id and the person's label (``[a-z0-9_]`` only, so they never need quoting beyond the
double quotes used), and passwords are hexadecimal: nothing a person types reaches the SQL text.

- ``fk_<hub>_coordinators``: every privilege on every table and sequence of the schema, and a
  policy on each protected table that lets it see and change every row.
- ``fk_<hub>_lawyers``: SELECT on the tables that carry a case's content (and on the few that
  unlocking reads), and a policy on each that keeps only the rows of the records and evidence
  items listed for ``current_user`` in ``hub_shares``. No INSERT, UPDATE or DELETE anywhere but
  the person's own key slot in ``hub_people`` (rewrapped once, when they join).

The owner of the tables (the role that created the hub) is not subject to these policies
(row-level security is enabled, not forced): it is the hub's first coordinator, and keeping it
outside lets it take ``pg_dump`` backups with row-level security on.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, text

from fieldkit.storage.tokens import TOKENS_TABLE

_MINE = "SELECT item_id FROM hub_shares WHERE db_role = current_user"

# Each protected table and which of its rows a lawyer's role sees (None: none at all).
LAWYER_ROWS: dict[str, str | None] = {
    "records": f"id IN ({_MINE})",
    "record_versions": f"record_id IN ({_MINE})",
    "record_conflicts": f"record_id IN ({_MINE})",
    "record_links": f"from_id IN ({_MINE}) AND to_id IN ({_MINE})",
    "evidence_items": f"id IN ({_MINE})",
    "evidence_previews": f"item_id IN ({_MINE})",
    "custody_events": f"item_id IN ({_MINE})",
    # The tokens are keyed on the head's number; the subquery is itself under the records policy.
    TOKENS_TABLE: "num IN (SELECT num FROM records)",
    "hub_shares": "db_role = current_user",
    "hub_people": "db_role = current_user",
    "audit_log": None,
    "audit_foreign": None,
    "drafts": None,
}

# What a lawyer's role may SELECT besides the protected tables: the schema's revision, and of
# the hub's identity row everything but its signing key.
_LAWYER_PLAIN = ("alembic_version",)
_LAWYER_IDENTITY = (
    "(id, profile_id, role, device_id, created_at, device_public_key) ON profile_meta"
)

_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")


_OWN_SLOT = "slot, device_seed, joined_at"


def valid_label(label: str) -> bool:
    return bool(_LABEL.match(label))


def _hub_part(profile_id: str) -> str:
    return profile_id.replace("-", "")[:12].lower()


def group_role(profile_id: str, role: str) -> str:
    return f"fk_{_hub_part(profile_id)}_{role}s"


def person_role(profile_id: str, label: str) -> str:
    cleaned = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_") or "person"
    return f"fk_{_hub_part(profile_id)}_p_{cleaned}"[:63]


def _role_exists(conn: Connection, name: str) -> bool:
    found = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name})
    return found.first() is not None


def ensure_access(conn: Connection, profile_id: str) -> None:
    """The two group roles, their privileges and the row-level security policies (again on
    every call: a migration may have added tables since)."""
    coordinators = group_role(profile_id, "coordinator")
    lawyers = group_role(profile_id, "lawyer")
    for name in (coordinators, lawyers):
        if not _role_exists(conn, name):
            conn.execute(text(f'CREATE ROLE "{name}" NOLOGIN'))
    conn.execute(text(f'GRANT USAGE ON SCHEMA public TO "{coordinators}", "{lawyers}"'))
    conn.execute(text(f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{coordinators}"'))
    conn.execute(text(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO "{coordinators}"'))
    conn.execute(
        text(f'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO "{coordinators}"')
    )
    conn.execute(
        text(
            f'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO "{coordinators}"'
        )
    )
    conn.execute(text(f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{lawyers}"'))
    for table in _LAWYER_PLAIN:
        conn.execute(text(f'GRANT SELECT ON "{table}" TO "{lawyers}"'))
    conn.execute(text(f'GRANT SELECT {_LAWYER_IDENTITY} TO "{lawyers}"'))
    # Joining rewraps the person's own slot (``services/hub_people.join``): a lawyer's only write.
    conn.execute(text(f'GRANT UPDATE ({_OWN_SLOT}) ON hub_people TO "{lawyers}"'))
    for table, rows in LAWYER_ROWS.items():
        conn.execute(text(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY'))
        for policy in ("fk_coordinators", "fk_lawyers", "fk_own_slot"):
            conn.execute(text(f'DROP POLICY IF EXISTS {policy} ON "{table}"'))
        conn.execute(
            text(
                f'CREATE POLICY fk_coordinators ON "{table}" FOR ALL TO "{coordinators}" '
                "USING (true) WITH CHECK (true)"
            )
        )
        if rows is not None:
            conn.execute(text(f'GRANT SELECT ON "{table}" TO "{lawyers}"'))
            conn.execute(
                text(
                    f'CREATE POLICY fk_lawyers ON "{table}" FOR SELECT TO "{lawyers}" '
                    f"USING ({rows})"
                )
            )
    conn.execute(
        text(
            f'CREATE POLICY fk_own_slot ON hub_people FOR UPDATE TO "{lawyers}" '
            "USING (db_role = current_user) WITH CHECK (db_role = current_user)"
        )
    )


def set_own_password(conn: Connection, password: str) -> None:
    """A role may change its own password (no privilege needed)."""
    if not re.fullmatch(r"[0-9a-f]{16,128}", password):
        raise ValueError("a generated password is hexadecimal")
    conn.execute(text(f"ALTER ROLE CURRENT_USER PASSWORD '{password}'"))


def create_login(conn: Connection, name: str, password: str, group: str) -> None:
    if not re.fullmatch(r"[0-9a-f]{16,128}", password):
        raise ValueError("a generated password is hexadecimal")
    if _role_exists(conn, name):
        # A label used before (and revoked): the role is reused with a new password.
        conn.execute(text(f"ALTER ROLE \"{name}\" LOGIN PASSWORD '{password}'"))
    else:
        conn.execute(text(f"CREATE ROLE \"{name}\" LOGIN PASSWORD '{password}'"))
    conn.execute(text(f'GRANT "{group}" TO "{name}"'))


def disable_login(conn: Connection, name: str, groups: tuple[str, ...]) -> None:
    """The role can no longer log in and loses its group's privileges (it stays, so the audit
    log's and the server's records of it keep a name that means something)."""
    if not _role_exists(conn, name):
        return
    conn.execute(text(f'ALTER ROLE "{name}" NOLOGIN PASSWORD NULL'))
    for group in groups:
        conn.execute(text(f'REVOKE "{group}" FROM "{name}"'))


def end_sessions(conn: Connection, name: str) -> int:
    """Ends the role's open connections (the caller becomes a member of it for the moment,
    which is what PostgreSQL asks of a non-superuser to signal another role's sessions)."""
    if not _role_exists(conn, name):
        return 0
    member = conn.execute(
        text("SELECT pg_has_role(current_user, :n, 'MEMBER')"), {"n": name}
    ).scalar_one()
    if not member:
        conn.execute(text(f'GRANT "{name}" TO current_user'))
    ended = conn.execute(
        text(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE usename = :n AND pid <> pg_backend_pid()"
        ),
        {"n": name},
    ).scalar_one()
    if not member:
        conn.execute(text(f'REVOKE "{name}" FROM current_user'))
    return int(ended or 0)
