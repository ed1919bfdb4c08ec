"""slotd-server [/path/to/redis.conf] [--option value ...]: start one node (redis-server's CLI)."""

from __future__ import annotations

import os
import random
import signal
import sys
import time

import trio

from node.commands import load
from node.config import Config, ConfigError, parse_command_line
from node.engine.acl import RuleError
from node.engine.engine import VERSION, Engine
from node.io import aclfile, native, supervise
from node.io import cluster as cluster_io
from node.io.files import FileStorage
from node.io.log import Logger
from node.io.migrate import SocketConnector
from node.server import NodeServer


def _read_file(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as exc:
        raise ConfigError(f"Fatal error, can't open config file '{path}': {exc.strerror}") from None


def _daemonize() -> None:
    if os.fork():
        os._exit(0)
    os.setsid()
    fd = os.open(os.devnull, os.O_RDWR)
    for std in (0, 1, 2):
        os.dup2(fd, std)


async def _run(server: NodeServer, log: Logger, supervised: str) -> None:
    async with trio.open_nursery() as nursery:

        async def serve(task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
            await server.serve(task_status=task_status)
            # serve() also returns on a SHUTDOWN command: stop waiting for signals then.
            nursery.cancel_scope.cancel()

        await nursery.start(serve)
        log("notice", "Ready to accept connections tcp")
        supervise.ready(supervised, os.environ, log)
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for signum in signals:
                name = "SIGINT" if signum == signal.SIGINT else "SIGTERM"
                engine = server.engine
                if engine.shutdown.in_progress and signum == signal.SIGINT:
                    log("warning", "You insist... exiting now.")  # Ctrl-C while waiting
                    server.request_stop()
                    break
                log("warning", f"Received {name} scheduling shutdown...")
                if engine.shutdown.in_progress:
                    continue
                # shutdown-on-sigterm/-sigint's flags ("default": as SHUTDOWN alone); when
                # it waits for replicas the cron finishes it and serve() returns.
                engine.set_time(int(time.time() * 1000))
                stopped = engine.shutdown.signal(name)
                if stopped:
                    server.request_stop()
                    break
                if stopped is False:
                    log(
                        "warning",
                        f"{name} received but errors trying to shut down the "
                        "server, check the logs for more information",
                    )
            nursery.cancel_scope.cancel()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-v", "--version"):
        print(f"slotd-server v={VERSION} (Redis-compatible)")
        return 0
    if args and args[0] in ("-h", "--help"):
        print("Usage: slotd-server [/path/to/redis.conf] [--option value ...]")
        return 0
    try:
        config: Config = parse_command_line(args, _read_file)
        load().renamed(config.renames)  # rename-command's errors are fatal config errors
    except (ConfigError, ValueError) as exc:
        print(f"\n*** FATAL CONFIG FILE ERROR (slotd {VERSION}) ***\n{exc}", file=sys.stderr)
        return 1
    if config.bool("daemonize"):
        _daemonize()
    log = Logger(
        config.str("logfile"),
        config.str("loglevel"),
        syslog_ident=config.str("syslog-ident") if config.bool("syslog-enabled") else None,
        syslog_facility=config.str("syslog-facility"),
    )

    def loglevel_changed(name: str) -> None:
        if name == "loglevel":
            log.level = config.str("loglevel")

    config.listeners.append(loglevel_changed)
    pidfile = config.str("pidfile")
    if pidfile:
        with open(pidfile, "w") as f:
            f.write(f"{os.getpid()}\n")
    engine = Engine(config, load(), random.Random(), log=log)
    engine.acl.read_file = aclfile.read_text
    engine.acl.write_file = aclfile.write_text
    try:
        engine.acl.load_at_startup()  # `user` directives or the aclfile
    except RuleError as exc:
        log("warning", str(exc))
        return 1
    server = NodeServer(engine, log)
    storage = FileStorage(log, server.after_fork_in_child)
    engine.persistence.storage = storage
    engine.persistence.clock_us = lambda: time.monotonic_ns() // 1000
    try:
        server.bind()
    except OSError as exc:
        log("warning", str(exc))
        return 1
    engine.set_time(int(time.time() * 1000))
    engine.migrate_connector = SocketConnector()
    # Cluster mode: nodes.conf is locked and loaded before the dataset, which is then
    # checked against the slots (node/io/cluster.py).
    if engine.cluster is not None and cluster_io.start(engine, log) is None:
        server.close_all()
        return 1
    supervised = supervise.resolve(config.str("supervised"), os.environ, log)
    engine.process_info["process_supervised"] = supervised
    supervise.loading(supervised, os.environ, log)
    if not engine.persistence.load_at_startup() or (
        engine.cluster is not None and not engine.cluster.verify_with_data()
    ):
        server.close_all()
        return 1
    log(
        "notice",
        f"slotd {VERSION} (Redis-compatible) started, pid={os.getpid()}, port={config.int('port')}",
    )
    log(*native.startup_note())
    try:
        trio.run(_run, server, log, supervised)
    finally:
        supervise.stopping(supervised, os.environ, log)
        server.close_all()
        if pidfile:
            try:
                os.unlink(pidfile)
            except OSError:
                pass
        log("warning", "slotd is now ready to exit, bye bye...")
        log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
