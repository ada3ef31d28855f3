"""Where this workstation's database is: the connection profile, and what to say when it cannot be reached.

Every workstation of an office points at the same PostgreSQL server through a connection profile stored per
user in the platform's config folder (platformdirs; ``CURBDESK_CONFIG_DIR`` overrides it): the host, port,
database, user and TLS settings as JSON, written with 0600 permissions. The password is never in that file:
it goes to the system keyring where the workstation has one (service "Curbdesk database", keyed by
user@host:port/database), else it is asked at each start and kept in memory only. A client certificate
(``sslcert``/``sslkey``) signs in without a password.

TLS follows libpq's ``sslmode`` (https://www.postgresql.org/docs/current/libpq-ssl.html): ``require``
encrypts; ``verify-ca`` also checks the server's certificate against ``sslrootcert``; ``verify-full`` also
checks the host name. ``disable``/``allow``/``prefer`` are libpq's defaults for a trusted network.

`explain_connection_error` turns libpq's messages into one sentence naming what to fix (a wrong password, an
unknown host, nothing listening, a missing database, no pg_hba.conf entry, TLS refused or unverifiable).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import platformdirs

from desktop.domain.errors import UserError
from desktop.paths import APP_AUTHOR, APP_NAME
from desktop.secrets import SecretStore

SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
PROFILE_FILE = "connection.json"


class DatabasePasswords(SecretStore):
    """Database passwords by user@host:port/database: the system keyring, else memory only."""

    SERVICE = "Curbdesk database"


PASSWORDS = DatabasePasswords()


@dataclass(frozen=True)
class ConnectionProfile:
    """One database: a local SQLite file (`path`) or a PostgreSQL server. Never holds the password."""

    kind: str = "postgresql"  # "postgresql" or "sqlite"
    host: str = ""
    port: int = 5432
    database: str = "curbdesk"
    user: str = ""
    sslmode: str = ""
    sslrootcert: str = ""
    sslcert: str = ""
    sslkey: str = ""
    path: str = ""  # the SQLite file

    @property
    def key(self) -> str:
        """The keyring's name for this profile's password."""
        return f"{self.user}@{self.host}:{self.port}/{self.database}"

    def display(self) -> str:
        if self.kind == "sqlite":
            return self.path
        tls = f", TLS {self.sslmode}" if self.sslmode else ""
        return f"{self.database} on {self.host}:{self.port} as {self.user}{tls}"

    def url(self, password: str | None = None) -> str:
        """The SQLAlchemy URL (psycopg 3); the password only in memory."""
        if self.kind == "sqlite":
            return f"sqlite:///{Path(self.path).expanduser()}"
        auth = quote(self.user, safe="")
        if password:
            auth += ":" + quote(password, safe="")
        host = f"[{self.host}]" if ":" in self.host else self.host
        query = "&".join(f"{k}={quote(str(getattr(self, k)), safe='/')}" for k in
                         ("sslmode", "sslrootcert", "sslcert", "sslkey") if getattr(self, k))
        return (f"postgresql+psycopg://{auth}@{host}:{self.port}/{quote(self.database, safe='')}"
                + (f"?{query}" if query else ""))

    def with_database(self, database: str) -> ConnectionProfile:
        return replace(self, database=database)


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$-]{0,62}$")
_HOST = re.compile(r"^[A-Za-z0-9.\-:\[\]_]{1,253}$")


def check_profile(profile: ConnectionProfile) -> ConnectionProfile:
    """The profile with its fields trimmed, or a UserError naming the first field to correct."""
    if profile.kind == "sqlite":
        if not profile.path.strip():
            raise UserError("Choose the file of the local database.")
        return replace(profile, path=str(Path(profile.path.strip()).expanduser()))
    if profile.kind != "postgresql":
        raise UserError(f"A database is a local file or a PostgreSQL server, not '{profile.kind}'.")
    p = replace(profile, host=profile.host.strip(), database=profile.database.strip(), user=profile.user.strip(),
                sslmode=profile.sslmode.strip().lower(), sslrootcert=profile.sslrootcert.strip(),
                sslcert=profile.sslcert.strip(), sslkey=profile.sslkey.strip())
    if not p.host or not _HOST.match(p.host):
        raise UserError("Enter the PostgreSQL server's host name or IP address.")
    if not isinstance(p.port, int) or not 1 <= p.port <= 65535:
        raise UserError("The port is a number from 1 to 65535 (PostgreSQL's is usually 5432).")
    if not _NAME.match(p.database):
        raise UserError("A database name is letters, digits and underscores (up to 63), starting with a letter.")
    if not p.user or not _NAME.match(p.user):
        raise UserError("Enter the PostgreSQL user name (letters, digits and underscores).")
    if p.sslmode and p.sslmode not in SSLMODES:
        raise UserError(f"sslmode is one of {', '.join(SSLMODES)}, not '{p.sslmode}'.")
    if p.sslmode in ("verify-ca", "verify-full") and not p.sslrootcert:
        raise UserError(f"sslmode {p.sslmode} checks the server's certificate: choose the CA certificate "
                        "file (sslrootcert).")
    for label, value in (("CA certificate (sslrootcert)", p.sslrootcert), ("client certificate (sslcert)", p.sslcert),
                         ("client key (sslkey)", p.sslkey)):
        if value and not Path(value).expanduser().is_file():
            raise UserError(f"The {label} {value} is not a file this workstation can read.")
    if bool(p.sslcert) != bool(p.sslkey):
        raise UserError("A client certificate needs both files: the certificate (sslcert) and its key (sslkey).")
    return p


# ------------------------------------------------------------------ stored per user


def config_dir() -> Path:
    chosen = os.environ.get("CURBDESK_CONFIG_DIR")
    return Path(chosen).expanduser() if chosen else Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR))


def profile_file() -> Path:
    return config_dir() / PROFILE_FILE


def load_profile() -> ConnectionProfile | None:
    """This user's connection profile, or None when none is saved (or the file cannot be read: logged)."""
    path = profile_file()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise UserError(f"The connection profile {path} cannot be read ({exc}); set the database up again "
                        "or delete that file.") from None
    known = {f.name for f in fields(ConnectionProfile)}
    return ConnectionProfile(**{k: v for k, v in dict(raw).items() if k in known})


