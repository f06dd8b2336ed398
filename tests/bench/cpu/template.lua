-- CPU benchmark: a template renderer. A page template with {{name}} and {{obj.field}}
-- placeholders, {% for item in list %} sections and an HTML-escaping filter is rendered
-- for generated contexts: gsub with function replacements resolves each placeholder,
-- each loop body is rendered once per item into a table and joined with table.concat,
-- and values pass through an escaping gsub with a lookup table. Many medium strings per
-- page, built and dropped: the shape of lua-resty-template, etlua and hand-made HTML in
-- OpenResty handlers.
-- Usage: luajit template.lua [pages]   Prints a checksum that must match.

local pages = tonumber(arg and arg[1]) or 15000

local TEMPLATE = [[
<html><head><title>{{title|e}}</title></head>
<body>
<h1>{{user.name|e}} ({{user.email}})</h1>
<p>Order {{order.id}} placed on {{order.date}}, status {{order.status|e}}.</p>
<table>
{% for item in items %}<tr><td>{{item.sku}}</td><td>{{item.name|e}}</td><td>{{item.qty}}</td><td>{{item.price}}</td></tr>
{% end %}</table>
<ul>
{% for tag in tags %}<li class="tag">{{tag.label|e}}</li>
{% end %}</ul>
<footer>{{footer}}</footer>
</body></html>
]]

local ESCAPES = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }
local function escape(s) return (tostring(s):gsub("[&<>\"']", ESCAPES)) end

local function lookup(env, path)
  local value = env
  for part in path:gmatch("[^%.]+") do
    value = value[part]
    if value == nil then return "" end
  end
  return value
end

local function render_text(text, env)
  return (text:gsub("{{%s*([%w_%.]+)%s*(|?e?)%s*}}", function(path, filter)
    local value = lookup(env, path)
    if filter == "|e" then return escape(value) end
    return tostring(value)
  end))
end

-- render: the loop sections first (each body rendered per item), then the placeholders.
local function render(template, env)
  local text = template:gsub("{%% for (%w+) in (%w+) %%}(.-){%% end %%}", function(var, list, body)
    local out = {}
    local scope = setmetatable({}, { __index = env })
    for i, item in ipairs(env[list]) do
      scope[var] = item
      out[i] = render_text(body, scope)
    end
    return table.concat(out)
  end)
  return render_text(text, env)
end

local NAMES = { "Widget", "Gadget <XL>", "Gizmo & Co", "Doohickey", "Thing \"2\"", "Sprocket" }
local checksum, bytes = 0, 0
local x = 31337
for p = 1, pages do
  local items = {}
  x = (x * 16807) % 2147483647
  for i = 1, 5 + x % 12 do
    x = (x * 16807) % 2147483647
    items[i] = { sku = "SKU-" .. (x % 100000), name = NAMES[x % #NAMES + 1],
                 qty = x % 9 + 1, price = string.format("%.2f", (x % 100000) / 100) }
  end
  local tags = {}
  for i = 1, 1 + p % 5 do tags[i] = { label = "tag<" .. ((p + i) % 13) .. ">" } end
  local env = {
    title = "Order #" .. p .. " & receipt",
    user = { name = "User <" .. (x % 1000) .. ">", email = "u" .. (x % 1000) .. "@example.org" },
    order = { id = p, date = "2026-11-" .. (p % 28 + 1), status = (p % 3 == 0) and "shipped" or "pending" },
    items = items, tags = tags, footer = "page " .. p,
  }
  local html = render(TEMPLATE, env)
  bytes = bytes + #html
  checksum = (checksum * 31 + #html + html:byte(math.floor(#html / 2) + 1)) % 1000000007
end
print("template", pages, bytes, checksum)
