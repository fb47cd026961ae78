"""What the job queue's master and workers share: the connection options and the key names.

Keys (every name starts with the queue name, "jq" by default):
  jq:tasks              list of pending tasks (JSON); the master RPUSHes, workers BLMOVE from it
  jq:processing:<id>    list: the task worker <id> is working on (the reliable-queue pattern:
                        BLMOVE takes a task and files it here in one atomic step)
  jq:alive:<id>         "alive" with an expiry, refreshed by the worker's heartbeat; gone means dead
  jq:workers            list of worker ids that registered (no sets needed: ids are unique)
  jq:results            list of results (JSON), RPUSHed by workers, popped by the master
  jq:control            pub/sub channel: "stop" tells every worker to finish and exit
"""

import argparse
import os

import redis


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """--host/--port/--password, defaulting to $JOBQ_HOST, $JOBQ_PORT, $JOBQ_PASSWORD (the
    environment keeps the password out of `ps`)."""
    parser.add_argument("--host", default=os.environ.get("JOBQ_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("JOBQ_PORT", "6379")))
    parser.add_argument("--password", default=os.environ.get("JOBQ_PASSWORD"),
                        help="AUTH password (default: $JOBQ_PASSWORD)")
    parser.add_argument("--tls-ca", default=os.environ.get("JOBQ_TLS_CA"),
                        help="connect with TLS, verifying the server against this CA file "
                             "(default: $JOBQ_TLS_CA; none: plain TCP, the password in clear)")
    parser.add_argument("--queue", default="jq", help="prefix of every key (default: jq)")


def start(parser: argparse.ArgumentParser):
    """Parses the command line; returns (args, the queue's Keys, a client)."""
    args = parser.parse_args()
    return args, Keys(args.queue), connect(args)


def connect(args: argparse.Namespace) -> redis.Redis:
    """A client that AUTHs on every connection it opens; decode_responses: str, not bytes."""
    tls = {"ssl": True, "ssl_ca_certs": args.tls_ca, "ssl_check_hostname": True} \
        if args.tls_ca else {}
    return redis.Redis(host=args.host, port=args.port, password=args.password,
                       decode_responses=True, socket_connect_timeout=5, **tls)


class Keys:
    """The key names of one queue."""

    def __init__(self, queue: str):
        self.tasks = f"{queue}:tasks"
        self.workers = f"{queue}:workers"
        self.results = f"{queue}:results"
        self.control = f"{queue}:control"
        self._queue = queue

    def processing(self, worker_id: str) -> str:
        return f"{self._queue}:processing:{worker_id}"

    def alive(self, worker_id: str) -> str:
        return f"{self._queue}:alive:{worker_id}"
