"""HTTP client for a field endpoint (field sync protocol v1): status, event pages, photos, ack, reference push.

(Over 600 lines, knowingly: one protocol client: the deadline watch, size caps and retries wrap each of its
requests.)

The client moves bytes and nothing else: it returns events as raw dicts exactly
as received (validation is :mod:`desktop.sync.wire`'s job) and writes photos to
disk (verification is :mod:`desktop.persistence.evidence`'s job).

Transient failures (dropped connections, timeouts, ``5xx``, ``429``) are
retried with exponential backoff, honouring ``Retry-After`` (capped). A ``401``
is never retried. Every failure a clerk can act on is a
:class:`~desktop.domain.errors.UserError` subclass with one clear line.
A ``cancel`` hook (a :class:`threading.Event` or a callable returning bool) is
checked before every request, between download chunks and during backoff.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from desktop.domain.errors import UserError
from desktop.domain.jsonlimits import MAX_JSON_DEPTH, json_depth_ok
from desktop.sync.wire import REFERENCE_KINDS, EndpointStatus, ErrorBody, ReceivedEvent, error_body, is_sha256_hex

log = logging.getLogger(__name__)

CHUNK_BYTES = 16 * 1024  # small enough that a cut-off download keeps most of what arrived

#: one request, from connecting to its answer's last byte (not per read: a server dripping a byte at a
#: time is cut off when this has passed)
REQUEST_DEADLINE = 120.0
#: an event page larger than this is refused as it arrives (never held whole in memory)
MAX_PAGE_BYTES = 64 * 1024 * 1024
#: a photo larger than this is refused as it arrives
MAX_PHOTO_BYTES = 64 * 1024 * 1024
#: any other answer (status, errors, reference push)
MAX_SMALL_BYTES = 4 * 1024 * 1024
MAX_ERROR_BYTES = 64 * 1024
#: what is kept of a refused answer (for the quarantine): its first bytes only
EXCERPT_BYTES = 4 * 1024


# --------------------------------------------------------------------------- errors


class FieldEndpointError(UserError):
    """The field endpoint answered with something we cannot use. ``status`` is the HTTP status, when there was one."""

    status: int | None = None


class AuthenticationFailed(FieldEndpointError):
    """The endpoint refused the token (401/403). Never retried."""


class EndpointUnavailable(FieldEndpointError):
    """The endpoint could not be reached or kept failing after every retry."""


class EndpointCertificateError(FieldEndpointError):
    """TLS verification of the endpoint failed."""


class PhotoNotFound(FieldEndpointError):
    """The endpoint does not hold that photo (404)."""

    def __init__(self, message: str, sha256: str) -> None:
        super().__init__(message)
        self.sha256 = sha256


class ReferenceVersionConflict(FieldEndpointError):
    """``PUT /v1/reference/<kind>`` was refused because the version is not newer (409)."""

    def __init__(self, message: str, kind: str, version: int, held_version: int | None) -> None:
        super().__init__(message)
        self.kind = kind
        self.version = version
        self.held_version = held_version


class RequestDeadlineExceeded(FieldEndpointError):
    """The sync's own deadline passed while waiting on the endpoint (never retried)."""


class AnswerTooLarge(FieldEndpointError):
    """An answer was larger than its limit; it was refused as soon as the limit was passed."""

    def __init__(self, message: str, limit: int, received: int) -> None:
        super().__init__(message)
        self.limit = limit
        self.received = received

    def __reduce__(self) -> Any:  # (raised in the sync's helper process, raised again here)
        return (type(self), (str(self), self.limit, self.received), self.__dict__)


class RedirectRefused(FieldEndpointError):
    """The endpoint answered with a redirect; Curbdesk follows none."""


class SyncCancelled(UserError):
    """The user cancelled the sync; nothing half-done was acknowledged."""


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class EventPage:
    """One answer of ``GET /v1/events``: the events as received, the next cursor, whether more wait."""

    events: list[Any]
    next: str | None
    more: bool
    #: each event's own JSON text in the answer (None when the page could not be split that way)
    texts: list[str] | None = None

    def received(self) -> list[Any]:
        """The events for the ingest: :class:`ReceivedEvent` (text and value) where the texts are known."""
        if self.texts is None:
            return list(self.events)
        return [ReceivedEvent(text, value) for text, value in zip(self.texts, self.events, strict=True)]


