"""slotd node: a Redis 7.0-compatible data structure server (engine, shell, cluster bus)."""
