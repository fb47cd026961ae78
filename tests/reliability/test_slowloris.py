"""Slowloris three ways at once: HTTP heads, HTTP bodies and RESP commands trickled a byte at a
time (quick: ~100 clients, full: 600). Every slow client must be cut at read_timeout +-10% of
the moment its request began (HTTP with a 408), and a normal client, probing both listeners all
along, must be served within 1 s each time. The fixed pools (prefork, threadpool: the README
says they do not resist by design) are held by as many slow clients as they have workers; there
the probe waits, which is recorded, not failed, and must be served again once read_timeout has
cut the slow clients."""

import statistics
import threading
import time

import harness as h

# README's strategy table: a fixed set of workers, each held by a connection until it ends.
kFixedPools = {"prefork", "threadpool"}
kPoolSize = 4  # prefork.workers and threadpool.threads, their defaults
kProbeLimit = 1.0
kTrickleInterval = 0.5

# (kind, listener index, what starts the request, what is trickled after it)
kKinds = [
    ("http head", 0, b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ", b"a"),
    ("http body", 0, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n", b"b"),
    ("resp command", 1, b"*3\r\n$3\r\nSET\r\n$4\r\nslow\r\n$100000\r\n", b"c"),
]


class SlowClient:
    def __init__(self, kind, port, prefix, byte):
        self.kind, self.byte = kind, byte
        self.sock = h.connect(port, timeout=5.0)
        self.sock.sendall(prefix)
        self.began = time.monotonic()
        self.sent = len(prefix)
        self.cut = None
        self.answer = b""

    def trickle(self):
        try:
            self.sent += self.sock.send(self.byte)
        except OSError:
            self.mark_cut()

    def mark_cut(self):
        if self.cut is None:
            self.cut = time.monotonic() - self.began


class Prober(threading.Thread):
    """Probes each listener in turn until stopped: latencies, and failures (no answer in 1 s)."""

    def __init__(self, ports):
        super().__init__(daemon=True)
        self.ports = ports
        self.stop = threading.Event()
        self.latencies = []
        self.failures = 0
        self.longest_wait = 0.0  # between two served probes (0.2 s apart when all is well)


    def run(self):
        turn = 0
        last_served = time.monotonic()
        while not self.stop.is_set():
            port, protocol = self.ports[turn % 2]
            turn += 1
            start = time.monotonic()
            if h.request(port, protocol, timeout=kProbeLimit):
                self.latencies.append(time.monotonic() - start)
                self.longest_wait = max(self.longest_wait, time.monotonic() - last_served)
                last_served = time.monotonic()
            else:
                self.failures += 1
            self.stop.wait(0.2)


def attack(srv, per_kind, cut_by):
    clients = []
    for kind, index, prefix, byte in kKinds:
        clients += [SlowClient(kind, srv.ports[index], prefix, byte) for _ in range(per_kind[kind])]
    fan = h.Fanout([c.sock for c in clients])
    by_sock = {c.sock: c for c in clients}
    deadline = time.monotonic() + cut_by * 1.5 + 2.0
    next_trickle = time.monotonic()
    while time.monotonic() < deadline and any(c.cut is None for c in clients):
        if time.monotonic() >= next_trickle:
            for client in clients:
                if client.cut is None:
                    client.trickle()
            next_trickle += kTrickleInterval
        for sock in fan.poll(0.02):
            if sock in fan.closed:
                by_sock[sock].mark_cut()
    for client in clients:
        client.answer = fan.data[client.sock]
    fan.close()
    return clients


def cut_figures(clients, expected):
    """Whether every client was cut within 10% of expected(client), and the figures by kind."""
    lines = []
    ok = True
    for kind, _, _, _ in kKinds:
        mine = [c for c in clients if c.kind == kind]
        if not mine:
            continue
        cuts = [c.cut for c in mine]
        missing = sum(c is None for c in cuts)
        done = [c for c in cuts if c is not None]
        within = not missing and all(
            abs(c.cut - expected(c)) <= 0.1 * expected(c) for c in mine)
        ok = ok and within
        if done:
            lines.append(f"{kind} x{len(cuts)}: {min(done):.2f}/{statistics.median(done):.2f}/"
                         f"{max(done):.2f} s (min/median/max), {missing} never cut")
        else:
            lines.append(f"{kind} x{len(cuts)}: none cut")
    return ok, "; ".join(lines)


def run(harness, strategy, quick):
    read_timeout = 3.0 if quick else 5.0
    fixed = strategy in kFixedPools
    if fixed:
        per_kind = {"http head": 2, "http body": 1, "resp command": 1}
    else:
        n = 35 if quick else 200
        per_kind = {kind: n for kind, _, _, _ in kKinds}
    total = sum(per_kind.values())
    settings = {"idle_timeout": "60s", "read_timeout": f"{read_timeout * 1000:.0f}ms",
                "max_connections": total + 50}
    with harness.server(strategy, settings=settings, listeners=["http", "resp"]) as srv:
        prober = Prober([(srv.ports[0], "http"), (srv.ports[1], "resp")])
        prober.start()
        time.sleep(0.3)
        clients = attack(srv, per_kind, read_timeout)
        time.sleep(0.5)
        prober.stop.set()
        prober.join(3.0)
        served_after = h.request(srv.ports[0], "http") and h.request(srv.ports[1], "resp")
        code = srv.stop()
    cut_ok, cut_text = cut_figures(clients, lambda c: read_timeout)
    http = [c for c in clients if c.kind.startswith("http")]
    got_408 = sum(c.answer.startswith(b"HTTP/1.1 408") for c in http)
    worst = max(prober.latencies, default=float("inf"))
    probe_text = (f"{len(prober.latencies)} probes served (slowest {worst * 1000:.0f} ms), "
                  f"{prober.failures} not served within {kProbeLimit:.0f} s, longest wait for "
                  f"service {prober.longest_wait:.2f} s")
    results = [
        h.check(f"{total} slow clients cut at read_timeout {read_timeout:.0f} s +-10%", cut_ok,
                cut_text),
        h.check("slow HTTP requests answered 408", got_408 == len(http),
                f"{got_408} of {len(http)}"),
    ]
    if fixed:
        results.append(h.check("fixed pool: held by slow clients (recorded), served after the cut",
                               served_after, probe_text + f"; served after the cut {served_after}"))
    else:
        results.append(h.check("a normal client served within 1 s throughout",
                               prober.failures == 0 and worst < kProbeLimit and served_after,
                               probe_text))
    results.append(h.check("SIGTERM exits 0", code == 0, f"exit {code}"))
    return results + min_rate_run(harness, strategy, quick, fixed)


def min_rate_run(harness, strategy, quick, fixed):
    """read_timeout off and limits.min_rate on: a trickle is cut once the grace has passed and
    the bytes it sent no longer buy time (deadline: begin + grace + bytes / min_rate)."""
    grace, rate = (2.0, 500) if quick else (4.0, 500)
    n = 1 if fixed else (10 if quick else 50)
    per_kind = {kind: n for kind, _, _, _ in kKinds}
    settings = {"idle_timeout": "60s", "read_timeout": 0, "max_connections": 3 * n + 50,
                "limits": {"min_rate": rate, "min_rate_grace": f"{grace * 1000:.0f}ms"}}
    with harness.server(strategy, settings=settings, listeners=["http", "resp"]) as srv:
        clients = attack(srv, per_kind, grace + 1.0)
        code = srv.stop()
    cut_ok, cut_text = cut_figures(clients, lambda c: grace + c.sent / rate)
    return [
        h.check(f"{len(clients)} slow clients cut by min_rate {rate} B/s after {grace:.0f} s "
                "+-10%", cut_ok and code == 0, f"{cut_text}; exit {code}"),
    ]
