"""The cluster side of one engine: its ClusterState, nodes.conf, request routing, and the
hooks the cluster bus plugs into (Redis's cluster.c glue in server.c/networking.c).

Rules:
- Exists only in cluster mode (`engine.cluster` is None otherwise). `route` runs in the
  dispatcher's full path after the ACL guard and before the OOM/MISCONF guards
  (processCommand's order). The short path (fast commands of clients the ACL lets do
  anything, outside MULTI) has no guards: there each fast command's entry in this
  engine's dispatch table holds a copy of its spec whose handler routes first (the shared
  command table is untouched). A redirect there counts as a failed call in INFO
  commandstats, where Redis counts a rejected one.
- Keys are only looked at for commands with key specs (or movable keys) and for EXEC; a
  single-key command in a slot this node owns, with no migration open, costs one slot hash
  and one table probe.
- State changes reach nodes.conf through the persistence storage port (temp file, fsync,
  rename, directory fsync): a CLUSTER command's before its reply goes out, others (the
  bus's, config changes) before the event-loop turn ends (`before_sleep`: Redis's
  clusterBeforeSleep). A failed save is logged and retried on the next turn.
- The cluster bus (gossip, failure detection, failover) is another component; it talks to
  the cluster through `state` and the `Bus` hooks below. Without it a node still works as
  a cluster of one: its handshakes never complete and `CLUSTER LINKS` is empty.
Pure: storage, sockets and clocks come from the shell.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final, Protocol

from node.cluster import nodes_conf
from node.cluster.routing import Plan, Request, Router, plan_for
from node.cluster.state import (
    TODO_FSYNC_CONFIG,
    TODO_SAVE_CONFIG,
    TODO_UPDATE_STATE,
    ClusterNode,
    ClusterState,
    NodeFlag,
)
from node.commands.transactions import discard_transaction
from node.engine.session import AOF_CLIENT_ID
from node.proto import errors, resp
from node.proto.errors import CommandError
from node.proto.slots import key_slot

if TYPE_CHECKING:
    from node.commands.registry import CommandSpec, Handler
    from node.engine.blocking import Block
    from node.engine.engine import Engine
    from node.engine.session import Client

Argv = list[bytes]
CRON_PERIOD_MS: Final = 100  # clusterCron runs ten times a second
_BUS_PORT_OFFSET: Final = 10000
# Commands whose write bit comes from the script they run (evalGetCommandFlags).
_SCRIPT_RUNNERS: Final = frozenset(
    {"eval", "eval_ro", "evalsha", "evalsha_ro", "fcall", "fcall_ro"}
)
_WATCHED_CONFIGS: Final = frozenset(
    {
        "port",
        "cluster-announce-ip",
        "cluster-announce-port",
        "cluster-announce-bus-port",
        "cluster-announce-hostname",
        "cluster-port",
        "cluster-replica-no-failover",
        "cluster-allow-reads-when-down",
        "cluster-allow-pubsubshard-when-down",
        "cluster-preferred-endpoint-type",
        "cluster-require-full-coverage",
    }
)


class Bus(Protocol):
    """What the cluster asks of the bus (the bus implements it; `NullBus` stands in)."""

    def broadcast_pong(self) -> None:
        """Tell every node about a configuration change of ours (clusterBroadcastPong)."""

    def manual_failover(self, mode: str) -> None:
        """CLUSTER FAILOVER [FORCE] was accepted on this replica: "default" or "force"."""

    def links(self) -> list[dict[bytes, object]]:
        """CLUSTER LINKS' entries (direction, node, create-time, events, send buffers)."""

    def publish(self, channel: bytes, message: bytes, *, shard: bool = False) -> None:
        """PUBLISH goes to every node, SPUBLISH to the other nodes of my shard (the
        receivers deliver to their own subscribers)."""

    def links_memory(self) -> int:
        """What the links hold (INFO memory's mem_cluster_links)."""


class NullBus:
    """A node without a bus: nobody to tell, no links."""

    def broadcast_pong(self) -> None:
        pass

    def manual_failover(self, mode: str) -> None:
        pass

    def links(self) -> list[dict[bytes, object]]:
        return []

    def publish(self, channel: bytes, message: bytes, *, shard: bool = False) -> None:
        pass

    def links_memory(self) -> int:
        return 0


