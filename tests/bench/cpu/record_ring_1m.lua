-- CPU benchmark: record ring of 1m (1000000 records). Small records (four fields, one a
-- two-element table) are replaced in FIFO order, so every record lives exactly 1000000
-- replacements: the shape of per-request or per-session state kept for a while, then
-- dropped. The 10k, 100k and 1m variants differ only in how much live data the GC walks
-- and whether it fits in cache.
-- Usage: luajit record_ring_1m.lua [iterations]   Prints a checksum that must match.


local here = arg and arg[0] and arg[0]:match("^(.*)/") or "."
dofile(here .. "/../ring.lua")("record_ring_1m", 1000000, tonumber(arg and arg[1]) or 1500000)
