-- service.lua: a request-serving heap for bench-cgroup (soft_limit=auto or not).
-- LIVE_MIB of long-lived records stay reachable; then REQUESTS requests each build
-- REQ_KB of mixed objects (tests/bench/mem/mix.lua, fixed seed) kept while the next
-- WINDOW requests run (requests in flight), and 2% of requests replace one long-lived
-- record. Only the incremental GC runs (no explicit collection), as in a server.
-- Prints one line: "done cpu_s=S hwm_kib=N rss_kib=N purge_calls=N checksum=N".
-- Usage: luajit service.lua LIVE_MIB REQUESTS REQ_KB WINDOW
local here = arg[0]:match("^(.*)/") or "."
local probe = dofile(here .. "/../bench/mem/probe.lua")
local mix = dofile(here .. "/../bench/mem/mix.lua")

local live_mib, requests, req_kb, window =
  tonumber(arg[1]), tonumber(arg[2]), tonumber(arg[3]), tonumber(arg[4])
assert(live_mib and requests and req_kb and window,
       "usage: luajit service.lua LIVE_MIB REQUESTS REQ_KB WINDOW")

local next_random = probe.lcg(31337)
local make_object = mix.generator(next_random)
local serial = 0
local function build(kb)   -- a request's data: about kb KiB of mixed objects
  local target = collectgarbage("count") + kb
  local data, n = {}, 0
  while collectgarbage("count") < target do
    serial = serial + 1
    n = n + 1
    data[n] = make_object(serial)
  end
  return data
end

local live, nlive = {}, 0
local base = collectgarbage("count")
while collectgarbage("count") < base + live_mib * 1024 do
  nlive = nlive + 1
  live[nlive] = build(64)
end

local inflight = {}
local checksum = 0
for i = 1, requests do
  local data = build(req_kb)
  inflight[i % window] = data
  checksum = (checksum + #data) % 1000000007
  if next_random() % 100 < 2 then live[1 + next_random() % nlive] = build(64) end
end
inflight = nil

local ok, r = pcall(require, "reclaim")
local rss, hwm = probe.rss_kb()
io.write(string.format("done cpu_s=%.3f hwm_kib=%d rss_kib=%d purge_calls=%d checksum=%d gc_kib=%d\n",
                       os.clock(), hwm, rss,
                       ok and r.stats().purge_calls or 0, checksum, collectgarbage("count")))
