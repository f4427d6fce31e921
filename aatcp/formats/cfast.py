"""The record fast path of a generated module: whole records of one chunk in one pass.

The general loop of a generated module (cgen.py) runs one cycle per field:
dispatch on the state and field, scan, gather the field in the parser state,
run the field's actions, then `aa_fmt_go`. For the records that are the common
case that cycle is mostly bookkeeping in memory. For a state that qualifies
(`eligible`), the compiler also emits `<fmt>_fast_<state>()`, the way the
hand-written CSV module parses a line (src/aa/aa_csv.c `lines_fast`):

- every field of the record is found in the chunk, outside quotes, by the
  runtime's vector scan (`aa_fmt_skip_k`, with a cursor that keeps one 16-byte
  block's delimiter bits from field to field);
- its bounds, repetition and delimiter stay in locals; the field's actions
  run on those;
- when an action ends the record, its fields go to the runtime in one
  `aa_fields_set()` call and the record ends.

A record that is not the common case (a quote where a field begins, a field
not ended in this chunk, an action that fails, a repeated field past its
limit, more than FAST_FIELDS fields) is given up before anything of it was
written: the general loop then parses it from its start and reports it
exactly as before, so both paths make the same records and the same errors
(tests/c/test_fmt_csv.c and the fuzz targets compare them with the
hand-written modules at every split).

A state qualifies when every field is an `until` field with at least one
delimiter string, the delimiters are `simple` (aa_fmt_at decides them without
KMP), and the actions have no effect but their outcome: `if`, `end`, `next`
and `fail` over parameters, `count`, `len`, `empty` and `delim` (no
assignments, no arithmetic, which may fail on overflow, no field contents).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aatcp.formats import model as m

if TYPE_CHECKING:
    from aatcp.formats.cgen import _Gen

#: fields of one record the fast path keeps (a record with more goes the general way)
FAST_FIELDS = 256


def _pure(e: m.Expr) -> bool:
    if isinstance(e, (m.IntLit, m.BoolLit, m.Empty, m.DelimTest)):
        return True
    if isinstance(e, m.Name):
        return e.scope == "param"
    if isinstance(e, m.Builtin):
        return e.name in ("count", "len")
    if isinstance(e, (m.Compare, m.Logic)):
        return _pure(e.left) and _pure(e.right)
    if isinstance(e, m.Not):
        return _pure(e.operand)


def _pure_stmts(body: list[m.Stmt]) -> bool:
    for s in body:
        if isinstance(s, m.If):
            if not all(_pure(c) and _pure_stmts(b) for c, b in s.branches):
                return False
            if s.orelse is not None and not _pure_stmts(s.orelse):
                return False
        elif not isinstance(s, (m.End, m.Next, m.Fail)):
            return False
    return True


def eligible(st: m.State) -> bool:
    """Whether state st gets a fast path (module docstring)."""
    from aatcp.formats.cgen import _simple

    return bool(st.fields) and all(
        f.kind == "until" and f.strings and _simple(f.strings) and _pure_stmts(f.body)
        for f in st.fields)


def _field_case(gen: _Gen, st: m.State, i: int, f: m.Field) -> list[str]:
    pre = gen.pre
    tag = f"{st.index}_{i}"
    slot = f"{f.slot} + rep" if f.reps is not None else f"{f.slot}"
    out = [f"\t\tcase {i}: /* {f.name} */"]
    if f.quote:
        out.append(f"\t\t\tif ((unsigned char)*c == {f.quote[0]})\n\t\t\t\treturn s;")
    limit = (f"\n\t\t\t\tif ((uint64_t)(h - c) > UINT64_C({f.max}))\n\t\t\t\t\treturn s;"
             if f.max is not None else "")
    out += ["\t\t\tfor (h = c;; h++) { /* the first delimiter (aa_fmt_find) */",
            f"\t\t\t\th = aa_fmt_skip_k(&{pre}_u_{tag}, &k{i}, h, end);",
            f"\t\t\t\tif (h == end)\n\t\t\t\t\treturn s;{limit}",
            f"\t\t\t\td = {pre}_at_{tag}(h, end);",
            "\t\t\t\tif (d >= 0)\n\t\t\t\t\tbreak;",
            "\t\t\t\tif (d == AA_FMT_AT_CUT)\n\t\t\t\t\treturn s;",
            "\t\t\t}",
            f"\t\t\tslot[n] = (uint16_t)({slot});",
            "\t\t\tfs[n] = b = c;",
            "\t\t\tfe[n++] = h;",
            f"\t\t\tc = h + {pre}_l_{tag}[d];"]
    if f.reps is not None:
        out.append(f"\t\t\tn_{f.name} = rep + 1;")
    out += gen.stmts(f.body, st, "\t\t\t", local=True)
    if "default" in f.outcomes:
        if f.reps is not None:
            bound = f"S->par.{f.reps_param}" if f.reps_param is not None else f"{f.reps}u"
            out.append(f"\t\t\tif (++rep >= {bound})\n\t\t\t\treturn s;")
        else:
            out.append(f"\t\t\tfi = {i + 1};\n\t\t\trep = 0;")
        out.append("\t\t\tcontinue;")
    return out


def _c_char(b: int) -> str:
    return f"'{chr(b)}'" if 0x20 <= b < 0x7f and chr(b) not in "'\\" else f"{b}"


def at_function(gen: _Gen, st: m.State, i: int, f: m.Field) -> str:
    """`<pre>_at_<state>_<field>(h, end)`: aa_fmt_at() (include/aa_fmt_runtime.h) for
    this field's delimiters, with their bytes in the code: the delimiter that ends
    the field at h (the shortest whole one; one byte long first), AA_FMT_AT_CUT
    when one may begin at h but end comes first, else AA_FMT_AT_NONE."""
    from aatcp.formats.cgen import c_string

    strs = f.strings
    order = sorted(range(len(strs)), key=lambda k: (len(strs[k]) > 1, len(strs[k]), k))
    out = [f"/* state {st.name}, field {f.name}: which delimiter ends it at h (aa_fmt_at) */",
           "__attribute__((always_inline)) static inline int",
           f"{gen.pre}_at_{st.index}_{i}(const char *h, const char *end)", "{"]
    longer = [k for k in order if len(strs[k]) > 1]
    if longer:
        out.append("\tconst size_t room = (size_t)(end - h);\n")
    else:
        out.append("\t(void)end; /* one-byte delimiters: h < end is enough */\n")
    for k in order:
        d = strs[k]
        tests = [f"h[{j}] == (char){_c_char(b)}" for j, b in enumerate(d)]
        if len(d) > 1:
            tests.insert(0, f"room >= {len(d)}")
        out.append(f"\tif ({' && '.join(tests)})\n\t\treturn {k}; /* {c_comment_bytes(d)} */")
    for k in longer:
        d = strs[k]
        out.append(f"\tif (room < {len(d)} && aa_fmt_eq(h, {c_string(d)}, room))"
                   "\n\t\treturn AA_FMT_AT_CUT;")
    out += ["\treturn AA_FMT_AT_NONE;", "}"]
    return "\n".join(out)


def c_comment_bytes(d: bytes) -> str:
    return d.decode("latin-1").encode("unicode_escape").decode().replace("*/", "*\\/")


def fast_function(gen: _Gen, st: m.State) -> str:
    """C text of `<pre>_fast_<state>()` for an eligible state."""
    pre, n = gen.pre, gen.n
    reps = [f for f in st.fields if f.reps is not None]
    cap = min(FAST_FIELDS, st.nslots)
    body = [
        "\tstruct aa_fmt_core *g = &S->core;",
        f"\tuint16_t slot[{cap}];",
        f"\tconst char *fs[{cap}], *fe[{cap}];",
        "",
        "\t*go_on = true;",
        "\tfor (;;) { /* a record */",
        "\t\tconst char *s = c, *b = c, *h = c;",
        "\t\tunsigned n = 0, fi = 0;",
        f"\t\tuint32_t rep = 0, nxt = {st.index};",
        "\t\t(void)rep; /* read only by repeated fields and `count` */",
        "\t\tint d = 0;",
    ]
    body += [f"\t\tuint32_t n_{f.name} = 0;" for f in reps]
    cursors = [f"\tstruct aa_fmt_cursor k{i} = {{ NULL, 0 }}; /* {f.name} */"
               for i, f in enumerate(st.fields)]
    if reps:
        cursors.append(f"\tstruct {n}_record *R;")
    body = body[:1] + cursors + body[1:]
    body += [
        "",
        "\t\tfor (;;) { /* a field: fi, repetition rep */",
        f"\t\t\tif (c == end || n == {cap})",
        "\t\t\t\treturn s;",
        "\t\t\tswitch (fi) {",
    ]
    for i, f in enumerate(st.fields):
        body += ["\n".join("\t" + ln for ln in line.split("\n"))
                 for line in _field_case(gen, st, i, f)]
    body += [
        "\t\t\tdefault:",
        "\t\t\t\treturn s;",
        "\t\t\t}",
        "\t\t}",
        "\tend_record:",
    ]
    if reps:
        body.append("\t\tR = aa_record(p);")
        for f in reps:
            body.append(f"\t\tif (n_{f.name})\n\t\t\tR->vars.{st.name}.n_{f.name} = n_{f.name};")
    body += [
        "\t\tg->delim = (int16_t)d;",
        "\t\tg->clen = (uint64_t)(h - b);",
        "\t\tg->idle = 0;",
        "\t\tg->next = g->st = nxt;",
        "\t\taa_fields_set(p, n, slot, fs, fe);",
        f"\t\t*go_on = aa_record_end(p, {gen.type_name(st)}, c);",
        f"\t\tif (!*go_on || nxt != {st.index})",
        "\t\t\treturn c;",
        "\t}",
    ]
    head = [
        f"/* state {st.name} ({gen.where(st.pos.line)}): whole records of this chunk"
        " from c on, in one",
        " * pass (aatcp/formats/cfast.py); the byte after the last one ended. *go_on is",
        " * false when parse() must return (the runtime paused).",
        " */",
        "AA_FMT_OWN_FUNCTION static const char *",
        f"{pre}_fast_{st.name}(struct aa_parse *p, struct {pre}_state *S,",
        "\t\tconst char *c, const char *end, bool *go_on)",
        "{",
    ]
    return "\n".join(head + body + ["}"])
