-- CPU benchmark: log-line building. Builds access-log lines with string.format (%s, %d,
-- %02d, %.3f fields) and key=value trailers with .., batches 100 lines with
-- table.concat as a log buffer would, and checksums the batches. The shape of logging in
-- OpenResty's log phase: medium strings made once and thrown away at the next flush.
-- Usage: luajit format_concat.lua [lines]   Prints a checksum that must match.

local lines = tonumber(arg and arg[1]) or 1200000
local BATCH = 100

local format, concat, byte = string.format, table.concat, string.byte
local METHODS = { "GET", "POST", "PUT", "DELETE" }
local PATHS = { "/", "/api/v1/users", "/api/v1/orders", "/static/app.js", "/health", "/login" }
local AGENTS = { "curl/8.5.0", "Mozilla/5.0 (X11; Linux x86_64)", "Go-http-client/1.1" }

local batch, n, checksum, bytes, x = {}, 0, 0, 0, 8080
for i = 1, lines do
  x = (x * 16807) % 2147483647
  local ip = format("10.%d.%d.%d", x % 256, (x / 256) % 256, (x / 65536) % 256)
  local line = format('%s - - [%02d/Dec/2026:%02d:%02d:%02d +0000] "%s %s?id=%d HTTP/1.1" %d %d "-" "%s" %.3f',
    ip, i % 28 + 1, i % 24, i % 60, x % 60, METHODS[x % 4 + 1], PATHS[x % 6 + 1], i,
    (x % 10 == 0) and 404 or 200, x % 100000, AGENTS[x % 3 + 1], (x % 5000) / 1000)
  line = line .. " upstream=" .. "127.0.0.1:" .. (8000 + x % 16) .. " rid=" .. i .. "-" .. x % 9973
  n = n + 1
  batch[n] = line
  if n == BATCH then
    local flushed = concat(batch, "\n")
    bytes = bytes + #flushed
    checksum = (checksum + #flushed + byte(flushed, #flushed - 3)) % 1000000007
    batch, n = {}, 0
  end
end
print("format_concat", lines, bytes, checksum)
