"""Filtering, ordering and paging for the sandbox's Accounting API list endpoints (`where=`, `order=`, `page=`).

The `where` language is the subset of Xero's that clients use in practice:

- a field path (`Status`, `Contact.ContactID`; names match keys ignoring case) compared with a literal by
  `==` `!=` `<` `>` `<=` `>=` (`=` and `<>` are accepted as aliases), or a bare field as a boolean (`IsCustomer`);
- `AND`/`&&`, `OR`/`||` (AND binds tighter), `NOT`/`!` and parentheses;
- literals: double-quoted strings (`\\"` escapes a quote), numbers (`12`, `-3`, `12.50`, `12.50m`), `true`, `false`,
  `null`, `GUID("...")`, `DateTime(y, m, d)`, `DateTime(y, m, d, h, m, s)` and `DateTime.Parse("...")`;
- the string methods `Contains`, `StartsWith`, `EndsWith` (optionally compared with `true`/`false`), and
  `ToLower`/`ToUpper` chained before them or before a comparison.

Strings and GUIDs compare ignoring case, numbers as Decimal, dates as UTC datetimes (a `date` is midnight UTC, a
naive literal is UTC). A missing field is null: equal only to `null`, and never less or greater than anything.
Not supported: arithmetic, a field on the right-hand side, a literal on the left, collections
(`LineItems.Any(...)`), single-quoted literals and any other function or method; each is a `WhereError`.
"""

from __future__ import annotations

import operator
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, Final
from uuid import UUID

__all__ = ["Page", "Record", "WhereError", "compile_order", "compile_where", "paginate"]


class WhereError(ValueError):
    """A `where` or `order` expression, or a paging parameter, that cannot be used."""


Record = Mapping[str, object]
_Predicate = Callable[[Record], bool]
_Getter = Callable[[Record], object]
_Step = Callable[[object], object]

# Each level of parentheses or NOT costs a few Python frames; the cap turns a hostile expression into a 400
# instead of a RecursionError, well before the interpreter's own limit.
_MAX_NESTING: Final = 64

_NAME_START: Final = frozenset(string.ascii_letters + "_")
_NAME_CHARS: Final = _NAME_START | frozenset(string.digits)
_DIGITS: Final = frozenset(string.digits)
_TWO_CHAR_OPS: Final = ("==", "!=", "<>", "<=", ">=", "&&", "||")
_ONE_CHAR_OPS: Final = frozenset("=<>!")
_PUNCTUATION: Final = frozenset("().,")
_ESCAPABLE: Final = frozenset('"\\')

_COMPARISONS: Final = frozenset(("==", "=", "!=", "<>", "<", ">", "<=", ">="))
_ALIASES: Final = {"=": "==", "<>": "!="}
_ORDERINGS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}

_MISSING: Final = object()
# What a value becomes when it cannot be compared with the literal's type: equal to nothing, ordered with nothing.
_INCOMPARABLE: Final = object()


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "name", "string", "number", "op", one of "().," or "end"
    text: str
    pos: int
    value: object = None


@dataclass(frozen=True, slots=True)
class _Literal:
    kind: str  # "string", "guid", "number", "bool", "null" or "datetime"
    value: object


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch.isspace():
            i += 1
        elif ch == '"':
            i = _read_string(source, i, tokens)
        elif ch in _DIGITS or (ch == "-" and i + 1 < n and source[i + 1] in _DIGITS):
            i = _read_number(source, i, tokens)
        elif ch in _NAME_START:
            start = i
            while i < n and source[i] in _NAME_CHARS:
                i += 1
            tokens.append(_Token("name", source[start:i], start))
        elif source.startswith(_TWO_CHAR_OPS, i):
            tokens.append(_Token("op", source[i : i + 2], i))
            i += 2
        elif ch in _ONE_CHAR_OPS:
            tokens.append(_Token("op", ch, i))
            i += 1
        elif ch in _PUNCTUATION:
            tokens.append(_Token(ch, ch, i))
            i += 1
        else:
            raise WhereError(f"unexpected character {ch!r} at column {i + 1}")
    tokens.append(_Token("end", "", n))
    return tokens


