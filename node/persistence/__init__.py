"""Persistence formats (RDB, AOF, DUMP payloads): pure codecs, bytes in and out. The shell
owns files, fsync and scheduling."""
