"""The field simulator's HTTP side: protocol v1 requests turned into calls on the simulator, faults applied.

:class:`EndpointHandler` checks the bearer token, takes the fault the simulator has in store for the
request (a dropped connection, 429, 5xx, a stall), then answers ``/v1/status``, ``/v1/events``,
``/v1/photos/<sha>`` (with ``Range``), ``/v1/ack`` and ``/v1/reference/<kind>`` from what
:class:`desktop.demo.simulator.FieldSimulator` holds.
"""

from __future__ import annotations

import hmac
import json
import logging
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from desktop.demo.fleet import Faults
from desktop.sync.wire import REFERENCE_KINDS

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 20 * 1024 * 1024


class SimulatedEndpoint(Protocol):
    """What the handler asks of the simulator it serves."""

    token: str
    faults: Faults

    def take_fault(self, path: str) -> str | None: ...

    def record(self, method: str, path: str, status: int, fault: str | None) -> None: ...

    def status(self) -> dict[str, Any]: ...

    def page(self, after: str | None, limit: int) -> dict[str, Any]: ...

    def ack(self, through: str) -> None: ...

    def put_reference(self, kind: str, body: Any) -> tuple[int, dict[str, Any]]: ...

    def served_photo(self, sha: str) -> bytes | None: ...


class QuietServer(ThreadingHTTPServer):
    """A client that goes away mid-answer (a killed sync, a cancelled download) is normal here, not an error."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            log.debug("client %s went away: %s", client_address, error)
            return
        super().handle_error(request, client_address)


class EndpointHandler(BaseHTTPRequestHandler):
    sim: SimulatedEndpoint
    protocol_version = "HTTP/1.1"
    server_version = "CurbdeskFieldSimulator/1"
    timeout = 30
    # headers and body go out in separate writes: without this, Nagle + delayed ACK cost 40 ms per answer
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _send_json(self, status: int, body: Any, fault: str | None = None, headers: dict[str, str] | None = None,
                   ) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self._send_bytes(status, data, "application/json", fault, headers)

    def _send_bytes(self, status: int, data: bytes, content_type: str, fault: str | None,
                    headers: dict[str, str] | None = None) -> None:
        self.sim.record(self.command, self.path, status, fault)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if fault == "drop" and len(data) > 1:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self._cut()
            return
        if data:
            self.wfile.write(data)

    def _cut(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _error(self, status: int, code: str, detail: str, headers: dict[str, str] | None = None,
               fault: str | None = None) -> None:
        self._send_json(status, {"error": code, "detail": detail}, fault=fault, headers=headers)

    def _read_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise ValueError("body too large")
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw.decode("utf-8")) if raw else None

    def _authorised(self) -> bool:
        header = self.headers.get("Authorization", "")
        expected = f"Bearer {self.sim.token}"
        return hmac.compare_digest(header.encode("utf-8"), expected.encode("utf-8"))

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        path = url.path
        body: Any = None
        if self.command in ("POST", "PUT"):
            try:
                body = self._read_body()
            except (ValueError, UnicodeDecodeError):
                self._error(400, "bad_request", "the body is not JSON")
                return
        fault = self.sim.take_fault(path)
        if fault == "401" or not self._authorised():
            self._error(401, "unauthorized", "bad or missing bearer token", fault=fault)
            return
        if fault == "stall":
            self.sim.record(self.command, self.path, 0, fault)
            self._cut()
            return
        if fault == "429":
            retry = str(self.sim.faults.retry_after_seconds)
            self._error(429, "rate_limited", "slow down", headers={"Retry-After": retry}, fault=fault)
            return
        if fault in ("503", "500"):
            self._error(int(fault), "unavailable", "the gateway is busy", fault=fault)
            return
        drop = fault if fault == "drop" else None
        query = parse_qs(url.query)
        if self.command == "GET" and path == "/v1/status":
            self._send_json(200, self.sim.status(), fault=drop)
        elif self.command == "GET" and path == "/v1/events":
            try:
                limit = int(query.get("limit", ["100"])[0])
                if not 1 <= limit <= 500:
                    raise ValueError
            except ValueError:
                self._error(400, "bad_limit", "limit must be 1..500")
                return
            after = query.get("after", [None])[0]
            try:
                page = self.sim.page(after, limit)
            except ValueError:
                self._error(400, "bad_cursor", f"unknown cursor {after!r}")
                return
            self._send_json(200, page, fault=drop)
        elif self.command == "GET" and path.startswith("/v1/photos/"):
            self._photo(path[len("/v1/photos/"):], drop)
        elif self.command == "POST" and path == "/v1/ack":
            through = body.get("through") if isinstance(body, dict) else None
            try:
                if not isinstance(through, str):
                    raise ValueError
                self.sim.ack(through)
            except ValueError:
                self._error(400, "bad_cursor", "through must be a cursor from /v1/events")
                return
            self._send_bytes(204, b"", "application/json", drop)
        elif self.command == "PUT" and path.startswith("/v1/reference/"):
            kind = path[len("/v1/reference/"):]
            if kind not in REFERENCE_KINDS:
                self._error(404, "unknown_kind", f"no reference kind {kind!r}")
                return
            status, answer = self.sim.put_reference(kind, body)
            self._send_json(status, answer, fault=drop if status == 200 else None)
        else:
            self._error(404, "not_found", f"no such endpoint {self.command} {path}")

    def _photo(self, sha: str, drop: str | None) -> None:
        data = self.sim.served_photo(sha)
        if data is None:
            self._error(404, "not_found", "photo not held")
            return
        range_header = self.headers.get("Range", "")
        start = 0
        if range_header and not self.sim.faults.ignore_range:
            try:
                unit, _, spec = range_header.partition("=")
                first, _, last = spec.partition("-")
                if unit.strip() != "bytes" or not first.strip().isdigit():
                    raise ValueError
                start = int(first)
                end = int(last) if last.strip() else len(data) - 1
            except ValueError:
                start, end = 0, len(data) - 1
            else:
                if start >= len(data):
                    self._error(416, "range", "range not satisfiable",
                                headers={"Content-Range": f"bytes */{len(data)}"})
                    return
                end = min(end, len(data) - 1)
                self._send_bytes(206, data[start:end + 1], "image/jpeg", drop,
                                 {"Content-Range": f"bytes {start}-{end}/{len(data)}", "Accept-Ranges": "bytes"})
                return
        self._send_bytes(200, data, "image/jpeg", drop, {"Accept-Ranges": "bytes"})

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()
