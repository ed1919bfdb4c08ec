"""Wire-level pieces shared by node, sentinel and cluster_cli. Pure: no I/O, no clocks."""
