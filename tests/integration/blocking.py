#!/usr/bin/python3
"""Blocking list commands and pub/sub of srv's resp protocol, driven by a real client library.

    blocking.py --port PORT --pid SRV_PID --label STRATEGY [--limit PUBSUB_OUTPUT_LIMIT]

Runs against a server already listening on 127.0.0.1:PORT (tests/integration/blocking.sh starts
one per strategy) with redis-py (Debian's python3-redis): BLPOP woken by a push from another
connection (another process under fork and prefork), timeouts, fairness of three waiters, a
waiter that disconnects, BLMOVE as a reliable queue under 8 workers, CLIENT UNBLOCK, PUBLISH
reaching subscribers on every connection, a subscriber that never reads cut at the limit with
the server's memory checked. Prints `ok - LABEL: ...` or `not ok - LABEL: ...` per check, with
`    # ` diagnostics, and exits 1 if any failed. Every wait is bounded (sockets time out after
kSocketTimeout, threads are joined with a timeout) and every load is bounded in count.
"""

import argparse
import os
import socket
import sys
import threading
import time
import traceback

import redis

kSocketTimeout = 10.0  # seconds any one reply may take; longer is a failure
kSettle = 5.0  # seconds for the server to reach a state we poll for (INFO, PUBSUB)
kWorkers = 8
kTasksPerWorker = 500

args = None
failures = 0


def connect(**kwargs):
    return redis.Redis(host="127.0.0.1", port=args.port, socket_timeout=kSocketTimeout,
                       socket_connect_timeout=kSocketTimeout, **kwargs)


def report(name, fn):
    global failures
    started = time.monotonic()
    try:
        detail = fn()
        suffix = f" ({detail})" if detail else ""
        print(f"ok - {args.label}: {name}{suffix}", flush=True)
    except Exception as e:  # a failed check, a timeout or an unexpected reply
        failures += 1
        print(f"not ok - {args.label}: {name}", flush=True)
        lines = [f"{type(e).__name__}: {e}", f"after {time.monotonic() - started:.2f}s"]
        if not isinstance(e, AssertionError):
            lines += traceback.format_exc().splitlines()[-6:]
        for line in lines:
            print(f"    # {line}", flush=True)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def blocked_clients(r):
    return r.info("clients")["blocked_clients"]


def wait_for(what, fn, want, timeout=kSettle):
    """Polls fn() until it equals want, for at most timeout seconds."""
    deadline = time.monotonic() + timeout
    got = fn()
    while got != want and time.monotonic() < deadline:
        time.sleep(0.01)
        got = fn()
    check(got == want, f"{what}: want {want!r}, got {got!r} after {timeout}s")


class Call(threading.Thread):
    """Runs fn() on a thread of its own; result() joins it (bounded) and returns or raises."""

    def __init__(self, fn):
        super().__init__(daemon=True)
        self.fn, self.value, self.error, self.finished_at = fn, None, None, None
        self.start()

    def run(self):
        try:
            self.value = self.fn()
        except Exception as e:
            self.error = e
        self.finished_at = time.monotonic()

    def result(self, timeout=kSocketTimeout + 2):
        self.join(timeout)
        check(not self.is_alive(), f"call still running after {timeout}s")
        if self.error is not None:
            raise self.error
        return self.value


# ---------------------------------------------------------------------------------------------
# Blocking lists


def woken_by_push():
    waiter, pusher = connect(), connect()
    pusher.delete("wake")
    call = Call(lambda: waiter.blpop(["wake"], timeout=0))
    wait_for("blocked_clients", lambda: blocked_clients(pusher), 1)
    check(call.is_alive(), "BLPOP returned before anything was pushed")
    pushed_at = time.monotonic()
    check(pusher.lpush("wake", "x") == 1, "LPUSH's reply")
    got = call.result()
    check(got == (b"wake", b"x"), f"BLPOP got {got!r}")
    check(blocked_clients(pusher) == 0, "blocked_clients after the wake")
    check(pusher.exists("wake") == 0, "the element was taken")
    return f"woken {1000 * (call.finished_at - pushed_at):.1f} ms after the push"