_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


def _skip_space(body: str, i: int) -> int:
    match = _SPACE.match(body, i)  # always matches (perhaps nothing)
    return match.end() if match else i


def _past_separator(body: str, i: int, close: str) -> int:
    """After a value inside an array or object: the start of the next item, or the closing bracket."""
    i = _skip_space(body, i)
    if body[i] == ",":
        i = _skip_space(body, i + 1)
        if body[i] != close:
            return i
    elif body[i] == close:
        return i
    raise ValueError("not a separator")


def split_event_page(body: str) -> tuple[dict[str, Any], list[str]] | None:
    """Decode a ``GET /v1/events`` answer whose ``events`` is an array, keeping each event's own text.

    Each value is read by the standard decoder (``raw_decode``), so every event is decoded exactly once
    and its text is the very span it had in the answer. Anything else (not an object, no event array,
    malformed JSON) gives None, and the caller decodes the answer the ordinary way.
    """
    decode, space = _DECODER.raw_decode, _skip_space
    try:
        page: dict[str, Any] = {}
        texts: list[str] | None = None
        i = space(body, 0)
        if body[i] != "{":
            return None
        i = space(body, i + 1)
        while body[i] != "}":
            key, i = decode(body, i)
            i = space(body, i)
            if not isinstance(key, str) or body[i] != ":":
                return None
            i = space(body, i + 1)
            if key == "events" and body[i] == "[":
                values: list[Any] = []
                texts = []
                i = space(body, i + 1)
                while body[i] != "]":
                    value, end = decode(body, i)
                    values.append(value)
                    texts.append(body[i:end])
                    i = _past_separator(body, end, "]")
                page[key] = values
                i += 1
            else:
                page[key], i = decode(body, i)
                if key == "events":
                    texts = None
            i = _past_separator(body, i, "}")
        if space(body, i + 1) != len(body) or texts is None:
            return None
        return page, texts
    except (ValueError, IndexError, RecursionError):
        return None


@dataclass(frozen=True)
class PhotoDownload:
    """A finished photo download: where it is, its size, the SHA-256 of what was written."""

    path: Path
    size: int
    sha256: str
    resumed_from: list[int] = field(default_factory=list)


CancelHook = threading.Event | Callable[[], bool] | None


class _Transient(Exception):
    """Internal: this attempt failed in a way worth retrying."""

    def __init__(self, what: str, retry_after: float | None = None) -> None:
        super().__init__(what)
        self.what = what
        self.retry_after = retry_after


# --------------------------------------------------------------------------- deadlines


class _Watch:
    """One request's deadline: when it passes, the connection's socket is shut down, which ends any read
    waiting on it at once (a per-read timeout alone never ends a server that drips a byte at a time)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = max(seconds, 0.0)
        self.connection: HTTPConnection | None = None
        self.fired = False
        self._lock = threading.Lock()
        self._timer = threading.Timer(self.seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Watch:
        _CURRENT.watch = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        _CURRENT.watch = None

    def attach(self, connection: HTTPConnection) -> None:
        with self._lock:
            self.connection = connection
            fired = self.fired
        if fired:
            self._shut(connection)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            connection = self.connection
        if connection is not None:
            self._shut(connection)

    @staticmethod
    def _shut(connection: HTTPConnection) -> None:
        sock = getattr(connection, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:  # already closed
                pass


_CURRENT = threading.local()


def _attach(connection: HTTPConnection) -> None:
    watch: _Watch | None = getattr(_CURRENT, "watch", None)
    if watch is not None:
        watch.attach(connection)


class _Watched:
    """Mixed into urllib3's connections: each is put under the request's deadline watch as it connects
    (a TLS handshake dripped a byte at a time is cut off too) and as it sends."""

    def connect(self) -> None:
        _attach(self)  # type: ignore[arg-type]
        super().connect()  # type: ignore[misc]

    def request(self, *args: Any, **kwargs: Any) -> None:
        _attach(self)  # type: ignore[arg-type]
        super().request(*args, **kwargs)  # type: ignore[misc]


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _WatchedAdapter(HTTPAdapter):
    """An adapter whose connections the current request's :class:`_Watch` can cut."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


