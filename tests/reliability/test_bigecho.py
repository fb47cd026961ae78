"""200 MiB (quick: 20 MiB) through echo, byte-exact, to a client with a small receive window
(SO_RCVBUF 4 KiB) that reads in small pieces: srv must hold back, not drop, reorder or grow."""

import hashlib
import os
import socket
import threading
import time

import harness as h

kBlock = os.urandom(1048573)  # a prime length, so no two blocks of the stream line up alike
kReceiveBuffer = 4096
kReadSize = 4096


def send_stream(sock, total, digest):
    view = memoryview(kBlock)
    sent = 0
    try:
        while sent < total:
            piece = view[:min(len(view), total - sent)]
            sock.sendall(piece)
            digest.update(piece)
            sent += len(piece)
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def run(harness, strategy, quick):
    total = (20 if quick else 200) << 20
    with harness.server(strategy, "echo", {"idle_timeout": "30s"}) as srv:
        baseline_rss = srv.rss_kib()
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, kReceiveBuffer)
        sock.settimeout(10.0)
        sock.connect(("127.0.0.1", srv.port))
        sent_digest = hashlib.sha256()
        sender = threading.Thread(target=send_stream, args=(sock, total, sent_digest),
                                  daemon=True)
        start = time.monotonic()
        sender.start()
        received = 0
        peak_rss = baseline_rss
        got_digest = hashlib.sha256()
        deadline = start + (60.0 if quick else 300.0)
        while received < total and time.monotonic() < deadline:
            try:
                chunk = sock.recv(kReadSize)
            except OSError:
                break
            if not chunk:
                break
            got_digest.update(chunk)
            received += len(chunk)
            if received % (1 << 22) < kReadSize:
                peak_rss = max(peak_rss, srv.rss_kib())
        took = time.monotonic() - start
        sender.join(5.0)
        sock.close()
        code = srv.stop()
    exact = received == total and got_digest.digest() == sent_digest.digest()
    mib = total >> 20
    return [
        h.check(f"{mib} MiB echoed byte-exact through a {kReceiveBuffer} B window", exact,
                f"{received} of {total} bytes in {took:.1f} s ({mib / took:.0f} MiB/s), "
                f"server RSS grew {(peak_rss - baseline_rss) / 1024:.1f} MiB"),
        h.check("SIGTERM exits 0", code == 0, f"exit {code}"),
    ]