def every_blocking_command():
    waiter, pusher = connect(), connect()
    pusher.delete("src", "dst", "l")
    cases = [
        (lambda: waiter.brpop(["l"], timeout=0), lambda: pusher.rpush("l", "a", "b"),
         (b"l", b"b"), {"l": [b"a"]}),
        (lambda: waiter.blmove("src", "dst", 0, "LEFT", "RIGHT"),
         lambda: pusher.rpush("src", "a", "b"), b"a", {"src": [b"b"], "dst": [b"a"]}),
        (lambda: waiter.brpoplpush("src", "dst", 0), lambda: pusher.rpush("src", "c"), b"c",
         {"src": [], "dst": [b"c"]}),
        (lambda: waiter.blmpop(0, 2, "none", "l", direction="LEFT", count=5),
         lambda: pusher.rpush("l", "x", "y"), [b"l", [b"x", b"y"]], {"l": []}),
    ]
    for block, push, want, lists in cases:
        pusher.delete("src", "dst", "l")
        call = Call(block)
        wait_for("blocked_clients", lambda: blocked_clients(pusher), 1)
        push()
        got = call.result()
        check(got == want, f"want {want!r}, got {got!r}")
        for key, elements in lists.items():
            have = pusher.lrange(key, 0, -1)
            check(have == elements, f"{key}: want {elements!r}, have {have!r}")


def timeouts():
    r, other = connect(), connect()
    r.delete("never")
    measured = []
    for timeout in (0.1, 0.25, 1):
        started = time.monotonic()
        got = r.blpop(["never"], timeout=timeout)
        elapsed = time.monotonic() - started
        check(got is None, f"BLPOP {timeout} got {got!r}")
        check(timeout <= elapsed < timeout + 1.0, f"BLPOP {timeout} took {elapsed:.3f}s")
        measured.append(f"{timeout}s->{elapsed:.3f}s")
    for name, block in (("BRPOP", lambda: r.brpop(["never"], timeout=0.05)),
                        ("BLMOVE", lambda: r.blmove("never", "d", 0.05)),
                        ("BLMPOP", lambda: r.blmpop(0.05, 1, "never", direction="LEFT"))):
        check(block() is None, f"{name} with a fractional timeout")
    # 0 waits for ever: still blocked after a while, then served.
    call = Call(lambda: r.blpop(["never"], timeout=0))
    time.sleep(0.5)
    check(call.is_alive() and blocked_clients(other) == 1, "BLPOP 0 stopped waiting")
    other.rpush("never", "late")
    check(call.result() == (b"never", b"late"), "BLPOP 0 served late")
    check(blocked_clients(other) == 0, "blocked_clients after the timeouts")
    return " ".join(measured)


def fairness():
    waiters = [connect() for _ in range(3)]
    pusher = connect()
    pusher.delete("fair")
    calls = []
    for i, w in enumerate(waiters):
        calls.append(Call(lambda w=w: w.blpop(["fair"], timeout=0)))
        wait_for("blocked_clients", lambda: blocked_clients(pusher), i + 1)
    # One element at a time, then several at once: either way, first blocked, first served.
    pusher.rpush("fair", "e0")
    check(calls[0].result() == (b"fair", b"e0"), f"first waiter got {calls[0].value!r}")
    check(calls[1].is_alive() and calls[2].is_alive(), "later waiters were served too")
    calls.append(Call(lambda: waiters[0].blpop(["fair"], timeout=0)))  # queues behind 1 and 2
    wait_for("blocked_clients", lambda: blocked_clients(pusher), 3)
    pusher.rpush("fair", "e1", "e2", "e3")
    got = [c.result() for c in calls[1:]]
    want = [(b"fair", b"e1"), (b"fair", b"e2"), (b"fair", b"e3")]
    check(got == want, f"served {got!r}")


def disconnect_while_blocked():
    leaver, other = connect(), connect()
    other.delete("gone")
    leaver.execute_command("CLIENT", "ID")  # connected now: the BLPOP below is all it sends
    connection = leaver.connection_pool.get_connection("BLPOP")
    connection.send_command("BLPOP", "gone", "0")
    wait_for("blocked_clients", lambda: blocked_clients(other), 1)
    connection.disconnect()
    wait_for("blocked_clients after the disconnect", lambda: blocked_clients(other), 0)
    check(other.lpush("gone", "kept") == 1, "LPUSH's reply")
    time.sleep(0.05)
    check(other.lrange("gone", 0, -1) == [b"kept"], "the element stayed in the list")
    other.delete("gone")


