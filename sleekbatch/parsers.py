"""The API's JSON parser: refuses, as a 400, any body the rest of the stack could not store or walk.

DRF's JSONParser accepts duplicate keys (the last one wins, so ``"quantity": 24,
"quantity": 9999`` stores 9999), lone surrogates and NUL characters (which
PostgreSQL refuses on INSERT, a 500) and any depth of nesting (a RecursionError,
a 500). This one reads the body as strict UTF-8 and refuses each of those.
"""

import json

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Deeper than any body this API accepts (an order is 4 levels deep, a bulk 6), and
# far below the interpreter's recursion limit, so nothing downstream can recurse on it.
MAX_JSON_DEPTH = 32


class DuplicateKey(ValueError):
    pass


def _object_without_duplicates(pairs: list[tuple[str, object]]) -> dict:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKey(f"duplicate key {key!r} in an object")
            seen.add(key)
    return result


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "NUL characters are not allowed in text"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "text must be valid Unicode (lone surrogate escape such as \\ud800)"
    return None


def check_json_value(value, *, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Raise ValueError when a parsed JSON value nests deeper than max_depth or holds text
    that cannot be stored (NUL, lone surrogates). Iterative, so depth costs no recursion."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            problem = _text_problem(item)
            if problem:
                raise ValueError(problem)
        elif isinstance(item, dict | list):
            if depth > max_depth:
                raise ValueError(f"nested deeper than {max_depth} levels")
            if isinstance(item, dict):
                for key, child in item.items():
                    problem = _text_problem(key)
                    if problem:
                        raise ValueError(f"{problem} (in a key)")
                    pending.append((child, depth + 1))
            else:
                pending.extend((child, depth + 1) for child in item)


class StrictJSONParser(JSONParser):
    """JSON bodies: UTF-8, no duplicate keys, no NaN/Infinity, no NUL or lone surrogates,
    at most MAX_JSON_DEPTH levels. The body size limit is DATA_UPLOAD_MAX_MEMORY_SIZE (413)."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error - the body is not valid UTF-8 (byte {exc.start})") from None
        try:
            data = json.loads(
                text, object_pairs_hook=_object_without_duplicates, parse_constant=_refuse_constant, strict=True
            )
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels") from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if _may_hold_unstorable_value(text):
            try:
                check_json_value(data)
            except ValueError as exc:
                raise ParseError(f"JSON parse error - {exc}") from None
        return data


def _may_hold_unstorable_value(text: str) -> bool:
    """False when the parsed body cannot break check_json_value, so the walk is skipped: the usual body.

    A NUL or a lone surrogate can only arrive as a ``\\u`` escape (json.loads(strict=True) refuses
    raw control characters, the UTF-8 decoder refuses encoded surrogates), and a value cannot nest
    deeper than it has brackets (those inside strings only make this answer True more often).
    """
    return "\\u" in text or text.count("{") + text.count("[") > MAX_JSON_DEPTH
