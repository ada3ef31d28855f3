"""Issue 14, finding 9: a profile's currency must be one the notices and receipts can print."""

from __future__ import annotations

import json

import pytest

from desktop.domain.errors import UserError
from desktop.domain.ledger import PRINTABLE_CURRENCIES, format_cents
from desktop.services.admin.profiles import shipped_definitions, validate_definition


@pytest.mark.parametrize("currency", ["XXX", "EUR", "usd", "", "DOLLARS", "X" * 5000])
def test_a_currency_the_documents_cannot_print_is_refused(currency: str) -> None:
    definition = dict(shipped_definitions()["CA"])
    definition["currency"] = currency
    with pytest.raises(UserError, match="is not one the notices and receipts can print") as err:
        validate_definition(json.dumps(definition))
    assert len(str(err.value)) < 250


def test_the_shipped_profiles_print_their_currency() -> None:
    for code, definition in shipped_definitions().items():
        _data, profile = validate_definition(definition)
        assert profile.currency in PRINTABLE_CURRENCIES, code
        assert format_cents(-500, profile.currency).startswith("-")
