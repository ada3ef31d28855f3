"""An overpayment at the counter over the agency's limits is refused until the clerk confirms the exact
refund it creates ($200 handed over on a $94 balance; 2000 typed for 20.00); a small one posts as before."""

from __future__ import annotations

import pytest

from desktop.domain.errors import OverpaymentNotConfirmed
from desktop.domain.ledger import overpayment_needs_confirmation
from desktop.services.core import settings
from desktop.services.payments import posting as payments
from desktop.services.payments import refunds
from tests.integration.payments.conftest import ledger_balance


@pytest.mark.parametrize(("overpaid", "owed", "expected"), [
    (0, 9400, False),            # exact payment
    (2000, 9400, False),         # exactly $20 over and 21 % of the balance: at the limits, no question
    (2001, 9400, True),          # a cent over $20
    (2350, 9400, True),          # 25 % of $94 is $23.50: over $20 first
    (500, 2000, False),          # 25 % of $20 exactly
    (501, 2000, True),           # a cent over 25 %
    (10600, 9400, True),         # $200 on $94
    (-100, 9400, False),         # underpayment
])
def test_the_limits_are_exclusive(overpaid: int, owed: int, expected: bool) -> None:
    assert overpayment_needs_confirmation(overpaid, owed, 2000, 25) is expected


def test_200_cash_on_a_94_balance_asks_for_the_106_refund(app, people, make_case) -> None:
    cid = make_case("OP-00001", fine_cents=9400)
    with pytest.raises(OverpaymentNotConfirmed) as refused:
        payments.post_counter_payment(app, people["clerk"], [cid], 20000, "cash")
    assert refused.value.overpaid_cents == 10600
    assert "$106.00" in str(refused.value) and "refund" in str(refused.value) and "$94.00" in str(refused.value)
    assert ledger_balance(app, cid) == 9400  # nothing posted
    assert refunds.refund_queue(app, people["supervisor"]) == []
    # A confirmation of a different refund does not confirm this one.
    with pytest.raises(OverpaymentNotConfirmed):
        payments.post_counter_payment(app, people["clerk"], [cid], 20000, "cash", confirmed_overpaid_cents=1000)
    result = payments.post_counter_payment(app, people["clerk"], [cid], 20000, "cash",
                                           confirmed_overpaid_cents=10600)
    assert result.overpaid_cents == 10600 and ledger_balance(app, cid) == -10600


def test_a_typo_of_2000_for_20_is_caught(app, people, make_case) -> None:
    cid = make_case("OP-00002", fine_cents=2000)
    with pytest.raises(OverpaymentNotConfirmed, match=r"\$1,980.00"):
        payments.post_counter_payment(app, people["clerk"], [cid], 200000, "check", cheque_number="1001")
    assert ledger_balance(app, cid) == 2000


def test_a_small_overpayment_posts_without_a_question(app, people, make_case) -> None:
    cid = make_case("OP-00003", fine_cents=9400)
    result = payments.post_counter_payment(app, people["clerk"], [cid], 10000, "cash")
    assert result.overpaid_cents == 600 and ledger_balance(app, cid) == -600


def test_the_limits_are_agency_settings(app, people, make_case) -> None:
    settings.set_value(app, people["admin"], "payments.overpay_confirm_cents", 0)
    settings.set_value(app, people["admin"], "payments.overpay_confirm_percent", 0)
    cid = make_case("OP-00004", fine_cents=9400)
    with pytest.raises(OverpaymentNotConfirmed, match=r"\$0.01 more"):
        payments.post_counter_payment(app, people["clerk"], [cid], 9401, "cash")
