"""The canonical dump of a record stream, in Python (apps/aa_canon.h has the
format), and generators of the streams the application-aware tests send.

The record readers (apps/aa_reader on the stack, apps/linux/aa_lreader on
Linux) print the SHA-256 of the dump of the records they read; the tests
compute the dump of the bytes the server sent with `csv_dump` / `http_dump`
(a plain parse of the whole stream, written from RFC 4180 / RFC 9112, not
from the C code) and compare.

    dump  := item*
    item  := 'C' field* '\\n' | 'R' field{3} (field field)* '\\n'
           | 'Q' field{3} (field field)* '\\n' | 'B' DEC ':' SHA256HEX '\\n'
           | 'T' (field field)* '\\n'
    field := DEC ':' BYTES
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field


def _f(b: bytes) -> bytes:
    return str(len(b)).encode() + b":" + b


@dataclass
class Dump:
    data: bytearray = field(default_factory=bytearray)
    counts: dict[str, int] = field(default_factory=dict)
    #: per message: (kind, start line, headers, body length or None, body sha or None)
    messages: list[tuple[str, list[str], int, int | None, str | None]] = \
        field(default_factory=list)

    def item(self, kind: str, fields: list[bytes]) -> None:
        self.data += kind.encode() + b"".join(_f(x) for x in fields) + b"\n"
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if kind in "RQ":
            line = [x.decode("latin-1") for x in fields[:3]]
            self.messages.append((kind, line, (len(fields) - 3) // 2, None, None))

    def body(self, b: bytes) -> None:
        h = hashlib.sha256(b).hexdigest()
        self.data += b"B" + str(len(b)).encode() + b":" + h.encode() + b"\n"
        self.counts["B"] = self.counts.get("B", 0) + 1
        if self.messages:
            k, line, n, _, _ = self.messages[-1]
            self.messages[-1] = (k, line, n, len(b), h)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(bytes(self.data)).hexdigest()


# ---------------------------------------------------------------------------- CSV


def csv_records(data: bytes) -> list[list[bytes]]:
    """RFC 4180 lines: fields as raw bytes (a quoted field keeps its quotes and
    doubled quotes); LF or CRLF line ends; the last line may lack its end."""
    out: list[list[bytes]] = []
    i, n = 0, len(data)
    while i < n:
        fields: list[bytes] = []
        while True:
            start = i
            if i < n and data[i] == 0x22:  # quoted
                i += 1
                while True:
                    q = data.index(b'"', i)
                    if data[q + 1:q + 2] == b'"':
                        i = q + 2
                        continue
                    i = q + 1
                    break
            else:
                while i < n and data[i] not in b",\r\n":
                    i += 1
            fields.append(data[start:i])
            if i == n:
                break
            c = data[i]
            i += 1
            if c == 0x2C:
                continue
            if c == 0x0D and data[i:i + 1] == b"\n":
                i += 1
            break
        out.append(fields)
    return out


def csv_dump(data: bytes, n_fields: int | None = None) -> Dump:
    d = Dump()
    for rec in csv_records(data):
        if n_fields is not None and len(rec) != n_fields:
            raise ValueError(f"line with {len(rec)} fields, not {n_fields}: {rec!r}")
        d.item("C", rec)
    return d


# ---------------------------------------------------------------------------- HTTP


def _headers(block: bytes) -> list[tuple[bytes, bytes]]:
    out = []
    for line in block.split(b"\r\n"):
        if not line:
            continue
        name, _, value = line.partition(b":")
        out.append((name, value.strip(b" \t")))
    return out


def http_dump(data: bytes, response: bool = True) -> Dump:
    """Messages of an HTTP/1.1 stream (CRLF line ends; Content-Length, chunked
    with trailers, or - responses - until the close; 1xx/204/304 and requests
    without a length have no body)."""
    d = Dump()
    i, n = 0, len(data)
    while True:
        while i < n and data[i] in b"\r\n":
            i += 1
        if i == n:
            return d
        end = data.index(b"\r\n\r\n", i)
        lines = data[i:end + 2].split(b"\r\n")
        start = lines[0]
        if response:
            version, _, rest = start.partition(b" ")
            status, _, reason = rest[:3], rest[3:4], rest[4:]
            line = [version, status, reason]
        else:
            method, target, version = start.split(b" ")
            line = [method, target, version]
        hdrs = _headers(b"\r\n".join(lines[1:]))
        d.item("R" if response else "Q", line + [x for h in hdrs for x in h])
        i = end + 4
        low = {k.lower(): v for k, v in hdrs}
        code = int(line[1]) if response else 0
        if response and (code < 200 or code in (204, 304)):
            continue
        te = low.get(b"transfer-encoding")
        if te is not None and te.split(b",")[-1].strip().lower() == b"chunked":
            body = bytearray()
            while True:
                eol = data.index(b"\r\n", i)
                size = int(data[i:eol].split(b";")[0].strip(), 16)
                i = eol + 2
                if size == 0:
                    break
                body += data[i:i + size]
                i += size + 2
            tend = i if data[i:i + 2] == b"\r\n" else data.index(b"\r\n\r\n", i) + 2
            trailers = _headers(data[i:tend])
            i = tend + 2
            d.body(bytes(body))
            d.item("T", [x for h in trailers for x in h])
        elif te is not None or (b"content-length" not in low and response):
            d.body(data[i:])
            return d
        elif b"content-length" in low and int(low[b"content-length"]) > 0:
            cl = int(low[b"content-length"])
            d.body(data[i:i + cl])
            i += cl


# ---------------------------------------------------------------------------- streams


def csv_stream(lines: int, n_fields: int, seed: int, quoted: bool = True,
               crlf_every: int = 7) -> bytes:
    """CSV lines of n_fields: plain fields of 0..40 bytes, and (quoted) RFC 4180
    fields with commas, CR, LF and doubled quotes inside."""
    rng = random.Random(seed)
    alpha = b"abcdefghijklmnopqrstuvwxyz0123456789 ;:-_"
    # field bytes are slices of one random text (fast for millions of bytes)
    pool = rng.randbytes(1 << 16).translate(bytes(alpha[i % len(alpha)] for i in range(256)))
    out = bytearray()
    for k in range(lines):
        fs = []
        for _ in range(n_fields):
            at = rng.randrange(0, len(pool) - 40)
            v = pool[at:at + rng.randrange(0, 41)]
            if quoted and rng.random() < 0.15:
                inner = v[:10] + rng.choice([b",", b"\r\n", b"\n", b'""', b'x""y']) + v[10:]
                v = b'"' + inner + b'"'
            fs.append(v)
        out += b",".join(fs) + (b"\r\n" if crlf_every and k % crlf_every == 0 else b"\n")
    return bytes(out)


def http_response(body: bytes, status: int = 200, chunked: bool = False,
                  extra: list[tuple[str, str]] | None = None, chunk_sizes: int = 700,
                  trailers: list[tuple[str, str]] | None = None, seed: int = 0) -> bytes:
    """One response: seven headers (as the thesis' server) plus `extra`, the
    body with Content-Length, or chunked (random chunk sizes up to
    `chunk_sizes`, some chunk extensions, optional trailers)."""
    rng = random.Random(seed)
    hs = [("Server", "aa-test"), ("Date", "Thu, 01 Jan 2015 00:00:00 GMT"),
          ("Content-Type", "application/octet-stream"), ("Connection", "keep-alive"),
          ("Cache-Control", "no-cache"), ("X-Answer", f"{seed:08d}")]
    hs += extra or []
    if chunked:
        hs.append(("Transfer-Encoding", "chunked"))
    else:
        hs.append(("Content-Length", str(len(body))))
    head = f"HTTP/1.1 {status} OK\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hs) + "\r\n"
    if not chunked:
        return head.encode() + body
    out = bytearray(head.encode())
    i = 0
    while i < len(body):
        n = min(len(body) - i, rng.randrange(1, chunk_sizes + 1))
        ext = ";ext=1" if rng.random() < 0.2 else ""
        out += f"{n:x}{ext}\r\n".encode() + body[i:i + n] + b"\r\n"
        i += n
    out += b"0\r\n" + "".join(f"{k}: {v}\r\n" for k, v in (trailers or [])).encode() + b"\r\n"
    return bytes(out)


def http_request(method: str, target: str, body: bytes = b"", chunked: bool = False,
                 seed: int = 0) -> bytes:
    hs = [("Host", "dut"), ("User-Agent", "aa-test/1"), ("Accept", "*/*"),
          ("X-Seq", str(seed))]
    if chunked:
        hs.append(("Transfer-Encoding", "chunked"))
    elif body:
        hs.append(("Content-Length", str(len(body))))
    head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hs) + "\r\n"
    if not chunked:
        return head.encode() + body
    out = bytearray(head.encode())
    for i in range(0, len(body), 1000):
        part = body[i:i + 1000]
        out += f"{len(part):x}\r\n".encode() + part + b"\r\n"
    return bytes(out + b"0\r\n\r\n")
