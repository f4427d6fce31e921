"""Semantic checks of a parsed description: names, types, transitions.

Collects every problem it finds (each with its line and column) and raises one
FormatError listing them; on success the model is annotated for the C generator
(slots, resolved names, delimiter indexes, state and field indexes).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from aatcp.formats import model as m
from aatcp.formats.errors import FormatError, Pos

NAME_RE = re.compile(r"[a-z][a-z0-9_]*\Z")
_C_WORDS = ("auto break case char const continue default do double else enum extern float "
            "for goto if inline int long register restrict return short signed sizeof static "
            "struct switch typedef union unsigned void volatile while bool true false")
C_KEYWORDS = frozenset(_C_WORDS.split())
MAX_DELIMS = 8
MAX_DELIM_LEN = 64
MAX_SLOTS = 4096
INT64_MAX = (1 << 63) - 1


def _suggest(name: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(name, choices, n=1)
    if close:
        return f" (did you mean '{close[0]}'?)"
    if choices:
        return f" (known: {', '.join(choices)})"
    return ""


@dataclass
class _Ctx:
    """Where an expression or statement is."""

    state: m.State | None
    field: m.Field | None
    where: str  # "action" | "length" | "eof"

    def describe(self) -> str:
        if self.where == "eof":
            return "an 'on eof' block"
        if self.where == "length":
            return "a field's length"
        return "a field's actions"


class _Checker:
    def __init__(self, fmt: m.Format) -> None:
        self.fmt = fmt
        self.problems: list[tuple[Pos, str]] = []
        self.globals: dict[str, m.Param | m.Var] = {}
        self.states: dict[str, m.State] = {}

    def err(self, pos: Pos, msg: str) -> None:
        self.problems.append((pos, msg))

    # ------------------------------------------------------------ names

    def reps_bound(self, f: m.Field) -> int:
        """name[PARAM]: PARAM is an int parameter with a range; its upper bound is the
        record's number of slots for the field (the socket's value is at most that)."""
        pos = f.reps_pos or f.pos
        p = next((p for p in self.fmt.params if p.name == f.reps_param), None)
        if p is None:
            self.err(pos, f"'{f.name}[{f.reps_param}]': '{f.reps_param}' is not a parameter "
                          "(declare it: param NAME: int in 1..N)")
            return 1
        if p.type != "int" or p.lo is None or p.hi is None:
            self.err(pos, f"'{f.name}[{f.reps_param}]': the repetitions need an int parameter "
                          f"with a range (param {p.name}: int in 1..N)")
            return 1
        if not 1 <= p.lo <= p.hi <= 4096:
            self.err(pos, f"'{f.name}[{f.reps_param}]': the range of '{p.name}' must lie in "
                          "1 .. 4096 (a repeated field has 1 .. 4096 slots)")
            return 1
        return p.hi

    def check_name(self, name: str, pos: Pos, what: str) -> None:
        if not NAME_RE.match(name):
            self.err(pos, f"{what} '{name}': names are lowercase letters, digits and '_', "
                          "beginning with a letter")
        elif name in C_KEYWORDS:
            self.err(pos, f"{what} '{name}' is a C keyword (the name goes into C code)")
        elif name.startswith("aa_"):
            self.err(pos, f"{what} '{name}': names beginning with 'aa_' are reserved")

    def run(self) -> None:
        fmt = self.fmt
        self.check_name(fmt.name, fmt.pos, "format")
        for p in fmt.params:
            self.declare_global(p, "parameter")
            self.check_param(p)
        for v in fmt.vars:
            self.declare_global(v, "variable")
            self.check_literal(v.init, v.type, v.init_pos or v.pos, f"variable '{v.name}'")
        if not fmt.states:
            self.err(fmt.pos, "the format has no state: declare at least one "
                              "(state NAME { field ... })")
        for i, st in enumerate(fmt.states):
            st.index = i
            self.check_name(st.name, st.pos, "state")
            if st.name == "raw":
                self.err(st.pos, "state 'raw': the name is reserved (record.fields.raw[] "
                                 "holds every slot)")
            if st.name in self.states:
                self.err(st.pos, f"duplicate state '{st.name}' (first at line "
                                 f"{self.states[st.name].pos.line})")
            else:
                self.states[st.name] = st
        # C names made from the format and state names must not collide.
        cnames: dict[str, str] = {}
        for st in fmt.states:
            cn = f"{fmt.name}_{st.name}".upper()
            for extra in ("max_fields", "n_states"):
                if st.name == extra:
                    self.err(st.pos, f"state '{st.name}': the name is reserved "
                                     f"({cn} is a generated constant)")
            if cn in cnames and cnames[cn] != st.name:
                self.err(st.pos, f"state '{st.name}' gives the same C name {cn} as state "
                                 f"'{cnames[cn]}'")
            cnames[cn] = st.name
        for st in fmt.states:
            self.check_state(st)
        if not self.problems:
            self.check_flow()

    def declare_global(self, d: m.Param | m.Var, what: str) -> None:
        self.check_name(d.name, d.pos, what)
        if d.name in self.globals:
            self.err(d.pos, f"duplicate name '{d.name}': already declared at line "
                            f"{self.globals[d.name].pos.line}")
        else:
            self.globals[d.name] = d

    def check_literal(self, value: int | bool | None, typ: str, pos: Pos, what: str) -> None:
        if value is None:
            return
        if typ == "bool" and not isinstance(value, bool):
            self.err(pos, f"{what} is a bool: its value is true or false")
        elif typ == "int" and isinstance(value, bool):
            self.err(pos, f"{what} is an int: its value is a number")
        elif typ == "int" and not -INT64_MAX - 1 <= value <= INT64_MAX:
            self.err(pos, f"{what}: {value} does not fit in 64 bits")

    def check_param(self, p: m.Param) -> None:
        self.check_literal(p.default, p.type, p.pos, f"parameter '{p.name}'")
        if p.lo is not None and p.hi is not None:
            if p.type != "int":
                self.err(p.pos, f"parameter '{p.name}': only int parameters have a range")
            elif p.lo > p.hi:
                self.err(p.pos, f"parameter '{p.name}': empty range {p.lo}..{p.hi}")
            elif (isinstance(p.default, int) and not isinstance(p.default, bool)
                  and not p.lo <= p.default <= p.hi):
                self.err(p.pos, f"parameter '{p.name}': default {p.default} is outside "
                                f"{p.lo}..{p.hi}")

    # ------------------------------------------------------------ states and fields

    def check_state(self, st: m.State) -> None:
        recs: dict[str, Pos] = {}
        for v in st.vars:
            self.check_name(v.name, v.pos, "record variable")
            if v.name in self.globals:
                self.err(v.pos, f"duplicate name '{v.name}': a parameter or stream variable "
                                f"of that name is declared at line "
                                f"{self.globals[v.name].pos.line}")
            elif v.name in recs:
                self.err(v.pos, f"duplicate record variable '{v.name}' in state '{st.name}'")
            recs[v.name] = v.pos
            if v.init is not None:
                self.err(v.init_pos or v.pos, f"record variable '{v.name}' cannot have an "
                                              "initial value: record variables start at 0 "
                                              "(false) in every record")
        if not st.fields:
            self.err(st.pos, f"state '{st.name}' has no field: a record needs at least one")
        names: dict[str, m.Field] = {}
        slot = 0
        for f in st.fields:
            self.check_name(f.name, f.pos, "field")
            if f.name in names:
                self.err(f.pos, f"duplicate field '{f.name}' in state '{st.name}' (first at "
                                f"line {names[f.name].pos.line})")
            names[f.name] = f
            if f.reps_param is not None:
                f.reps = self.reps_bound(f)
            if f.reps is not None:
                auto = f"n_{f.name}"
                if auto in recs or auto in self.globals:
                    self.err(f.pos, f"repeated field '{f.name}' counts its slots in record "
                                    f"variable '{auto}', which is already declared")
                recs[auto] = f.pos
            f.slot = slot
            slot += f.nslots
        st.nslots = slot
        if slot > MAX_SLOTS:
            self.err(st.pos, f"state '{st.name}' has {slot} field slots; at most {MAX_SLOTS}")
        for i, f in enumerate(st.fields):
            self.check_field(st, i, f)
        if st.on_eof is not None:
            self.block(st.on_eof, _Ctx(st, None, "eof"))

    def check_field(self, st: m.State, index: int, f: m.Field) -> None:
        where = f"field '{f.name}'"
        if f.kind == "until":
            seen: dict[bytes | None, Pos] = {}
            for d in f.delims:
                if d.value in seen:
                    what = "eof" if d.value is None else "delimiter"
                    self.err(d.pos, f"{where}: {what} listed twice")
                seen[d.value] = d.pos
                if d.value is not None:
                    if not d.value:
                        self.err(d.pos, f"{where}: an empty delimiter never ends anything")
                    elif len(d.value) > MAX_DELIM_LEN:
                        self.err(d.pos, f"{where}: a delimiter has at most {MAX_DELIM_LEN} "
                                        "bytes")
            if len(f.strings) > MAX_DELIMS:
                self.err(f.kind_pos, f"{where}: at most {MAX_DELIMS} delimiters")
        elif f.length is not None:
            t = self.expr(f.length, _Ctx(st, f, "length"))
            if t and t != "int":
                self.err(f.length.pos, f"{where}: the length is a number, not a {t}")
        if f.quote is not None:
            qpos = f.quote_pos or f.pos
            if f.kind != "until":
                self.err(qpos, f"{where}: 'quoted' needs a field that ends with 'until'")
            elif len(f.quote) != 1:
                self.err(qpos, f"{where}: the quote is one byte (e.g. quoted \"\\\"\")")
            elif any(s[:1] == f.quote for s in f.strings):
                self.err(qpos, f"{where}: the quote character also begins a delimiter")
        if f.max is not None:
            mpos = f.max_pos or f.pos
            if f.kind == "packet":
                self.err(mpos, f"{where}: 'max' applies to 'until' and 'length' fields "
                               "(a packet field takes 'upto')")
            elif f.max < 1:
                self.err(mpos, f"{where}: 'max' is at least 1")
        ctx = _Ctx(st, f, "action")
        terms, falls = self.block(f.body, ctx)
        f.outcomes = set(terms)
        if falls:
            f.outcomes.add("default")

    # ------------------------------------------------------------ statements

    def block(self, stmts: list[m.Stmt], ctx: _Ctx) -> tuple[set[str], bool]:
        """(terminal outcomes, whether control can fall off the end)."""
        terms: set[str] = set()
        falls = True
        for s in stmts:
            if not falls:
                self.err(s.pos, "unreachable statement: the one before it always ends "
                                "(end, next or fail)")
                break
            t, falls = self.stmt(s, ctx)
            terms |= t
        return terms, falls

    def stmt(self, s: m.Stmt, ctx: _Ctx) -> tuple[set[str], bool]:
        if isinstance(s, m.Assign):
            self.assign(s, ctx)
            return set(), True
        if isinstance(s, m.End):
            if ctx.where == "eof":
                self.err(s.pos, "'end' is not allowed in 'on eof' (no record is in progress)")
            elif s.state is not None:
                st = self.states.get(s.state)
                if st is None:
                    self.err(s.state_pos or s.pos, f"unknown state '{s.state}'"
                             + _suggest(s.state, list(self.states)))
                else:
                    s.state_index = st.index
            return {"end"}, False
        if isinstance(s, m.Next):
            self.next_(s, ctx)
            return {"next"}, False
        if isinstance(s, m.Fail):
            if b"\0" in s.message:
                self.err(s.pos, "an error message cannot contain a NUL byte")
            return {"fail"}, False
        if isinstance(s, m.If):
            terms: set[str] = set()
            falls = False
            for cond, body in s.branches:
                t = self.expr(cond, ctx)
                if t and t != "bool":
                    self.err(cond.pos, f"'if' needs a condition, not an {t} (compare it: "
                                       "x > 0)")
                bt, bf = self.block(body, ctx)
                terms |= bt
                falls = falls or bf
            if s.orelse is None:
                falls = True
            else:
                bt, bf = self.block(s.orelse, ctx)
                terms |= bt
                falls = falls or bf
            return terms, falls
        raise AssertionError(s)

    def next_(self, s: m.Next, ctx: _Ctx) -> None:
        if ctx.where == "eof" or ctx.field is None or ctx.state is None:
            self.err(s.pos, "'next' is only allowed in a field's actions")
            return
        fields = ctx.state.fields
        here = fields.index(ctx.field)
        if s.field is None:
            if here + 1 >= len(fields):
                self.err(s.pos, f"'next': field '{ctx.field.name}' is the last of state "
                                f"'{ctx.state.name}' (end the record instead)")
            s.field_index = here + 1
            return
        names = [f.name for f in fields]
        if s.field not in names:
            self.err(s.field_pos or s.pos, f"unknown field '{s.field}' in state "
                     f"'{ctx.state.name}'" + _suggest(s.field, names))
            return
        idx = names.index(s.field)
        if idx <= here:
            self.err(s.field_pos or s.pos, f"'next {s.field}': a record's fields are read "
                                           "in order, so 'next' can only jump forward")
        s.field_index = idx

    def lookup(self, name: m.Name, ctx: _Ctx) -> m.Param | m.Var | None:
        if ctx.state is not None:
            for v in ctx.state.vars:
                if v.name == name.name:
                    if ctx.where == "eof":
                        self.err(name.pos, f"record variable '{name.name}' cannot be used in "
                                           "'on eof' (no record is in progress)")
                        return None
                    name.scope, name.type = "record", v.type
                    return v
            for f in ctx.state.fields:
                if f.reps is not None and name.name == f"n_{f.name}":
                    self.err(name.pos, f"'{name.name}' is the record's count of '{f.name}' "
                                       "fields for the application; in actions use 'count'")
                    return None
        d = self.globals.get(name.name)
        if d is None:
            known = list(self.globals) + ([v.name for v in ctx.state.vars]
                                          if ctx.state and ctx.where != "eof" else [])
            is_field = ctx.state is not None and any(f.name == name.name
                                                     for f in ctx.state.fields)
            hint = (" (a field is not a variable: use len, int, equals ... in its own "
                    "actions)") if is_field else _suggest(name.name, known)
            self.err(name.pos, f"undefined variable '{name.name}'{hint}")
            return None
        name.scope = "param" if isinstance(d, m.Param) else "var"
        name.type = d.type
        return d

    def assign(self, s: m.Assign, ctx: _Ctx) -> None:
        d = self.lookup(s.target, ctx)
        vt = self.expr(s.value, ctx)
        if d is None:
            return
        if isinstance(d, m.Param):
            self.err(s.target.pos, f"parameter '{d.name}' is read-only")
            return
        if s.op in ("+=", "-=") and d.type != "int":
            self.err(s.pos, f"'{s.op}' needs an int variable; '{d.name}' is a {d.type}")
        elif vt and vt != d.type:
            self.err(s.value.pos, f"'{d.name}' is {'an' if d.type == 'int' else 'a'} "
                                  f"{d.type}, the value is {'an' if vt == 'int' else 'a'} {vt}")

    # ------------------------------------------------------------ expressions

    def field_only(self, e: m.Expr, ctx: _Ctx, what: str) -> bool:
        if ctx.where != "action" or ctx.field is None:
            self.err(e.pos, f"'{what}' is about the field that just ended: it is only "
                            f"available in a field's actions, not in {ctx.describe()}")
            return False
        return True

    def expr(self, e: m.Expr, ctx: _Ctx) -> str | None:
        """The type of e ("int" / "bool"), or None after an error."""
        if isinstance(e, m.IntLit):
            if e.value > INT64_MAX:
                self.err(e.pos, f"{e.value} does not fit in 64 bits")
            return "int"
        if isinstance(e, m.BoolLit):
            return "bool"
        if isinstance(e, m.Name):
            d = self.lookup(e, ctx)
            return d.type if d else None
        if isinstance(e, m.Builtin):
            self.field_only(e, ctx, e.name)
            return "int"
        if isinstance(e, m.IntOf):
            if self.field_only(e, ctx, "int") and e.after is not None and b"\0" in e.after:
                self.err(e.pos, "'int after': the text cannot contain a NUL byte")
            return "int"
        if isinstance(e, m.Neg):
            t = self.expr(e.operand, ctx)
            if t and t != "int":
                self.err(e.pos, "'-' needs a number")
            return "int"
        if isinstance(e, m.BinOp):
            lt, rt = self.expr(e.left, ctx), self.expr(e.right, ctx)
            if (lt and lt != "int") or (rt and rt != "int"):
                self.err(e.pos, f"'{e.op}' needs numbers on both sides")
            return "int"
        if isinstance(e, m.Compare):
            lt, rt = self.expr(e.left, ctx), self.expr(e.right, ctx)
            if lt and rt:
                if e.op in ("==", "!=") and lt != rt:
                    self.err(e.pos, f"'{e.op}' compares an {lt} with a {rt}")
                elif e.op not in ("==", "!=") and (lt != "int" or rt != "int"):
                    self.err(e.pos, f"'{e.op}' compares numbers")
            return "bool"
        if isinstance(e, m.Logic):
            for side in (e.left, e.right):
                t = self.expr(side, ctx)
                if t and t != "bool":
                    self.err(side.pos, f"'{e.op}' combines conditions, not numbers")
            return "bool"
        if isinstance(e, m.Not):
            t = self.expr(e.operand, ctx)
            if t and t != "bool":
                self.err(e.pos, "'not' needs a condition")
            return "bool"
        if isinstance(e, m.FieldTest):
            if self.field_only(e, ctx, e.test) and e.test != "equals" and b"\0" in e.value:
                self.err(e.pos, f"'{e.test}': the string cannot contain a NUL byte (only "
                                "'equals' can compare one)")
            return "bool"
        if isinstance(e, m.Empty):
            self.field_only(e, ctx, "empty")
            return "bool"
        if isinstance(e, m.DelimTest):
            if self.field_only(e, ctx, "delim"):
                f = ctx.field
                assert f is not None
                if f.kind != "until":
                    self.err(e.pos, f"'delim': field '{f.name}' does not end with a "
                                    f"delimiter (it is a '{f.kind}' field)")
                elif e.value is None:
                    if not f.eof:
                        self.err(e.pos, f"'delim eof': field '{f.name}' does not list eof "
                                        "among its delimiters")
                elif e.value not in f.strings:
                    self.err(e.pos, f"'delim': {e.value!r} is not a delimiter of field "
                                    f"'{f.name}'")
                else:
                    e.index = f.strings.index(e.value)
            return "bool"
        raise AssertionError(e)

    # ------------------------------------------------------------ transitions

    def check_flow(self) -> None:
        """Every field reachable, every state left and entered, no fall-off at the end."""
        fmt = self.fmt
        targets: dict[int, set[int]] = {}
        for st in fmt.states:
            fields = st.fields
            reach = {0}
            todo = [0]
            while todo:
                i = todo.pop()
                f = fields[i]
                succ: set[int] = set()
                if "default" in f.outcomes:
                    if f.reps is not None:
                        succ.add(i)
                    elif i + 1 < len(fields):
                        succ.add(i + 1)
                for s in _walk(f.body):
                    if isinstance(s, m.Next) and s.field_index >= 0:
                        succ.add(s.field_index)
                for j in succ - reach:
                    reach.add(j)
                    todo.append(j)
            for i, f in enumerate(fields):
                if i not in reach:
                    self.err(f.pos, f"field '{f.name}' can never be reached: no path through "
                                    "the fields before it leads here (add 'next' or remove "
                                    "an 'end')")
            last = fields[-1]
            if last.reps is None and "default" in last.outcomes:
                self.err(last.pos, f"missing transition: field '{last.name}' is the last of "
                                   f"state '{st.name}', so every path through its actions "
                                   "must end the record ('end' or 'end -> STATE') or 'fail'")
            ends = [s for i in sorted(reach) for s in _walk(fields[i].body)
                    if isinstance(s, m.End)]
            if not ends:
                self.err(st.pos, f"state '{st.name}' has no way out: no field's actions ever "
                                 "'end' the record")
            targets[st.index] = {s.state_index if s.state is not None else st.index
                                 for s in ends}
        seen = {0}
        todo = [0]
        while todo:
            for j in targets.get(todo.pop(), set()) - seen:
                seen.add(j)
                todo.append(j)
        for st in fmt.states:
            if st.index not in seen:
                self.err(st.pos, f"state '{st.name}' is never entered: no 'end -> "
                                 f"{st.name}' is reachable from the first state "
                                 f"'{fmt.states[0].name}'")


def _walk(stmts: list[m.Stmt]) -> list[m.Stmt]:
    out: list[m.Stmt] = []
    for s in stmts:
        out.append(s)
        if isinstance(s, m.If):
            for _, body in s.branches:
                out += _walk(body)
            if s.orelse:
                out += _walk(s.orelse)
    return out


def check(fmt: m.Format) -> m.Format:
    """Checks and annotates `fmt`; raises FormatError listing every problem."""
    c = _Checker(fmt)
    c.run()
    if c.problems:
        raise FormatError(fmt.path, c.problems)
    return fmt
