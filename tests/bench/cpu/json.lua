-- CPU benchmark: JSON-like encode/decode. Encodes nested documents (objects, arrays,
-- strings with escapes, numbers, booleans) to text with a small encoder, parses the text
-- back with a small recursive-descent decoder and compares; stresses strings and tables.
-- Usage: luajit json.lua [documents]   Prints a checksum that must match across builds.

local documents = tonumber(arg and arg[1]) or 4000

local byte, sub, find, format, concat = string.byte, string.sub, string.find, string.format, table.concat

local ESCAPES = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\t"] = "\\t" }

local encode_value
local function encode_string(s, out)
  out[#out + 1] = '"' .. s:gsub('[%c"\\]', ESCAPES) .. '"'
end

function encode_value(v, out)
  local kind = type(v)
  if kind == "table" then
    if v[1] ~= nil or next(v) == nil then
      out[#out + 1] = "["
      for i = 1, #v do
        if i > 1 then out[#out + 1] = "," end
        encode_value(v[i], out)
      end
      out[#out + 1] = "]"
    else
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = k end
      table.sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        encode_string(k, out)
        out[#out + 1] = ":"
        encode_value(v[k], out)
      end
      out[#out + 1] = "}"
    end
  elseif kind == "string" then
    encode_string(v, out)
  elseif kind == "number" then
    out[#out + 1] = (v % 1 == 0) and format("%d", v) or format("%.14g", v)
  else
    out[#out + 1] = tostring(v)
  end
end

local function encode(v)
  local out = {}
  encode_value(v, out)
  return concat(out)
end

local UNESCAPES = { ['"'] = '"', ["\\"] = "\\", n = "\n", t = "\t" }

local decode_at
local function skip_space(text, pos)
  return (find(text, "[^ \n\t]", pos)) or pos
end

local function decode_string(text, pos)
  local parts, start = {}, pos + 1
  while true do
    local stop = find(text, '["\\]', start)
    parts[#parts + 1] = sub(text, start, stop - 1)
    if byte(text, stop) == 34 then return concat(parts), stop + 1 end
    parts[#parts + 1] = UNESCAPES[sub(text, stop + 1, stop + 1)]
    start = stop + 2
  end
end

function decode_at(text, pos)
  pos = skip_space(text, pos)
  local c = byte(text, pos)
  if c == 123 then -- {
    local obj = {}
    pos = skip_space(text, pos + 1)
    if byte(text, pos) == 125 then return obj, pos + 1 end
    while true do
      local key
      key, pos = decode_string(text, skip_space(text, pos))
      pos = skip_space(text, pos) + 1 -- ':'
      obj[key], pos = decode_at(text, pos)
      pos = skip_space(text, pos)
      if byte(text, pos) == 125 then return obj, pos + 1 end
      pos = pos + 1 -- ','
    end
  elseif c == 91 then -- [
    local arr = {}
    pos = skip_space(text, pos + 1)
    if byte(text, pos) == 93 then return arr, pos + 1 end
    while true do
      arr[#arr + 1], pos = decode_at(text, pos)
      pos = skip_space(text, pos)
      if byte(text, pos) == 93 then return arr, pos + 1 end
      pos = pos + 1
    end
  elseif c == 34 then
    return decode_string(text, pos)
  elseif c == 116 then return true, pos + 4
  elseif c == 102 then return false, pos + 5
  else
    local _, stop = find(text, "^-?[%d.eE+-]+", pos)
    return tonumber(sub(text, pos, stop)), stop + 1
  end
end

local function make_document(i)
  local items = {}
  for k = 1, 20 do
    items[k] = { sku = "item-" .. (i * 31 + k), qty = k % 7, price = (i + k) * 0.25,
                 note = (k % 4 == 0) and 'say "hi"\n\tbye' or "plain", ok = (k % 2 == 0) }
  end
  return { id = i, customer = { name = "customer " .. i, tags = { "a", "b", tostring(i % 13) } },
           items = items, total = i * 1.5, paid = (i % 3 == 0) }
end

local checksum = 0
for i = 1, documents do
  local text = encode(make_document(i))
  local back = decode_at(text, 1)
  local again = encode(back)
  assert(again == text, "round trip changed document " .. i)
  checksum = (checksum + #text + back.items[20].qty + #back.customer.name) % 1000000007
end
print("json", documents, checksum)
