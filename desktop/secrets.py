"""Secrets kept for the user: field-sync tokens and database passwords, in the system keyring (``keyring``)
where this computer has one, otherwise only in this process's memory. Never in the database or a file."""

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger(__name__)


class SecretStore:
    """Secrets of one kind (`SERVICE`, the keyring's service name), by key: the system keyring where this
    computer has one, else this process's memory only. Never the database, never a file."""

    SERVICE = "Curbdesk"

    def __init__(self) -> None:
        self._session: dict[str, str] = {}
        self._lock = threading.Lock()
        self._probed = False
        self._cached: Any = None

    def _backend(self) -> Any:
        """The keyring backend, or None when this computer has no usable one (probed once)."""
        if self._probed:
            return self._cached
        try:
            # a keyring that cannot even be imported is one more computer without a keyring
            import keyring  # lazy: 15-90 ms at the app's start-up, and only Sync and a database password need it
            from keyring.backends import fail  # lazy: as above

            backend: Any = keyring.get_keyring()
            if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 1) <= 0:
                backend = None
        except Exception:  # noqa: BLE001 - no usable keyring is an ordinary situation
            backend = None
        self._cached, self._probed = backend, True
        return backend

    def reset(self) -> None:
        """Forget the secrets kept in memory and probe the keyring again (tests, or after installing one)."""
        with self._lock:
            self._session.clear()
        self._probed = False

    def keyring_available(self) -> bool:
        return self._backend() is not None

    def where(self) -> str:
        return "the system keyring" if self.keyring_available() else "memory only, until Curbdesk closes"

    def get(self, key: str) -> str | None:
        with self._lock:
            if key in self._session:
                return self._session[key]
        backend = self._backend()
        if backend is None:
            return None
        try:
            value = backend.get_password(self.SERVICE, key)
        except Exception as exc:  # noqa: BLE001 - a locked or broken keyring: ask the user instead
            log.warning("keyring read failed: %s", exc)
            return None
        return value or None

    def remember(self, key: str, secret: str, persist: bool = True) -> str:
        """Keep the secret; returns 'keyring' or 'session' (where it went)."""
        with self._lock:
            self._session[key] = secret
        backend = self._backend() if persist else None
        if backend is None:
            return "session"
        try:
            backend.set_password(self.SERVICE, key, secret)
        except Exception as exc:  # noqa: BLE001
            log.warning("keyring write failed: %s", exc)
            return "session"
        return "keyring"

    def forget(self, key: str) -> None:
        with self._lock:
            self._session.pop(key, None)
        backend = self._backend()
        if backend is not None:
            try:
                backend.delete_password(self.SERVICE, key)
            except Exception as exc:  # noqa: BLE001 - nothing stored is fine
                log.debug("nothing to forget for %s: %s", key, exc)

    def has(self, key: str) -> bool:
        return self.get(key) is not None
