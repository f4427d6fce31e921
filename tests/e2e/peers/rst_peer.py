#!/usr/bin/env python3
"""Abrupt peers for the proxy tests (run on the lab's hosts with python3).

    rst_peer.py client IP PORT READ_BYTES      connect, read READ_BYTES, then
                                               close with a RST (SO_LINGER 0);
                                               prints {"read": n}
    rst_peer.py server PORT SEND_BYTES [rst]   accept one connection, send
                                               SEND_BYTES, then close (with a
                                               RST if `rst`); prints {"sent": n}
    rst_peer.py probe IP PORT                  connect and read to the end;
                                               prints {"read": n, "error": e}
"""

from __future__ import annotations

import json
import socket
import struct
import sys


def rst_close(s: socket.socket) -> None:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def main(argv: list[str]) -> None:
    mode = argv[0]
    if mode == "client":
        s = socket.create_connection((argv[1], int(argv[2])), timeout=30)
        want, got = int(argv[3]), 0
        while got < want:
            b = s.recv(min(65536, want - got))
            if not b:
                break
            got += len(b)
        rst_close(s)
        print(json.dumps({"read": got}))
    elif mode == "server":
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("0.0.0.0", int(argv[1])))
        ls.listen(8)
        print("rst_peer: listening", file=sys.stderr, flush=True)
        s, _ = ls.accept()
        n, sent = int(argv[2]), 0
        buf = bytes(range(256)) * 256
        while sent < n:
            sent += s.send(buf[: min(len(buf), n - sent)])
        if len(argv) > 3 and argv[3] == "rst":
            rst_close(s)
        else:
            s.shutdown(socket.SHUT_WR)
            s.settimeout(30)
            try:
                while s.recv(65536):
                    pass
            except OSError:
                pass
            s.close()
        print(json.dumps({"sent": sent}))
    elif mode == "probe":
        got, err = 0, ""
        try:
            s = socket.create_connection((argv[1], int(argv[2])), timeout=10)
            while True:
                b = s.recv(65536)
                if not b:
                    break
                got += len(b)
        except OSError as e:
            err = type(e).__name__
        print(json.dumps({"read": got, "error": err}))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
