-- CPU benchmark: a session store with TTL expiry and a large live heap. Sessions (a record
-- with a string id, a nested data table and a small cart array) are kept in a table keyed
-- by id; a logical clock (a counter, never os.clock) advances every 100 requests; a request
-- either touches a recent session, extending its expiry, or creates a new one; a timer
-- wheel of per-tick buckets expires sessions whose deadline has passed (a touched session
-- found in an old bucket is moved to its new one). About 155,000 sessions are live at the
-- end, some 88 MB of heap that every GC cycle walks while new sessions replace expired
-- ones: the shape of a session or token cache kept in Lua tables by a long-lived worker.
-- Usage: luajit session_ttl.lua [requests]   Prints a checksum that must match.

local requests = tonumber(arg and arg[1]) or 480000
local TTL = 2500            -- ticks a session lives after its last touch
local REQUESTS_PER_TICK = 100
local LANGS = { "en", "de", "fr", "es", "ja", "pt" }

local sessions, live = {}, 0
local wheel = {}            -- tick -> array of ids whose deadline was that tick when queued
local created, expired, touched, missed = 0, 0, 0, 0
local now = 0

local function schedule(id, tick)
  local bucket = wheel[tick]
  if not bucket then bucket = {}; wheel[tick] = bucket end
  bucket[#bucket + 1] = id
end

local function create(n)
  local id = string.format("sess-%08x-%d", n * 2654435761 % 4294967296, n)
  sessions[id] = { id = id, user = n % 50000, expires = now + TTL, hits = 0,
                   data = { lang = LANGS[n % #LANGS + 1], cart = { n % 997, n % 113 } } }
  schedule(id, now + TTL)
  created = created + 1
  live = live + 1
end

local function expire(tick)
  local bucket = wheel[tick]
  if not bucket then return end
  wheel[tick] = nil
  for i = 1, #bucket do
    local id = bucket[i]
    local s = sessions[id]
    if s then
      if s.expires <= tick then
        sessions[id] = nil
        live = live - 1
        expired = expired + 1
      else
        schedule(id, s.expires)
      end
    end
  end
end

local checksum, x = 0, 2718
for r = 1, requests do
  if r % REQUESTS_PER_TICK == 0 then
    now = now + 1
    expire(now)
  end
  x = (x * 16807) % 2147483647
  if x % 10 < 6 and created > 0 then
    -- Touch one of the recently created sessions; older ones may have expired.
    local n = created - x % 150000
    if n < 1 then n = 1 end
    local s = sessions[string.format("sess-%08x-%d", n * 2654435761 % 4294967296, n)]
    if s then
      s.hits = s.hits + 1
      s.expires = now + TTL
      s.data.cart[#s.data.cart + 1] = x % 1000
      if #s.data.cart > 8 then s.data.cart = { s.data.cart[8], s.data.cart[9] } end
      touched = touched + 1
      checksum = (checksum + s.user + #s.data.lang + s.hits) % 1000000007
    else
      missed = missed + 1
      create(created + 1)
    end
  else
    create(created + 1)
  end
end
print("session_ttl", requests, live, created, expired, touched, missed, checksum)
