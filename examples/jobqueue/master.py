#!/usr/bin/python3
"""The job queue's master: enqueues tasks, collects their results, gives the tasks of dead
workers back to the queue, and PUBLISHes "stop" to the workers when every task is done.

  JOBQ_PASSWORD=... examples/jobqueue/master.py [--host H] [--port P] [--tasks N] [--work-ms MS]

Prints one line per result ("result task=ID worker=W value=V") and per task recovered from a
dead worker, then a summary; exits 0 when every task has its one correct result, 1 otherwise
(or after --timeout seconds). Debian: apt install python3-redis."""

import argparse
import json
import sys
import time

import jobq


def enqueue(client, keys, count, work_ms):
    client.delete(keys.tasks, keys.results)
    pipe = client.pipeline(transaction=False)  # one round trip; srv has no MULTI
    for task_id in range(1, count + 1):
        pipe.rpush(keys.tasks, json.dumps({"id": task_id, "n": task_id, "ms": work_ms}))
    pipe.execute()


def reap(client, keys):
    """Every registered worker whose alive key has expired is dead: its processing list goes
    back to the head of the queue (LMOVE, one task at a time, atomically) and it is forgotten.
    Returns how many tasks were recovered."""
    recovered = 0
    for worker_id in client.lrange(keys.workers, 0, -1):
        if client.exists(keys.alive(worker_id)):
            continue
        while (raw := client.lmove(keys.processing(worker_id), keys.tasks, "RIGHT",
                                   "LEFT")) is not None:
            print(f"recovered task {json.loads(raw)['id']} from dead worker {worker_id}",
                  flush=True)
            recovered += 1
        client.lrem(keys.workers, 0, worker_id)
        print(f"worker {worker_id} is dead (no heartbeat); forgotten", flush=True)
    return recovered


class Tally:
    """Results by task id. A result for a task already done is a duplicate (the task was
    recovered from a worker that was only slow, not dead): dropped, and counted."""

    def __init__(self, count):
        self.count = count
        self.done = {}
        self.duplicates = 0
        self.wrong = 0

    def add(self, raw):
        result = json.loads(raw)
        task_id = result["id"]
        if task_id in self.done:
            self.duplicates += 1
            print(f"duplicate result task={task_id} worker={result['worker']} (dropped)",
                  flush=True)
            return
        self.done[task_id] = result
        if result["value"] != task_id * task_id:
            self.wrong += 1
        print(f"result task={task_id} worker={result['worker']} value={result['value']}",
              flush=True)


def collect(client, keys, tally, reap_every, deadline):
    """Pops results until every task has one, reaping dead workers every `reap_every` s.
    Returns how many tasks were recovered, or None at the deadline."""
    recovered = 0
    next_reap = time.monotonic()
    while len(tally.done) < tally.count:
        now = time.monotonic()
        if now >= deadline:
            return None
        if now >= next_reap:
            recovered += reap(client, keys)
            next_reap = now + reap_every
        item = client.blpop(keys.results, timeout=reap_every)
        if item is not None:
            tally.add(item[1])
    return recovered


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    jobq.add_connection_options(parser)
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--work-ms", type=int, default=200, help="how long each task takes")
    parser.add_argument("--reap-every", type=float, default=0.5,
                        help="seconds between looks for dead workers")
    parser.add_argument("--timeout", type=float, default=600,
                        help="give up after this many seconds")
    args, keys, client = jobq.start(parser)
    started = time.monotonic()

    enqueue(client, keys, args.tasks, args.work_ms)
    print(f"enqueued {args.tasks} tasks of {args.work_ms} ms", flush=True)
    tally = Tally(args.tasks)
    recovered = collect(client, keys, tally, args.reap_every, started + args.timeout)
    receivers = client.publish(keys.control, "stop")
    elapsed = time.monotonic() - started
    if recovered is None:
        print(f"gave up after {args.timeout:.0f} s: {len(tally.done)} of {args.tasks} tasks done; "
              f"stop sent to {receivers} workers", flush=True)
        return 1
    print(f"done: {len(tally.done)} tasks in {elapsed:.1f} s, each exactly once; "
          f"{recovered} recovered from dead workers; {tally.duplicates} duplicate results "
          f"dropped; {tally.wrong} wrong values; stop sent to {receivers} workers", flush=True)
    return 0 if tally.wrong == 0 else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
