"""5000 connections (quick: 500) to a fork server with max_connections 20, 30 clients at a time:
the cap holds (never more than 20 children, sampled throughout), every client is served or
refused, and afterwards no child and no zombie is left."""

import threading
import time

import harness as h

kMaxConnections = 20
kConcurrency = 30


def client_loop(port, count, tally, lock):
    for _ in range(count):
        outcome = "served" if h.request(port, "echo", timeout=5.0) else "refused"
        with lock:
            tally[outcome] += 1


def sample_children(srv, stop, peak):
    while not stop.is_set():
        peak[0] = max(peak[0], srv.counts().processes - 1)
        time.sleep(0.02)


def run(harness, strategy, quick):
    if strategy != "fork":
        return [h.skip("connections", "only fork makes a process per connection")]
    total = 500 if quick else 5000
    settings = {"max_connections": kMaxConnections}
    with harness.server(strategy, "echo", settings) as srv:
        baseline = srv.counts()
        tally = {"served": 0, "refused": 0}
        lock = threading.Lock()
        stop = threading.Event()
        peak = [0]
        sampler = threading.Thread(target=sample_children, args=(srv, stop, peak), daemon=True)
        sampler.start()
        start = time.monotonic()
        threads = [threading.Thread(target=client_loop, daemon=True,
                                    args=(srv.port, total // kConcurrency, tally, lock))
                   for _ in range(kConcurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120.0)
        took = time.monotonic() - start
        stop.set()
        sampler.join(2.0)
        after = srv.wait_counts(baseline, 5.0)
        code = srv.stop()
    done = tally["served"] + tally["refused"]
    return [
        h.check(f"cap of {kMaxConnections} children holds", peak[0] <= kMaxConnections,
                f"at most {peak[0]} children seen; {tally['served']} served, "
                f"{tally['refused']} refused in {took:.1f} s"),
        h.check("every connection served or refused",
                done == total // kConcurrency * kConcurrency and tally["served"] > 0,
                f"{done} of {total // kConcurrency * kConcurrency}"),
        h.check("no child or zombie left", after == baseline,
                f"baseline {baseline}; after {after}"),
        h.check("SIGTERM exits 0", code == 0, f"exit {code}"),
    ]