def _read_string(source: str, start: int, tokens: list[_Token]) -> int:
    chars: list[str] = []
    i, n = start + 1, len(source)
    while i < n:
        ch = source[i]
        if ch == '"':
            tokens.append(_Token("string", source[start : i + 1], start, "".join(chars)))
            return i + 1
        if ch == "\\" and i + 1 < n and source[i + 1] in _ESCAPABLE:
            chars.append(source[i + 1])
            i += 2
        else:
            # Any other backslash is kept as written, so values such as Windows paths need no doubling.
            chars.append(ch)
            i += 1
    raise WhereError(f"unterminated string starting at column {start + 1}")


def _read_number(source: str, start: int, tokens: list[_Token]) -> int:
    i, n = start + 1, len(source)
    while i < n and source[i] in _DIGITS:
        i += 1
    if i < n and source[i] == ".":
        i += 1
        if i >= n or source[i] not in _DIGITS:
            raise WhereError(f"expected digits after the decimal point at column {i + 1}")
        while i < n and source[i] in _DIGITS:
            i += 1
    value = Decimal(source[start:i])
    if i < n and source[i] in "mM":  # C#'s decimal suffix, which some clients copy from Xero's examples
        i += 1
    tokens.append(_Token("number", source[start:i], start, value))
    return i


def _found(token: _Token) -> str:
    return " at the end of the expression" if token.kind == "end" else f", found {token.text!r} {_at(token)}"


