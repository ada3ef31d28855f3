"""Vehicle makes and colour codes as a letter prints them: the two- and three-letter codes handhelds and registries
send (NCIC-style: GY / GRY, WT / WHI, ...) to the word, in the authority's spelling (Gray / Grey)."""

from __future__ import annotations

from desktop.domain.checks import normalize_make

_NAMES = {
    "WT": "White", "WHI": "White", "BK": "Black", "BLK": "Black", "GY": "Gray", "GRY": "Gray",
    "SL": "Silver", "SIL": "Silver", "BL": "Blue", "BLU": "Blue", "RD": "Red", "RED": "Red", "BN": "Brown",
    "BR": "Brown", "BRO": "Brown", "GN": "Green", "GRN": "Green", "MR": "Maroon", "MAR": "Maroon", "GO": "Gold",
    "GD": "Gold", "GLD": "Gold", "TN": "Tan", "TAN": "Tan", "YL": "Yellow", "YEL": "Yellow", "OR": "Orange",
    "ONG": "Orange", "PR": "Purple", "PLE": "Purple", "BG": "Beige", "BGE": "Beige", "PK": "Pink", "PNK": "Pink",
    "CR": "Cream", "CRM": "Cream", "TL": "Teal", "TEA": "Teal", "TQ": "Turquoise", "TRQ": "Turquoise",
    "LBL": "Light blue", "DBL": "Dark blue", "LGR": "Light green", "DGR": "Dark green", "COM": "Multicoloured",
    "MUL": "Multicoloured",
}
_GB = {"Gray": "Grey"}
_US = {"Multicoloured": "Multicolored"}


def colour_name(code: str | None, spelling: str = "US") -> str:
    """"GY" -> "Gray" (US) or "Grey" (GB); a word already written out ("SILVER") in ordinary case; "" if none."""
    raw = (code or "").strip()
    if not raw:
        return ""
    name = _NAMES.get(raw.upper().replace(".", ""), raw.capitalize() if raw.isupper() else raw)
    return _GB.get(name, name) if spelling.upper() == "GB" else _US.get(name, name)


def make_name(raw: str | None) -> str:
    """The make as a letter prints it: a known code by its name ("TOYT" -> "Toyota", resources/reference/
    makes.csv), an unknown word in ordinary case ("VAUXHALL" -> "Vauxhall"; short ones like "BMW" kept)."""
    name = normalize_make(raw) or ""
    return name.title() if name.isupper() and len(name) > 3 and " " not in name else name
