"""Recursive-descent parser: tokens -> model.Format (grammar in docs/formats.md)."""

from __future__ import annotations

from aatcp.formats import model as m
from aatcp.formats.errors import FormatError, Pos
from aatcp.formats.lexer import Token, tokenize

FIELD_TESTS = ("equals", "equals_case", "starts", "starts_case", "contains")
CMP_OPS = ("==", "!=", "<", "<=", ">", ">=")
ASSIGN_OPS = ("=", "+=", "-=")


class _Parser:
    def __init__(self, toks: list[Token], path: str) -> None:
        self.toks = toks
        self.i = 0
        self.path = path

    # ------------------------------------------------------------ helpers

    @property
    def tok(self) -> Token:
        return self.toks[self.i]

    def peek(self, k: int = 1) -> Token:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def error(self, msg: str, tok: Token | None = None) -> FormatError:
        t = tok or self.tok
        return FormatError(self.path, [(t.pos, msg)])

    @staticmethod
    def describe(t: Token) -> str:
        if t.kind == "eof":
            return "the end of the file"
        if t.kind == "str":
            return f"string {t.text}"
        return f"'{t.text}'"

    def at(self, kind: str, text: str | None = None) -> bool:
        t = self.tok
        return t.kind == kind and (text is None or t.text == text)

    def at_kw(self, *words: str) -> bool:
        return self.tok.kind == "kw" and self.tok.text in words

    def at_punct(self, *ps: str) -> bool:
        return self.tok.kind == "punct" and self.tok.text in ps

    def take(self) -> Token:
        t = self.tok
        if t.kind != "eof":
            self.i += 1
        return t

    def expect_punct(self, p: str, what: str) -> Token:
        if not self.at_punct(p):
            raise self.error(f"expected '{p}' {what}, found {self.describe(self.tok)}")
        return self.take()

    def expect_kw(self, kw: str, what: str) -> Token:
        if not self.at_kw(kw):
            raise self.error(f"expected '{kw}' {what}, found {self.describe(self.tok)}")
        return self.take()

    def expect_name(self, what: str) -> Token:
        t = self.tok
        if t.kind == "kw":
            raise self.error(f"'{t.text}' is a reserved word and cannot be used as {what}")
        if t.kind != "name":
            raise self.error(f"expected {what}, found {self.describe(t)}")
        return self.take()

    def expect_int(self, what: str) -> Token:
        if not self.at("int"):
            raise self.error(f"expected {what} (a decimal number), found "
                             f"{self.describe(self.tok)}")
        return self.take()

    def expect_str(self, what: str) -> Token:
        if not self.at("str"):
            raise self.error(f"expected {what} (a \"string\"), found {self.describe(self.tok)}")
        return self.take()

    def expect_type(self) -> str:
        if self.at_kw("int", "bool"):
            return self.take().text
        raise self.error(f"expected a type (int or bool), found {self.describe(self.tok)}")

    def literal(self, what: str) -> tuple[int | bool, Pos]:
        t = self.tok
        if self.at_kw("true", "false"):
            self.take()
            return t.text == "true", t.pos
        neg = False
        if self.at_punct("-"):
            self.take()
            neg = True
        n = self.expect_int(what)
        assert isinstance(n.value, int)
        return (-n.value if neg else n.value), t.pos

    # ------------------------------------------------------------ file

    def parse_file(self, source: str) -> m.Format:
        if not self.at_kw("format"):
            raise self.error("a description begins with 'format NAME' (the module's name), "
                             f"found {self.describe(self.tok)}")
        self.take()
        name = self.expect_name("the format's name")
        fmt = m.Format(path=self.path, name=name.text, pos=name.pos, source=source)
        seen_mrb: Token | None = None
        while not self.at("eof"):
            t = self.tok
            if self.at_kw("max_record_bytes"):
                if seen_mrb:
                    raise self.error("max_record_bytes is given twice (first at line "
                                     f"{seen_mrb.pos.line})")
                seen_mrb = self.take()
                n = self.expect_int("the record byte limit")
                assert isinstance(n.value, int)
                if not 1 <= n.value <= 0xFFFFFFFF:
                    raise self.error("max_record_bytes must be 1 .. 4294967295", n)
                fmt.max_record_bytes = n.value
            elif self.at_kw("param"):
                fmt.params.append(self.param())
            elif self.at_kw("var"):
                fmt.vars.append(self.var())
            elif self.at_kw("state"):
                fmt.states.append(self.state())
            elif self.at_kw("field"):
                raise self.error("a field must be inside a state: state NAME { field ... }")
            elif self.at_kw("format"):
                raise self.error("one description describes one format: 'format' may appear "
                                 "only once")
            else:
                raise self.error("expected 'state', 'var', 'param' or 'max_record_bytes', "
                                 f"found {self.describe(t)}")
        return fmt

    def param(self) -> m.Param:
        self.take()
        name = self.expect_name("a parameter name")
        self.expect_punct(":", "after the parameter name (param NAME: int = 1)")
        typ = self.expect_type()
        p = m.Param(name=name.text, pos=name.pos, type=typ, default=None)
        if self.at_punct("="):
            self.take()
            p.default, _ = self.literal("the parameter's default value")
        if self.at_kw("in"):
            self.take()
            lo, _ = self.literal("the lowest value")
            self.expect_punct("..", "in a range (in 1..64)")
            hi, _ = self.literal("the highest value")
            if isinstance(lo, bool) or isinstance(hi, bool):
                raise self.error("a range is made of numbers", name)
            p.lo, p.hi = lo, hi
        return p

    def var(self) -> m.Var:
        self.take()
        name = self.expect_name("a variable name")
        self.expect_punct(":", "after the variable name (var NAME: int)")
        typ = self.expect_type()
        v = m.Var(name=name.text, pos=name.pos, type=typ)
        if self.at_punct("="):
            self.take()
            v.init, v.init_pos = self.literal("the variable's initial value")
        return v

    def state(self) -> m.State:
        self.take()
        name = self.expect_name("a state name")
        st = m.State(name=name.text, pos=name.pos)
        self.expect_punct("{", f"to open state '{name.text}'")
        while not self.at_punct("}"):
            if self.at("eof"):
                raise self.error(f"state '{name.text}' is not closed: missing '}}'", name)
            if self.at_kw("var"):
                st.vars.append(self.var())
            elif self.at_kw("field"):
                st.fields.append(self.field())
            elif self.at_kw("on"):
                t = self.take()
                self.expect_kw("eof", "after 'on' (on eof { ... })")
                if st.on_eof is not None:
                    raise self.error(f"state '{name.text}' has two 'on eof' blocks", t)
                st.on_eof_pos = t.pos
                st.on_eof = self.block()
            elif self.at_kw("state"):
                raise self.error(f"state '{name.text}' is not closed: missing '}}' before "
                                 "the next state")
            else:
                raise self.error("expected 'field', 'var' or 'on eof' in a state, found "
                                 f"{self.describe(self.tok)}")
        self.take()
        return st

    def field(self) -> m.Field:
        self.take()
        name = self.expect_name("a field name")
        reps: int | None = None
        reps_param = None
        if self.at_punct("["):
            self.take()
            if self.tok.kind == "name":
                reps_param = self.take()
            else:
                n = self.expect_int("the number of repetitions or an int parameter")
                assert isinstance(n.value, int)
                if not 1 <= n.value <= 4096:
                    raise self.error("a repeated field has 1 .. 4096 slots", n)
                reps = n.value
            self.expect_punct("]", "after the number of repetitions")
        kt = self.tok
        if self.at_kw("until"):
            self.take()
            f = m.Field(name=name.text, pos=name.pos, reps=reps, kind="until", kind_pos=kt.pos)
            while True:
                if self.at_kw("eof"):
                    f.delims.append(m.Delim(None, self.take().pos))
                else:
                    s = self.expect_str("a delimiter or eof")
                    assert isinstance(s.value, bytes)
                    f.delims.append(m.Delim(s.value, s.pos))
                if not self.at_punct("|"):
                    break
                self.take()
        elif self.at_kw("length"):
            self.take()
            f = m.Field(name=name.text, pos=name.pos, reps=reps, kind="length",
                        kind_pos=kt.pos, length=self.expr())
        elif self.at_kw("packet"):
            self.take()
            f = m.Field(name=name.text, pos=name.pos, reps=reps, kind="packet", kind_pos=kt.pos)
            if self.at_kw("upto"):
                self.take()
                f.length = self.expr()
        else:
            raise self.error(f"field '{name.text}': say how it ends: until \"DELIMITER\", "
                             f"length N or packet; found {self.describe(kt)}")
        if reps_param is not None:
            f.reps_param, f.reps_pos = reps_param.text, reps_param.pos
        while True:
            if self.at_punct(","):
                self.take()
            if self.at_kw("quoted"):
                t = self.take()
                if f.quote is not None:
                    raise self.error("'quoted' is given twice", t)
                s = self.expect_str("the quote character")
                assert isinstance(s.value, bytes)
                f.quote, f.quote_pos = s.value, t.pos
            elif self.at_kw("max"):
                t = self.take()
                if f.max is not None:
                    raise self.error("'max' is given twice", t)
                n = self.expect_int("the field's byte limit")
                assert isinstance(n.value, int)
                f.max, f.max_pos = n.value, t.pos
            else:
                break
        if self.at_punct("{"):
            f.body = self.block()
        return f

    # ------------------------------------------------------------ statements

    def block(self) -> list[m.Stmt]:
        open_ = self.expect_punct("{", "to open a block")
        out: list[m.Stmt] = []
        while not self.at_punct("}"):
            if self.at("eof"):
                raise self.error("block not closed: missing '}'", open_)
            out.append(self.stmt())
            while self.at_punct(";"):
                self.take()
        self.take()
        return out

    def stmt(self) -> m.Stmt:
        t = self.tok
        if t.kind == "name":
            self.take()
            if not self.at_punct(*ASSIGN_OPS):
                raise self.error(f"expected '=', '+=' or '-=' after '{t.text}', found "
                                 f"{self.describe(self.tok)}")
            op = self.take().text
            return m.Assign(t.pos, m.Name(t.pos, t.text), op, self.expr())
        if self.at_kw("end"):
            self.take()
            if self.at_punct("->"):
                self.take()
                s = self.expect_name("the next record's state")
                return m.End(t.pos, s.text, s.pos)
            return m.End(t.pos, None)
        if self.at_kw("next"):
            self.take()
            if self.tok.kind == "name" and not (self.peek().kind == "punct"
                                                and self.peek().text in ASSIGN_OPS):
                f = self.take()
                return m.Next(t.pos, f.text, f.pos)
            return m.Next(t.pos, None)
        if self.at_kw("fail"):
            self.take()
            code = "syntax"
            if self.tok.kind in ("name", "kw"):
                c = self.take()
                if c.text not in m.FAIL_CODES:
                    raise self.error(f"unknown error code '{c.text}' (use one of "
                                     f"{', '.join(m.FAIL_CODES)})", c)
                code = c.text
            s = self.expect_str("the error message")
            assert isinstance(s.value, bytes)
            return m.Fail(t.pos, code, s.value)
        if self.at_kw("if"):
            self.take()
            branches = [(self.expr(), self.block())]
            orelse = None
            while self.at_kw("elif"):
                self.take()
                branches.append((self.expr(), self.block()))
            if self.at_kw("else"):
                self.take()
                orelse = self.block()
            return m.If(t.pos, branches, orelse)
        if t.kind == "kw":
            raise self.error(f"'{t.text}' cannot begin a statement (statements: NAME = ..., "
                             "if, end, next, fail)")
        raise self.error(f"expected a statement, found {self.describe(t)}")

    # ------------------------------------------------------------ expressions

    def expr(self) -> m.Expr:
        left = self.and_()
        while self.at_kw("or"):
            self.take()
            left = m.Logic(left.pos, "or", left, self.and_())
        return left

    def and_(self) -> m.Expr:
        left = self.not_()
        while self.at_kw("and"):
            self.take()
            left = m.Logic(left.pos, "and", left, self.not_())
        return left

    def not_(self) -> m.Expr:
        if self.at_kw("not"):
            t = self.take()
            return m.Not(t.pos, self.not_())
        return self.cmp()

    def cmp(self) -> m.Expr:
        left = self.sum()
        if self.at_punct(*CMP_OPS):
            t = self.take()
            left = m.Compare(left.pos, t.text, left, self.sum())
            if self.at_punct(*CMP_OPS):
                raise self.error("comparisons do not chain: write a < b and b < c")
        return left

    def sum(self) -> m.Expr:
        left = self.prod()
        while self.at_punct("+", "-"):
            t = self.take()
            left = m.BinOp(left.pos, t.text, left, self.prod())
        return left

    def prod(self) -> m.Expr:
        left = self.unary()
        while self.at_punct("*"):
            self.take()
            left = m.BinOp(left.pos, "*", left, self.unary())
        return left

    def unary(self) -> m.Expr:
        if self.at_punct("-"):
            t = self.take()
            return m.Neg(t.pos, self.unary())
        return self.atom()

    def atom(self) -> m.Expr:
        t = self.tok
        if t.kind == "int":
            self.take()
            assert isinstance(t.value, int)
            return m.IntLit(t.pos, t.value)
        if t.kind == "name":
            self.take()
            return m.Name(t.pos, t.text)
        if self.at_punct("("):
            self.take()
            e = self.expr()
            self.expect_punct(")", "to close '('")
            return e
        if t.kind == "kw":
            w = t.text
            if w in ("true", "false"):
                self.take()
                return m.BoolLit(t.pos, w == "true")
            if w in ("len", "count"):
                self.take()
                return m.Builtin(t.pos, w)
            if w == "int":
                self.take()
                after = None
                if self.at_kw("after"):
                    self.take()
                    s = self.expect_str("the text before the number")
                    assert isinstance(s.value, bytes)
                    after = s.value
                return m.IntOf(t.pos, after)
            if w == "empty":
                self.take()
                return m.Empty(t.pos)
            if w == "delim":
                self.take()
                if self.at_kw("eof"):
                    self.take()
                    return m.DelimTest(t.pos, None)
                s = self.expect_str("a delimiter of the field or eof")
                assert isinstance(s.value, bytes)
                return m.DelimTest(t.pos, s.value)
            if w in FIELD_TESTS:
                self.take()
                s = self.expect_str(f"the string '{w}' compares with")
                assert isinstance(s.value, bytes)
                return m.FieldTest(t.pos, w, s.value)
        raise self.error(f"expected a value or a condition, found {self.describe(t)}")


def parse(text: str, path: str) -> m.Format:
    """Parses a description (syntax only); raises FormatError."""
    return _Parser(tokenize(text, path), path).parse_file(text)
