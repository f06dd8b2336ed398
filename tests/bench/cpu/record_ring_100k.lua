-- CPU benchmark: record ring of 100k (100000 records). Small records (four fields, one a
-- two-element table) are replaced in FIFO order, so every record lives exactly 100000
-- replacements: the shape of per-request or per-session state kept for a while, then
-- dropped. The 10k, 100k and 1m variants differ only in how much live data the GC walks
-- and whether it fits in cache.
-- Usage: luajit record_ring_100k.lua [iterations]   Prints a checksum that must match.


local here = arg and arg[0] and arg[0]:match("^(.*)/") or "."
dofile(here .. "/../ring.lua")("record_ring_100k", 100000, tonumber(arg and arg[1]) or 3000000)
