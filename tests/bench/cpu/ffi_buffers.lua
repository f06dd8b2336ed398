-- CPU benchmark: FFI byte buffers of 1-8 KiB. Each iteration allocates a buffer with
-- ffi.new("uint8_t[?]") (zero-filled), writes a header and a trailer into it, and keeps it
-- in a ring of 2,000, so each lives a while before it is dropped. The shape of I/O code in
-- LuaJIT services (read and send buffers, scratch space for encoders) sized per message.
-- Usage: luajit ffi_buffers.lua [iterations]   Prints a checksum that must match.

local ffi = require("ffi")

local iterations = tonumber(arg and arg[1]) or 1500000
local RING = 2000
local buf_t = ffi.typeof("uint8_t[?]")

local bufs, lens = {}, {}
local checksum, x = 0, 1618
for i = 1, iterations do
  x = (x * 16807) % 2147483647
  local slot = i % RING + 1
  local old = bufs[slot]
  if old then
    local len = lens[slot]
    checksum = (checksum + old[0] + old[len - 1] + old[len - 2]) % 1000000007
  end
  local len = 1024 + x % 7169
  local b = buf_t(len)
  b[0], b[len - 1] = x % 256, i % 256
  bufs[slot], lens[slot] = b, len
end
print("ffi_buffers", iterations, checksum)
