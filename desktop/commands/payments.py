"""Payments commands: import payment files, check payment plans, reconcile a day, export payments and
the general ledger."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

from desktop.commands._shared import subcommand_group
from desktop.domain.errors import OverpaymentNotConfirmed, UserError
from desktop.domain.ledger import format_cents, parse_money


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"{text!r} is not a date; write it as YYYY-MM-DD.") from None


def register(sub: Any) -> None:
    isub = subcommand_group(sub, "import", "import data files (payments, owners, fines, permits, zones)")
    p = isub.add_parser("payments", help="BAI2 bank, lockbox, NACHA ACH (with returns) or card processor CSV files")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.set_defaults(handler=cmd_import_payments)

    esub = subcommand_group(sub, "export", "export data as CSV")
    e = esub.add_parser("payments", help="every payment with its source, status and the citations it paid")
    e.add_argument("--out", type=Path, required=True)
    e.set_defaults(handler=cmd_export_payments)
    g = esub.add_parser("gl", help="the general-ledger journal of one day (date, account, debit, credit, memo)")
    g.add_argument("--date", required=True, help="the business day, YYYY-MM-DD")
    g.add_argument("--out", type=Path, required=True)
    g.set_defaults(handler=cmd_export_gl)

    p = sub.add_parser("plans", help="payment plans")
    psub = p.add_subparsers(dest="plans_command", required=True)
    c = psub.add_parser("check", help="find missed instalments and defaults (reinstates waived late fees)")
    c.add_argument("--as-of", help="the day to check as of, YYYY-MM-DD (default: today)")
    c.set_defaults(handler=cmd_plans_check)

    p = sub.add_parser("payments", help="daily close and money checks")
    psub = p.add_subparsers(dest="payments_command", required=True)
    r = psub.add_parser("reconcile", help="reconcile a day's payments against the bank files and the drawers")
    r.add_argument("--date", help="the business day, YYYY-MM-DD (default: today)")
    r.set_defaults(handler=cmd_reconcile)
    o = psub.add_parser("overpayments", help="check that every overpaid case is in the refund queue (exit 3 if not)")
    o.set_defaults(handler=cmd_overpayments)
    c = psub.add_parser("counter", help="take a payment at the counter for one or several cases of one owner")
    c.add_argument("citations", nargs="+", metavar="CITATION")
    c.add_argument("--amount", required=True, help="the amount received, e.g. 94.00")
    c.add_argument("--method", required=True, choices=["cash", "cheque", "card"])
    c.add_argument("--cheque-number")
    c.add_argument("--card-reference", help="the card terminal's reference")
    c.add_argument("--card-last4", help="the last four digits of the card, never the full number")
    c.add_argument("--payer", default="")
    c.add_argument("--confirm-refund", metavar="AMOUNT",
                   help="the overpayment the payer means to make (it goes to the refund queue); needed above "
                        "payments.overpay_confirm_cents / _percent, else asked at a terminal")
    c.set_defaults(handler=cmd_counter)


def cmd_import_payments(env: Any) -> int:
    from desktop.services.payments.importers import ImportRejected  # lazy: 0.9 s at start-up
    from desktop.services.payments.imports import import_payment_file  # lazy: 0.9 s at start-up

    app = env.app()
    actor = env.actor(app)
    failed = 0
    for path in env.args.files:
        try:
            outcome = import_payment_file(app, actor, path)
        except ImportRejected as exc:
            failed += 1
            print("error: " + " ".join(str(exc).split()), file=sys.stderr)
            continue
        for line in outcome.lines():
            print(line)
    return 2 if failed else 0


def cmd_export_payments(env: Any) -> int:
    from desktop.services.payments.posting import export_payments  # lazy: 0.9 s at start-up

    app = env.app()
    n = export_payments(app, env.actor(app), env.args.out)
    print(f"{n:,} payments written to {env.args.out}")
    return 0


def cmd_export_gl(env: Any) -> int:
    from desktop.services.payments.daily_close import export_gl  # lazy: 0.9 s at start-up

    day = _day(env.args.date)
    app = env.app()
    lines = export_gl(app, env.actor(app), day, env.args.out)
    debit = sum(line.debit_cents for line in lines)
    totals = f"debits = credits = {format_cents(debit, lines[0].currency)}" if lines else "nothing was posted that day"
    print(f"{len(lines)} journal lines for {day:%Y-%m-%d} written to {env.args.out} ({totals})")
    return 0


def cmd_plans_check(env: Any) -> int:
    from desktop.services.payments.plans import check_plans  # lazy: 0.9 s at start-up

    day = _day(env.args.as_of) if env.args.as_of else None
    app = env.app()
    result = check_plans(app, env.actor(app), day)
    for line in result.lines():
        print(line)
    return 0


def cmd_reconcile(env: Any) -> int:
    from desktop.services.core.clock import agency_date  # lazy: 0.9 s at start-up
    from desktop.services.payments.daily_close import daily_close  # lazy: 0.9 s at start-up

    app = env.app()
    actor = env.actor(app)
    if env.args.date:
        day = _day(env.args.date)
    else:
        with app.db.reading() as s:
            day = agency_date(s, app.now())
    result = daily_close(app, actor, day)

    def money(cents: int) -> str:
        return format_cents(cents, result.currency)

    print(f"Daily close for {day:%Y-%m-%d}: {money(result.received_cents)} received")
    for line in result.lines:
        reported = "—" if line.reported_cents is None else money(line.reported_cents)
        print(f"  {line.label:<16} {line.count:>5} payments {money(line.received_cents):>14}  applied "
              f"{money(line.applied_cents):>12}  unmatched {money(line.unmatched_cents):>10}  reversed "
              f"{money(line.reversed_cents):>10}  reported {reported:>12}")
    for d in result.drawers:
        state = f"closed, difference {money(d.difference_cents or 0)}" if d.is_closed else "OPEN"
        print(f"  drawer of {d.clerk}: float {money(d.opening_float_cents)}, cash {money(d.cash_cents)}, "
              f"cheques {money(d.cheques_cents)}, cards {money(d.card_cents)}; {state}")
    if not result.differences:
        print("No differences: every cent is explained.")
    for diff in result.differences:
        print(f"  [{diff.kind}] {diff.text}")
    return 0


def cmd_overpayments(env: Any) -> int:
    from desktop.services.payments.refunds import refund_queue, unnoticed_overpayments  # lazy: 0.9 s at start-up

    app = env.app()
    actor = env.actor(app)
    problems = unnoticed_overpayments(app, actor)
    queue = refund_queue(app, actor)
    waiting = sum(1 for row in queue if row.refund_id is None)
    print(f"{len(queue)} overpaid case(s) in the refund queue, {waiting} without a refund request yet.")
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    return 3 if problems else 0


def cmd_counter(env: Any) -> int:
    from desktop.services.payments.posting import counter_case_ids, post_counter_payment  # lazy: 0.9 s at start-up

    args = env.args
    app = env.app()
    actor = env.actor(app)
    ids = counter_case_ids(app, actor, args.citations)
    amount = parse_money(args.amount)
    confirmed = parse_money(args.confirm_refund) if args.confirm_refund else None

    def post(confirmed_cents: int | None) -> Any:
        return post_counter_payment(app, actor, ids, amount, args.method, payer_name=args.payer,
                                    cheque_number=args.cheque_number, card_reference=args.card_reference,
                                    card_last4=args.card_last4, confirmed_overpaid_cents=confirmed_cents)

    try:
        result = post(confirmed)
    except OverpaymentNotConfirmed as exc:
        refund = format_cents(exc.overpaid_cents, exc.currency)
        if confirmed is not None or not sys.stdin.isatty():
            raise UserError(f"{exc} If it is right, run the command again with --confirm-refund "
                            f"{refund.lstrip('$£')}.") from None
        answer = input(f"{exc}\nTake it and put {refund} in the refund queue? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            print("Not posted.")
            return 1
        result = post(exc.overpaid_cents)
    print(f"Payment of {format_cents(result.amount_cents, result.currency)} posted, receipt {result.receipt_number}"
          + (f"; {format_cents(result.overpaid_cents, result.currency)} overpaid is in the refund queue."
             if result.overpaid_cents else "."))
    return 0
