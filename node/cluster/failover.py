"""Replica failover for the cluster bus: elections, auth votes, manual failover and replica
migration (Redis's clusterHandleSlaveFailover, clusterSendFailoverAuthIfNeeded,
clusterHandleManualFailover, clusterHandleSlaveMigration).

Rules:
- Driven by the bus (node/cluster/bus.py) message by message and tick by tick; time is
  `bus.now`, randomness `bus.rng`. Pure: no I/O, no clocks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from node.cluster.codec import Message
    from node.cluster.manager import Cluster
    from node.cluster.state import ClusterNode


class Failover:
    """One node's failover machinery (work in progress: the contract's methods, inert)."""

    def __init__(self, cluster: Cluster, bus: object) -> None:
        self.cluster = cluster
        self.bus = bus

    def auth_request(self, sender: ClusterNode, msg: Message) -> None:
        """FAILOVER_AUTH_REQUEST received."""

    def auth_ack(self, sender: ClusterNode, msg: Message) -> None:
        """FAILOVER_AUTH_ACK received."""

    def mfstart(self, sender: ClusterNode, msg: Message) -> None:
        """MFSTART received (master side of CLUSTER FAILOVER)."""

    def observed(self, sender: ClusterNode, msg: Message) -> None:
        """A PING/PONG from a known node, after the bus updated the node table."""

    def cron(self) -> None:
        """Every bus cron tick."""

    def mflags(self) -> int:
        """The MF_* bits for my headers."""
        return 0

    def manual_failover(self, mode: str) -> None:
        """CLUSTER FAILOVER [FORCE] accepted on this replica."""
