"""The password policy: what a new password must be, as one sentence a user can act on.

After NIST SP 800-63B section 5.1.1.2 (memorized secrets): at least a minimum length (we ask for 10, above
the 8 it sets as the floor), at most 256 characters, any characters (spaces and non-ASCII included, no
composition rules), and not a value known to be commonly used: not on a list of the most common passwords
(the 10,000 shipped in resources/passwords/, compared lowercased), not the username or the person's name,
and not one character repeated.
"""

from __future__ import annotations

from collections.abc import Collection

MIN_LENGTH = 10
MAX_LENGTH = 256


def _folded(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _is_username(password: str, username: str) -> bool:
    """The username itself, or with digits, punctuation or up to three characters around it ("clerk2024!")."""
    low, name = password.casefold(), username.casefold()
    if low == name or (_folded(password) and _folded(password) == _folded(username)):
        return True
    if len(name) < 3 or name not in low:
        return False
    rest = low.replace(name, "", 1)
    return len(rest) < 4 or not any(ch.isalpha() for ch in rest)


def password_problem(password: str, *, username: str = "", full_name: str = "",
                     common: Collection[str] = (), min_length: int = MIN_LENGTH) -> str | None:
    """None if the password may be used, else one sentence saying what to change."""
    if len(password) < min_length:
        return f"A password needs at least {min_length} characters."
    if len(password) > MAX_LENGTH:
        return f"A password may have at most {MAX_LENGTH} characters."
    if "\x00" in password:
        return "A password may not contain a NUL character."
    if len(set(password)) == 1:
        return "A password of one character repeated is too easy to guess; choose another."
    folded = _folded(password)
    if username and _is_username(password, username):
        return "A password may not be the username (or the username with a few digits or characters added)."
    name_parts = [_folded(p) for p in full_name.split() if len(p) >= 3]
    if name_parts and folded in {"".join(name_parts), *name_parts, "".join(reversed(name_parts))}:
        return "A password may not be the person's name."
    if password.casefold() in common or password.strip().casefold() in common:
        return "That password is among the 10,000 most common passwords; choose one that is harder to guess."
    return None
