"""Card processor settlement CSV: columns, strict validation, and no full card numbers ever."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from desktop.services.payments.importers import FileKind, ImportRejected, PaymentMethod, read_payment_bytes

HEADER = "transaction_id,settled_at,amount,currency,card_brand,card_last4,citation_number,plate,payer_name,status"


def csv_bytes(*rows: str) -> bytes:
    return ("\n".join((HEADER, *rows)) + "\n").encode()


def test_settled_rows_become_card_payments() -> None:
    data = csv_bytes(
        "tx-1,2024-03-05T14:30:00-08:00,$75.00,USD,visa,4242,1234567890,7ABC123,Jane Doe,settled",
        'tx-2,2024-03-05T15:00:00Z,"1,234.50",USD,mastercard,5454,,8XYZ999,,settled',
        "tx-3,2024-03-06T09:00:00Z,75.00,USD,visa,4242,1234567890,,Jane Doe,refunded",
    )
    result = read_payment_bytes(data, "settlement.csv")
    assert result.kind is FileKind.PROCESSOR_CSV
    assert [p.amount_cents for p in result.payments] == [7500, 123450]
    first = result.payments[0]
    assert first.received_at == datetime(2024, 3, 5, 22, 30, tzinfo=UTC)
    assert first.method is PaymentMethod.CARD and first.reference_text == "1234567890 7ABC123"
    assert first.external_id.endswith(":tx-1") and first.line_numbers == (2,)
    assert result.skipped[0].reason.startswith("refunded card transaction tx-3")
    assert result.control_total_cents == 130950


@pytest.mark.parametrize(
    ("row", "fragment"),
    [
        ("tx-1,2024-03-05T14:30:00,75.00,USD,visa,4242,,,,settled", "has no UTC offset"),
        ("tx-1,2024-03-05T14:30:00Z,75.0.0,USD,visa,4242,,,,settled", "is not an amount of money"),
        ("tx-1,2024-03-05T14:30:00Z,-75.00,USD,visa,4242,,,,settled", "must be positive"),
        ("tx-1,2024-03-05T14:30:00Z,75.00,USD,visa,424,,,,settled", "exactly four digits"),
        ("tx-1,2024-03-05T14:30:00Z,75.00,USD,visa,4242,,,,declined", "is not one of"),
        ("tx-1,2024-03-05T14:30:00Z,75.00,US,visa,4242,,,,settled", "three-letter code"),
        ("tx-1,2024-03-05T14:30:00Z,75.00,USD,visa,4242,,,settled", "this row has 9 fields"),
    ],
)
def test_bad_row_rejects_file_with_line_number(row: str, fragment: str) -> None:
    good = "tx-0,2024-03-05T14:30:00Z,10.00,USD,visa,4242,,,,settled"
    with pytest.raises(ImportRejected) as caught:
        read_payment_bytes(csv_bytes(good, row), "s.csv")
    assert caught.value.line == 3 and fragment in caught.value.reason


@pytest.mark.parametrize(
    ("field_values", "column"),
    [
        ("visa,4111 1111 1111 1111,,,", "card_last4"),
        ("4111-1111-1111-1111,4242,,,", "card_brand"),
        ("visa,4242,,,Jane 4111111111111111", "payer_name"),
    ],
)
def test_full_card_number_rejects_file_without_echoing_it(field_values: str, column: str) -> None:
    data = csv_bytes(f"tx-1,2024-03-05T14:30:00Z,75.00,USD,{field_values},settled")
    with pytest.raises(ImportRejected) as caught:
        read_payment_bytes(data, "s.csv")
    message = str(caught.value)
    assert f"the {column} field holds what looks like a full card number (ending 1111)" in message
    assert "4111111111111111" not in message and "4111 1111" not in message


def test_long_citation_number_that_fails_luhn_is_not_a_card() -> None:
    data = csv_bytes("tx-1,2024-03-05T14:30:00Z,75.00,USD,visa,4242,1234567890123,,,settled")
    assert read_payment_bytes(data, "s.csv").payments[0].reference_text == "1234567890123"


def test_duplicate_transaction_and_wrong_header() -> None:
    row = "tx-1,2024-03-05T14:30:00Z,75.00,USD,visa,4242,,,,settled"
    with pytest.raises(ImportRejected, match="appears twice \\(first on line 2\\)"):
        read_payment_bytes(csv_bytes(row, row), "s.csv")
    with pytest.raises(ImportRejected, match="missing status"):
        read_payment_bytes(HEADER.replace(",status", ",state").encode() + b"\n", "s.csv")
