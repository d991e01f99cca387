"""SOQL tokenizer and recursive-descent parser (the evaluator is in :mod:`soql_eval`).

Grammar (keywords and names are case-insensitive)::

    query      := SELECT item ("," item)* FROM name [WHERE cond] [ORDER BY order ("," order)*]
                  [LIMIT int] [OFFSET int]
    item       := path | COUNT "(" [path] ")" [alias] | "(" query-on-a-child-relationship ")"
    path       := name ("." name)*
    cond       := term (AND term)* | term (OR term)*     -- mixing needs parentheses, as in SOQL
    term       := NOT term | "(" cond ")" | path op value | path [NOT] IN "(" value ("," value)* ")"
                  | path LIKE string
    op         := = | != | <> | < | <= | > | >=
    value      := 'string' | number | -number | true | false | null | 2024-01-31
                  | 2024-01-31T10:00:00Z (also .000 and +hh:mm / -hhmm) | TODAY | LAST_N_DAYS:n ...
    order      := path [ASC | DESC] [NULLS FIRST | NULLS LAST]

Syntax errors raise :class:`SoqlError` with ``MALFORMED_QUERY`` and a message shaped like
Salesforce's (the query, a caret, ``ERROR at Row:r:Column:c`` and the reason).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from sandbox.salesforce.soql_ast import (
    And,
    Comparison,
    Condition,
    CountItem,
    FieldPath,
    Not,
    Or,
    OrderItem,
    Query,
    SelectItem,
    SoqlError,
    SubQuery,
    Value,
)

__all__ = [
    "And",
    "Comparison",
    "Condition",
    "CountItem",
    "FieldPath",
    "Not",
    "Or",
    "OrderItem",
    "Query",
    "SelectItem",
    "SoqlError",
    "SubQuery",
    "Value",
    "error_message",
    "parse",
    "parse_datetime_literal",
    "quote",
    "tokenize",
]


# --- tokens ---------------------------------------------------------------------------------

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2})
  | (?P<number>\d+(?:\.\d+)?|\.\d+)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),.:\-])
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_LIKE_ESCAPES = {"%", "_"}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


KEYWORDS = _words(
    "SELECT FROM WHERE AND OR NOT IN LIKE ORDER BY ASC DESC NULLS FIRST LAST LIMIT OFFSET "
    "NULL TRUE FALSE COUNT GROUP HAVING WITH FOR USING INCLUDES EXCLUDES"
)
DATE_LITERALS = _words(
    "YESTERDAY TODAY TOMORROW LAST_WEEK THIS_WEEK NEXT_WEEK LAST_MONTH THIS_MONTH NEXT_MONTH "
    "LAST_90_DAYS NEXT_90_DAYS THIS_QUARTER LAST_QUARTER NEXT_QUARTER THIS_YEAR LAST_YEAR "
    "NEXT_YEAR"
)
DATE_N_LITERALS = _words(
    "LAST_N_DAYS NEXT_N_DAYS N_DAYS_AGO LAST_N_WEEKS NEXT_N_WEEKS LAST_N_MONTHS NEXT_N_MONTHS "
    "LAST_N_YEARS NEXT_N_YEARS"
)


@dataclass(frozen=True)
class Token:
    """One lexical token: kind (string, datetime, date, number, name, op, punct, eof)."""

    kind: str
    text: str
    pos: int

    @property
    def upper(self) -> str:
        """The token text in upper case (keywords compare this)."""
        return self.text.upper()


def _position(text: str, pos: int) -> tuple[int, int]:
    row = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return row, col


def error_message(text: str, pos: int, reason: str) -> str:
    """Salesforce's error layout: the query line, a caret, ``ERROR at Row:r:Column:c``."""
    row, col = _position(text, pos)
    line = text.split("\n")[row - 1] if text else ""
    return f"\n{line}\n{' ' * (col - 1)}^\nERROR at Row:{row}:Column:{col}\n{reason}"


def tokenize(text: str) -> list[Token]:
    """Split a SOQL string into tokens (whitespace dropped, an ``eof`` token appended)."""
    tokens: list[Token] = []
    pos = 0
    n = len(text)
    while pos < n:
        m = _TOKEN_RE.match(text, pos)
        if m is None:
            reason = f"unexpected token: '{text[pos]}'"
            if text[pos] == "'":
                reason = f"line 1:{pos} no viable alternative at character '''"
            raise SoqlError("MALFORMED_QUERY", error_message(text, pos, reason))
        kind = m.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, m.group(), pos))
        pos = m.end()
    tokens.append(Token("eof", "", n))
    return tokens