def client_unblock():
    waiter, other = connect(), connect()
    waiter_id = waiter.client_id()
    other.delete("ub")
    call = Call(lambda: waiter.blpop(["ub"], timeout=0))
    wait_for("blocked_clients", lambda: blocked_clients(other), 1)
    check(other.client_unblock(waiter_id) == 1, "CLIENT UNBLOCK's reply")
    check(call.result() is None, f"unblocked with TIMEOUT got {call.value!r}")
    call = Call(lambda: waiter.brpop(["ub"], timeout=0))
    wait_for("blocked_clients", lambda: blocked_clients(other), 1)
    check(other.client_unblock(waiter_id, error=True) == 1, "CLIENT UNBLOCK ERROR's reply")
    try:
        call.result()
        raise AssertionError(f"unblocked with ERROR got {call.value!r}")
    except redis.ResponseError as e:
        check(str(e).startswith("UNBLOCKED"), f"error {e}")
    check(other.client_unblock(waiter_id) == 0, "a client no longer blocked")
    check(blocked_clients(other) == 0, "blocked_clients")
    check(other.lpush("ub", "kept") == 1 and other.llen("ub") == 1, "a later push keeps it")
    other.delete("ub")


def reliable_queue():
    """kWorkers workers move tasks with BLMOVE to their own list while one producer pushes."""
    producer, checker = connect(), connect()
    total = kWorkers * kTasksPerWorker
    checker.delete("tasks", *[f"taken:{i}" for i in range(kWorkers)])
    done = threading.Event()

    def worker(i):
        r = connect()
        mine = f"taken:{i}"
        got = []
        while True:
            task = r.blmove("tasks", mine, 0.2, "LEFT", "RIGHT")
            if task is None:
                if done.is_set():
                    return got
                continue
            got.append(task)
            check(r.lrem(mine, 1, task) == 1, f"{task!r} not in {mine}")

    workers = [Call(lambda i=i: worker(i)) for i in range(kWorkers)]
    wait_for("blocked_clients", lambda: blocked_clients(checker), kWorkers)
    started = time.monotonic()
    pipe = producer.pipeline(transaction=False)
    for n in range(total):
        pipe.rpush("tasks", f"t{n}")
        if n % 50 == 49:  # batches of 50 pushes: workers wake and block again all along
            pipe.execute()
    pipe.execute()
    done.set()
    results = [w.result(timeout=60) for w in workers]
    elapsed = time.monotonic() - started
    taken = [t for r in results for t in r]
    check(len(taken) == total, f"{len(taken)} tasks taken of {total}")
    check(len(set(taken)) == total, f"{len(taken) - len(set(taken))} tasks taken twice")
    check(checker.llen("tasks") == 0, "tasks left in the queue")
    per_worker = sorted(len(r) for r in results)
    return f"{total} tasks in {elapsed:.2f}s, per worker {per_worker[0]}..{per_worker[-1]}"


# ---------------------------------------------------------------------------------------------
# Pub/sub


def publish_reaches_every_subscriber():
    publisher = connect()
    subscribers = []
    for i in range(4):
        p = connect().pubsub(ignore_subscribe_messages=True)
        p.subscribe("news")
        if i % 2 == 0:
            p.psubscribe("n*")
        subscribers.append(p)
    want_count = 4 + 2  # each channel subscription, and each matching pattern
    wait_for("PUBSUB NUMSUB", lambda: publisher.pubsub_numsub("news"), [(b"news", 4)])
    for p in subscribers:  # the confirmations
        while p.get_message(timeout=0.01) is not None:
            pass
    messages = 50
    for n in range(messages):
        count = publisher.publish("news", f"m{n}")
        check(count == want_count, f"PUBLISH counted {count}, want {want_count}")
    for i, p in enumerate(subscribers):
        got = []
        deadline = time.monotonic() + kSettle
        want = messages * (2 if i % 2 == 0 else 1)
        while len(got) < want and time.monotonic() < deadline:
            m = p.get_message(timeout=0.5)
            if m is not None:
                got.append((m["type"], m["data"]))
        plain = [d for t, d in got if t == "message"]
        check(plain == [f"m{n}".encode() for n in range(messages)],
              f"subscriber {i}: {len(plain)} messages, in order: {plain[:3]!r}...")
        if i % 2 == 0:
            check(sum(1 for t, _ in got if t == "pmessage") == messages,
                  f"subscriber {i}: pmessages")
    for p in subscribers:
        p.close()
    wait_for("PUBSUB NUMSUB after closing", lambda: publisher.pubsub_numsub("news"),
             [(b"news", 0)])


