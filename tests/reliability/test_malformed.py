#!/usr/bin/python3
"""Malformed HTTP and RESP over real sockets to a running srv, under every strategy.

Each row sends bytes an attacker or a broken client might send (request smuggling variants
included) and expects the protocol's answer as the code gives it today: the error reply (the
status or -ERR line), then a close within 1 s; or, for a row the protocol accepts or ignores,
the reply and a connection that still serves. Rows that declare a large length and send a few
bytes, on 10 connections at once, also check that the server's memory (proportional set size of
srv and its children) grows by less than 10 MiB more than for the same requests declaring a
small length: memory must not be proportional to what a client announces.

A scenario of tests/reliability/run.py (`run.sh SRV --only malformed`). The quick tier sends
every row in one piece; the full tier also sends each one a byte at a time.
"""

import re
import socket
import time
from dataclasses import dataclass
from typing import Optional

import harness as h

CLOSE_WITHIN = 1.0  # seconds from the last byte sent to the server's EOF
RSS_GROWTH_LIMIT = 10 * 1024 * 1024
HELD_CONNECTIONS = 10  # connections that each hold a large declared length open at once


@dataclass
class Row:
    """One input. `reply` is a regex the whole reply must match (re.S); `closes` says the
    server closes after it; otherwise `probe` must then get a reply matching `probe_reply`.
    `held`: the input is incomplete on purpose (no reply, the connection stays open), and this
    is the same request with a small declared length, whose memory is the baseline."""

    name: str
    data: bytes
    reply: str
    closes: bool = True
    probe: Optional[bytes] = None
    probe_reply: Optional[str] = None
    held: Optional[bytes] = None


def status(code):
    return rf"HTTP/1\.1 {code} [^\r]*\r\n.*\r\n\r\n.*"


