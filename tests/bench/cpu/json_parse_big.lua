-- CPU benchmark: parse one large JSON document. Generates a ~7.5 MB JSON text (an array of
-- order objects with nested arrays, escaped strings, numbers, booleans, null), then
-- parses it twice with a byte-at-a-time recursive-descent parser into one big tree. The
-- shape of a service loading a large config or API response: one big string, then a
-- large tree built at once and kept. json.lua, by contrast, round-trips many small
-- documents with a find()-based parser.
-- Usage: luajit json_parse_big.lua [orders]   Prints a checksum that must match.

local orders = tonumber(arg and arg[1]) or 12000

local byte, sub, concat, format = string.byte, string.sub, table.concat, string.format

local function generate(count)
  local out, n, x = {}, 0, 4711
  local function put(s) n = n + 1; out[n] = s end
  put("[")
  for i = 1, count do
    if i > 1 then put(",\n") end
    x = (x * 16807) % 2147483647
    put(format('{"id":%d,"customer":{"name":"customer \\"%d\\"","email":"c%d@example.com","vip":%s},"items":[',
      i, x % 100000, i, (x % 5 == 0) and "true" or "false"))
    for k = 1, 6 do
      if k > 1 then put(",") end
      put(format('{"sku":"SKU-%06d","qty":%d,"price":%.2f,"tags":["t%d","line\\n%d"],"gift":null}',
        (x + k * 7919) % 1000000, k + x % 4, ((x + k) % 10000) / 100, k, i % 97))
    end
    put(format('],"total":%.2f,"note":"tab\\tand \\\\ slash %d"}', (x % 1000000) / 100, i))
  end
  put("]")
  return concat(out)
end

local ESC = { [34] = '"', [92] = "\\", [47] = "/", [98] = "\b", [102] = "\f", [110] = "\n",
              [114] = "\r", [116] = "\t" }

local text, pos
local parse_value

local function skip()
  local c = byte(text, pos)
  while c == 32 or c == 10 or c == 9 or c == 13 do pos = pos + 1; c = byte(text, pos) end
  return c
end

local function parse_string()
  pos = pos + 1
  local start, parts = pos, nil
  while true do
    local c = byte(text, pos)
    if c == 34 then
      local s = sub(text, start, pos - 1)
      pos = pos + 1
      if parts then parts[#parts + 1] = s; return concat(parts) end
      return s
    elseif c == 92 then
      parts = parts or {}
      parts[#parts + 1] = sub(text, start, pos - 1)
      parts[#parts + 1] = ESC[byte(text, pos + 1)]
      pos = pos + 2
      start = pos
    else
      pos = pos + 1
    end
  end
end

local function parse_number()
  local start = pos
  local c = byte(text, pos)
  while (c >= 48 and c <= 57) or c == 45 or c == 43 or c == 46 or c == 101 or c == 69 do
    pos = pos + 1; c = byte(text, pos)
  end
  return tonumber(sub(text, start, pos - 1))
end

function parse_value()
  local c = skip()
  if c == 123 then
    local obj = {}
    pos = pos + 1
    if skip() == 125 then pos = pos + 1; return obj end
    while true do
      skip()
      local key = parse_string()
      skip(); pos = pos + 1 -- ':'
      obj[key] = parse_value()
      c = skip(); pos = pos + 1
      if c == 125 then return obj end
    end
  elseif c == 91 then
    local arr, n = {}, 0
    pos = pos + 1
    if skip() == 93 then pos = pos + 1; return arr end
    while true do
      n = n + 1
      arr[n] = parse_value()
      c = skip(); pos = pos + 1
      if c == 93 then return arr end
    end
  elseif c == 34 then return parse_string()
  elseif c == 116 then pos = pos + 4; return true
  elseif c == 102 then pos = pos + 5; return false
  elseif c == 110 then pos = pos + 4; return nil
  else return parse_number() end
end

local function parse(s)
  text, pos = s, 1
  local v = parse_value()
  text = nil
  return v
end

local doc_text = generate(orders)
local checksum = #doc_text % 1000000007
for _ = 1, 2 do
  local doc = parse(doc_text)
  for i = 1, #doc, 97 do
    local o = doc[i]
    checksum = (checksum + o.id + #o.customer.name + o.items[6].qty + #o.items[3].tags[2] + #o.note
                + (o.customer.vip and 1 or 0) + math.floor(o.total)) % 1000000007
  end
  checksum = (checksum + #doc) % 1000000007
end
print("json_parse_big", orders, #doc_text, checksum)
