"""Publisher text (titles, descriptions, coverage notes, keywords, source, license) as it is published.

The web page, the API and the CLI show this text as written, so at publish it is normalised (NFC,
trimmed, line breaks as LF) and anything that would make it display other than it is stored is
refused: bidirectional controls ("rtl", U+202E, "txt.exe" displays as "rtlexe.txt"), invisible and
zero-width characters, control characters, unassigned and private-use code points, stacks of
combining marks, words too long to wrap, over-long fields. docs/FINGERPRINT.md section 5 lists
every rule; `clean_text` and `clean_license` return the normalised text or the reason it is refused.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_WORD = 100  # characters in a row with nowhere to wrap (German compounds stay far below)
MAX_URL = 2_000  # a URL is one word; it may be this long
MAX_MARKS = 8  # combining marks on one character (Hebrew with cantillation has 4; Zalgo text, dozens)

# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt): characters that display as
# nothing at all. The bidirectional controls are among them.
IGNORABLE = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
BIDI_CONTROLS = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}
ZWNJ, ZWJ = 0x200C, 0x200D
VARIATION_SELECTORS = ((0xFE00, 0xFE0F), (0xE0100, 0xE01EF))
# Scripts whose spelling needs ZWNJ/ZWJ between letters (Persian and the other Arabic-script
# languages, Syriac, N'Ko, Mongolian, the Brahmic scripts): there, and only there, they are kept.
JOINING_SCRIPTS = {
    "ARABIC", "SYRIAC", "NKO", "MONGOLIAN", "DEVANAGARI", "BENGALI", "GURMUKHI", "GUJARATI", "ORIYA",
    "TAMIL", "TELUGU", "KANNADA", "MALAYALAM", "SINHALA", "MYANMAR", "KHMER", "TIBETAN",
}  # fmt: skip
# Scripts written without spaces, where a line may break between any two characters (browsers
# break them there): a long run of them is not an unbreakable word.
BREAK_ANYWHERE = {
    "CJK", "IDEOGRAPHIC", "HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO", "YI", "THAI", "LAO",
    "KHMER", "MYANMAR", "TIBETAN", "FULLWIDTH", "HALFWIDTH",
}  # fmt: skip
REFUSED_CATEGORIES = {
    "Cc": "a control character",
    "Cf": "an invisible formatting character",
    "Cs": "a lone surrogate",
    "Co": "a private-use character (it has no agreed glyph)",
    "Cn": "an unassigned code point",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
}


@dataclass(frozen=True)
class Rule:
    """How one field is checked: its length limit and whether it may hold line breaks."""

    max_chars: int
    multiline: bool = False


def _in(cp: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(lo <= cp <= hi for lo, hi in ranges)


def _script(ch: str) -> str:
    return unicodedata.name(ch, "").split(" ", 1)[0]


def _describe(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" {name}" if name else "")


def _kept_invisible(text: str, i: int) -> bool:
    """ZWNJ/ZWJ between two letters or marks of a joining script; a variation selector right after
    a visible character (it picks that character's glyph, e.g. an emoji's presentation)."""
    cp = ord(text[i])
    before = text[i - 1] if i > 0 else ""
    if cp in (ZWNJ, ZWJ):
        after = text[i + 1] if i + 1 < len(text) else ""
        return bool(before and after) and all(
            unicodedata.category(c)[0] in "LM" and _script(c) in JOINING_SCRIPTS for c in (before, after)
        )
    if _in(cp, VARIATION_SELECTORS):
        return bool(before) and unicodedata.category(before)[0] in "LNPS"
    return False


def _character_problem(text: str, i: int, multiline: bool) -> str | None:
    ch = text[i]
    cp = ord(ch)
    if cp == 0x0A:
        return None if multiline else "a line break (this field is one line)"
    if cp in BIDI_CONTROLS:
        return f"{_describe(ch)}: a bidirectional control (the text would display in another order than it is stored)"
    category = unicodedata.category(ch)
    ignorable = _in(cp, IGNORABLE)
    if (ignorable or category in REFUSED_CATEGORIES) and not _kept_invisible(text, i):
        what = "an invisible character" if ignorable else REFUSED_CATEGORIES[category]
        if cp in (ZWNJ, ZWJ):
            what += " (kept only between two letters of a script that needs it, e.g. Persian)"
        return f"{_describe(ch)}: {what}"
    return None


def _word_problem(text: str) -> str | None:
    """The first run of characters with nowhere to wrap that is too long (URLs have their own limit)."""
    for word in text.split():
        limit = MAX_URL if word.lower().startswith(("https://", "http://")) else MAX_WORD
        run = 0
        for ch in word:
            run = 0 if _script(ch) in BREAK_ANYWHERE else run + 1
            if run > limit:
                start = text.index(word) + 1
                return (
                    f"a word of {len(word):,} characters at character {start} (at most {MAX_WORD}; a URL {MAX_URL:,})"
                )
    return None


def clean_text(value: str, rule: Rule) -> tuple[str, str | None]:
    """(the text normalised: NFC, CRLF/CR as LF, trimmed; the reason it is refused, or None)."""
    if not isinstance(value, str):
        return "", f"must be text, not {type(value).__name__}"
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if len(text) > rule.max_chars:
        return text, f"{len(text):,} characters (at most {rule.max_chars:,})"
    marks = 0
    for i, ch in enumerate(text):
        problem = _character_problem(text, i, rule.multiline)
        if problem:
            return text, f"{problem} at character {i + 1}"
        marks = marks + 1 if unicodedata.category(ch) in ("Mn", "Me") else 0
        if marks > MAX_MARKS:
            return text, f"more than {MAX_MARKS} combining marks on one character at character {i + 1}"
    return text, _word_problem(text)


def spdx_id(text: str) -> str | None:
    """The SPDX License List's spelling of one licence identifier (`cc-by-4.0` -> `CC-BY-4.0`), or None
    for anything else: an unknown id, an expression (`MIT OR Apache-2.0`), a LicenseRef-."""
    from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression

    try:
        canonical = str(canonicalize_license_expression(text))
    except InvalidLicenseExpression:
        return None
    one_id = not any(c in canonical for c in " ()+")
    return canonical if one_id and not canonical.startswith(("LicenseRef-", "DocumentRef-")) else None


def clean_license(value: str) -> tuple[str, str | None]:
    """(the licence: one SPDX licence identifier in the list's spelling, or an IRI of the licence
    document, i.e. an http(s) URL or a urn; the reason it is refused, or None).

    SPDX ids are those of the SPDX License List bundled with `packaging` (3.25 in packaging 24.2).
    dct:license names one licence document, so an expression (`MIT OR Apache-2.0`) is refused, and
    LicenseRef-/DocumentRef- are not known ids: a licence without an SPDX id is given by its URL."""
    text, problem = clean_text(value, Rule(MAX_URL))
    if problem or not text:
        return text, problem
    if text.lower().startswith(("https://", "http://")):
        return text, _url_problem(text)
    if text.lower().startswith("urn:"):
        return text, None
    known = spdx_id(text)
    if known is None:
        return text, f"unknown licence '{text}': give one SPDX licence identifier (CC-BY-4.0, CC0-1.0, ...) or its URL"
    return known, None


def _url_problem(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        return f"not a URL ({exc})"
    if not parts.hostname or any(c.isspace() for c in url):
        return "not a URL (an http(s) URL has a host and no spaces)"
    if "@" in parts.netloc:
        # https://creativecommons.org@example.net/ displays one host and leads to another.
        return "a URL with a user name before its host (it displays one host and leads to another)"
    return None