H = b"Host: a\r\n"
HTTP_PROBE = b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"
HTTP_ROWS = [
    # Request smuggling: a length that two parsers could read differently is refused.
    Row("CL and TE both", b"POST /echo HTTP/1.1\r\n" + H + b"Content-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status(400)),
    Row("TE and CL both (TE first)", b"POST /echo HTTP/1.1\r\n" + H + b"Transfer-Encoding: "
        b"chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", status(400)),
    Row("two different Content-Lengths", b"POST /echo HTTP/1.1\r\n" + H +
        b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", status(400)),
    Row("Content-Length list with different values", b"POST /echo HTTP/1.1\r\n" + H +
        b"Content-Length: 5, 6\r\n\r\nhello!", status(400)),
    Row("Content-Length with a sign", b"POST /echo HTTP/1.1\r\n" + H +
        b"Content-Length: +5\r\n\r\nhello", status(400)),
    Row("negative Content-Length", b"POST /echo HTTP/1.1\r\n" + H +
        b"Content-Length: -1\r\n\r\n", status(400)),
    Row("Content-Length overflowing 64 bits", b"POST /echo HTTP/1.1\r\n" + H +
        b"Content-Length: 99999999999999999999999\r\n\r\nx", status(400)),
    Row("TE chunked in an obs-fold", b"POST /echo HTTP/1.1\r\n" + H +
        b"Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", status(400)),
    Row("TE chunked, identity (chunked not last)", b"POST /echo HTTP/1.1\r\n" + H +
        b"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", status(400)),
    Row("TE chunked twice", b"POST /echo HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status(400)),
    Row("TE identity alone", b"POST /echo HTTP/1.1\r\n" + H +
        b"Transfer-Encoding: identity\r\n\r\n", status(400)),
    Row("TE with a space in the coding", b"POST /echo HTTP/1.1\r\n" + H +
        b"Transfer-Encoding: chun ked\r\n\r\n0\r\n\r\n", status(400)),
    Row("TE gzip, chunked (unimplemented coding)", b"POST /echo HTTP/1.1\r\n" + H +
        b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", status(501)),
    Row("TE in HTTP/1.0", b"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        status(400)),
    # Coding names are case-insensitive (RFC 9110 section 10.1.4): accepted, not an error.
    Row("TE CHUNKED in capitals is accepted", b"POST /echo HTTP/1.1\r\n" + H +
        b"Transfer-Encoding: CHUNKED\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        r"HTTP/1\.1 200 [^\r]*\r\n.*\r\n\r\nabc", closes=False, probe=HTTP_PROBE,
        probe_reply=r"HTTP/1\.1 200 .*"),
    Row("chunk size not hex", b"POST /echo HTTP/1.1\r\n" + H +
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", status(400)),
    Row("chunk size overflowing 64 bits", b"POST /echo HTTP/1.1\r\n" + H +
        b"Transfer-Encoding: chunked\r\n\r\n1FFFFFFFFFFFFFFFF\r\nabc", status(400)),
    Row("chunk size with a sign", b"POST /echo HTTP/1.1\r\n" + H +
        b"Transfer-Encoding: chunked\r\n\r\n-3\r\nabc\r\n0\r\n\r\n", status(400)),
    Row("chunk of 1 GiB declared, 3 bytes sent", b"POST /echo HTTP/1.1\r\n" + H +
        b"Transfer-Encoding: chunked\r\n\r\n40000000\r\nabc", status(413)),
    Row("chunk data longer than its size", b"POST /echo HTTP/1.1\r\n" + H +
        b"Transfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n", status(400)),
    Row("Content-Length of 1 GiB, 3 bytes sent", b"POST /echo HTTP/1.1\r\n" + H +
        b"Content-Length: 1073741824\r\n\r\nabc", status(413)),
    Row("NUL in a header value", b"GET / HTTP/1.1\r\n" + H + b"X-A: a\x00b\r\n\r\n",
        status(400)),
    Row("NUL in the target", b"GET /\x00 HTTP/1.1\r\n" + H + b"\r\n", status(400)),
    Row("bare LF line ends", b"GET / HTTP/1.1\nHost: a\n\n", status(400)),
    Row("bare CR in the request line", b"GET / HTTP/1.1\rHost: a\r\n\r\n", status(400)),
    Row("bare CR in a header value", b"GET / HTTP/1.1\r\n" + H + b"X-A: a\rb\r\n\r\n",
        status(400)),
    Row("header without a colon", b"GET / HTTP/1.1\r\n" + H + b"X-A a\r\n\r\n", status(400)),
    Row("space before the colon", b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", status(400)),
    Row("header line starting with a space", b"GET / HTTP/1.1\r\n Host: a\r\n\r\n",
        status(400)),
    Row("no Host in HTTP/1.1", b"GET / HTTP/1.1\r\n\r\n", status(400)),
    Row("two Hosts", b"GET / HTTP/1.1\r\n" + H + H + b"\r\n", status(400)),
    Row("method with a non-token byte", b"G@T / HTTP/1.1\r\n" + H + b"\r\n", status(400)),
    Row("unknown method", b"BREW / HTTP/1.1\r\n" + H + b"\r\n", status(501)),
    Row("lower-case method", b"get / HTTP/1.1\r\n" + H + b"\r\n", status(501)),
    Row("HTTP/2.0 version", b"GET / HTTP/2.0\r\n" + H + b"\r\n", status(505)),
    Row("version without a dot", b"GET / HTTP/11\r\n" + H + b"\r\n", status(400)),
    Row("HTTP/0.9 request line", b"GET /\r\n\r\n", status(400)),
    Row("two spaces in the request line", b"GET  / HTTP/1.1\r\n" + H + b"\r\n", status(400)),
    Row("request line of 10 000 bytes", b"GET /" + b"a" * 10000 + b" HTTP/1.1\r\n" + H +
        b"\r\n", status(431)),
    Row("header field of 10 000 bytes", b"GET / HTTP/1.1\r\n" + H + b"X-A: " + b"a" * 10000 +
        b"\r\n\r\n", status(431)),
    Row("TLS ClientHello on the plain port", bytes.fromhex("160301020001000200") + b"\r\n\r\n",
        status(400)),
    Row("Expect: something else", b"POST /echo HTTP/1.1\r\n" + H + b"Expect: 200-ok\r\n"
        b"Content-Length: 1\r\n\r\nx", status(417)),
    # Declared lengths under the limits, a few bytes sent: no answer yet, and no memory spent on
    # what was only announced.
    Row("Content-Length of 1 MiB, 3 bytes sent (held)", b"POST /echo HTTP/1.1\r\n" + H +
        b"Content-Length: 1048576\r\n\r\nabc", "",
        held=b"POST /echo HTTP/1.1\r\n" + H + b"Content-Length: 10\r\n\r\nabc"),
    Row("chunk of 1 MiB declared, 3 bytes sent (held)", b"POST /echo HTTP/1.1\r\n" + H +
        b"Transfer-Encoding: chunked\r\n\r\n100000\r\nabc", "",
        held=b"POST /echo HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\na\r\nabc"),
]

RESP_PROBE = b"PING\r\n"
RESP_ROWS = [
    Row("multibulk length not a number", b"*abc\r\n",
        r"-ERR Protocol error: invalid multibulk length\r\n"),
    Row("multibulk length overflowing 64 bits", b"*99999999999999999999\r\n",
        r"-ERR Protocol error: invalid multibulk length\r\n"),
    Row("multibulk length over max_args", b"*2000000\r\n",
        r"-ERR Protocol error: invalid multibulk length\r\n"),
    Row("bulk length of 1 GB, few bytes sent", b"*2\r\n$999999999\r\nabc",
        r"-ERR Protocol error: invalid bulk length\r\n"),
    Row("negative bulk length", b"*1\r\n$-5\r\n", r"-ERR Protocol error: invalid bulk length\r\n"),
    Row("bulk length overflowing 64 bits", b"*1\r\n$99999999999999999999\r\n",
        r"-ERR Protocol error: invalid bulk length\r\n"),
    Row("bulk length not a number", b"*1\r\n$x\r\n", r"-ERR Protocol error: invalid bulk length\r\n"),
    Row("bulk without its $", b"*1\r\nx3\r\nabc\r\n",
        r"-ERR Protocol error: expected '\$', got 'x'\r\n"),
    Row("unbalanced quotes", b'SET "a b\r\n',
        r"-ERR Protocol error: unbalanced quotes in request\r\n"),
    Row("inline request of 70 000 bytes without a newline", b"a" * 70000,
        r"-ERR Protocol error: too big inline request\r\n"),
    Row("multibulk count of 70 000 digits", b"*" + b"1" * 70000,
        r"-ERR Protocol error: too big mbulk count string\r\n"),
    # Redis treats *-5 and *0 as no command at all: nothing is answered, the connection serves.
    Row("negative multibulk count is ignored", b"*-5\r\n", "", closes=False, probe=RESP_PROBE,
        probe_reply=r"\+PONG\r\n"),
    Row("inline garbage is an unknown command", b"\x01\x02\x03 x\r\n", r"-ERR unknown command .*",
        closes=False, probe=RESP_PROBE, probe_reply=r"\+PONG\r\n"),
    # Cross-protocol scripting: an HTTP request closes the connection at POST or Host:.
    Row("HTTP POST to the RESP port", b"POST / HTTP/1.1\r\nHost: a\r\n\r\n", ""),
    # GET's arity error is dropped by the close at Host: when both arrive in one read.
    Row("HTTP GET to the RESP port", b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        r"(-ERR wrong number of arguments for 'get' command\r\n)?"),
    Row("bulk of 512 KiB declared, 3 bytes sent (held)", b"*2\r\n$3\r\nGET\r\n$524288\r\nabc", "",
        held=b"*2\r\n$3\r\nGET\r\n$10\r\nabc"),
    Row("a million arguments declared (held)", b"*1000000\r\n$1\r\na\r\n", "",
        held=b"*10\r\n$1\r\na\r\n"),
]


# protocol: (rows, a request that must still be served afterwards, its reply)
PROTOCOLS = {
    "http": (HTTP_ROWS, HTTP_PROBE, r"HTTP/1\.1 200 [^\r]*\r\n.*\r\n\r\n.*"),
    "resp": (RESP_ROWS, RESP_PROBE, r"\+PONG\r\n"),
}


def send(s, data, bytewise):
    if not bytewise:
        s.sendall(data)
        return
    for i in range(len(data)):
        s.sendall(data[i:i + 1])


def read_to_close(s, deadline, enough=None):
    """Reads until EOF, a reset, `deadline` or `enough(data)`; returns (data, how it ended):
    unlike h.read_until, it tells a close from a timeout."""
    data = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return data, "timeout"
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return data, "timeout"
        except ConnectionResetError:
            return data, "reset"
        if not chunk:
            return data, "eof"
        data += chunk
        if enough and enough(data):
            return data, "enough"


def check_row(row, port, bytewise):
    """Returns None when the row holds, else what went wrong."""
    with h.connect(port, timeout=5) as s:
        try:
            send(s, row.data, bytewise)
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed while we were still sending: what it answered is still readable
        sent = time.monotonic()
        if row.closes:
            reply, end = read_to_close(s, sent + CLOSE_WITHIN)
            if end not in ("eof", "reset"):
                return f"no close within {CLOSE_WITHIN} s (reply {reply[:80]!r})"
        else:
            pattern = re.compile(row.reply.encode(), re.S)
            reply, end = read_to_close(s, sent + CLOSE_WITHIN,
                                    lambda d: bool(pattern.fullmatch(d)) if row.reply else False)
            if end in ("eof", "reset"):
                return f"closed, expected it to stay open (reply {reply[:80]!r})"
        if not re.fullmatch(row.reply.encode(), reply, re.S):
            return f"reply {reply[:120]!r} does not match {row.reply!r}"
        if row.probe:
            s.sendall(row.probe)
            probe_pattern = re.compile(row.probe_reply.encode(), re.S)
            answer, _ = read_to_close(s, time.monotonic() + CLOSE_WITHIN,
                                   lambda d: bool(probe_pattern.fullmatch(d)))
            if not probe_pattern.fullmatch(answer):
                return f"the probe got {answer[:80]!r}, expected {row.probe_reply!r}"
    return None


def hold(port, pss, data):
    """Opens HELD_CONNECTIONS connections that each send `data`; returns them and how much the
    server's memory (pss(), bytes) grew once it had read them all."""
    before = pss()
    sockets = []
    for _ in range(HELD_CONNECTIONS):
        s = h.connect(port, timeout=5)
        sockets.append(s)
        s.sendall(data)
    time.sleep(0.2)  # let every strategy accept, read and parse what was sent
    return sockets, pss() - before


def check_held(row, port, pss):
    """HELD_CONNECTIONS connections each announce a large length and send a few bytes: no reply,
    connections still open, and the server's memory grows by less than RSS_GROWTH_LIMIT more
    than for the same request announcing a small length (a fork child costs memory of its own,
    whatever it reads)."""
    small, small_growth = hold(port, pss, row.held)
    for s in small:
        s.close()
    time.sleep(0.2)  # fork children and threads of the small round exit
    sockets, growth = hold(port, pss, row.data)
    try:
        for s in sockets:
            reply, end = read_to_close(s, time.monotonic() + 0.05)
            if reply or end != "timeout":
                return f"expected no reply and an open connection, got {reply[:80]!r} ({end})"
        extra = growth - small_growth
        if extra >= RSS_GROWTH_LIMIT:
            return (f"memory grew by {growth / 2**20:.1f} MiB for {HELD_CONNECTIONS} connections, "
                    f"{small_growth / 2**20:.1f} MiB with a small declared length (limit: "
                    f"{RSS_GROWTH_LIMIT / 2**20:.0f} MiB more)")
    finally:
        for s in sockets:
            s.close()
    return None


def table_checks(port, pss, protocol, quick):
    """(label, problem or None) for every row of `protocol`'s table against the srv serving it
    on `port`; pss() is that srv's proportional set size in bytes."""
    rows, probe, probe_reply = PROTOCOLS[protocol]
    for row in rows:
        label = f"{protocol}: {row.name}"
        if row.held:
            yield label, check_held(row, port, pss)
            continue
        for bytewise in [False] if quick else [False, True]:
            yield label + (" (a byte at a time)" if bytewise else ""), check_row(row, port,
                                                                                bytewise)
    serving = Row("still serves after the table", probe, probe_reply, closes=False)
    yield f"{protocol}: {serving.name}", check_row(serving, port, False)


def run(harness, strategy, quick):
    out = []
    for protocol in PROTOCOLS:
        with harness.server(strategy, protocol=protocol) as srv:
            for label, problem in table_checks(srv.port, lambda: srv.pss_kib() * 1024, protocol,
                                               quick):
                out.append(h.check(label, problem is None, problem or "as expected"))
    return out
