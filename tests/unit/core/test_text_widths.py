"""Every text column declares its width, and the sync wire schema checks the same widths (issue 14: values
SQLite stored crashed PostgreSQL with a DataError, so a SQLite office could not be moved)."""

from __future__ import annotations

from typing import Annotated

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ConfigDict, TypeAdapter, ValidationError
from sqlalchemy import String

from desktop.domain.errors import UserError
from desktop.domain.text import clean_text, text_problem
from desktop.persistence.models import Base
from desktop.sync import wire


def test_every_text_column_declares_its_width() -> None:
    undeclared = [f"{table.name}.{column.name}" for table in Base.metadata.sorted_tables for column in table.columns
                  if isinstance(column.type, String) and not column.type.length]
    assert not undeclared, f"text columns without a width: {undeclared}"


#: wire model field -> (table, column) it is stored in
WIRE_COLUMNS = {
    (wire.CitationIssued, "citation_number"): ("citations", "citation_number"),
    (wire.CitationIssued, "officer_badge"): ("citations", "officer_badge"),
    (wire.CitationIssued, "remarks"): ("citations", "remarks"),
    (wire.CitationChanges, "remarks"): ("citations", "remarks"),
    (wire.VehicleChanges, "jurisdiction"): ("citations", "jurisdiction"),
    (wire.VehicleChanges, "plate_type"): ("citations", "plate_type"),
    (wire.VehicleChanges, "make"): ("citations", "make"),
    (wire.VehicleChanges, "model"): ("citations", "model"),
    (wire.VehicleChanges, "color"): ("citations", "color"),
    (wire.VehicleChanges, "vin"): ("citations", "vin"),
    (wire.VehicleChanges, "registration_expiry"): ("citations", "registration_expiry"),
    (wire.LocationChanges, "address"): ("citations", "address"),
    (wire.LocationChanges, "zone"): ("citations", "zone_code"),
    (wire.LocationChanges, "space"): ("citations", "space"),
    (wire.Violation, "code"): ("citation_violations", "code"),
    (wire.Violation, "description"): ("citation_violations", "description"),
    (wire.PhotoRef, "caption"): ("evidence_photos", "caption"),
    (wire.Envelope, "event_id"): ("field_events", "event_id"),
    (wire.Envelope, "device_id"): ("field_events", "device_id"),
    (wire.Envelope, "type"): ("field_events", "type"),
    (wire.PatrolShift, "zone"): ("patrol_shifts", "zone_code"),
    (wire.PatrolShift, "officer_badge"): ("patrol_shifts", "officer_badge"),
    (wire.CitationVoided, "reason"): ("audit_log", "reason"),
}


@pytest.mark.parametrize(("field", "column"), list(WIRE_COLUMNS.items()), ids=lambda v: ".".join(
    getattr(x, "__name__", str(x)) for x in v))
def test_the_wire_schema_checks_the_widths_of_the_columns(field: tuple[type, str], column: tuple[str, str]) -> None:
    model, name = field
    width = Base.metadata.tables[column[0]].c[column[1]].type.length
    info = model.model_fields[name]
    check = TypeAdapter(Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation,
                        config=ConfigDict(strict=True))
    with pytest.raises(ValidationError, match="at most"):  # what the column cannot hold never gets through
        check.validate_python("x" * (width + 1))


@given(st.text(max_size=30), st.text(max_size=30))
def test_a_nul_anywhere_is_refused_with_the_field_named(before: str, after: str) -> None:
    with pytest.raises(UserError, match="^The payer's name contains a NUL character"):
        clean_text(before + "\x00" + after, "The payer's name", 1000)


@given(st.integers(min_value=1, max_value=300), st.integers(min_value=1, max_value=50))
def test_over_long_text_is_refused_with_the_limit(width: int, extra: int) -> None:
    with pytest.raises(UserError, match=f"^The note is {width + extra:,} characters long; at most {width:,} fit"):
        clean_text("n" * (width + extra), "The note", width)
    assert clean_text("n" * width, "The note", width) == "n" * width
    assert text_problem("\ud800") is not None
