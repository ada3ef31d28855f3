"""Matching an incoming payment to cases: citation numbers in free text, else plate plus exact amount.

Bank reference fields are typed by people: ``"CIT 1234-567 89"``, ``"ticket#123456789"``,
``"PMT FOR 7ABC123"``. Citation-number candidates are runs of one to three adjacent tokens
joined across single spaces or dashes, with at least five digits; each is normalised
(uppercase, separators removed) and checked against the known citation numbers through
``citation_lookup``. Only if no known citation is found does the plate rule apply: a token that
looks like a plate, whose open cases (``plate_lookup``) include exactly one with a balance equal
to the amount, or whose open balances add up exactly to the amount.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum

CitationLookup = Callable[[str], "str | None"]
PlateLookup = Callable[[str], Sequence[tuple[str, int]]]


class MatchMethod(str, Enum):
    """How a payment was tied to its case(s)."""

    CITATION = "citation"
    PLATE_AMOUNT = "plate_amount"
    PLATE_TOTAL = "plate_total"
    NONE = "none"


@dataclass(frozen=True)
class MatchResult:
    """Matched case ids (empty when unmatched), the method, a confidence in [0, 1] and the reason."""

    case_ids: tuple[str, ...]
    method: MatchMethod
    confidence: float
    reason: str
    citation_numbers: tuple[str, ...] = ()

    @property
    def matched(self) -> bool:
        """Whether at least one case was found."""
        return bool(self.case_ids)


_TOKEN = re.compile(r"[A-Za-z0-9]+|[ \-]|[^A-Za-z0-9 \-]+")
_PLATE = re.compile(r"^(?=.*\d)(?=.*[A-Z])[A-Z0-9]{2,8}$")


def normalise_citation(text: str) -> str:
    """Uppercase and drop spaces and dashes, the way citation numbers are compared."""
    return re.sub(r"[\s\-]", "", text).upper()


def citation_candidates(reference_text: str) -> list[str]:
    """Normalised strings that might be citation numbers, longest first within each position."""
    pieces = _TOKEN.findall(reference_text.upper())
    tokens: list[tuple[str, bool]] = []  # (alphanumeric token, joined to the previous one?)
    for index, piece in enumerate(pieces):
        if piece.isalnum():
            joined = index >= 2 and pieces[index - 1] in (" ", "-") and pieces[index - 2].isalnum()
            tokens.append((piece, joined))
    found: list[str] = []
    for start in range(len(tokens)):
        candidate = ""
        for offset in range(3):
            index = start + offset
            if index >= len(tokens) or (offset > 0 and not tokens[index][1]):
                break
            candidate += tokens[index][0]
            digits = sum(char.isdigit() for char in candidate)
            if digits >= 5 and 6 <= len(candidate) <= 16 and candidate not in found:
                found.append(candidate)
    return found


def match_payment(
    reference_text: str,
    amount_cents: int,
    citation_lookup: CitationLookup,
    plate_lookup: PlateLookup | None = None,
) -> MatchResult:
    """Find the case(s) a payment is for; see the module docstring for the rules."""
    case_ids: list[str] = []
    numbers: list[str] = []
    for candidate in citation_candidates(reference_text):
        case_id = citation_lookup(candidate)
        if case_id is not None and case_id not in case_ids:
            case_ids.append(case_id)
            numbers.append(candidate)
    if case_ids:
        confidence = 0.95 if len(case_ids) == 1 else 0.9
        return MatchResult(tuple(case_ids), MatchMethod.CITATION, confidence,
                           f"citation number{'s' if len(numbers) > 1 else ''} {', '.join(numbers)} found in the "
                           f"reference", tuple(numbers))
    if plate_lookup is not None:
        ambiguous: list[str] = []
        for token in dict.fromkeys(re.findall(r"[A-Z0-9]+", reference_text.upper())):
            if not _PLATE.match(token):
                continue
            cases = [(case_id, balance) for case_id, balance in plate_lookup(token) if balance > 0]
            if not cases:
                continue
            exact = [case_id for case_id, balance in cases if balance == amount_cents]
            if len(exact) == 1:
                return MatchResult((exact[0],), MatchMethod.PLATE_AMOUNT, 0.7,
                                   f"plate {token} has exactly one open case with this balance")
            if len(exact) > 1:
                ambiguous.append(f"plate {token} has {len(exact)} open cases with this balance")
                continue
            if sum(balance for _, balance in cases) == amount_cents:
                return MatchResult(tuple(case_id for case_id, _ in cases), MatchMethod.PLATE_TOTAL, 0.6,
                                   f"the amount equals the total owed on plate {token}'s {len(cases)} open cases")
            ambiguous.append(f"plate {token} has open cases but none owes exactly this amount")
        if ambiguous:
            return MatchResult((), MatchMethod.NONE, 0.0, "; ".join(ambiguous))
    candidates = citation_candidates(reference_text)
    if candidates:
        reason = f"no known citation number in the reference (tried {', '.join(candidates[:5])})"
    elif reference_text.strip():
        reason = "the reference holds no citation number or known plate"
    else:
        reason = "the payment has no reference text"
    return MatchResult((), MatchMethod.NONE, 0.0, reason)
