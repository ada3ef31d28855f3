"""Field sync commands: sync, import-bundle, devices, export quarantine.

    sync --endpoint URL --token TOKEN [--ca-bundle FILE] [--no-push] [--limit N] [--retries N]
    import-bundle FILE...
    devices add DEVICE_ID [--public-key BASE64] [--officer BADGE]
    devices held | accept NAME [--public-key BASE64] | refuse NAME --reason TEXT
    devices list
    export quarantine --out FILE
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path
from typing import Any

from desktop.domain.errors import UserError

TOKEN_ENV = "CURBDESK_SYNC_TOKEN"


def register(sub: Any) -> None:
    p = sub.add_parser("sync", help="pull from a field endpoint, push reference data")
    p.add_argument("--endpoint", required=True, metavar="URL", help="the field endpoint, e.g. https://gw.example.org")
    p.add_argument("--token", help=f"bearer token (or set ${TOKEN_ENV}; else the system keyring is asked)")
    p.add_argument("--ca-bundle", type=Path, help="CA certificates to trust for this endpoint (PEM)")
    p.add_argument("--no-push", action="store_true", help="do not push reference data")
    p.add_argument("--limit", type=int, default=500, help="events per page, 1..500 (default 500)")
    p.add_argument("--retries", type=int, default=5,
                   help="retries of a failed request, with backoff (default 5; 0 fails at once)")
    p.add_argument("--helper-process-from", type=int, metavar="EVENTS",
                   help="fetch and check the events on a helper process when at least this many wait "
                        "(0: always; default: for a large sync, see HELPER_PROCESS_FROM in desktop.services.sync.run)")
    p.set_defaults(handler=cmd_sync)

    p = sub.add_parser("import-bundle", help="import dock bundles (ZIP files exported by docked handhelds)")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.set_defaults(handler=cmd_import_bundle)

    p = sub.add_parser("devices", help="handheld devices")
    dsub = p.add_subparsers(dest="devices_command", required=True)
    a = dsub.add_parser("add", help="register a device, with its Ed25519 public key (its events must then be signed)")
    a.add_argument("device_id")
    a.add_argument("--public-key", metavar="BASE64",
                   help="base64 of the 32-byte Ed25519 public key (without it, its events are accepted unsigned)")
    a.add_argument("--officer", metavar="BADGE", help="the officer the device is issued to")
    a.set_defaults(handler=cmd_devices_add)
    h = dsub.add_parser("held", help="dock bundles of unregistered devices, held for a supervisor")
    h.set_defaults(handler=cmd_devices_held)
    acc = dsub.add_parser("accept", help="accept a held dock bundle: register its device, then import it")
    acc.add_argument("bundle", metavar="NAME")
    acc.add_argument("--public-key", metavar="BASE64", help="the key the handheld shows (then its events must be "
                                                              "signed with it)")
    acc.add_argument("--officer", metavar="BADGE")
    acc.set_defaults(handler=cmd_devices_accept)
    ref = dsub.add_parser("refuse", help="refuse a held dock bundle (nothing of it is stored)")
    ref.add_argument("bundle", metavar="NAME")
    ref.add_argument("--reason", required=True)
    ref.set_defaults(handler=cmd_devices_refuse)
    ls = dsub.add_parser("list", help="devices with last seen, last sequence, gaps and pending events")
    ls.set_defaults(handler=cmd_devices_list)

    export = sub.choices.get("export")
    esub = export.get_default("export_sub") if export is not None else None
    if esub is not None:
        q = esub.add_parser("quarantine", help="quarantined field events with their reasons")
        q.add_argument("--out", type=Path, required=True)
        q.set_defaults(handler=cmd_export_quarantine)


def _progress_printer() -> Any:
    if not sys.stderr.isatty():
        return None
    last = [""]

    def show(done: int, total: int, text: str) -> None:
        if text != last[0]:
            print(f"\r{text[:100]:100}", end="", file=sys.stderr)
            last[0] = text

    return show


def cmd_sync(env: Any) -> int:
    from desktop.services.sync import endpoints, run  # lazy: ~600 ms at every command's start-up

    args = env.args
    if not 1 <= args.limit <= 500:
        raise UserError("--limit is 1 to 500 events per page.")
    if not 0 <= args.retries <= 50:
        raise UserError("--retries is 0 to 50.")
    if args.helper_process_from is not None and args.helper_process_from < 0:
        raise UserError("--helper-process-from is a number of events, 0 or more.")
    app = env.app()
    actor = env.actor(app)
    ca_bundle = None
    if args.ca_bundle is not None:
        if not args.ca_bundle.is_file():
            raise UserError(f"The CA bundle {args.ca_bundle} does not exist.")
        ca_bundle = str(args.ca_bundle.resolve())
    endpoint_id = endpoints.endpoint_for_url(app, actor, args.endpoint, ca_bundle)
    token = args.token or os.environ.get(TOKEN_ENV) or None
    progress = _progress_printer()
    helpers_from = run.HELPER_PROCESS_FROM if args.helper_process_from is None else args.helper_process_from
    # The objects of every module loaded so far live as long as the command: frozen, the collections the
    # sync's batches set off look at the sync's own objects only (a tenth of the command's CPU otherwise).
    gc.freeze()
    try:
        summary = run.sync_now(app, actor, endpoint_id, progress, token=token, page_limit=args.limit,
                               push=not args.no_push, client_options={"max_retries": args.retries},
                               helper_process_from=helpers_from, checks_process_from=helpers_from)
    except UserError as exc:
        if progress:
            print(file=sys.stderr)
        kept = getattr(exc, "sync_summary", None)
        tail = ""
        if kept is not None and kept.stats.events and not isinstance(exc, run.DatabaseConnectionLost):  # (says it)
            tail = (f" Kept what was committed before: {kept.stats.events:,} events, "
                    f"{kept.stats.citations:,} citations.")
        raise UserError(" ".join(str(exc).split()) + tail) from exc
    if progress:
        print(file=sys.stderr)
    print(summary.line())
    return 0


def cmd_import_bundle(env: Any) -> int:
    from desktop.services.sync import bundles  # lazy: ~600 ms at every command's start-up
    from desktop.sync.bundle import BundleRejected  # lazy: ~100 ms at every command's start-up

    app = env.app()
    actor = env.actor(app)
    failed = 0
    for path in env.args.files:
        try:
            result = bundles.import_bundle(app, actor, path, _progress_printer())
        except BundleRejected as exc:
            failed += 1
            print("error: " + " ".join(str(exc).split()), file=sys.stderr)
            continue
        except UserError as exc:
            failed += 1
            print(f"error: {path.name}: " + " ".join(str(exc).split()), file=sys.stderr)
            continue
        if sys.stderr.isatty():
            print(file=sys.stderr)
        print(result.line())
    return 2 if failed else 0


def cmd_devices_add(env: Any) -> int:
    from desktop.services.sync import devices  # lazy: ~600 ms at every command's start-up

    app = env.app()
    if not env.args.public_key:
        devices.add_device(app, env.actor(app), env.args.device_id, env.args.officer)
        print(f"device {env.args.device_id} registered without a key: its events are accepted unsigned")
        return 0
    fingerprint = devices.register_device(app, env.actor(app), env.args.device_id, env.args.public_key,
                                          env.args.officer)
    print(f"device {env.args.device_id} registered with key {fingerprint}; from now on its unsigned or wrongly "
          "signed events are quarantined")
    return 0


def cmd_devices_held(env: Any) -> int:
    from desktop.services.sync import bundles  # lazy: ~600 ms at every command's start-up

    app = env.app()
    for row in bundles.list_held_bundles(app, env.actor(app)):
        print(f"{row.name}\tdevice {row.device_id}\theld {row.held_at:%Y-%m-%d %H:%M}\t{row.size:,} bytes")
    return 0


def cmd_devices_accept(env: Any) -> int:
    from desktop.services.sync import bundles  # lazy: ~600 ms at every command's start-up

    app = env.app()
    result = bundles.accept_held_bundle(app, env.actor(app), env.args.bundle, env.args.public_key, env.args.officer)
    print(result.line())
    return 0


def cmd_devices_refuse(env: Any) -> int:
    from desktop.services.sync import bundles  # lazy: ~600 ms at every command's start-up

    app = env.app()
    bundles.refuse_held_bundle(app, env.actor(app), env.args.bundle, env.args.reason)
    print(f"{env.args.bundle}: refused; nothing of it was stored")
    return 0


def cmd_devices_list(env: Any) -> int:
    from desktop.services.sync import devices  # lazy: ~600 ms at every command's start-up

    app = env.app()
    for d in devices.list_devices(app, env.actor(app)):
        seen = d.last_seen_at.isoformat(timespec="minutes") if d.last_seen_at else "-"
        print(f"{d.device_id:12} officer {d.officer_badge or '-':8} last seen {seen:25} last seq "
              f"{d.last_seq if d.last_seq is not None else '-':>6}  pending {d.pending_events or 0:>5}  "
              f"{'signed' if d.has_key else 'unsigned':8} {d.gaps_text() or 'no gaps'}")
    return 0


def cmd_export_quarantine(env: Any) -> int:
    from desktop.services.sync import quarantine  # lazy: ~600 ms at every command's start-up

    app = env.app()
    n = quarantine.export_quarantine(app, env.actor(app), env.args.out)
    print(f"{n:,} quarantined events written to {env.args.out}")
    return 0
