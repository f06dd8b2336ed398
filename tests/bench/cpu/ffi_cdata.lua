-- CPU benchmark: FFI cdata churn. Allocates small structs (ffi.new of a header struct)
-- and variable-length byte buffers of 16-512 bytes, fills and reads them, and keeps them
-- in a ring of 10,000 so each lives a while before it is dropped. The shape of binary
-- protocol code (packet headers, scratch buffers) in LuaJIT services; cdata are GC objects
-- allocated through the same allocator as tables and strings.
-- Usage: luajit ffi_cdata.lua [iterations]   Prints a checksum that must match.

local ffi = require("ffi")
ffi.cdef [[
typedef struct bench_hdr { uint32_t id; uint16_t len; uint8_t kind; uint8_t flags; double ts; } bench_hdr;
]]

local iterations = tonumber(arg and arg[1]) or 3000000
local RING = 10000
local hdr_t, buf_t = ffi.typeof("bench_hdr"), ffi.typeof("uint8_t[?]")

local headers, buffers = {}, {}
local checksum, x = 0, 2718
for i = 1, iterations do
  x = (x * 16807) % 2147483647
  local slot = i % RING + 1
  local old_h, old_b = headers[slot], buffers[slot]
  if old_h then
    checksum = (checksum + old_h.id % 97 + old_h.kind + old_b[old_h.len - 1]) % 1000000007
  end
  local len = 16 + x % 497
  local h = hdr_t(i, len, x % 7, 0, i * 0.001)
  local b = buf_t(len)
  b[0], b[len - 1] = x % 256, (x + i) % 256
  headers[slot], buffers[slot] = h, b
end
print("ffi_cdata", iterations, checksum)