# --------------------------------------------------------------------------- client


class FieldClient:
    """Talks to one field endpoint over a :class:`requests.Session`.

    ``sleep`` is how the client waits between retries (injectable so tests do
    not wait); by default it waits on the cancel event when there is one, so a
    cancel interrupts a backoff at once.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        ca_bundle: str | os.PathLike[str] | None = None,
        verify: bool = True,
        timeout: tuple[float, float] = (5, 30),
        max_retries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_after: float = 60.0,
        cancel: CancelHook = None,
        sleep: Callable[[float], None] | None = None,
        session: requests.Session | None = None,
        deadline: float = REQUEST_DEADLINE,
        sync_deadline_at: float | None = None,
        max_page_bytes: int = MAX_PAGE_BYTES,
        max_photo_bytes: int = MAX_PHOTO_BYTES,
        max_json_depth: int = MAX_JSON_DEPTH,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise FieldEndpointError(f"The field endpoint address {base_url!r} is not an http(s) URL.")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.cancel = cancel
        self._sleep = sleep
        #: seconds one request may take from connecting to the last byte of its answer
        self.deadline = float(deadline)
        #: the whole sync's end (``time.time()``), shared by every client of one sync; None: no limit
        self.sync_deadline_at = sync_deadline_at
        self.max_page_bytes = int(max_page_bytes)
        self.max_photo_bytes = int(max_photo_bytes)
        self.max_json_depth = int(max_json_depth)
        self.session = session or requests.Session()
        adapter = _WatchedAdapter()
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update(
            {
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "User-Agent": "Curbdesk-FieldSync/1",
            }
        )
        #: passed with every request: a session-level setting would lose to $REQUESTS_CA_BUNDLE / $CURL_CA_BUNDLE
        self.verify: bool | str = str(ca_bundle) if ca_bundle is not None else verify
        self.session.verify = self.verify
        self.attempts = 0  # every HTTP request sent, for diagnostics and tests

    # ------------------------------------------------------------ plumbing

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> FieldClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def cancelled(self) -> bool:
        if self.cancel is None:
            return False
        if isinstance(self.cancel, threading.Event):
            return self.cancel.is_set()
        return bool(self.cancel())

    def _check_cancel(self) -> None:
        if self.cancelled():
            raise SyncCancelled("Sync was cancelled.")

    def _sync_left(self) -> float | None:
        """Seconds left of the sync's deadline (None: no deadline); raises once it has passed."""
        if self.sync_deadline_at is None:
            return None
        left = self.sync_deadline_at - time.time()
        if left <= 0:
            raise self._past_deadline()
        return left

    def _past_deadline(self) -> RequestDeadlineExceeded:
        return RequestDeadlineExceeded(
            f"{self._where()} kept the sync waiting past its time limit, so the sync stopped; "
            "everything stored before is kept. Try again later (the limit is sync.deadline_minutes)."
        )

    def _wait(self, seconds: float) -> None:
        left = self._sync_left()
        if left is not None and seconds >= left:
            raise self._past_deadline()  # the sync would be over before the next attempt
        if self._sleep is not None:
            self._sleep(seconds)
        elif isinstance(self.cancel, threading.Event):
            self.cancel.wait(seconds)
        else:
            time.sleep(seconds)
        self._check_cancel()

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        return float(min(self.backoff * (2**attempt), self.max_backoff))

    def _url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def _where(self) -> str:
        return f"The field endpoint at {self.base_url}"

    @staticmethod
    def _retry_after(response: requests.Response) -> float | None:
        value = response.headers.get("Retry-After", "").strip()
        if re.fullmatch(r"\d+(\.\d+)?", value):
            return float(value)
        return None

    def _raise_for_final(self, response: requests.Response, body: ErrorBody) -> None:
        """Raise the UserError for a non-retryable error answer."""
        status = response.status_code
        if status == 401:
            refused = AuthenticationFailed(
                f"{self._where()} refused the token (401). Check the token in Devices & Sync."
            )
            refused.status = 401
            raise refused
        if status == 403:
            raise AuthenticationFailed(
                f"{self._where()} accepted the token but refused access (403). "
                "Ask the fleet administrator to allow this office."
            )
        detail = f": {body.detail}" if body.detail else ""
        error = FieldEndpointError(f"{self._where()} answered {status} {body.error or response.reason}{detail}.")
        error.status = status
        raise error

    def _send(
        self,
        method: str,
        path: str,
        *,
        ok: tuple[int, ...],
        handle: Callable[[requests.Response], Any],
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        headers: Callable[[], dict[str, str]] | None = None,
        stream: bool = False,
        on_error: Callable[[requests.Response, ErrorBody, int], Any] | None = None,
    ) -> Any:
        """Send one request with retries; ``handle`` turns a good answer into the result.

        ``handle`` may raise :class:`_Transient` (e.g. the body was cut short) to
        ask for another attempt. ``on_error`` sees non-OK, non-transient answers
        first and may return a result or raise; if it returns None the generic
        error is raised.
        """
        last = "no attempt was made"
        unreachable: str | None = None  # why the endpoint could not be reached, while no attempt reached it
        for attempt in range(self.max_retries + 1):
            self._check_cancel()
            left = self._sync_left()
            budget = self.deadline if left is None else min(self.deadline, left)
            connect, read = self.timeout
            retry_after: float | None = None
            with _Watch(budget) as watch:
                try:
                    self.attempts += 1
                    response = self.session.request(
                        method,
                        self._url(path),
                        params=params,
                        json=json_body,
                        headers=headers() if headers else None,
                        timeout=(min(connect, budget), min(read, budget)),
                        stream=True,  # every body is read here, with its size capped and the deadline watched
                        allow_redirects=False,
                        verify=self.verify,
                    )
                    try:
                        status = response.status_code
                        if 300 <= status < 400:
                            where = urlsplit(response.headers.get("Location", "")).netloc or "another address"
                            raise RedirectRefused(
                                f"{self._where()} redirected the request to {where[:100]}; Curbdesk follows no "
                                "redirects. Enter the endpoint's final address in Devices & Sync."
                            )
                        unreachable = None  # it answered: a later failure is not "could not reach"
                        if status in ok:
                            result = handle(response)
                            if watch.fired:  # a body cut off at the deadline may look complete
                                raise _Transient(f"no complete answer within {budget:.0f} s")
                            return result
                        if status == 429 or status >= 500:
                            retry_after = self._retry_after(response)
                            body = self._error_body(response)
                            raise _Transient(f"{status} {body.error or response.reason}".strip(), retry_after)
                        body = self._error_body(response)
                        if on_error is not None:
                            result = on_error(response, body, attempt)
                            if result is not None:
                                return result
                        self._raise_for_final(response, body)
                    finally:
                        response.close()
                except requests.exceptions.SSLError as exc:
                    raise EndpointCertificateError(
                        f"{self._where()} did not present a certificate we trust ({_short(exc)}). "
                        "Check the CA bundle in Devices & Sync."
                    ) from None
                except (
                    requests.exceptions.ConnectionError,
                    requests.exceptions.Timeout,
                    requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError,
                ) as exc:
                    last = f"connection failed: {_short(exc)}"
                    reason = _unreachable_reason(exc)
                    if reason is not None and (attempt == 0 or unreachable is not None):
                        unreachable = reason
                except _Transient as exc:
                    last = exc.what
                    retry_after = exc.retry_after
                if watch.fired:
                    last = f"no complete answer within {budget:.0f} s"
            self._sync_left()
            if attempt < self.max_retries:
                delay = self._delay(attempt, retry_after)
                log.info("field endpoint %s %s: %s; retry %d in %.1fs", method, path, last, attempt + 1, delay)
                self._wait(delay)
        if unreachable is not None:
            address = urlsplit(self.base_url)
            port = address.port or (443 if address.scheme == "https" else 80)
            raise EndpointUnavailable(
                f"Could not reach the endpoint at {address.hostname}:{port}: {unreachable}. Check that the field "
                "endpoint is running and that its address in Devices & Sync is right, then sync again."
            )
        raise EndpointUnavailable(
            f"{self._where()} did not answer properly after {self.max_retries + 1} attempts "
            f"(last: {last}). Try again later."
        )

    def _read(self, response: requests.Response, limit: int, what: str) -> bytes:
        """The answer's body, refused (:class:`AnswerTooLarge`) as soon as it passes ``limit`` bytes."""
        declared = response.headers.get("Content-Length", "").strip()
        if declared.isdigit() and int(declared) > limit:
            raise self._too_large(what, limit, int(declared), b"")
        body = bytearray()
        for chunk in response.iter_content(256 * 1024):
            body += chunk
            if len(body) > limit:
                raise self._too_large(what, limit, len(body), bytes(body[:EXCERPT_BYTES]))
            if self.cancelled():
                raise SyncCancelled("Sync was cancelled.")
        return bytes(body)

    def _too_large(self, what: str, limit: int, received: int, excerpt: bytes) -> AnswerTooLarge:
        error = AnswerTooLarge(
            f"{self._where()} sent {what} larger than {_megabytes(limit)}; it was refused as it arrived and "
            "nothing of it was stored. Ask the fleet administrator to check the endpoint.",
            limit,
            received,
        )
        error.excerpt = excerpt  # type: ignore[attr-defined]
        return error

    def _error_body(self, response: requests.Response) -> ErrorBody:
        try:
            data = self._read(response, MAX_ERROR_BYTES, "an error answer")
        except AnswerTooLarge:
            return ErrorBody(error="", detail="(an error answer too large to show)")
        return error_body(data.decode("utf-8", "replace"))

    def _json(self, response: requests.Response, limit: int = MAX_SMALL_BYTES, what: str = "an answer") -> Any:
        return self._decode(self._read(response, limit, what), what)

    def _decode(self, data: bytes, what: str) -> Any:
        if not json_depth_ok(data, self.max_json_depth):
            raise FieldEndpointError(
                f"{self._where()} sent {what} nested more than {self.max_json_depth} levels deep; it was "
                "refused. Ask the fleet administrator to check the endpoint."
            )
        try:
            return json.loads(data)
        except (ValueError, RecursionError):
            # a body cut short or garbled in transit: worth another attempt
            raise _Transient("the answer was not complete JSON") from None

    # ------------------------------------------------------------ endpoints

    def status(self) -> EndpointStatus:
        """``GET /v1/status``."""

        def handle(response: requests.Response) -> EndpointStatus:
            data = self._json(response)
            try:
                return EndpointStatus.model_validate(data)
            except ValueError as exc:
                raise FieldEndpointError(
                    f"{self._where()} sent a status we cannot read ({_short(exc)})."
                ) from None

        result: EndpointStatus = self._send("GET", "/v1/status", ok=(200,), handle=handle)
        return result

    def events(self, after: str | None = None, limit: int = 100) -> EventPage:
        """``GET /v1/events``: one page, events as raw objects exactly as received."""
        if not 1 <= limit <= 500:
            raise ValueError("limit must be between 1 and 500")
        params: dict[str, Any] = {"limit": limit}
        if after is not None:
            params["after"] = after

        def handle(response: requests.Response) -> EventPage:
            content = self._read(response, self.max_page_bytes, "an event page")
            if not json_depth_ok(content, self.max_json_depth):
                raise FieldEndpointError(
                    f"{self._where()} sent an event page nested more than {self.max_json_depth} levels deep; "
                    "it was refused and nothing of it was stored. Ask the fleet administrator to check the endpoint."
                )
            try:
                split = split_event_page(content.decode("utf-8"))
            except UnicodeDecodeError:
                split = None
            data, texts = split if split is not None else (self._decode(content, "an event page"), None)
            if (
                not isinstance(data, dict)
                or not isinstance(data.get("events"), list)
                or not isinstance(data.get("more", False), bool)
                or not (data.get("next") is None or isinstance(data.get("next"), str))
            ):
                raise FieldEndpointError(
                    f"{self._where()} sent an event page that does not follow the protocol."
                )
            next_cursor = data.get("next")
            more = bool(data.get("more", False))
            if more and next_cursor is None:
                raise FieldEndpointError(f"{self._where()} said more events wait but gave no cursor.")
            return EventPage(events=data["events"], next=next_cursor, more=more, texts=texts)

        page: EventPage = self._send("GET", "/v1/events", ok=(200,), handle=handle, params=params)
        return page

    def iter_pages(self, after: str | None = None, limit: int = 100) -> Any:
        """Yield pages until the endpoint says there are no more (cancel is checked between pages)."""
        cursor = after
        while True:
            page = self.events(cursor, limit)
            yield page
            if not page.more or page.next is None or page.next == cursor:
                return  # (a cursor that does not advance would ask for the same page for ever)
            cursor = page.next

    def photo(
        self,
        sha256: str,
        dest_path: str | os.PathLike[str],
        *,
        progress: Callable[[int], None] | None = None,
        durable: bool = True,
    ) -> PhotoDownload:
        """``GET /v1/photos/<sha256>`` to ``dest_path``, resuming a partial file with ``Range``.

        The bytes go to ``<dest_path>.part`` first; after a dropped connection the
        next attempt asks for ``Range: bytes=<n>-``. A ``206`` is appended; a server
        that ignores the range and answers ``200`` restarts the file. The digest is
        computed but not judged here: compare ``result.sha256`` with what you expected.
        """
        if not is_sha256_hex(sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        dest = Path(dest_path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")
        resumed_from: list[int] = []

        def range_header() -> dict[str, str]:
            have = part.stat().st_size if part.exists() else 0
            if have > 0:
                resumed_from.append(have)
                return {"Range": f"bytes={have}-", "Accept": "image/jpeg, */*"}
            return {"Accept": "image/jpeg, */*"}

        def handle(response: requests.Response) -> PhotoDownload:
            have = part.stat().st_size if part.exists() else 0
            mode = "wb"
            if response.status_code == 206:
                start = _content_range_start(response.headers.get("Content-Range", ""))
                if start != have:
                    part.unlink(missing_ok=True)
                    raise _Transient("the endpoint answered an unexpected range")
                mode = "ab"
            cap = self.max_photo_bytes
            declared = response.headers.get("Content-Length", "").strip()
            if declared.isdigit() and (have if mode == "ab" else 0) + int(declared) > cap:
                part.unlink(missing_ok=True)
                raise self._too_large(f"photo {sha256[:12]}…", cap, int(declared), b"")
            written = have if mode == "ab" else 0
            try:
                with open(part, mode) as out:
                    for chunk in response.iter_content(CHUNK_BYTES):
                        written += len(chunk)
                        if written > cap:
                            out.close()
                            part.unlink(missing_ok=True)
                            raise self._too_large(f"photo {sha256[:12]}…", cap, written, b"")
                        out.write(chunk)
                        if progress is not None:
                            progress(len(chunk))
                        if self.cancelled():
                            out.flush()
                            raise SyncCancelled("Sync was cancelled.")
                    out.flush()
                    if durable:  # callers that verify and store the bytes elsewhere skip this fsync
                        os.fsync(out.fileno())
            except (
                requests.exceptions.ConnectionError,
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.Timeout,
            ) as exc:
                raise _Transient(f"photo download broke off: {_short(exc)}") from None
            digest = hashlib.sha256()
            size = 0
            with open(part, "rb") as done:
                for chunk in iter(lambda: done.read(1024 * 1024), b""):
                    digest.update(chunk)
                    size += len(chunk)
            os.replace(part, dest)
            return PhotoDownload(path=dest, size=size, sha256=digest.hexdigest(), resumed_from=resumed_from)

        def on_error(response: requests.Response, body: ErrorBody, attempt: int) -> Any:
            if response.status_code == 404:
                raise PhotoNotFound(f"{self._where()} does not hold photo {sha256[:12]}… (404).", sha256)
            if response.status_code == 416:
                # our partial file is longer than the photo: start over on the next attempt
                part.unlink(missing_ok=True)
                raise _Transient("the partial download did not fit the photo (416)")
            return None

        result: PhotoDownload = self._send(
            "GET",
            f"/v1/photos/{quote(sha256)}",
            ok=(200, 206),
            handle=handle,
            headers=range_header,
            stream=True,
            on_error=on_error,
        )
        return result

    def ack(self, through: str) -> None:
        """``POST /v1/ack``: the endpoint may now delete everything up to ``through``."""
        if not through:
            raise ValueError("ack needs a cursor")
        self._send("POST", "/v1/ack", ok=(200, 204), handle=lambda r: True, json_body={"through": through})

    def put_reference(self, kind: str, version: int, items: list[dict[str, Any]]) -> int:
        """``PUT /v1/reference/<kind>``; returns the accepted version.

        Raises :class:`ReferenceVersionConflict` on ``409``, except when a retry
        finds the endpoint already holding exactly this version (our earlier
        attempt got through but its answer was lost).
        """
        if kind not in REFERENCE_KINDS:
            raise ValueError(f"unknown reference kind {kind!r}")
        if isinstance(version, bool) or not isinstance(version, int):
            raise ValueError("version must be an int")

        def handle(response: requests.Response) -> int:
            data = self._json(response)
            accepted = data.get("accepted_version") if isinstance(data, dict) else None
            if isinstance(accepted, bool) or not isinstance(accepted, int):
                raise FieldEndpointError(f"{self._where()} did not say which {kind} version it accepted.")
            return accepted

        def on_error(response: requests.Response, body: ErrorBody, attempt: int) -> Any:
            if response.status_code != 409:
                return None
            extra = body.model_extra or {}
            held = extra.get("held_version")
            held_version = held if isinstance(held, int) and not isinstance(held, bool) else None
            if attempt > 0 and held_version == version:
                return version
            holds = f"already holds {kind} version {held_version}" if held_version is not None else (
                f"already holds a {kind} version at least as new"
            )
            raise ReferenceVersionConflict(
                f"{self._where()} {holds}; version {version} is not newer. "
                "Reload the reference data and push again.",
                kind,
                version,
                held_version,
            )

        accepted: int = self._send(
            "PUT",
            f"/v1/reference/{kind}",
            ok=(200,),
            handle=handle,
            json_body={"version": version, "items": items},
            on_error=on_error,
        )
        return accepted


def _megabytes(limit: int) -> str:
    return f"{limit / (1024 * 1024):g} MB" if limit >= 1024 * 1024 else f"{limit:,} bytes"


def _content_range_start(value: str) -> int | None:
    match = re.match(r"bytes\s+(\d+)-(\d+)/(\d+|\*)", value.strip())
    return int(match.group(1)) if match else None


def _unreachable_reason(exc: BaseException) -> str | None:
    """Why no connection could be made, in words (urllib3's "HTTPConnectionPool(...): Max retries exceeded"
    is not for a clerk); None when a connection was made and then broke (that is not "unreachable")."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "no answer to the connection (timed out)"
    if not isinstance(exc, requests.exceptions.ConnectionError) or isinstance(
            exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
        return None
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        cur = stack.pop()
        if cur is None or id(cur) in seen:
            continue
        seen.add(id(cur))
        if isinstance(cur, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cur, socket.gaierror):
            return "no computer of that name was found"
        if isinstance(cur, OSError) and cur.errno in (101, 113, 10051, 10065):
            return "the network cannot reach it"
        stack += [cur.__cause__, cur.__context__, getattr(cur, "reason", None)]
        stack += [a for a in getattr(cur, "args", ()) if isinstance(a, BaseException)]
    text = str(exc)
    if "Connection refused" in text or "[Errno 111]" in text:
        return "connection refused"
    if "Name or service not known" in text or "Failed to resolve" in text or "getaddrinfo failed" in text:
        return "no computer of that name was found"
    if "NewConnectionError" in text:
        return "no connection could be made"
    return None


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:160]
