#!/usr/bin/python3
"""Broken configuration files, as a clumsy operator writes them, through the real binary.

Each row is a config file that names a free loopback port. `srv --config FILE` and
`srv --config FILE --check-config` must both exit 2 with one message `srv: FILE:LINE:COL: ...`
that points at the offending line (and column where it is meaningful) and says what is wrong,
and nothing may be bound: the port stays unconnectable while srv runs, and is free to bind
afterwards.

A scenario of tests/reliability/run.py (`run.sh SRV --only configs`). Rows run under every
strategy, except those about one strategy, which run under it. The quick tier runs each row
once, without --check-config. Every srv started is stopped.
"""

import os
import re
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import Optional

import harness as h

RUN_LIMIT = 10.0  # seconds srv may take to refuse a config


@dataclass
class Row:
    """`text` is the file, with {port} and {strategy} filled in. `line`/`col` (1-based; col None
    when any column on the line will do) locate the error; `what` is a regex the rest of the
    message must match. A row runs under every strategy, or only under `strategy` when it is
    about that strategy (its text names it). `flags` go on srv's command line ({port} filled); a
    mistake in one is placed at `command line` instead of FILE:LINE:COL (line and col None)."""

    name: str
    text: str
    line: Optional[int]
    col: Optional[int]
    what: str
    strategy: Optional[str] = None
    flags: tuple = ()


S = "strategy: {strategy}\n"  # line 1 of most rows
L = "listeners:\n  - listen: 127.0.0.1:{port}\n"  # lines 2-3 of most rows

