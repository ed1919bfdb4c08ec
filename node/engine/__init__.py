"""The pure, synchronous data server: keyspace, clients, dispatch. No I/O, no clocks."""
