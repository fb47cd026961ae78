#!/usr/bin/python3
"""A job-queue worker: takes tasks with BLMOVE (the reliable-queue pattern), heartbeats, pushes
results, and exits when the master PUBLISHes "stop".

  JOBQ_PASSWORD=... examples/jobqueue/worker.py [--host H] [--port P] [--id ID]

Runs anywhere the server is reachable: on this machine or another. Debian: apt install
python3-redis (this is Debian's python3, hence /usr/bin/python3 above)."""

import argparse
import json
import os
import socket
import sys
import threading
import time

import jobq


def heartbeat(client, keys, worker_id, ttl_ms, stop):
    """Refreshes alive:<id> every third of its expiry until `stop`. SET XX fails only if the key
    expired (we were too slow, e.g. stopped in a debugger): the master may have taken our task
    back, so say so and register again."""
    while not stop.wait(ttl_ms / 3000):
        if client.set(keys.alive(worker_id), "alive", px=ttl_ms, xx=True) is None:
            print(f"{worker_id}: heartbeat had expired; registering again", flush=True)
            client.set(keys.alive(worker_id), "alive", px=ttl_ms)
            if client.lpos(keys.workers, worker_id) is None:
                client.rpush(keys.workers, worker_id)


def listen_for_stop(pubsub, stop):
    for message in pubsub.listen():
        if message["type"] == "message" and message["data"] == "stop":
            stop.set()
            return


def run(task):
    """The work itself: here, n squared after `ms` milliseconds of pretending."""
    time.sleep(task["ms"] / 1000)
    return task["n"] * task["n"]


def serve(client, keys, worker_id, stop, poll_s):
    """Takes tasks until `stop`. BLMOVE files the task in our processing list in the same atomic
    step that takes it, so a crash at any point leaves it either queued or in that list, where
    the master finds it once our heartbeat has expired."""
    processing = keys.processing(worker_id)
    while not stop.is_set():
        # The timeout only bounds how late a "stop" is noticed; a task wakes us at once.
        raw = client.blmove(keys.tasks, processing, poll_s, "LEFT", "RIGHT")
        if raw is None:
            continue
        task = json.loads(raw)
        started = time.monotonic()
        value = run(task)
        client.rpush(keys.results, json.dumps({"id": task["id"], "worker": worker_id,
                                               "value": value}))
        if client.lrem(processing, 1, raw) == 0:
            print(f"{worker_id}: task {task['id']} was taken back while we worked on it; the "
                  "master drops the duplicate result", flush=True)
        print(f"{worker_id}: task {task['id']} -> {value} "
              f"({(time.monotonic() - started) * 1000:.0f} ms)", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    jobq.add_connection_options(parser)
    parser.add_argument("--id", default=f"{socket.gethostname()}-{os.getpid()}",
                        help="unique worker id (default: HOST-PID)")
    parser.add_argument("--heartbeat-ms", type=int, default=3000,
                        help="expiry of the alive key, refreshed every third of it; silent "
                             "this long, the worker counts as dead (default 3000)")
    parser.add_argument("--poll", type=float, default=1.0,
                        help="BLMOVE timeout, seconds: how late a stop may be noticed")
    args, keys, client = jobq.start(parser)
    stop = threading.Event()

    # Subscribe first and wait for the confirmation, so a stop sent after we registered
    # cannot be missed.
    pubsub = client.pubsub()
    pubsub.subscribe(keys.control)
    confirmation = pubsub.get_message(timeout=5)
    if confirmation is None or confirmation["type"] != "subscribe":
        sys.exit(f"{args.id}: no confirmation of SUBSCRIBE {keys.control}: {confirmation}")
    threading.Thread(target=listen_for_stop, args=(pubsub, stop), daemon=True).start()

    client.set(keys.alive(args.id), "alive", px=args.heartbeat_ms)
    client.rpush(keys.workers, args.id)
    beat = threading.Thread(target=heartbeat,
                            args=(client, keys, args.id, args.heartbeat_ms, stop), daemon=True)
    beat.start()
    print(f"{args.id}: ready (pid {os.getpid()})", flush=True)

    serve(client, keys, args.id, stop, args.poll)
    beat.join()
    client.lrem(keys.workers, 0, args.id)
    client.delete(keys.alive(args.id))
    print(f"{args.id}: stopped", flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
