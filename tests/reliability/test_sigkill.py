"""Repeated SIGKILL of the processes that serve connections while clients run INCR loops on
resp. Where each connection has a process of its own (fork children, prefork workers), a kill ends
at most the one connection that process served (no collateral failure: lost connections <=
kills). Where the generation's one process serves every connection (thread, threadpool, the event
loops), a kill ends its connections and srv's master starts the generation again. Either way every
client carries on on a new connection, its counter never goes back (the keyspace lives in the
master's shared memory), the processes come back to their count, and no zombie is left."""

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


def parent_of(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def serving_processes(srv):
    """The per-connection processes (children of the generation's process), or else the
    generation's process itself (the master's child)."""
    parents = {pid: parent_of(pid) for pid in srv.pids()}
    generations = [pid for pid, parent in parents.items() if parent == srv.pid]
    per_connection = [pid for pid, parent in parents.items() if parent in generations]
    return per_connection or generations, bool(per_connection)


def kill_loop(srv, kills, interval):
    """SIGKILLs a random serving process, kills times."""
    done = 0
    for _ in range(kills):
        time.sleep(interval)
        others, _ = serving_processes(srv)
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
        _, per_connection = serving_processes(srv)
        if not per_connection:
            # The master backs off a generation that keeps dying (100 ms, doubled per death
            # within 10 s): a few kills a second apart, each taking every connection.
            kills, interval = 3, 1.0
        killed = kill_loop(srv, kills, interval)
        before = [c.replies for c in clients]
        # A worker killed within a second of its start is respawned a second later (prefork's
        # crash-loop delay), so a client may wait that long for one.
        start = time.monotonic()
        h.wait_for(lambda: all(c.replies > b for c, b in zip(clients, before)), 5.0)
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
        h.check("no collateral failure" if per_connection else "a killed generation's "
                "connections only", lost <= killed * (1 if per_connection else kClients)
                and backwards == 0,
                f"{killed} kills, {lost} connections lost, {replies} INCR replies, "
                f"{backwards} counters gone back"),
        h.check("every client served after the kills", progressing == kClients,
                f"{progressing} of {kClients} within {resumed:.2f} s"),
        h.check("refilled, zero zombies", after == baseline,
                f"baseline {baseline}; after {after}"),
        h.check("SIGTERM exits 0", code == 0, f"exit {code}"),
    ]
