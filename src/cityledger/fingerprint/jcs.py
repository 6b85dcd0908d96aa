"""RFC 8785 JSON Canonicalization Scheme (JCS) for the JSON values CityLedger hashes.

- object members sorted by their keys' UTF-16 code units (RFC 8785 section 3.2.3): not by code
  point, which orders "\\U0001F600" after "\\uFF21" where UTF-16 puts it first (D83D < FF21);
- strings as ECMAScript's JSON.stringify writes them: only '"', '\\' and U+0000..U+001F escaped,
  \\b \\t \\n \\f \\r short and the rest as \\u00xx (lowercase), everything else as itself; this is
  Python's json escaping with ensure_ascii=False, character for character;
- no whitespace; UTF-8 bytes; true, false, null;
- integers in decimal while ECMAScript numbers hold them exactly (|n| <= 2**53 - 1); larger ones,
  and every float, are refused: the inputs hashed here (table rows, metadata documents) hold none,
  and a float's one canonical text (ECMAScript's number-to-string) is not a form they should need;
- lone surrogates are refused, as RFC 8785 section 3.2.2.2 requires.
"""

from __future__ import annotations

import json

from ..errors import CityLedgerError

MAX_SAFE_INTEGER = 2**53 - 1
_string = json.JSONEncoder(ensure_ascii=False).encode


def utf16_key(key: str) -> bytes:
    """Sort key of a member name: its UTF-16 code units (big-endian bytes compare as the units do)."""
    try:
        return key.encode("utf-16-be")
    except UnicodeEncodeError as exc:
        raise CityLedgerError(_surrogate(key, exc.start)) from None


def _surrogate(text: str, at: int) -> str:
    return f"the text holds a lone surrogate U+{ord(text[at]):04X}, not a character (RFC 8785 refuses it)"


def _parts(value: object, where: str, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise CityLedgerError(f"value at {where or 'top level'}: {value} is beyond 2^53 - 1, no exact JSON number")
        out.append(str(value))
    elif isinstance(value, float):
        raise CityLedgerError(f"value at {where or 'top level'} is a float; write it as text")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _parts(item, f"{where}/{i}", out)
        out.append("]")
    elif isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise CityLedgerError(f"object at {where or 'top level'} has a key that is not text")
        out.append("{")
        for i, key in enumerate(sorted(value, key=utf16_key)):
            if i:
                out.append(",")
            out.append(_string(key))
            out.append(":")
            _parts(value[key], f"{where}/{key}", out)
        out.append("}")
    else:
        raise CityLedgerError(f"value at {where or 'top level'} is a {type(value).__name__}, not JSON")


def canonicalize(value: object) -> bytes:
    """The RFC 8785 bytes of a JSON value (dicts, lists, text, integers, booleans, None)."""
    out: list[str] = []
    _parts(value, "", out)
    text = "".join(out)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CityLedgerError(_surrogate(text, exc.start)) from None