def _at(token: _Token) -> str:
    return "at the end of the expression" if token.kind == "end" else f"at column {token.pos + 1}"


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = _tokenize(source)
        self.index = 0
        self.depth = 0

    # -- cursor

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def expect(self, kind: str, what: str) -> _Token:
        token = self.peek()
        if token.kind != kind:
            raise WhereError(f"expected {what}{_found(token)}")
        return self.advance()

    def at_word(self, word: str, symbol: str | None = None) -> bool:
        token = self.peek()
        if token.kind == "name":
            return token.text.upper() == word
        return symbol is not None and token.kind == "op" and token.text == symbol

    def finish(self) -> None:
        token = self.peek()
        if token.kind != "end":
            raise WhereError(f"unexpected {token.text!r} {_at(token)}")

    def nest(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > _MAX_NESTING:
            raise WhereError(f"expression nested too deeply {_at(token)}")

    # -- where

    def parse_or(self) -> _Predicate:
        terms = [self.parse_and()]
        while self.at_word("OR", "||"):
            self.advance()
            terms.append(self.parse_and())
        return _any_of(terms)

    def parse_and(self) -> _Predicate:
        terms = [self.parse_not()]
        while self.at_word("AND", "&&"):
            self.advance()
            terms.append(self.parse_not())
        return _all_of(terms)

    def parse_not(self) -> _Predicate:
        if self.at_word("NOT", "!"):
            self.nest(self.advance())
            inner = self.parse_not()
            self.depth -= 1
            return lambda record: not inner(record)
        return self.parse_primary()

    def parse_primary(self) -> _Predicate:
        token = self.peek()
        if token.kind == "(":
            self.nest(self.advance())
            inner = self.parse_or()
            self.expect(")", "')'")
            self.depth -= 1
            return inner
        if token.kind == "name" and token.text.upper() not in ("AND", "OR", "NOT", "TRUE", "FALSE", "NULL"):
            return self.parse_condition()
        raise WhereError(f"expected a condition starting with a field name{_found(token)}")

    def parse_path(self) -> list[str]:
        first = self.expect("name", "a field name")
        if self.peek().kind == "(":
            raise WhereError(f"expected a field name, found the function {first.text!r} {_at(first)}")
        path = [first.text]
        # A name followed by '(' is a method, which ends the path.
        while self.peek().kind == "." and self.tokens[min(self.index + 2, len(self.tokens) - 1)].kind != "(":
            self.advance()
            path.append(self.expect("name", "a field name after '.'").text)
        return path

    def parse_condition(self) -> _Predicate:
        getter = _field_getter(self.parse_path())
        test: Callable[[object], bool] | None = None
        while self.peek().kind == ".":
            self.advance()
            method = self.expect("name", "a method name after '.'")
            args = self.parse_args()
            if test is not None:
                raise WhereError(f"nothing may follow a {test.__name__} test {_at(method)}")
            test = self.string_method(method, args)
        if test is not None:
            return self.method_condition(getter, test)
        token = self.peek()
        if token.kind == "op" and token.text in _COMPARISONS:
            self.advance()
            return _comparison(getter, token, self.parse_literal(token))
        # A bare field is a boolean test, as in `IsCustomer AND NOT IsSupplier`.
        return lambda record: getter(record) is True

    def string_method(self, method: _Token, args: list[_Literal]) -> Callable[[object], bool] | None:
        name = method.text.casefold()
        if name in ("tolower", "toupper"):
            if args:
                raise WhereError(f"{method.text}() takes no arguments {_at(method)}")
            # Every string comparison here ignores case already, so a case conversion cannot change a result.
            return None
        if name not in ("contains", "startswith", "endswith"):
            raise WhereError(f"unknown method {method.text!r} {_at(method)}")
        if len(args) != 1 or args[0].kind != "string":
            raise WhereError(f"{method.text}() takes one string {_at(method)}")
        needle = str(args[0].value).casefold()

        def contains(value: object) -> bool:
            return isinstance(value, str) and needle in value.casefold()

        def startswith(value: object) -> bool:
            return isinstance(value, str) and value.casefold().startswith(needle)

        def endswith(value: object) -> bool:
            return isinstance(value, str) and value.casefold().endswith(needle)

        return {"contains": contains, "startswith": startswith, "endswith": endswith}[name]

    def method_condition(self, getter: _Getter, test: Callable[[object], bool]) -> _Predicate:
        token = self.peek()
        expected = True
        if token.kind == "op" and token.text in _COMPARISONS:
            self.advance()
            op = _ALIASES.get(token.text, token.text)
            literal = self.parse_literal(token)
            if op not in ("==", "!=") or literal.kind != "bool":
                raise WhereError(f"a {test.__name__} test can only be compared with true or false {_at(token)}")
            expected = literal.value is (op == "==")
        if expected:
            return lambda record: test(getter(record))
        return lambda record: not test(getter(record))

    def parse_args(self) -> list[_Literal]:
        opening = self.expect("(", "'('")
        args: list[_Literal] = []
        if self.peek().kind != ")":
            args.append(self.parse_literal(opening))
            while self.peek().kind == ",":
                args.append(self.parse_literal(self.advance()))
        self.expect(")", "')' or ','")
        return args

    def parse_literal(self, after: _Token) -> _Literal:
        token = self.advance()
        if token.kind == "string":
            return _Literal("string", token.value)
        if token.kind == "number":
            return _Literal("number", token.value)
        if token.kind != "name":
            raise WhereError(f"expected a value after {after.text!r}{_found(token)}")
        word = token.text.casefold()
        if word in ("true", "false"):
            return _Literal("bool", word == "true")
        if word == "null":
            return _Literal("null", None)
        return self.parse_function(token, after)

    def parse_function(self, token: _Token, after: _Token) -> _Literal:
        word = token.text.casefold()
        if word == "guid" and self.peek().kind == "(":
            return _guid(token, self.parse_args())
        if word == "datetime" and self.peek().kind == ".":
            self.advance()
            method = self.expect("name", "a method name after 'DateTime.'")
            if method.text.casefold() != "parse":
                raise WhereError(f"unknown function 'DateTime.{method.text}' {_at(method)}")
            return _parsed_datetime(method, self.parse_args())
        if word == "datetime" and self.peek().kind == "(":
            return _datetime(token, self.parse_args())
        if self.peek().kind in ("(", "."):
            raise WhereError(f"unknown function {token.text!r} {_at(token)}")
        raise WhereError(
            f"expected a value after {after.text!r}{_found(token)} (a field can only be compared with a literal)"
        )

    # -- order

    def parse_order(self) -> list[tuple[_Getter, bool]]:
        keys: list[tuple[_Getter, bool]] = []
        while True:
            path = self.parse_path()
            descending = False
            if self.at_word("DESC") or self.at_word("ASC"):
                descending = self.advance().text.upper() == "DESC"
            keys.append((_field_getter(path), descending))
            if self.peek().kind != ",":
                break
            self.advance()
        self.finish()
        return keys


def _guid(token: _Token, args: list[_Literal]) -> _Literal:
    if len(args) != 1 or args[0].kind != "string":
        raise WhereError(f"{token.text}() takes one string {_at(token)}")
    try:
        guid = UUID(str(args[0].value))
    except ValueError:
        raise WhereError(f"{args[0].value!r} is not a GUID {_at(token)}") from None
    return _Literal("guid", str(guid))


def _datetime(token: _Token, args: list[_Literal]) -> _Literal:
    if len(args) not in (3, 6) or any(arg.kind != "number" for arg in args):
        raise WhereError(f"DateTime() takes year, month, day and optionally hour, minute, second {_at(token)}")
    parts: list[int] = []
    for arg in args:
        number = arg.value
        assert isinstance(number, Decimal)
        if number != number.to_integral_value() or number < 0:
            raise WhereError(f"DateTime() takes whole numbers {_at(token)}")
        parts.append(int(number))
    year, month, day, hour, minute, second = (*parts, 0, 0, 0)[:6]
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError as error:
        raise WhereError(f"invalid DateTime: {error} {_at(token)}") from None
    return _Literal("datetime", moment)


def _parsed_datetime(token: _Token, args: list[_Literal]) -> _Literal:
    if len(args) != 1 or args[0].kind != "string":
        raise WhereError(f"DateTime.Parse() takes one string {_at(token)}")
    try:
        moment = datetime.fromisoformat(str(args[0].value))
    except ValueError:
        raise WhereError(f"DateTime.Parse() cannot read {args[0].value!r} {_at(token)}") from None
    return _Literal("datetime", moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC))