def unescape(body: str, text: str, pos: int) -> str:
    """Decode SOQL string escapes (``\\'``, ``\\n``, ``\\\\`` ...); ``\\%``/``\\_`` are kept
    for LIKE."""
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            nxt = body[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
            elif nxt in _LIKE_ESCAPES:
                out.append("\\" + nxt)
            elif nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2 : i + 6]):
                out.append(chr(int(body[i + 2 : i + 6], 16)))
                i += 4
            else:
                raise SoqlError(
                    "MALFORMED_QUERY",
                    error_message(text, pos, f"Invalid string literal '{body}'. Illegal escape"),
                )
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def parse_datetime_literal(s: str) -> datetime:
    """A SOQL datetime literal as an aware UTC datetime."""
    head, _, rest = s.partition("T")
    base = datetime.fromisoformat(head + "T" + rest[:8])
    frac = 0
    tail = rest[8:]
    if tail.startswith("."):
        digits = re.match(r"\.(\d+)", tail)
        assert digits is not None
        frac = int(digits.group(1).ljust(6, "0")[:6])
        tail = tail[digits.end() :]
    if tail == "Z":
        tz: timezone = UTC
    else:
        sign = -1 if tail[0] == "-" else 1
        hh, mm = int(tail[1:3]), int(tail[-2:])
        tz = timezone(sign * timedelta(hours=hh, minutes=mm))
    return base.replace(microsecond=frac, tzinfo=tz).astimezone(UTC)