def server_pids():
    """The server's pid and its children's (workers, forked connections)."""
    pids = [args.pid]
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == args.pid:
            pids.append(int(entry))
    return pids


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def slow_subscriber_is_cut():
    """A subscriber that never reads: cut once pubsub_output_limit is passed, memory bounded."""
    publisher = connect()
    slow = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
    slow.settimeout(kSocketTimeout)
    slow.connect(("127.0.0.1", args.port))
    slow.sendall(b"SUBSCRIBE slow\r\n")
    confirmation = b""
    while not confirmation.endswith(b":1\r\n"):
        chunk = slow.recv(4096)
        check(chunk, "closed before confirming SUBSCRIBE")
        confirmation += chunk
    wait_for("PUBSUB NUMSUB", lambda: publisher.pubsub_numsub("slow"), [(b"slow", 1)])
    pids = server_pids()
    base = {pid: rss_kib(pid) for pid in pids}
    message = b"x" * 65536
    budget = 8 * args.limit + 32 * 1024 * 1024  # bytes published at most: well past the limit
    published, peak, counts = 0, 0, []
    while published < budget:
        count = publisher.publish("slow", message)
        published += len(message)
        counts.append(count)
        if len(counts) % 16 == 0:
            peak = max(peak, sum(rss_kib(pid) - base[pid] for pid in pids))
        if count == 0:
            break
    peak = max(peak, sum(rss_kib(pid) - base[pid] for pid in pids))
    check(counts[0] == 1, f"the first PUBLISH counted {counts[0]}")
    check(counts[-1] == 0, f"still subscribed after {published >> 20} MiB published")
    cut_after = counts.index(0) * len(message)
    check(cut_after >= args.limit, f"cut after only {cut_after} bytes")
    # The server closed it: what it had sent, then end of file (or a reset), promptly.
    received, deadline = 0, time.monotonic() + kSettle
    try:
        while time.monotonic() < deadline:
            chunk = slow.recv(1 << 20)
            if not chunk:
                break
            received += len(chunk)
        else:
            raise AssertionError(f"not closed within {kSettle}s ({received} bytes read)")
    except ConnectionResetError:
        pass
    slow.close()
    bound_kib = (4 * args.limit) // 1024 + 16 * 1024
    check(peak < bound_kib, f"server RSS grew {peak} KiB (bound {bound_kib} KiB)")
    check(publisher.publish("slow", "after") == 0, "a PUBLISH after the cut")
    return (f"cut after {cut_after >> 10} KiB published, {received >> 10} KiB delivered, "
            f"RSS growth peak {peak} KiB over {len(pids)} processes")


def main():
    global args
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--label", required=True)
    parser.add_argument("--limit", type=int, default=1 << 20)
    args = parser.parse_args()
    report("BLPOP woken by an LPUSH from another connection", woken_by_push)
    report("BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP served by pushes", every_blocking_command)
    report("timeouts: fractional ones answer nil in time, 0 waits", timeouts)
    report("three waiters are served in the order they blocked", fairness)
    report("a waiter that disconnects leaves no waiter and the element", disconnect_while_blocked)
    report("CLIENT UNBLOCK with TIMEOUT and ERROR", client_unblock)
    report(f"BLMOVE queue: {kWorkers} workers x {kTasksPerWorker} tasks, none lost or doubled",
           reliable_queue)
    report("PUBLISH reaches 4 subscribers (and 2 patterns) and counts them",
           publish_reaches_every_subscriber)
    report("a subscriber that never reads is cut at pubsub_output_limit, memory bounded",
           slow_subscriber_is_cut)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
