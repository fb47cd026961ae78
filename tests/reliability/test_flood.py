"""Flood of 10x max_connections: every client is served, refused (the protocol's refusal and a
close) or queued until a slot frees, never left hanging; no more than max_connections are served
at once; descriptors and processes come back to their baseline; a probe's p99 afterwards stays
under 50 ms."""

import time

import harness as h

kMaxConnections = 20
kClients = 10 * kMaxConnections
kP99LimitMs = 50.0


def served(data):
    return data.startswith(b"HTTP/1.1 200") and h.http_response_complete(data)


def flood(srv):
    """Returns (served while every client holds on, served in all, refused, hanging)."""
    socks = h.open_clients(srv.port, kClients)
    for sock in socks:
        sock.sendall(h.PROBE_REQUESTS["http"][0])
    fan = h.Fanout(socks)
    # Hold every connection open for a second: what is served now is served at once.
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        fan.poll(0.05)
    held = sum(served(fan.data[s]) for s in socks)
    # Then every client leaves as soon as it has its answer, freeing a slot for the queued ones.
    done = set()
    deadline = time.monotonic() + 15.0
    while len(done) < kClients and time.monotonic() < deadline:
        for sock in socks:
            if sock not in done and (served(fan.data[sock]) or sock in fan.closed):
                done.add(sock)
                fan.forget(sock)
        fan.poll(0.05)
    total_served = sum(served(fan.data[s]) for s in socks)
    fan.close()
    return held, total_served, len(done) - total_served, kClients - len(done)


def run(harness, strategy, quick):
    settings = {"max_connections": kMaxConnections, "idle_timeout": "30s"}
    with harness.server(strategy, "http", settings) as srv:
        baseline = srv.counts()
        held, total, refused, hanging = flood(srv)
        after = srv.wait_counts(baseline, 10.0)
        latencies = h.probe(srv.port, "http", 100 if quick else 500)
        code = srv.stop()
    figure = f"{held} served at once, {total} in all, {refused} refused, {hanging} hanging"
    return [
        h.check("no more than max_connections served at once", 0 < held <= kMaxConnections,
                figure),
        h.check("every client served or refused", hanging == 0 and total + refused == kClients,
                figure),
        # A strategy refuses past the cap (nobody beyond it is served later) or queues (nobody
        # is refused): a mix would mean some of the excess was held past max_connections.
        h.check("the excess refused or queued, not both",
                (refused == kClients - total and total <= kMaxConnections)
                or (refused == 0 and total == kClients), figure),
        h.check("descriptors and processes back to baseline", after == baseline,
                f"baseline {baseline}; after {after}"),
        h.check("probe p99 after the flood under 50 ms",
                latencies.p99 < kP99LimitMs and latencies.failures == 0, str(latencies)),
        h.check("SIGTERM exits 0", code == 0, f"exit {code}"),
    ]