# -- evaluation


def _key_step(name: str) -> _Step:
    folded = name.casefold()
    spelling = name  # the key that matched last; records of one kind share their spelling

    def step(value: object) -> object:
        nonlocal spelling
        if not isinstance(value, (dict, Mapping)):
            return None
        found = value.get(spelling, _MISSING)
        if found is not _MISSING:
            return found
        for key in value:
            if isinstance(key, str) and key.casefold() == folded:
                spelling = key
                return value[key]
        return None

    return step


def _field_getter(path: Sequence[str]) -> _Getter:
    steps = [_key_step(name) for name in path]
    if len(steps) == 1:
        return steps[0]
    if len(steps) == 2:
        first, second = steps
        return lambda record: second(first(record))

    def get(record: Record) -> object:
        value: object = record
        for step in steps:
            value = step(value)
        return value

    return get


def _all_of(terms: list[_Predicate]) -> _Predicate:
    if len(terms) == 1:
        return terms[0]
    if len(terms) == 2:
        left, right = terms
        return lambda record: left(record) and right(record)

    # A flat loop rather than nested closures, so a long chain cannot exhaust the stack when evaluated.
    def every(record: Record) -> bool:
        return all(term(record) for term in terms)

    return every


def _any_of(terms: list[_Predicate]) -> _Predicate:
    if len(terms) == 1:
        return terms[0]
    if len(terms) == 2:
        left, right = terms
        return lambda record: left(record) or right(record)

    def some(record: Record) -> bool:
        return any(term(record) for term in terms)

    return some


def _as_text(value: object) -> object:
    if isinstance(value, str):
        return value.casefold()
    if isinstance(value, UUID):
        return str(value)
    return _INCOMPARABLE


