"""slotd-cluster: create, check, reshard, rebalance and run Redis-compatible clusters.

`python -m cluster_cli --help` lists the commands. They mirror `redis-cli --cluster` (same
steps, same output shapes) and work against slotd and real redis-server nodes alike.
"""
