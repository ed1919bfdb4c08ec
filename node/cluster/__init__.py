"""Redis Cluster (DESIGN.md section 6): pure machines for one node's view of the cluster
(state.py), its nodes.conf form (nodes_conf.py), the client-visible descriptions
(describe.py), request routing (routing.py) and the glue tying them to the engine
(manager.py). The shell (node/io/cluster.py) owns the config file's lock and the sockets."""
