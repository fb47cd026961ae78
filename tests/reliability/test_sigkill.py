"""Repeated SIGKILL of the processes that serve connections (fork children, prefork workers)
while clients run INCR loops on resp: a kill ends at most the one connection that process served
(no collateral failure: lost connections <= kills, every client carries on on a new connection
and its counter never goes back), the pool is refilled, and no zombie is left. Strategies that
serve every connection in srv's one process have nothing to kill here and are skipped."""

import random
import signal
import os
import threading
import time

import harness as h

kClients = 3  # fewer than prefork's 4 workers, so idle workers are killed too


class IncrClient(threading.Thread):
    def __init__(self, port, key, stop):
        super().__init__(daemon=True)
        self.port, self.key, self.stop = port, key, stop
        self.replies = 0
        self.lost = 0
        self.backwards = 0
        self.last = 0
        self.command = b"*2\r\n$4\r\nINCR\r\n$%d\r\n%s\r\n" % (len(key), key)

    def run(self):
        while not self.stop.is_set():
            try:
                with h.connect(self.port, timeout=2.0) as sock:
                    self.serve(sock)
            except OSError:
                self.lost += 1
                time.sleep(0.01)

    def serve(self, sock):
        while not self.stop.is_set():
            sock.sendall(self.command)
            data = h.read_until(sock, lambda d: d.endswith(b"\r\n"), timeout=2.0)
            if not data.startswith(b":"):
                raise ConnectionError("no reply")
            value = int(data[1:])
            self.backwards += value <= self.last
            self.last = value
            self.replies += 1


def kill_loop(srv, kills, interval):
    """SIGKILLs a random process of srv's group other than srv itself, kills times."""
    done = 0
    for _ in range(kills):
        time.sleep(interval)
        others = [pid for pid in srv.pids() if pid != srv.pid]
        if others:
            try:
                os.kill(random.choice(others), signal.SIGKILL)
                done += 1
            except ProcessLookupError:
                pass
    return done


def run(harness, strategy, quick):
    kills, interval = (10, 0.1) if quick else (74, 0.135)
    with harness.server(strategy, "resp", {"max_connections": 20}) as srv:
        baseline = srv.counts()
        stop = threading.Event()
        clients = [IncrClient(srv.port, b"kill:%d" % i, stop) for i in range(kClients)]
        for client in clients:
            client.start()
        time.sleep(0.3)
        if len(srv.pids()) == 1:
            stop.set()
            for client in clients:
                client.join(5.0)
            srv.stop()
            return [h.skip("kills", "one process serves every connection: nothing separate "
                           "to kill")]
        killed = kill_loop(srv, kills, interval)
        before = [c.replies for c in clients]
        # A worker killed within a second of its start is respawned a second later (prefork's
        # crash-loop delay), so a client may wait that long for one.
        start = time.monotonic()
        h.wait_for(lambda: all(c.replies > b for c, b in zip(clients, before)), 3.0)
        resumed = time.monotonic() - start
        progressing = sum(c.replies > b for c, b in zip(clients, before))
        stop.set()
        for client in clients:
            client.join(5.0)
        after = srv.wait_counts(baseline, 5.0)
        code = srv.stop()
    lost = sum(c.lost for c in clients)
    backwards = sum(c.backwards for c in clients)
    replies = sum(c.replies for c in clients)
    return [
        h.check("no collateral failure", lost <= killed and backwards == 0,
                f"{killed} kills, {lost} connections lost, {replies} INCR replies, "
                f"{backwards} counters gone back"),
        h.check("every client served after the kills", progressing == kClients,
                f"{progressing} of {kClients} within {resumed:.2f} s"),
        h.check("refilled, zero zombies", after == baseline,
                f"baseline {baseline}; after {after}"),
        h.check("SIGTERM exits 0", code == 0, f"exit {code}"),
    ]
