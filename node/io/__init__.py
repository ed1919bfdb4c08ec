"""The adapters that touch the world (sockets, files, clocks). Only the shell uses them."""
