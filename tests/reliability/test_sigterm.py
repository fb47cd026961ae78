"""SIGTERM while requests are half-sent: srv stops accepting but lets the connections it has
finish, so each client sends the rest of its request after the signal and still gets its whole
answer; then srv exits 0, and promptly (it does not sit out shutdown_timeout once they left)."""

import signal
import time

import harness as h

kShutdownTimeout = 5.0
# (listener index, request, a predicate for a whole answer); fewer clients than a pool's 4.
kRequests = [
    (0, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789",
     lambda d: d.startswith(b"HTTP/1.1 200") and d.endswith(b"0123456789")),
    (1, b"*3\r\n$3\r\nSET\r\n$4\r\nterm\r\n$5\r\nhello\r\n", lambda d: d == b"+OK\r\n"),
    (2, b"half-sent line\n", lambda d: d == b"half-sent line\n"),
]


def run(harness, strategy, quick):
    settings = {"shutdown_timeout": f"{kShutdownTimeout:.0f}s"}
    with harness.server(strategy, settings=settings, listeners=["http", "resp", "echo"]) as srv:
        socks = []
        for index, request, _ in kRequests:
            sock = h.connect(srv.ports[index], timeout=5.0)
            sock.sendall(request[:len(request) // 2])
            socks.append(sock)
        time.sleep(0.3)  # accepted (a pool's workers each took one)
        srv.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        complete = 0
        for sock, (_, request, whole) in zip(socks, kRequests):
            sock.sendall(request[len(request) // 2:])
            data = h.read_until(sock, whole, timeout=3.0)
            complete += bool(whole(data))
            sock.close()
        left = time.monotonic()
        try:
            code = srv.proc.wait(kShutdownTimeout + 2)
        except Exception:  # noqa: BLE001 - the check below says it
            code = None
        took = time.monotonic() - left
    return [
        h.check("half-sent requests finished after SIGTERM", complete == len(kRequests),
                f"{complete} of {len(kRequests)} answered whole"),
        h.check("exit 0 soon after the last client left", code == 0 and took < 2.0,
                f"exit {code} {took * 1000:.0f} ms after"),
    ]
