"""Replication (PSYNC2, byte-compatible with Redis 7.0): pure machines for the backlog
(backlog.py), the master side (primary.py), the replica side's handshake and stream
(replica.py) and the node's replication state tying them to the engine (state.py). The
shell (node/io/replication.py) owns the sockets and the forked snapshot writers."""