class Cluster:
    """One engine's cluster state and the guards and hooks around it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.state = ClusterState.fresh(engine.rng, engine.now_ms)
        self.router = Router(self.state)
        self.bus: Bus = NullBus()
        self.config_path = engine.persistence.path(engine.config.str("cluster-config-file"))
        self.after_save: Callable[[], None] = lambda: None  # the shell re-locks the file
        self.command_asking = False  # the running command came with ASKING (scripts)
        self._plans: dict[str, Plan] = {}  # by command name: the table never changes
        self._routed: Argv | None = None  # the request `route` saw last
        self._last_cron_ms = 0
        # A manual failover paused our writes (the failover sets it): replication sends no
        # PING then, which would move the offset the replica is catching up to.
        self.mf_pause = False
        # clusterSetMaster ends any manual failover (the failover installs its reset).
        self.reset_manual_failover: Callable[[], None] = lambda: None
        for db in engine.keyspace.dbs:
            db.index_slots()
        self._apply_config()
        engine.config.listeners.append(self._config_changed)
        self.state.todo |= TODO_UPDATE_STATE
        for stats in engine.observer.commands.values():
            if stats.fast:
                stats.set_handler(self._routing(stats.spec))

    def _routing(self, spec: CommandSpec) -> Handler:
        """The handler the short path calls for `spec`: routed first, unless the full path's
        guard already routed this very request. A keyless command only has a pending
        ASKING to consume; a one-key command in a stable slot of ours is checked inline."""
        handler = spec.handler
        plan = self.plan(spec)
        index = plan.key_index

        def routed(client: Client, argv: Argv) -> bytes | Block:
            if self._routed is not argv:
                self.route(client, spec, argv)
            return handler(client, argv)

        def keyless(client: Client, argv: Argv) -> bytes | Block:
            if client.asking and self._routed is not argv:
                self.route(client, spec, argv)
            return handler(client, argv)

        def one_key(client: Client, argv: Argv) -> bytes | Block:
            state = self.state
            if (
                client.asking
                or index >= len(argv)
                or state.slots[key_slot(argv[index])] is not state.myself
                or not state.ok
                or state.migrating
                or state.importing
            ):
                if self._routed is not argv:
                    self.route(client, spec, argv)
            return handler(client, argv)

        return keyless if plan.keys is None else one_key if index else routed

    # --- configuration ------------------------------------------------------------------------
    def _apply_config(self) -> None:
        """What myself announces and the routing settings, from the config (Redis's
        clusterUpdateMyselfAnnouncedPorts, Flags, Hostname)."""
        config = self.engine.config
        myself = self.state.myself
        myself.port = config.int("cluster-announce-port") or config.int("port")
        myself.cport = (
            config.int("cluster-announce-bus-port")
            or config.int("cluster-port")
            or config.int("port") + _BUS_PORT_OFFSET
        )
        myself.hostname = config.str("cluster-announce-hostname")
        if config.str("cluster-announce-ip"):
            myself.ip = config.str("cluster-announce-ip")
        if config.bool("cluster-replica-no-failover"):
            myself.flags |= NodeFlag.NOFAILOVER
        else:
            myself.flags &= ~NodeFlag.NOFAILOVER
        router = self.router
        router.allow_reads_when_down = config.bool("cluster-allow-reads-when-down")
        router.allow_pubsubshard_when_down = config.bool("cluster-allow-pubsubshard-when-down")
        router.endpoint_type = config.str("cluster-preferred-endpoint-type")

    def _config_changed(self, name: str) -> None:
        if name in _WATCHED_CONFIGS:
            self._apply_config()
            # As Redis: saved, but the cluster's health is not recomputed for it (a config
            # like cluster-require-full-coverage counts from the next state update).
            self.state.todo |= TODO_SAVE_CONFIG

    # --- nodes.conf ---------------------------------------------------------------------------
    def load_config(self) -> bool:
        """Start-up: adopt nodes.conf, or keep the fresh identity when it is missing or
        empty, then save it. False (after logging why) when the file is unusable or
        cannot be written."""
        engine = self.engine
        storage = engine.persistence.storage
        try:
            text = storage.read_file(self.config_path)
            warnings: list[str] = []
            loaded = (
                None if text is None else nodes_conf.load(text, engine.now_ms, engine.rng, warnings)
            )
        except (OSError, nodes_conf.NodesConfError) as exc:
            engine.log(
                "warning",
                f'Unrecoverable error: corrupted cluster config file "{self.config_path}": {exc}',
            )
            return False
        for warning in warnings:
            engine.log("warning", warning)
        if loaded is None:
            engine.log("notice", f"No cluster configuration found, I'm {self.state.myself.name}")
        else:
            self._adopt(loaded)
            engine.log("notice", f"Node configuration loaded, I'm {loaded.myself.name}")
        self._apply_config()
        error = self.save_config()
        if error is not None:
            engine.log("warning", f"Fatal: can't update cluster config file: {error}")
            return False
        return True

    def verify_with_data(self) -> bool:
        """verifyClusterConfigWithData, once the dataset is loaded: keys only in db 0, and
        slots holding keys we neither own nor import are claimed (unassigned ones) or set
        importing (owned by another node). False when another db holds keys."""
        engine = self.engine
        state = self.state
        if state.myself.flags & NodeFlag.SLAVE:
            return True
        if any(db.data for db in engine.keyspace.dbs[1:]):
            engine.log(
                "warning",
                "You can't have keys in a DB different than DB 0 when in Cluster mode. Exiting.",
            )
            return False
        db = engine.keyspace.dbs[0]
        db.keys_in_slot(0)  # brings the index up to date with the loaded data
        index = db.slot_index
        assert index is not None
        for slot in sorted(index):
            owner = state.slots[slot]
            if owner is state.myself or slot in state.importing:
                continue
            if owner is None:
                engine.log(
                    "warning",
                    f"I have keys for unassigned slot {slot}. Taking responsibility for it.",
                )
                state.add_slot(slot, state.myself)
            else:
                engine.log(
                    "warning",
                    f"I have keys for slot {slot}, but the slot is assigned "
                    f"to another node. Setting it to importing state.",
                )
                state.importing[slot] = owner
            state.todo |= TODO_SAVE_CONFIG | TODO_FSYNC_CONFIG | TODO_UPDATE_STATE
        return True

    def _adopt(self, state: ClusterState) -> None:
        """Replace the state (loading nodes.conf), keeping the router on it."""
        state.todo |= TODO_UPDATE_STATE
        self.state = state
        self.router.state = state

    def save_config(self) -> str | None:
        """clusterSaveConfig: write nodes.conf now (durably); the error text if it failed."""
        state = self.state
        state.todo &= ~(TODO_SAVE_CONFIG | TODO_FSYNC_CONFIG)
        data = nodes_conf.dump(state)
        try:
            self.engine.persistence.storage.write_file(self.config_path, lambda sink: sink(data))
        except OSError as exc:
            state.todo |= TODO_SAVE_CONFIG
            return exc.strerror or str(exc)
        self.after_save()
        return None

    # --- event-loop hooks -----------------------------------------------------------------------
    def before_sleep(self) -> None:
        """clusterBeforeSleep: update the cluster's health, then persist what changed."""
        todo = self.state.todo
        if todo & TODO_UPDATE_STATE:
            self.update_state()
        if todo & (TODO_SAVE_CONFIG | TODO_FSYNC_CONFIG):
            error = self.save_config()
            if error is not None:
                self.engine.log(
                    "warning", f"Could not save the cluster config file {self.config_path}: {error}"
                )

    def cron(self) -> None:
        """The non-bus part of clusterCron, ten times a second: forget handshakes that never
        completed, recompute a failed state, answer blocked clients whose slot moved
        away, close idle MIGRATE links."""
        now = self.engine.now_ms
        if now - self._last_cron_ms < CRON_PERIOD_MS:
            return
        self._last_cron_ms = now
        state = self.state
        handshake_timeout = max(self.engine.config.int("cluster-node-timeout"), 1000)
        for node in list(state.nodes.values()):
            if node.flags & NodeFlag.HANDSHAKE and now - node.ctime > handshake_timeout:
                state.remove_node(node)
        if not state.ok or state.todo & TODO_UPDATE_STATE:
            self.update_state()
        if self.engine.blocked:
            self._redirect_blocked()
        connector = self.engine.migrate_connector
        if connector is not None:
            connector.close_idle(now)

    def update_state(self) -> None:
        config = self.engine.config
        state = self.state
        was_ok = state.ok
        state.update_state(
            self.engine.now_ms,
            full_coverage=config.bool("cluster-require-full-coverage"),
            node_timeout=config.int("cluster-node-timeout"),
        )
        if state.ok != was_ok:
            self.engine.log("warning", f"Cluster state changed: {'ok' if state.ok else 'fail'}")

    # --- routing --------------------------------------------------------------------------------
    def _writes(self, spec: CommandSpec, argv: Argv) -> bool:
        """getCommandFlags' write bit: a script or function that declared flags writes
        unless it declared no-writes, whatever its command's own flags say."""
        if spec.fullname in _SCRIPT_RUNNERS:
            declared = self.engine.scripting.declares_writes(argv)
            if declared is not None:
                return declared
        return spec.is_write

    def plan(self, spec: CommandSpec) -> Plan:
        plan = self._plans.get(spec.fullname)
        if plan is None:
            plan = self._plans[spec.fullname] = plan_for(spec)
        return plan

    def route(self, client: Client, spec: CommandSpec, argv: Argv) -> None:
        """processCommand's cluster redirection. Raises CommandError with the redirect (an
        EXEC redirected discards its transaction first). Consumes the client's ASKING."""
        self._routed = argv
        asking = self.command_asking = client.asking
        if asking:
            # Good for one command, or until the MULTI it preceded ends (resetClient).
            name = spec.fullname
            if (
                name != "asking"
                and name != "multi"
                and (client.multi is None or name in ("exec", "discard", "reset"))
            ):
                client.asking = False
        plan = self._plans.get(spec.fullname) or self.plan(spec)
        router = self.router
        index = plan.key_index
        if index and not asking and index < len(argv):
            # The hot case: one key, in a slot of ours with no migration, the cluster up.
            state = self.state
            slot = key_slot(argv[index])
            if (
                state.slots[slot] is state.myself
                and state.ok
                and not (state.migrating or state.importing)
            ):
                router.slot = slot
                return
        router.slot = -1
        if plan.keys is None:
            if spec.fullname == "exec" and client.multi is not None:
                self._route_exec(client, asking)
            return
        if "M" in client.flags or client.id == AOF_CLIENT_ID:
            return  # our master's stream and the AOF are obeyed (mustObeyClient)
        write = plan.write if spec.fullname not in _SCRIPT_RUNNERS else self._writes(spec, argv)
        request = Request(
            write, plan.shard_pubsub, plan.migrate, asking or plan.asking, "r" in client.flags
        )
        denied = router.check(client.db, request, plan.keys(argv))
        if denied is not None:
            raise CommandError(denied)

    def _route_exec(self, client: Client, asking: bool) -> None:
        """EXEC: every queued command's keys as one request."""
        assert client.multi is not None
        engine = self.engine
        keys: list[bytes] = []
        write = False
        for queued in client.multi:
            spec = engine.resolve(queued)
            plan = self.plan(spec)
            if plan.keys is not None:
                keys.extend(plan.keys(queued))
            write = write or self._writes(spec, queued)
        if "M" in client.flags or client.id == AOF_CLIENT_ID:
            return
        request = Request(write, False, False, asking, "r" in client.flags)
        denied = self.router.check(client.db, request, keys)
        if denied is not None:
            discard_transaction(client)
            raise CommandError(denied)

    def script_denied(
        self, caller: Client, spec: CommandSpec, argv: Argv, allow_cross_slot: bool
    ) -> str | None:
        """scriptVerifyClusterState: a command run by a script must stay on this node and
        (unless the script allows cross-slot keys) in the slot the script started with.
        None when allowed, else the error text."""
        if "M" in caller.flags or caller.id == AOF_CLIENT_ID:
            return None
        plan = self.plan(spec)
        router = self.router
        outer_slot = router.slot
        request = Request(
            spec.is_write,
            plan.shard_pubsub,
            plan.migrate,
            self.command_asking or plan.asking,
            "r" in caller.flags,
        )
        denied = router.check(caller.db, request, plan.keys(argv) if plan.keys else ())
        slot, router.slot = router.slot, outer_slot
        if denied is not None:
            if denied == errors.CLUSTER_DOWN_READONLY:
                return (
                    "ERR Script attempted to execute a write command while the cluster "
                    "is down and readonly"
                )
            if denied == errors.CLUSTER_DOWN:
                return "ERR Script attempted to execute a command while the cluster is down"
            return "ERR Script attempted to access a non local key in a cluster node"
        if slot != -1 and not allow_cross_slot:
            if outer_slot == -1:
                router.slot = slot
            elif outer_slot != slot:
                return "ERR Script attempted to access keys that do not hash to the same slot"
        return None

    def _redirect_blocked(self) -> None:
        """clusterRedirectBlockedClientIfNeeded: a client blocked on keys gets CLUSTERDOWN
        when the cluster fails, MOVED when its slot went to another node."""
        engine = self.engine
        state = self.state
        myself = state.myself
        for client in list(engine.blocked):
            blocked = client.blocked
            if blocked is None or not blocked.block.keys:
                continue
            if not state.ok:
                message = errors.CLUSTER_DOWN
            else:
                slot = key_slot(blocked.block.keys[0])
                owner = state.slots[slot]
                if (
                    "r" in client.flags
                    and not blocked.spec.is_write
                    and myself.flags & NodeFlag.SLAVE
                    and myself.master is owner
                ):
                    owner = myself
                if owner is myself or slot in state.importing:
                    continue
                message = (
                    errors.CLUSTER_UNBOUND
                    if owner is None
                    else self.router.redirect("MOVED", slot, owner)
                )
            engine.count_error(message)
            engine.unblock(client, resp.error(message))

    # --- helpers for the commands ------------------------------------------------------------------
    def my_offset(self) -> int:
        """Our replication offset, as our bus headers and SHARDS give it: a master's own; a
        replica's processed part of its master's stream, kept from the cached master while
        the link is down (replicationGetSlaveOffset: the replicas' election ranks compare
        it), 0 with neither."""
        replication = self.engine.replication
        if self.state.myself.flags & NodeFlag.SLAVE:
            if replication.master is not None:
                return replication.reploff
            return replication.cached.offset if replication.cached is not None else 0
        return replication.primary.offset

    def set_master(self, master: ClusterNode) -> None:
        """clusterSetMaster: become a replica of `master` (closing any open slot) and start
        replicating from it."""
        state = self.state
        myself = state.myself
        if myself.flags & NodeFlag.MASTER:
            myself.flags &= ~NodeFlag.MIGRATE_TO
            state.close_all_slots()
        state.set_replica_of(myself, master)
        self.engine.replication.set_master(master.ip, master.port)
        self.reset_manual_failover()

    def promote_myself(self) -> None:
        """clusterFailoverReplaceYourMaster (an election won, or TAKEOVER, after the caller
        set my config epoch): a master now, keeping the data (REPLICAOF NO ONE's path: a
        new replication id, the old history valid as the second one), serving every slot
        of my old master, and every node told at once -- after nodes.conf has it
        (clusterSaveConfigOrDie: a crash must not bring me back as a replica that others
        saw win; a failed save is logged and retried before the turn ends)."""
        state = self.state
        myself = state.myself
        old = myself.master
        if myself.flags & NodeFlag.MASTER or old is None:
            return
        state.set_as_master(myself)
        self.engine.replication.unset_master()
        slots = state.slots
        for slot in range(len(slots)):
            if slots[slot] is old:
                state.set_slot_owner(slot, myself)
        self.update_state()
        error = self.save_config()
        if error is not None:
            self.engine.log(
                "warning", f"Could not save the cluster config file {self.config_path}: {error}"
            )
        self.bus.broadcast_pong()

    def keys_in_slot(self, slot: int) -> dict[bytes, None]:
        return self.engine.keyspace.dbs[0].keys_in_slot(slot)

    def delete_slot_keys(self, slot: int) -> int:
        """delKeysInSlot: drop every key of a slot this master lost (each propagated as a
        DEL, or UNLINK under lazyfree-lazy-server-del; no keyspace event, as Redis only
        tells modules). How many there were."""
        engine = self.engine
        db = engine.keyspace.dbs[0]
        unlink = engine.config.bool("lazyfree-lazy-server-del")
        keys = list(self.keys_in_slot(slot))
        for key in keys:
            if db.delete(key):  # an expired key went with its own DEL
                engine.also_propagate(db.index, [b"UNLINK" if unlink else b"DEL", key])
            engine.dirty += 1
        return len(keys)

    def slots_removed(self, slots: set[int]) -> None:
        """Slots left this node (clusterDelSlot): the subscribers of their shard channels
        are unsubscribed, each told so by an unsolicited `sunsubscribe`
        (removeChannelsInSlot)."""
        engine = self.engine
        pubsub = engine.pubsub
        for channel in [ch for ch in pubsub.shard_channels if key_slot(ch) in slots]:
            for client in list(pubsub.shard_channels.get(channel, ())):
                pubsub.unsubscribe(client, channel, shard=True)
                client.out.append(
                    resp.push_header(3, client.resp)
                    + resp.bulk(b"sunsubscribe")
                    + resp.bulk(channel)
                    + resp.integer(len(client.shard_channels))
                )
                engine.woken.append(client)
