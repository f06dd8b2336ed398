-- CPU benchmark: record ring with a late field. Like record_ring_100k (100,000 records of
-- four fields, one a two-element table, replaced in FIFO order), but halfway through its
-- life each record gets a fifth field, which grows its hash part: the shape of state that
-- is annotated after creation (a response status, a timestamp), a reallocation of every
-- record in mid-life rather than only at birth and death.
-- Usage: luajit record_ring_grow.lua [iterations]   Prints a checksum that must match.


local here = arg and arg[0] and arg[0]:match("^(.*)/") or "."
dofile(here .. "/../ring.lua")("record_ring_grow", 100000, tonumber(arg and arg[1]) or 500000, true)
