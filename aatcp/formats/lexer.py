"""Tokens of the format description language (see docs/formats.md)."""

from __future__ import annotations

from dataclasses import dataclass

from aatcp.formats.errors import FormatError, Pos

KEYWORDS = frozenset({
    "format", "max_record_bytes", "param", "var", "state", "field", "until", "length",
    "packet", "upto", "eof", "quoted", "max", "on", "if", "elif", "else", "end", "next",
    "fail", "and", "or", "not", "true", "false", "empty", "delim", "equals", "equals_case",
    "starts", "starts_case", "contains", "len", "count", "int", "bool", "after", "in",
})

# Longest first: the lexer takes the first that matches.
PUNCT = ("->", "..", "+=", "-=", "==", "!=", "<=", ">=", "{", "}", "[", "]", "(", ")",
         ":", ",", ";", "|", "=", "<", ">", "+", "-", "*")

ESCAPES = {"n": 10, "r": 13, "t": 9, "0": 0, "\\": 92, '"': 34, "'": 39}


@dataclass(frozen=True)
class Token:
    kind: str  # "name", "kw", "int", "str", "punct", "eof"
    text: str  # as written (keyword/name/punct), decimal text for int
    pos: Pos
    value: bytes | int | None = None  # str: the bytes; int: the number


def _is_name_start(ch: str) -> bool:
    return ch.isascii() and (ch.isalpha() or ch == "_")


def _is_name_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


def tokenize(text: str, path: str) -> list[Token]:
    """The tokens of `text`; raises FormatError at the first bad character or string."""
    toks: list[Token] = []
    i, line, col = 0, 1, 1
    n = len(text)

    def err(msg: str, at_line: int, at_col: int) -> FormatError:
        return FormatError(path, [(Pos(at_line, at_col), msg)])

    while i < n:
        ch = text[i]
        if ch == "\n":
            i, line, col = i + 1, line + 1, 1
            continue
        if ch in " \t\r":
            i, col = i + 1, col + 1
            continue
        if ch == "#":
            while i < n and text[i] != "\n":
                i += 1
            continue
        start = Pos(line, col)
        if ch.isdigit():
            j = i
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            word = text[i:j]
            if not word.isdigit():
                raise err(f"bad number '{word}' (decimal digits only)", line, col)
            toks.append(Token("int", word, start, int(word)))
            col += j - i
            i = j
            continue
        if _is_name_start(ch):
            j = i
            while j < n and _is_name_char(text[j]):
                j += 1
            word = text[i:j]
            toks.append(Token("kw" if word in KEYWORDS else "name", word, start))
            col += j - i
            i = j
            continue
        if ch == '"':
            out = bytearray()
            j, c = i + 1, col + 1
            while True:
                if j >= n or text[j] == "\n":
                    raise err("unterminated string (a string ends on its line with \")",
                              line, col)
                cj = text[j]
                if cj == '"':
                    j, c = j + 1, c + 1
                    break
                if cj == "\\":
                    if j + 1 >= n or text[j + 1] == "\n":
                        raise err("bad string escape '\\' at the end of the line", line, c)
                    e = text[j + 1]
                    if e in ESCAPES:
                        out.append(ESCAPES[e])
                        j, c = j + 2, c + 2
                        continue
                    if e == "x":
                        hx = text[j + 2:j + 4]
                        if len(hx) == 2 and all(h in "0123456789abcdefABCDEF" for h in hx):
                            out.append(int(hx, 16))
                            j, c = j + 4, c + 4
                            continue
                        raise err("bad string escape: \\x needs two hexadecimal digits "
                                  "(e.g. \\x0b)", line, c)
                    raise err(f"bad string escape '\\{e}' (use \\n \\r \\t \\0 \\\\ \\\" "
                              "or \\xHH)", line, c)
                if cj == "\t" or ord(cj) < 32:
                    raise err("control character in a string: write it as an escape "
                              "(\\t, \\xHH)", line, c)
                out += cj.encode()
                j, c = j + 1, c + 1
            toks.append(Token("str", text[i:j], start, bytes(out)))
            i, col = j, c
            continue
        for p in PUNCT:
            if text.startswith(p, i):
                toks.append(Token("punct", p, start))
                i, col = i + len(p), col + len(p)
                break
        else:
            raise err(f"unexpected character {ch!r}", line, col)
    toks.append(Token("eof", "end of file", Pos(line, col)))
    return toks
