-- shapes.lua: the request handlers bench-nginx (throughput.sh) loads on top of
-- the check-nginx site (nginx.conf.in), by require("shapes") in the one worker.
-- The third shape, holding ~300 KB across ngx.sleep, is site.burst (/burst).
--
-- Invariants: pure Lua, the same on stock LuaJIT and ours; a request leaves
-- nothing behind (DOC is built once, when the module loads, and only read);
-- each handler answers one line that depends only on its input, so the driver
-- can check that every build gives the same answer.
local M = {}

local byte, char, sub, find, match = string.byte, string.char, string.sub, string.find, string.match
local format, concat, sort = string.format, table.concat, table.sort

local WORDS = { "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
                "india", "juliett", "kilo", "lima", "mike", "november", "oscar", "papa" }

-- /cpu: 500 short strings made, sorted, counted by prefix, joined, upper-cased
-- and scanned; no sleep, a few tens of KB live per request.
function M.cpu()
  local words = {}
  for i = 1, 500 do
    words[i] = WORDS[i % #WORDS + 1] .. "-" .. (i * 7919 % 1000)
  end
  sort(words)
  local sums, keys = {}, 0
  for i = 1, #words do
    local prefix = sub(words[i], 1, 3)
    if not sums[prefix] then keys = keys + 1; sums[prefix] = 0 end
    sums[prefix] = sums[prefix] + #words[i]
  end
  local line = concat(words, " ")
  local _, vowels = string.gsub(string.upper(line), "[AEIOU]", "")
  ngx.say("words=", #words, " keys=", keys, " bytes=", #line, " vowels=", vowels)
end

-- ---- a small JSON encoder and decoder (objects' keys sorted, so the text is
-- the same whatever the hash order) ----

local ESCAPE = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\t"] = "\\t", ["\r"] = "\\r" }
local UNESCAPE = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", n = "\n", t = "\t", r = "\r",
                   b = "\b", f = "\f" }

local function escape_char(c)
  return ESCAPE[c] or format("\\u%04x", byte(c))
end

local function encode_value(v, buf)
  local kind = type(v)
  if kind == "table" then
    if v[1] ~= nil then
      buf[#buf + 1] = "["
      for i = 1, #v do
        if i > 1 then buf[#buf + 1] = "," end
        encode_value(v[i], buf)
      end
      buf[#buf + 1] = "]"
    else
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = k end
      sort(keys)
      buf[#buf + 1] = "{"
      for i = 1, #keys do
        if i > 1 then buf[#buf + 1] = "," end
        encode_value(keys[i], buf)
        buf[#buf + 1] = ":"
        encode_value(v[keys[i]], buf)
      end
      buf[#buf + 1] = "}"
    end
  elseif kind == "string" then
    buf[#buf + 1] = '"' .. (string.gsub(v, '[%c"\\]', escape_char)) .. '"'
  elseif kind == "number" or kind == "boolean" then
    buf[#buf + 1] = tostring(v)
  else
    error("json: cannot encode a " .. kind)
  end
end

local function encode(v)
  local buf = {}
  encode_value(v, buf)
  return concat(buf)
end

local function skip_space(s, i)
  return find(s, "[^ \t\r\n]", i) or error("json: unexpected end of text")
end

-- decode_string S I: the string whose opening quote is at I, and the index after it.
local function decode_string(s, i)
  local from, parts = i + 1, nil
  while true do
    local at = find(s, '["\\]', from) or error("json: unterminated string at " .. i)
    if byte(s, at) == 34 then
      if not parts then return sub(s, from, at - 1), at + 1 end
      parts[#parts + 1] = sub(s, from, at - 1)
      return concat(parts), at + 1
    end
    parts = parts or {}
    parts[#parts + 1] = sub(s, from, at - 1)
    local c = sub(s, at + 1, at + 1)
    if c == "u" then
      local code = tonumber(sub(s, at + 2, at + 5), 16)
      if not code or code > 127 then error("json: unsupported escape at " .. at) end
      parts[#parts + 1] = char(code)
      from = at + 6
    else
      parts[#parts + 1] = UNESCAPE[c] or error("json: bad escape at " .. at)
      from = at + 2
    end
  end
end

local LITERALS = { ["true"] = true, ["false"] = false }

-- decode_value S I: the value that starts at or after I, and the index after it.
local function decode_value(s, i)
  i = skip_space(s, i)
  local c = byte(s, i)
  if c == 123 or c == 91 then  -- { or [
    local out, n, close = {}, 0, c + 2
    i = skip_space(s, i + 1)
    if byte(s, i) == close then return out, i + 1 end
    while true do
      if c == 123 then
        if byte(s, i) ~= 34 then error("json: object key expected at " .. i) end
        local key
        key, i = decode_string(s, i)
        i = skip_space(s, i)
        if byte(s, i) ~= 58 then error("json: ':' expected at " .. i) end
        out[key], i = decode_value(s, i + 1)
      else
        n = n + 1
        out[n], i = decode_value(s, i)
      end
      i = skip_space(s, i)
      local sep = byte(s, i)
      if sep == close then return out, i + 1 end
      if sep ~= 44 then error("json: ',' expected at " .. i) end
      i = skip_space(s, i + 1)
    end
  elseif c == 34 then
    return decode_string(s, i)
  end
  local word = match(s, "^%a+", i)
  if word then
    if LITERALS[word] == nil then error("json: unknown literal '" .. word .. "' at " .. i) end
    return LITERALS[word], i + #word
  end
  local num = match(s, "^-?%d+%.?%d*[eE]?[-+]?%d*", i) or error("json: unexpected character at " .. i)
  return tonumber(num), i + #num
end

local function decode(s)
  local v, i = decode_value(s, 1)
  if find(s, "[^ \t\r\n]", i) then error("json: trailing text at " .. i) end
  return v
end

-- DOC: 60 user records, about 12 KB as JSON.
local DOC = { users = {}, page = 1, source = "luajit-reclaim bench-nginx" }
for i = 1, 60 do
  DOC.users[i] = {
    id = i, name = "user-" .. i, email = "user" .. i .. "@example.org",
    active = i % 3 == 0, score = i * 1.25,
    tags = { WORDS[i % 16 + 1], WORDS[(i * 7) % 16 + 1], "tab\tquote\"" },
    address = { street = (i * 13) .. " " .. WORDS[(i * 5) % 16 + 1] .. " street",
                city = WORDS[(i * 3) % 16 + 1], zip = format("%05d", i * 97) },
  }
end

-- /json: DOC encoded, decoded back, summed and encoded again (which must give
-- the same text); the text's size and the sums.
function M.json()
  local text = encode(DOC)
  local back = decode(text)
  local score, active = 0, 0
  for i = 1, #back.users do
    local u = back.users[i]
    score = score + u.score
    if u.active then active = active + 1 end
  end
  if encode(back) ~= text then error("json: decode(encode(DOC)) differs from DOC") end
  ngx.say("bytes=", #text, " users=", #back.users, " active=", active, " score=", score)
end

return M
