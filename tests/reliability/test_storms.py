"""2000-connection storms (quick: 300), in waves of 100 open at once: clients that send a
request and reset (SO_LINGER 0), then clients that send a request and half-close (SHUT_WR),
which must still get their answer and then EOF. Afterwards srv holds no more descriptors,
processes or threads than before, leaves no zombie, and serves a new client."""

import socket
import time

import harness as h

kWave = 100
kRequest = b"storm\n"


def reset_storm(port, total):
    for _ in range(total // kWave):
        socks = h.open_clients(port, kWave)
        for sock in socks:
            sock.sendall(kRequest)
        # Some are answered by now and some not (a pool serves a few at a time): both orders.
        fan = h.Fanout(socks)
        fan.poll(0.05)
        fan.close(reset=True)


def half_close_storm(port, total):
    """Returns how many clients got their answer followed by EOF, and the slowest's seconds."""
    answered = 0
    slowest = 0.0
    for _ in range(total // kWave):
        socks = h.open_clients(port, kWave)
        for sock in socks:
            sock.sendall(kRequest)
            sock.shutdown(socket.SHUT_WR)
        fan = h.Fanout(socks)
        start = time.monotonic()
        while len(fan.closed) < kWave and time.monotonic() - start < 15.0:
            fan.poll(0.1)
        slowest = max(slowest, time.monotonic() - start)
        answered += sum(fan.data[s] == kRequest and s in fan.closed for s in socks)
        fan.close()
    return answered, slowest


def run(harness, strategy, quick):
    total = 300 if quick else 2000
    with harness.server(strategy, "echo", {"idle_timeout": "30s"}) as srv:
        baseline = srv.counts()
        reset_storm(srv.port, total)
        after_reset = srv.wait_counts(baseline, 10.0)
        served_after_reset = h.request(srv.port, "echo")
        answered, slowest = half_close_storm(srv.port, total)
        after_half = srv.wait_counts(baseline, 10.0)
        served_after_half = h.request(srv.port, "echo")
        code = srv.stop()
    return [
        h.check(f"{total} resets: no leak, service continues",
                after_reset == baseline and served_after_reset,
                f"baseline {baseline}; after {after_reset}; next client served "
                f"{served_after_reset}"),
        h.check(f"{total} half-closes answered then closed", answered == total,
                f"{answered} of {total}, slowest wave {slowest:.2f} s"),
        h.check(f"{total} half-closes: no leak, service continues",
                after_half == baseline and served_after_half,
                f"after {after_half}; next client served {served_after_half}"),
        h.check("SIGTERM exits 0", code == 0, f"exit {code}"),
    ]
