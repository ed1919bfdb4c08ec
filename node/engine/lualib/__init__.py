"""The C libraries Redis 7.0 loads into its Lua interpreter (cjson, cmsgpack, bit, struct),
reimplemented as pure Python.

Rules: these modules never import lupa. They see Lua values through `values.py` (plain Python
for strings, numbers, booleans and nil; a `LuaView` for tables and other Lua objects) and
report Lua errors by raising `values.LibError` / `values.ArgError`, which node/engine/lua.py
turns into Lua errors carrying the caller's position, as luaL_error/luaL_argerror do. Every
behaviour, error text and edge case is checked against a real redis-server 7.0.15.
"""