# --- parser ---------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    # token helpers

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        t = self.tokens[self.i]
        self.i += 1
        return t

    def fail(self, token: Token | None = None, reason: str | None = None) -> SoqlError:
        t = token or self.tok
        if reason is None:
            shown = "<EOF>" if t.kind == "eof" else t.text
            reason = f"unexpected token: {shown}"
        return SoqlError("MALFORMED_QUERY", error_message(self.text, t.pos, reason))

    def is_kw(self, *words: str) -> bool:
        return self.tok.kind == "name" and self.tok.upper in words

    def expect_kw(self, word: str) -> Token:
        if not self.is_kw(word):
            raise self.fail()
        return self.advance()

    def expect_punct(self, ch: str) -> Token:
        if self.tok.kind != "punct" or self.tok.text != ch:
            raise self.fail()
        return self.advance()

    def at_punct(self, ch: str) -> bool:
        return self.tok.kind == "punct" and self.tok.text == ch

    def name(self) -> Token:
        if self.tok.kind != "name" or self.tok.upper in KEYWORDS - {"FIRST", "LAST"}:
            raise self.fail()
        return self.advance()

    # grammar

    def query(self, nested: bool = False) -> Query:
        self.expect_kw("SELECT")
        items: list[SelectItem] = [self.select_item(nested)]
        while self.at_punct(","):
            self.advance()
            items.append(self.select_item(nested))
        self.expect_kw("FROM")
        from_tok = self.name()
        if self.tok.kind == "name" and not self.is_kw(
            "WHERE", "ORDER", "LIMIT", "OFFSET", "GROUP", "WITH", "FOR", "USING"
        ):
            raise self.fail()
        where = None
        if self.is_kw("WHERE"):
            self.advance()
            where = self.condition()
        order: list[OrderItem] = []
        if self.is_kw("ORDER"):
            self.advance()
            self.expect_kw("BY")
            order.append(self.order_item())
            while self.at_punct(","):
                self.advance()
                order.append(self.order_item())
        limit = offset = None
        if self.is_kw("LIMIT"):
            self.advance()
            limit = self.integer()
        if self.is_kw("OFFSET"):
            self.advance()
            offset = self.integer()
        if nested:
            if not self.at_punct(")"):
                raise self.fail()
        elif self.tok.kind != "eof":
            raise self.fail()
        return Query(
            select=tuple(items),
            from_name=from_tok.text,
            where=where,
            order_by=tuple(order),
            limit=limit,
            offset=offset,
            text=self.text,
            from_pos=from_tok.pos,
        )

    def integer(self) -> int:
        t = self.tok
        if t.kind != "number" or not t.text.isdigit():
            raise self.fail()
        self.advance()
        return int(t.text)

    def path(self) -> FieldPath:
        first = self.name()
        parts = [first.text]
        while self.at_punct("."):
            self.advance()
            parts.append(self.name().text)
        return FieldPath(tuple(parts), first.pos)

    def select_item(self, nested: bool) -> SelectItem:
        if self.at_punct("("):
            if nested:
                raise self.fail()
            self.advance()
            sub = self.query(nested=True)
            self.expect_punct(")")
            return SubQuery(sub)
        if self.is_kw("COUNT") and self.tokens[self.i + 1].text == "(":
            self.advance()
            self.advance()
            path = None if self.at_punct(")") else self.path()
            self.expect_punct(")")
            alias = None
            if path is not None and self.tok.kind == "name" and self.tok.upper not in KEYWORDS:
                alias = self.advance().text
            return CountItem(path, alias)
        return self.path()

    def order_item(self) -> OrderItem:
        path = self.path()
        descending = False
        if self.is_kw("ASC", "DESC"):
            descending = self.advance().upper == "DESC"
        nulls_last = None
        if self.is_kw("NULLS"):
            self.advance()
            if not self.is_kw("FIRST", "LAST"):
                raise self.fail()
            nulls_last = self.advance().upper == "LAST"
        return OrderItem(path, descending, nulls_last)

    def condition(self) -> Condition:
        first = self.term()
        if not self.is_kw("AND", "OR"):
            return first
        joiner = self.tok.upper
        items = [first]
        while self.is_kw(joiner):
            self.advance()
            items.append(self.term())
        if self.is_kw("AND", "OR"):  # SOQL requires parentheses when mixing AND and OR
            raise self.fail()
        return And(tuple(items)) if joiner == "AND" else Or(tuple(items))

    def term(self) -> Condition:
        if self.is_kw("NOT"):
            self.advance()
            return Not(self.term())
        if self.at_punct("("):
            self.advance()
            cond = self.condition()
            self.expect_punct(")")
            return cond
        path = self.path()
        t = self.tok
        if t.kind == "op":
            self.advance()
            op = "!=" if t.text == "<>" else t.text
            return Comparison(path, op, self.value())
        if self.is_kw("LIKE"):
            self.advance()
            value = self.value()
            if value.kind != "string":
                raise self.fail(self.tokens[self.i - 1])
            return Comparison(path, "LIKE", value)
        negated = False
        if self.is_kw("NOT"):
            self.advance()
            negated = True
            if not self.is_kw("IN"):
                raise self.fail()
        if self.is_kw("IN"):
            self.advance()
            self.expect_punct("(")
            if self.is_kw("SELECT"):
                raise self.fail(reason="semi-join subqueries are not supported by the sandbox")
            values = [self.value()]
            while self.at_punct(","):
                self.advance()
                values.append(self.value())
            self.expect_punct(")")
            return Comparison(path, "NOT IN" if negated else "IN", tuple(values))
        raise self.fail()

    def value(self) -> Value:
        t = self.tok
        if t.kind == "string":
            self.advance()
            return Value("string", unescape(t.text[1:-1], self.text, t.pos), t.pos)
        if t.kind == "number":
            self.advance()
            return Value("number", float(t.text) if "." in t.text else int(t.text), t.pos)
        if t.kind == "punct" and t.text == "-" and self.tokens[self.i + 1].kind == "number":
            self.advance()
            num = self.advance().text
            return Value("number", -(float(num) if "." in num else int(num)), t.pos)
        if t.kind == "date":
            self.advance()
            try:
                return Value("date", date.fromisoformat(t.text), t.pos)
            except ValueError:
                raise self.fail(t, f"line 1:{t.pos} no viable alternative at character") from None
        if t.kind == "datetime":
            self.advance()
            try:
                return Value("datetime", parse_datetime_literal(t.text), t.pos)
            except ValueError:
                raise self.fail(t, f"line 1:{t.pos} no viable alternative at character") from None
        if t.kind == "name":
            word = t.upper
            if word in ("TRUE", "FALSE"):
                self.advance()
                return Value("boolean", word == "TRUE", t.pos)
            if word == "NULL":
                self.advance()
                return Value("null", None, t.pos)
            if word in DATE_LITERALS:
                self.advance()
                return Value("date_literal", (word, None), t.pos)
            if word in DATE_N_LITERALS:
                self.advance()
                self.expect_punct(":")
                return Value("date_literal", (word, self.integer()), t.pos)
        raise self.fail()


def parse(text: str) -> Query:
    """Parse a SOQL SELECT statement into a :class:`Query` (raises :class:`SoqlError`)."""
    return _Parser(text).query()


_QUOTE = str.maketrans({"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def quote(value: str) -> str:
    """``value`` as a SOQL string literal (quotes, backslashes and line breaks escaped)."""
    return "'" + value.translate(_QUOTE) + "'"
