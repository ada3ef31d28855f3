"""Damaged copies of the real bank files must be read or refused with ImportRejected, never crash."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop.services.payments.importers import ImportRejected, read_payment_bytes

SAMPLES = [
    "bai2_moov/sample1.txt", "bai2_moov/sample2.txt", "bai2_moov/sample3.txt", "bai2_moj/svb_us_example.bai2",
    "bai2_moj/nwb_example.bai2", "lockbox_fundersclub/test_lockbox.bai", "nacha_ach_moov/return-WEB.ach",
    "nacha_ach_moov/web-debit.ach", "nacha_ach_moov/cor-example.ach",
]


@pytest.mark.parametrize("name", SAMPLES)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_file_is_read_or_rejected(bank_files: Path, name: str, data: st.DataObject) -> None:
    original = (bank_files / name).read_bytes()
    position = data.draw(st.integers(min_value=0, max_value=len(original) - 1))
    action = data.draw(st.sampled_from(["replace", "delete", "truncate", "insert"]))
    byte = data.draw(st.sampled_from(list(b"0159,/ \nA-9\x00") + [0xE9]))
    if action == "replace":
        mutated = original[:position] + bytes([byte]) + original[position + 1:]
    elif action == "delete":
        mutated = original[:position] + original[position + 1:]
    elif action == "truncate":
        mutated = original[:position]
    else:
        mutated = original[:position] + bytes([byte]) + original[position:]
    try:
        result = read_payment_bytes(mutated, "mutated")
    except ImportRejected as rejected:
        assert rejected.reason
        return
    assert all(payment.amount_cents > 0 for payment in result.payments)


CSV_SAMPLE = (
    b"transaction_id,settled_at,amount,currency,card_brand,card_last4,citation_number,plate,payer_name,status\n"
    b"tx-1,2024-03-05T14:30:00-08:00,$75.00,USD,visa,4242,1234567890,7ABC123,Jane Doe,settled\n"
    b'tx-2,2024-03-05T15:00:00Z,"1,234.50",USD,mastercard,5454,,8XYZ999,"Doe, John",refunded\n'
)


@settings(max_examples=300, deadline=None)
@given(position=st.integers(min_value=0, max_value=len(CSV_SAMPLE) - 1),
       byte=st.sampled_from(list(b'0,"\n-$Z:. x\r') + [0xE9, 0x00]),
       action=st.sampled_from(["replace", "delete", "insert"]))
def test_mutated_processor_csv_is_read_or_rejected(position: int, byte: int, action: str) -> None:
    if action == "replace":
        mutated = CSV_SAMPLE[:position] + bytes([byte]) + CSV_SAMPLE[position + 1:]
    elif action == "delete":
        mutated = CSV_SAMPLE[:position] + CSV_SAMPLE[position + 1:]
    else:
        mutated = CSV_SAMPLE[:position] + bytes([byte]) + CSV_SAMPLE[position:]
    try:
        result = read_payment_bytes(mutated, "mutated.csv")
    except ImportRejected:
        return
    assert all(payment.amount_cents > 0 and payment.received_at is not None for payment in result.payments)
