"""A client pipelines GETs of a large value and reads nothing (its receive window 4 KiB): srv
must stop reading it once output_high_water waits unsent, so its memory stays bounded (by the
output limit, the input buffer and one reply), and must close it at write_timeout (the
connection's descriptor, or fork's child, is gone within write_timeout +-10%)."""

import socket
import time

import harness as h

kValue = 500 * 1024
kGets = 2000  # 1 GB of replies if srv wrote them all
kHighWaterKib = 256
kMaxInputKib = 1024
kSlackKib = 2048  # allocator, stack and page-table noise
kReceiveBuffer = 4096


def resp(*args):
    out = b"*%d\r\n" % len(args)
    for arg in args:
        out += b"$%d\r\n%s\r\n" % (len(arg), arg)
    return out


def run(harness, strategy, quick):
    write_timeout = 2.0 if quick else 4.0
    settings = {"idle_timeout": "60s", "write_timeout": f"{write_timeout * 1000:.0f}ms",
                "limits": {"output_high_water": f"{kHighWaterKib}KiB",
                           "max_input_buffer": f"{kMaxInputKib}KiB"}}
    with harness.server(strategy, "resp", settings) as srv:
        baseline = srv.counts()
        with h.connect(srv.port) as sock:
            sock.sendall(resp(b"SET", b"big", b"v" * kValue))
            h.read_until(sock, lambda d: d.endswith(b"\r\n"))
        srv.wait_counts(baseline, 2.0)
        pss_before = srv.pss_kib()
        reader = socket.socket()
        reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, kReceiveBuffer)
        reader.settimeout(5.0)
        reader.connect(("127.0.0.1", srv.port))
        reader.sendall(resp(b"GET", b"big") * kGets)
        start = time.monotonic()
        peak_kib = 0
        cut = None
        while time.monotonic() - start < write_timeout * 3:
            peak_kib = max(peak_kib, srv.pss_kib() - pss_before)
            if srv.counts() == baseline:
                cut = time.monotonic() - start
                break
            time.sleep(0.02)
        reader.close()
        served = h.request(srv.port, "resp")
        code = srv.stop()
    bound_kib = kHighWaterKib + kMaxInputKib + kValue // 1024 + kSlackKib
    cut_text = "never" if cut is None else f"{cut:.2f} s"
    return [
        h.check("memory bounded while the client does not read", peak_kib <= bound_kib,
                f"memory (PSS) grew at most {peak_kib} KiB (bound {bound_kib} KiB)"),
        h.check(f"cut at write_timeout {write_timeout:.0f} s +-10%",
                cut is not None and abs(cut - write_timeout) <= 0.1 * write_timeout,
                f"cut after {cut_text}"),
        h.check("others served, SIGTERM exits 0", served and code == 0,
                f"next client served {served}, exit {code}"),
    ]
