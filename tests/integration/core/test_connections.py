"""Connection profiles (issue 17, point 3): stored per user, the password in the system keyring (never in the
file), TLS settings checked before use, and one sentence for each way a connection fails."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from desktop.cli import configured_db_url
from desktop.domain.errors import UserError
from desktop.paths import AppPaths
from desktop.persistence import connections
from desktop.persistence.connections import ConnectionProfile, check_profile, explain_connection_error
from desktop.persistence.db import Database


class MemoryKeyring(KeyringBackend):
    priority = 10  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@pytest.fixture
def ring() -> Iterator[MemoryKeyring]:
    before = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    connections.PASSWORDS.reset()
    yield backend
    keyring.set_keyring(before)
    connections.PASSWORDS.reset()


OFFICE = ConnectionProfile(host="db.springfield.local", port=5433, database="curbdesk", user="clerk_ws",
                           sslmode="require")


def test_the_profile_is_stored_per_user_and_the_password_in_the_keyring(ring: MemoryKeyring, tmp_path: Path) -> None:
    assert connections.save_profile(OFFICE, "s3cret:/@pw") == "keyring"
    text = connections.profile_file().read_text()
    assert "s3cret" not in text and '"sslmode": "require"' in text
    assert oct(connections.profile_file().stat().st_mode)[-3:] == "600"
    assert ring.store == {("Curbdesk database", "clerk_ws@db.springfield.local:5433/curbdesk"): "s3cret:/@pw"}
    assert connections.load_profile() == OFFICE
    url = configured_db_url(None, AppPaths(tmp_path))
    assert url == "postgresql+psycopg://clerk_ws:s3cret%3A%2F%40pw@db.springfield.local:5433/curbdesk?sslmode=require"
    db = Database(url)  # the URL reads back as what was stored
    try:
        assert db.url.password == "s3cret:/@pw" and db.url.query["sslmode"] == "require"
    finally:
        db.dispose()
    os.environ["CURBDESK_DB"] = "sqlite:///elsewhere.sqlite3"  # an explicit database wins over the profile
    try:
        assert configured_db_url(None, AppPaths(tmp_path)) == "sqlite:///elsewhere.sqlite3"
    finally:
        del os.environ["CURBDESK_DB"]


def test_without_a_keyring_the_password_is_kept_in_memory_only(tmp_path: Path) -> None:
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    connections.PASSWORDS.reset()
    try:
        assert connections.save_profile(OFFICE, "s3cret-pw") == "memory"
        assert "s3cret" not in connections.profile_file().read_text()
        assert connections.profile_url(OFFICE).startswith("postgresql+psycopg://clerk_ws:s3cret-pw@")
        connections.PASSWORDS.reset()  # the next start: asked again
        assert connections.profile_url(OFFICE).startswith("postgresql+psycopg://clerk_ws@")
    finally:
        keyring.set_keyring(before)
        connections.PASSWORDS.reset()


def test_tls_settings_are_checked_before_use(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="sslmode is one of disable, allow, prefer, require, verify-ca, verify-full"):
        check_profile(ConnectionProfile(host="h", user="u", sslmode="always"))
    with pytest.raises(UserError, match="choose the CA certificate file"):
        check_profile(ConnectionProfile(host="h", user="u", sslmode="verify-full"))
    with pytest.raises(UserError, match="is not a file this workstation can read"):
        check_profile(ConnectionProfile(host="h", user="u", sslmode="verify-ca", sslrootcert=str(tmp_path / "ca.pem")))
    cert = tmp_path / "client.crt"
    cert.write_text("x")
    with pytest.raises(UserError, match="needs both files"):
        check_profile(ConnectionProfile(host="h", user="u", sslcert=str(cert)))
    with pytest.raises(UserError, match="port is a number from 1 to 65535"):
        check_profile(ConnectionProfile(host="h", user="u", port=70000))


@pytest.mark.parametrize(("detail", "says"), [
    ('connection failed: FATAL:  password authentication failed for user "clerk_ws"',
     "PostgreSQL refused the password of user clerk_ws: check the password"),
    ("connection failed: fe_sendauth: no password supplied", "PostgreSQL asks for the password of user clerk_ws"),
    ('FATAL:  no pg_hba.conf entry for host "10.0.0.7", user "clerk_ws", database "curbdesk", SSL encryption',
     "The server does not accept user clerk_ws from this workstation with this TLS setting"),
    ("server does not support SSL, but SSL was required", "The server does not offer TLS, but sslmode require asks"),
    ("SSL error: certificate verify failed", "could not be verified"),
    ("permission denied for table users", "User clerk_ws has no rights on the database curbdesk"),
])
def test_each_failure_is_one_sentence(detail: str, says: str) -> None:
    assert says in (explain_connection_error(detail, OFFICE) or "")


def test_an_unreachable_server_is_named_by_the_database_layer(pg_server: str) -> None:
    db = Database("postgresql+psycopg://postgres@127.0.0.1:1/curbdesk")
    try:
        with pytest.raises(UserError, match="^Nothing answers at 127.0.0.1:1: check the host and port"):
            db.check_connection()
    finally:
        db.dispose()


def test_tls_asked_of_a_server_without_it_is_named(pg_server: str) -> None:
    """The development server runs without TLS (ssl = off): sslmode=require must refuse, in one sentence."""
    db = Database(pg_server + "?sslmode=require")
    try:
        with pytest.raises(UserError, match="^The server does not offer TLS, but sslmode require asks for it"):
            db.check_connection()
    finally:
        db.dispose()


def test_a_user_without_rights_on_the_office_is_told_so(pg_url: str) -> None:
    """The server lets the user in (pg_hba), but nobody granted it Curbdesk's tables."""
    import uuid

    import psycopg

    role = f"curbdesk_norights_{uuid.uuid4().hex[:6]}"
    admin = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
    db = Database(pg_url.replace("postgres@", f"{role}@"))
    try:
        db.check_connection()  # connecting is allowed
        with pytest.raises(UserError, match=f"^User {role} has no rights on the database curbdesk_t_"):
            db.check_rights()
    finally:
        db.dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'REVOKE ALL ON DATABASE "{pg_url.rsplit("/", 1)[1]}" FROM "{role}"')
        with psycopg.connect(admin.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'")
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')
