"""The syntax tree of a format description (what the parser builds and the checker
annotates for the C generator)."""

from __future__ import annotations

from dataclasses import dataclass, field

from aatcp.formats.errors import Pos

# ---------------------------------------------------------------- expressions


@dataclass
class Expr:
    pos: Pos


@dataclass
class IntLit(Expr):
    value: int


@dataclass
class BoolLit(Expr):
    value: bool


@dataclass
class Name(Expr):
    """A parameter, a stream variable or a record variable (resolved by the checker)."""

    name: str
    scope: str = ""  # "param" | "var" | "record" (checker)
    type: str = ""  # "int" | "bool" (checker)


@dataclass
class Builtin(Expr):
    """`len` (bytes of the field) or `count` (its repetition number, from 1)."""

    name: str


@dataclass
class IntOf(Expr):
    """`int` / `int after "PREFIX"`: the field as a decimal number."""

    after: bytes | None


@dataclass
class Neg(Expr):
    operand: Expr


@dataclass
class BinOp(Expr):
    op: str  # + - *
    left: Expr
    right: Expr


@dataclass
class Compare(Expr):
    op: str  # == != < <= > >=
    left: Expr
    right: Expr


@dataclass
class Logic(Expr):
    op: str  # and | or
    left: Expr
    right: Expr


@dataclass
class Not(Expr):
    operand: Expr


@dataclass
class FieldTest(Expr):
    """`equals`, `equals_case`, `starts`, `starts_case`, `contains` STRING."""

    test: str
    value: bytes


@dataclass
class Empty(Expr):
    pass


@dataclass
class DelimTest(Expr):
    """`delim "s"` / `delim eof`: which delimiter ended the field."""

    value: bytes | None  # None: eof
    index: int = -1  # checker: index in the field's delimiters


# ---------------------------------------------------------------- statements


@dataclass
class Stmt:
    pos: Pos


@dataclass
class Assign(Stmt):
    target: Name
    op: str  # = += -=
    value: Expr


@dataclass
class End(Stmt):
    state: str | None
    state_pos: Pos | None = None
    state_index: int = -1  # checker


@dataclass
class Next(Stmt):
    field: str | None
    field_pos: Pos | None = None
    field_index: int = -1  # checker


@dataclass
class Fail(Stmt):
    code: str
    message: bytes


@dataclass
class If(Stmt):
    branches: list[tuple[Expr, list[Stmt]]]
    orelse: list[Stmt] | None


# ---------------------------------------------------------------- declarations

#: Error codes `fail` may name -> enum aa_error.
FAIL_CODES = {
    "syntax": "AA_ERR_SYNTAX",
    "too_long": "AA_ERR_TOO_LONG",
    "field_count": "AA_ERR_FIELD_COUNT",
    "too_many_fields": "AA_ERR_TOO_MANY_FIELDS",
    "bad_length": "AA_ERR_BAD_LENGTH",
    "bad_chunk": "AA_ERR_BAD_CHUNK",
    "bad_encoding": "AA_ERR_BAD_ENCODING",
    "binary": "AA_ERR_BINARY",
    "truncated": "AA_ERR_TRUNCATED",
    "fragmented": "AA_ERR_FRAGMENTED",
    "module": "AA_ERR_MODULE",
}


@dataclass
class Param:
    name: str
    pos: Pos
    type: str
    default: int | bool | None
    lo: int | None = None
    hi: int | None = None


@dataclass
class Var:
    name: str
    pos: Pos
    type: str
    init: int | bool | None = None
    init_pos: Pos | None = None


@dataclass
class Delim:
    value: bytes | None  # None: eof
    pos: Pos


@dataclass
class Field:
    name: str
    pos: Pos
    reps: int | None  # None: a single field; N: name[N] (name[PARAM]: the checker sets
    #                   the parameter's upper bound)
    kind: str  # "until" | "length" | "packet"
    kind_pos: Pos
    delims: list[Delim] = field(default_factory=list)  # until
    length: Expr | None = None  # length EXPR, packet upto EXPR
    quote: bytes | None = None
    quote_pos: Pos | None = None
    max: int | None = None
    max_pos: Pos | None = None
    body: list[Stmt] = field(default_factory=list)
    reps_param: str | None = None  # name[PARAM]: at most the socket's value of PARAM
    reps_pos: Pos | None = None
    # checker
    slot: int = 0
    outcomes: set[str] = field(default_factory=set)  # "default", "end", "fail", "next"

    @property
    def nslots(self) -> int:
        return self.reps or 1

    @property
    def strings(self) -> list[bytes]:
        return [d.value for d in self.delims if d.value is not None]

    @property
    def eof(self) -> bool:
        return any(d.value is None for d in self.delims)


@dataclass
class State:
    name: str
    pos: Pos
    vars: list[Var] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)
    on_eof: list[Stmt] | None = None
    on_eof_pos: Pos | None = None
    # checker
    index: int = 0
    nslots: int = 0


@dataclass
class Format:
    path: str
    name: str
    pos: Pos
    max_record_bytes: int | None = None
    params: list[Param] = field(default_factory=list)
    vars: list[Var] = field(default_factory=list)
    states: list[State] = field(default_factory=list)
    source: str = ""

    @property
    def nslots(self) -> int:
        return max((s.nslots for s in self.states), default=0)
