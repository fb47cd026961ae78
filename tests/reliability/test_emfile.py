"""Out of descriptors: srv runs with RLIMIT_NOFILE 64 and 150 clients connect and stay. srv must
not spin on a listener it cannot accept from (group CPU under 5% of a core over a window once
the flood has settled), and must serve again within 1 s once the clients have gone."""

import time

import harness as h

kNoFile = 64
kClients = 150
kCpuLimit = 0.05
kResumeLimit = 1.0


def time_to_service(port):
    """Seconds from now until a new client is served (gives up after 5 s)."""
    start = time.monotonic()
    while time.monotonic() - start < 5.0:
        if h.request(port, "echo", timeout=0.5):
            return time.monotonic() - start
        time.sleep(0.02)
    return float("inf")


def run(harness, strategy, quick):
    window = 2.0 if quick else 5.0
    with harness.server(strategy, "echo", {"idle_timeout": "60s"}, nofile=kNoFile) as srv:
        clients = h.open_clients(srv.port, kClients)
        time.sleep(0.5)  # let srv accept what it can and reach its limit
        before = srv.cpu_ticks()
        time.sleep(window)
        cpu = (srv.cpu_ticks() - before) / h.TICKS_PER_SECOND / window
        held = srv.counts()
        fan = h.Fanout(clients)  # who was shed (accepted into the spare descriptor and closed)
        fan.poll(0.1)
        shed = len(fan.closed)
        fan.close()
        resume = time_to_service(srv.port)
        code = srv.stop()
    return [
        h.check("CPU under 5% while out of descriptors", cpu < kCpuLimit,
                f"{cpu * 100:.1f}% of a core over {window:.0f} s ({held}; "
                f"{shed} of {kClients} clients shed)"),
        h.check("served within 1 s after the clients go", resume < kResumeLimit,
                f"{resume * 1000:.0f} ms"),
        h.check("SIGTERM exits 0", code == 0, f"exit {code}"),
    ]