def save_profile(profile: ConnectionProfile, password: str | None = None, *, remember: bool = True) -> str:
    """Write this user's profile (0600, atomically) and keep the password; returns where the password went:
    "keyring", "memory" or "none"."""
    folder = config_dir()
    folder.mkdir(parents=True, exist_ok=True)
    data = asdict(profile)
    fd, tmp = tempfile.mkstemp(prefix=".connection.", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2)
        os.chmod(tmp, 0o600)
        os.replace(tmp, folder / PROFILE_FILE)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    if not password or profile.kind != "postgresql":
        return "none"
    return {"keyring": "keyring", "session": "memory"}[PASSWORDS.remember(profile.key, password, persist=remember)]


def profile_url(profile: ConnectionProfile) -> str:
    """The profile's URL with the password kept for it (keyring or memory), if any."""
    return profile.url(PASSWORDS.get(profile.key) if profile.kind == "postgresql" else None)


# ------------------------------------------------------------------ one sentence per failure

_RULES: tuple[tuple[str, str], ...] = (
    (r"password authentication failed|authentication failed for user",
     "PostgreSQL refused the password of user {user}: check the password (the database administrator can reset it)."),
    (r"no password supplied|fe_sendauth",
     "PostgreSQL asks for the password of user {user}: enter it (or use a client certificate)."),
    (r"could not translate host name|Name or service not known|nodename nor servname|getaddrinfo failed",
     "The server name {host} is not known on this network: check the host name (or use its IP address)."),
    (r"Connection refused|connection refused",
     "Nothing answers at {host}:{port}: check the host and port, and that the PostgreSQL server is running and "
     "listens on the network (listen_addresses)."),
    (r"timeout expired|timed out|No route to host|Network is unreachable",
     "The server {host}:{port} cannot be reached from this workstation: check the network, a firewall, the host "
     "and the port."),
    (r'database "[^"]*" does not exist',
     "There is no database {database} on {host}: check its name, or let the set-up create it."),
    (r"no pg_hba\.conf entry",
     "The server does not accept user {user} from this workstation{tls}: the database administrator adds a line "
     "for it to pg_hba.conf."),
    (r"server does not support SSL",
     "The server does not offer TLS, but sslmode {sslmode} asks for it: turn TLS on at the server (ssl = on) or "
     "choose another sslmode."),
    (r"certificate verify failed|root certificate file .* does not exist|certificate .* not match|"
     r"server certificate for .* does not match",
     "The server's TLS certificate could not be verified against {sslrootcert}: check that file (the office's CA "
     "certificate) and, for verify-full, that the host name is the one in the certificate."),
    (r"permission denied to create database",
     "User {user} may not create databases on {host}: create the database {database} first (or grant CREATEDB)."),
    (r"permission denied|must be owner",
     "User {user} has no rights on the database {database}: the database administrator grants them (e.g. GRANT "
     "ALL ON SCHEMA public TO {user})."),
    (r"role \"[^\"]*\" does not exist",
     "There is no PostgreSQL user {user} on {host}: check the user name."),
    (r"too many connections|remaining connection slots",
     "The server {host} has no free connections: try again in a minute, or raise max_connections."),
)


def explain_connection_error(detail: str, profile: ConnectionProfile | None) -> str | None:
    """One sentence for a PostgreSQL connection failure (libpq's `detail`), or None when no rule knows it."""
    values: dict[str, Any] = {"user": "?", "host": "?", "port": "?", "database": "?", "sslmode": "?",
                              "sslrootcert": "the CA certificate", "tls": ""}
    if profile is not None:
        values.update({k: v for k, v in asdict(profile).items() if v not in ("", None)})
        values["tls"] = " with this TLS setting" if profile.sslmode else ""
    for pattern, sentence in _RULES:
        if re.search(pattern, detail, re.IGNORECASE):
            return sentence.format(**values)
    return None


def profile_from_url(url: str) -> ConnectionProfile | None:
    """The profile of a postgresql URL (what a message names), or None for another kind."""
    from sqlalchemy.engine import make_url  # lazy: SQLAlchemy is loaded by then; this module stays light (30 ms)

    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return None
    q = {k: str(v) for k, v in parsed.query.items()}
    return ConnectionProfile(host=parsed.host or "localhost", port=parsed.port or 5432, database=parsed.database or "",
                             user=parsed.username or "", sslmode=q.get("sslmode", ""),
                             sslrootcert=q.get("sslrootcert", ""), sslcert=q.get("sslcert", ""),
                             sslkey=q.get("sslkey", ""))
