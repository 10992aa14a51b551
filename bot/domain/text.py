"""Plain words and typed input: plurals, and what text and numbers a person typed can be saved
(the same rule on SQLite and PostgreSQL).

PostgreSQL refuses a NUL character in text and SQLite stores it; neither can store a lone
UTF-16 surrogate (a "\\ud800" in the JSON Slack sends decodes to one, and it has no UTF-8 form).
Left to the database, such input fails on every try with "Couldn't save just now"; here it
is a field error that says what is wrong, before anything is written.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def unsaveable_reason(text: str, *, subject: str = "This") -> str | None:
    """Why `text` can't be stored as it is, in words for whoever typed it ("This contains…",
    or `subject` for where "this" isn't clear); None when it can."""
    if "\x00" in text:
        return (
            f"{subject} contains a null character (an invisible one, often from a paste), "
            "which can't be saved. Please retype it."
        )
    if _LONE_SURROGATE.search(text):
        return (
            f"{subject} contains a broken character (half of an emoji or symbol), which "
            "can't be saved. Please retype it."
        )
    return None


def without_unsaveable(text: str) -> str:
    """`text` without the characters no database can be asked about (for search words)."""
    return _LONE_SURROGATE.sub("", text.replace("\x00", ""))


def saveable_text(
    raw: object, *, label: str, max_length: int, required: bool
) -> tuple[str | None, str | None]:
    """(the trimmed text or None when left empty, an error for the field or None).

    `label` names the field in the errors ("the deal"). Checks, in order: present when
    required, not only spaces, storable (no NUL, no lone surrogate), at most `max_length`
    characters."""
    text = "" if raw is None else str(raw)
    if not text:
        return None, (f"Please fill in {label}." if required else None)
    trimmed = text.strip()
    if not trimmed:
        return None, f"{label[:1].upper()}{label[1:]} can't be only spaces."
    reason = unsaveable_reason(trimmed)
    if reason is not None:
        return None, reason
    if len(trimmed) > max_length:
        return None, f"Keep it to {max_length:,} characters (yours has {len(trimmed):,})."
    return trimmed, None


def parse_decimal(
    raw: str, *, minimum: Decimal, maximum: Decimal, places: int, exclusive_minimum: bool = False
) -> Decimal | str:
    """A typed number within [minimum, maximum] with at most `places` decimals, or why not.
    Thousands separators (`50,000`) are allowed; `1e3`, `NaN` and `Infinity` are not numbers
    anyone types into a target or an amount, so they are refused."""
    text = raw.strip().replace(",", "")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text, re.ASCII):
        return "not a number"
    try:
        number = Decimal(text)
    except InvalidOperation:
        return "not a number"
    if number < minimum or (exclusive_minimum and number == minimum) or number > maximum:
        return "out of range"
    if number != number.quantize(Decimal(1).scaleb(-places)):
        return "too precise"
    return number


def parse_whole_number(raw: object, *, minimum: int, maximum: int) -> int | None:
    """A typed whole number within [minimum, maximum], or None. ASCII digits only: "²" and
    "٣" count as digits to str.isdigit() but are not what anyone means by a number of days."""
    text = "" if raw is None else str(raw).strip()
    if not re.fullmatch(r"\d{1,9}", text, re.ASCII):
        return None
    number = int(text)
    return number if minimum <= number <= maximum else None


MAX_ROW_ID = 2**63 - 1  # the largest id either database's integer keys hold


def parse_row_id(raw: object) -> int:
    """A row id carried in a button's value or a modal's private_metadata: a positive whole
    number that fits a 64-bit key. Anything else (a forged "1" * 40, "-5", "²") raises
    ValueError, the same as a value that isn't a number at all, instead of reaching the
    database as a number it can't bind."""
    if isinstance(raw, bool):
        raise ValueError("not a row id")
    text = str(raw).strip() if isinstance(raw, int | str) else ""
    if not re.fullmatch(r"\d{1,19}", text, re.ASCII) or not 0 < int(text) <= MAX_ROW_ID:
        raise ValueError(f"not a row id: {text[:30]!r}")
    return int(text)


def plural(count: int, one: str, many: str) -> str:
    """ "1 loss", "2 losses", "1,200 days": the count with the noun that fits it."""
    return f"{count:,} {one if count == 1 else many}"