def _as_number(value: object) -> object:
    if isinstance(value, bool):
        return _INCOMPARABLE
    if isinstance(value, (Decimal, int)):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return _INCOMPARABLE


def _as_moment(value: object) -> object:
    # Xero's calendar dates are DateTimes at midnight; comparing as aware datetimes keeps `date` and `datetime`
    # fields comparable with the same literal.
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), UTC)
    return _INCOMPARABLE


_COERCIONS: Final[dict[str, Callable[[object], object]]] = {
    "string": _as_text,
    "guid": _as_text,
    "number": _as_number,
    "datetime": _as_moment,
}


def _comparison(getter: _Getter, token: _Token, literal: _Literal) -> _Predicate:
    op = _ALIASES.get(token.text, token.text)
    if literal.kind in ("null", "bool"):
        if op not in ("==", "!="):
            word = "null" if literal.value is None else str(literal.value).lower()
            raise WhereError(f"{word} can only be compared with == or != {_at(token)}")
        target = literal.value
        if op == "==":
            return lambda record: getter(record) is target
        return lambda record: getter(record) is not target

    coerce = _COERCIONS[literal.kind]
    value = literal.value
    target = value.casefold() if isinstance(value, str) else value
    if op == "==":
        return lambda record: coerce(getter(record)) == target
    if op == "!=":
        return lambda record: coerce(getter(record)) != target
    compare = _ORDERINGS[op]

    def ordered(record: Record) -> bool:
        candidate = coerce(getter(record))
        return candidate is not _INCOMPARABLE and compare(candidate, target)

    return ordered


def compile_where(expression: str) -> Callable[[Record], bool]:
    """Compile a `where` expression into a predicate over records; raises WhereError if it cannot be used."""
    parser = _Parser(expression)
    if parser.peek().kind == "end":
        raise WhereError("the where expression is empty")
    predicate = parser.parse_or()
    parser.finish()
    return predicate


def _sort_key(value: object) -> tuple[int, object]:
    # Ranks keep values of different types apart, so a field holding mixed types sorts instead of raising.
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, (Decimal, int, float)):
        return (2, value)
    if isinstance(value, (str, UUID)):
        return (3, str(value).casefold())
    moment = _as_moment(value)
    return (5, 0) if moment is _INCOMPARABLE else (4, moment)


def _sort_key_of(getter: _Getter) -> Callable[[Record], tuple[int, object]]:
    return lambda record: _sort_key(getter(record))


def compile_order(expression: str) -> Callable[[list[Record]], list[Record]]:
    """Compile `Field [ASC|DESC], ...` into a stable sort returning a new list; nulls sort first ascending."""
    parser = _Parser(expression)
    if parser.peek().kind == "end":
        raise WhereError("the order expression is empty")
    keys = parser.parse_order()

    def order(records: list[Record]) -> list[Record]:
        result = list(records)
        # Sorting by the least significant key first lets each stable pass keep the order of the previous ones.
        for getter, descending in reversed(keys):
            result.sort(key=_sort_key_of(getter), reverse=descending)
        return result

    return order


@dataclass(frozen=True)
class Page:
    records: list[Record]
    page: int
    page_size: int
    page_count: int
    item_count: int


def paginate(
    records: Sequence[Record],
    page: int | None,
    page_size: int | None,
    *,
    default_size: int = 100,
    max_size: int = 1000,
) -> Page:
    """Cut one 1-based page out of `records`.

    `page=None` returns every record as page 0 (one page of all of them). A page size above `max_size` is
    capped; a page past the last is empty.
    """
    if page is not None and page < 1:
        raise WhereError(f"page must be 1 or more, not {page}")
    if page_size is not None and page_size < 1:
        raise WhereError(f"pageSize must be 1 or more, not {page_size}")
    item_count = len(records)
    if page is None:
        return Page(list(records), 0, item_count, 1 if item_count else 0, item_count)
    size = min(default_size if page_size is None else page_size, max_size)
    start = (page - 1) * size
    return Page(list(records[start : start + size]), page, size, -(-item_count // size), item_count)