ROWS = [
    # Duplicate keys (YAML 1.2 says keys are unique; yaml-cpp alone would keep the first).
    Row("duplicate top-level key", S + "strategy: poll\n" + L, 2, 1,
        r"strategy: duplicate key; first given at .*:1:1$"),
    Row("duplicate key in limits", S + "limits:\n  read_chunk: 4KiB\n  read_chunk: 8KiB\n" + L,
        4, 3, r"read_chunk: duplicate key; first given at .*:3:3$"),
    Row("duplicate key in a listener", S + L + "    protocol: echo\n    protocol: http\n", 5, 5,
        r"protocol: duplicate key; first given at .*:4:5$"),
    Row("duplicate listeners key", S + L + "listeners:\n  - listen: 127.0.0.1:1\n", 4, 1,
        r"listeners: duplicate key; first given at .*:2:1$"),
    # Wrong types.
    Row("a list where a number goes", S + "max_connections: [1, 2]\n" + L, 2, 18,
        r"max_connections: must be a single value"),
    Row("a word where a number goes", S + "max_connections: many\n" + L, 2, 18,
        r"max_connections: expected a whole number, got 'many'"),
    Row("a number where a map goes", S + "limits: 5\n" + L, 2, 9, r"limits: must be a map"),
    Row("listeners as a map", S + "listeners: {{listen: 127.0.0.1:{port}}}\n", 2, 12,
        r"listeners: must be a list"),
    Row("a listener that is a string", S + "listeners:\n  - 127.0.0.1:{port}\n", 3, 5,
        r"listeners\[0\]: must be a map"),
    Row("a duration that is not one", S + "idle_timeout: 10 seconds\n" + L, 2, 15,
        r"idle_timeout: expected a duration"),
    Row("a size that is not one", S + "limits:\n  read_chunk: 12QB\n" + L, 3, 15,
        r"limits\.read_chunk: expected a size"),
    Row("a key without a value", S + "max_connections:\n" + L, 2, 1,
        r"max_connections: needs a value"),
    Row("the whole file a list", "- strategy: epoll\n- listen: 127.0.0.1:{port}\n", 1, 1,
        r"\(top level\): must be a map"),
    # Unknown keys (typos).
    Row("unknown top-level key", S + "wokers: 3\n" + L, 2, 1, r"wokers: unknown key"),
    Row("unknown key in limits", S + "limits:\n  read_chunks: 4k\n" + L, 3, 3,
        r"limits\.read_chunks: unknown key"),
    Row("unknown key in a listener", S + L + "    backlg: 5\n", 4, 5,
        r"listeners\[0\]\.backlg: unknown key"),
    Row("unknown protocol option", S + L + "    protocol:\n      name: http\n      options:\n"
        "        max_headers: 5\n", 7, 9, r"max_headers: unknown key"),
    Row("unknown key in the chosen strategy's section", "strategy: prefork\nprefork:\n  wokers: 3\n"
        + L, 3, 3, r"prefork\.wokers: unknown key", strategy="prefork"),
    # Out of range.
    Row("max_connections 0", S + "max_connections: 0\n" + L, 2, 18,
        r"max_connections: must be between 1 and"),
    Row("max_connections negative", S + "max_connections: -5\n" + L, 2, 18, r"got -5"),
    Row("max_connections past 64 bits", S + "max_connections: 99999999999999999999999\n" + L, 2,
        18, r"max_connections: "),
    Row("idle_timeout 0", S + "idle_timeout: 0\n" + L, 2, 15, r"idle_timeout: must be between"),
    Row("shutdown_timeout 25h", S + "shutdown_timeout: 25h\n" + L, 2, 19,
        r"shutdown_timeout: must be between"),
    Row("read_timeout 25h", S + "read_timeout: 25h\n" + L, 2, 15, r"read_timeout: must be between"),
    Row("write_timeout negative", S + "write_timeout: -1s\n" + L, 2, 16,
        r"write_timeout: expected a duration"),
    Row("min_rate over 1 TiB/s", S + "limits:\n  min_rate: 2048GiB\n" + L, 3, 13,
        r"limits\.min_rate: must be between"),
    Row("min_rate_grace a word", S + "limits:\n  min_rate_grace: soon\n" + L, 3, 19,
        r"limits\.min_rate_grace: expected a duration"),
    Row("read_chunk 17MiB", S + "limits:\n  read_chunk: 17MiB\n" + L, 3, 15,
        r"limits\.read_chunk: must be between"),
    Row("backlog 0", S + L + "    backlog: 0\n", 4, 14, r"listeners\[0\]\.backlog: must be"),
    Row("prefork workers 0", "strategy: prefork\nprefork:\n  workers: 0\n" + L, 3, 12,
        r"prefork\.workers: must be between", strategy="prefork"),
    Row("threadpool threads 100000", "strategy: threadpool\nthreadpool:\n  threads: 100000\n" + L,
        3, 12, r"threadpool\.threads: must be between", strategy="threadpool"),
    Row("select over FD_SETSIZE", "strategy: select\nmax_connections: 5000\n" + L, 2, 18,
        r"max_connections: .*FD_SETSIZE", strategy="select"),
    Row("resp max_memory 0", S + L + "    protocol: {{name: resp, options: {{max_memory: 0}}}}\n", 4,
        50, r"max_memory: must be between"),
    Row("http header_timeout 0", S + L + "    protocol: {{name: http, options: "
        "{{header_timeout: 0}}}}\n", 4, 54, r"header_timeout: must be between"),
    Row("log_level verbose", S + "log_level: verbose\n" + L, 2, 12,
        r"log_level: must be debug, info, warn or error"),
    # --listen replaces the listeners but keeps the first one's protocol and tls, from the file.
    Row("a mistake in the protocol options kept by --listen", S + L + "    protocol: {{name: echo, "
        "options: {{x: 1}}}}\n", 4, 38, r"listeners\[0\]\.protocol\.options\.x: unknown key",
        flags=("--listen", "127.0.0.1:{port}")),
    Row("a bad --listen", S + L, None, None, r"listeners\[0\]\.listen: expected HOST:PORT",
        flags=("--listen", "localhost")),
    # Listen addresses.
    Row("port 99999", S + "listeners:\n  - listen: 127.0.0.1:99999\n", 3, 13,
        r"listeners\[0\]\.listen: port must be a number"),
    Row("no port", S + "listeners:\n  - listen: 127.0.0.1\n", 3, 13,
        r"listeners\[0\]\.listen: expected HOST:PORT"),
    Row("IPv6 without brackets", S + "listeners:\n  - listen: \"::1:{port}\"\n", 3, 13,
        r"listeners\[0\]\.listen: an IPv6 address needs brackets"),
    Row("empty listen", S + "listeners:\n  - listen: \"\"\n", 3, 13, r"listeners\[0\]\.listen: "),
    Row("a listener without listen", S + "listeners:\n  - protocol: echo\n", 3, 5,
        r"listeners\[0\]\.listen: every listener needs listen"),
    Row("no listeners", S + "listeners: []\n", 2, 12, r"listeners: must be a list with at least"),
    # The admin listener.
    Row("admin allow range past /32", S + "admin:\n  listen: 127.0.0.1:{port}\n"
        "  allow: [127.0.0.1/33]\n" + L, 4, 11, r"admin\.allow\[0\]: .*prefix length must be"),
    Row("admin without listen", S + "admin:\n  allow: [\"::1\"]\n" + L, 3, 3,
        r"admin\.listen: the admin listener needs listen"),
    Row("admin not a map", S + "admin: 9100\n" + L, 2, 8, r"admin: must be a map"),
    # TLS.
    Row("missing TLS certificate", S + L + "    tls:\n      cert: no-such-cert.pem\n"
        "      key: no-such-key.pem\n", 5, 13, r"listeners\[0\]\.tls\.cert: .*no-such-cert\.pem"),
    Row("TLS without key", S + L + "    tls:\n      cert: no-such-cert.pem\n", 5, 7,
        r"listeners\[0\]\.tls\.key: needs key"),
    Row("TLS verify_client without client_ca", S + L + "    tls:\n      cert: c.pem\n"
        "      key: k.pem\n      verify_client: on\n", 7, 22,
        r"verify_client: needs client_ca"),
    Row("TLS min_version 1.0", S + L + "    tls:\n      cert: c.pem\n      key: k.pem\n"
        "      min_version: TLSv1.0\n", 7, 20, r"min_version: TLS 1\.0 and 1\.1 are not supported"),
    # Unknown names.
    Row("unknown strategy", "strategy: nginx\n" + L, 1, 11,
        r"strategy: unknown strategy 'nginx'; known strategies: ", strategy="epoll"),
    Row("strategy in capitals", "strategy: EPOLL\n" + L, 1, 11, r"strategy: unknown strategy",
        strategy="epoll"),
    Row("unknown protocol", S + L + "    protocol: gopher\n", 4, 15,
        r"listeners\[0\]\.protocol: unknown protocol 'gopher'"),
    Row("missing plugin", S + L + "    protocol: no-such-plugin.so\n", 4, 15,
        r"listeners\[0\]\.protocol: .*no-such-plugin\.so"),
    # YAML syntax.
    Row("map value in a plain scalar", S + "a: b: c\n" + L, 2, 5, r"invalid YAML: "),
    Row("unclosed flow list", S + "listeners: [127.0.0.1:{port}\n", 3, None, r"invalid YAML: "),
    # yaml-cpp takes a double-quoted scalar left open to the end of the file (newlines folded):
    # the value is then wrong.
    Row("unclosed quote", S + "log_level: \"info\n" + L, 2, 12,
        r"invalid YAML: |log_level: must be debug"),
    Row("indented key after a scalar", S + "max_connections: 5\n  bad: x\n" + L, 3, 6,
        r"invalid YAML: "),
    Row("a tab indenting a key", S + "limits:\n\tread_chunk: 4KiB\n" + L, 3, None,
        r"invalid YAML: "),
    Row("a tab in a listener", S + "listeners:\n  - listen: 127.0.0.1:{port}\n\t  protocol: echo\n",
        4, 1, r"invalid YAML: illegal tab"),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_free(port):
    """True if we can bind 127.0.0.1:port ourselves (srv left nothing bound)."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def connectable(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def run_srv(srv, args, port):
    """Runs srv; returns (exit code or None if it had to be killed, stderr, whether the port
    accepted a connection while srv ran)."""
    proc = subprocess.Popen([srv] + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    bound = False
    try:
        deadline = time.monotonic() + RUN_LIMIT
        while proc.poll() is None and time.monotonic() < deadline:
            bound = bound or connectable(port)
            time.sleep(0.01)
        code = proc.poll()
    finally:
        if proc.poll() is None:  # accepted the config (or interrupted): it is serving
            proc.kill()
            proc.wait()
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    return code, err, bound


def check_row(srv, row, strategy, check_only, workdir):
    port = free_port()
    path = os.path.join(workdir, "broken.yaml")
    with open(path, "w") as f:
        f.write(row.text.format(port=port, strategy=strategy))
    args = ["--config", path] + [flag.format(port=port) for flag in row.flags]
    args += ["--check-config"] if check_only else []
    code, err, bound = run_srv(srv, args, port)
    lines = [line for line in err.splitlines() if line.strip()]
    if code is None:
        return (f"still running after {RUN_LIMIT:.0f} s: the config was accepted"
                f"{f' and port {port} bound' if bound else ''}")
    if code != 2:
        return f"exit {code}, expected 2; stderr: {err.strip()[:200]!r}"
    if bound or not port_free(port):
        return f"port {port} was bound"
    if len(lines) != 1:
        return f"expected one line on stderr, got {len(lines)}: {err.strip()[:300]!r}"
    if row.flags and row.line is None:
        m = re.match(r"srv: command line: (.*)$", lines[0])
        if not m:
            return f"not `srv: command line: ...`: {lines[0]!r}"
        line, col, what = None, None, m.group(1)
    else:
        m = re.match(re.escape("srv: " + path) + r":(\d+):(\d+): (.*)$", lines[0])
        if not m:
            return f"not `srv: {path}:LINE:COL: ...`: {lines[0]!r}"
        line, col, what = int(m.group(1)), int(m.group(2)), m.group(3)
    if row.line is not None and line != row.line:
        return f"line {line}, expected {row.line}: {lines[0]!r}"
    if row.col is not None and col != row.col:
        return f"column {col}, expected {row.col}: {lines[0]!r}"
    if not re.search(row.what, what):
        return f"message does not match {row.what!r}: {lines[0]!r}"
    return None


def checks(binary, strategy, quick):
    """(label, problem or None) for every row that runs under `strategy`."""
    with tempfile.TemporaryDirectory(prefix="srv-configs.") as workdir:
        for row in ROWS:
            if row.strategy not in (None, strategy):
                continue
            for check_only in [False] if quick else [False, True]:
                label = row.name + (" --check-config" if check_only else "")
                yield label, check_row(binary, row, strategy, check_only, workdir)


def run(harness, strategy, quick):
    return [h.check(label, problem is None, problem or "exit 2 at the right place, nothing bound")
            for label, problem in checks(harness.binary, strategy, quick)]
