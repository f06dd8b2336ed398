-- CPU benchmark: request routing. A table of 40 routes (method, a path pattern with
-- captures such as /api/v1/users/(%d+)/orders/(%w+), a handler) is matched against
-- generated request lines; each request is parsed with string.match (method, path,
-- query), its query string split into a parameter table with gmatch, the route found by
-- trying patterns in order, and the handler builds a small response table from the
-- captures. New strings and tables per request, none kept: the shape of the routing
-- layer of lapis, lua-resty-router and hand-written OpenResty dispatchers.
-- Usage: luajit router.lua [requests]   Prints a checksum that must match.

local requests = tonumber(arg and arg[1]) or 250000

local RESOURCES = { "users", "orders", "items", "carts", "invoices", "reviews", "tags", "files" }
local routes = {}
for i, res in ipairs(RESOURCES) do
  local base = "^/api/v" .. (i % 3 + 1) .. "/" .. res
  routes[#routes + 1] = { method = "GET", pattern = base .. "$", kind = "list" }
  routes[#routes + 1] = { method = "GET", pattern = base .. "/(%d+)$", kind = "show" }
  routes[#routes + 1] = { method = "PUT", pattern = base .. "/(%d+)$", kind = "update" }
  routes[#routes + 1] = { method = "GET", pattern = base .. "/(%d+)/(%a+)/(%w+)$", kind = "nested" }
  routes[#routes + 1] = { method = "POST", pattern = base .. "/(%d+)/actions/([%w_]+)$", kind = "action" }
end

local handlers = {
  list = function(params) return { status = 200, count = tonumber(params.limit) or 10 } end,
  show = function(params, id) return { status = 200, id = tonumber(id), fields = params.fields } end,
  update = function(params, id) return { status = 204, id = tonumber(id), etag = "W/" .. id } end,
  nested = function(params, id, sub, key)
    return { status = 200, id = tonumber(id), path = sub .. ":" .. key, page = params.page }
  end,
  action = function(params, id, name) return { status = 202, id = tonumber(id), action = name:upper() } end,
}

local METHODS = { "GET", "GET", "GET", "PUT", "POST" }
local SUBS = { "comments", "history", "owners" }
local ACTIONS = { "archive", "restore", "send_mail", "recalc" }

local function request_line(x)
  local res = RESOURCES[x % #RESOURCES + 1]
  local version = (x % #RESOURCES + 1) % 3 + 1
  local method = METHODS[x % 5 + 1]
  local id = x % 100000
  local path
  local shape = x % 7
  if shape == 0 then
    path = "/api/v" .. version .. "/" .. res
  elseif shape <= 3 then
    path = "/api/v" .. version .. "/" .. res .. "/" .. id
  elseif shape <= 5 then
    if method == "POST" then
      path = "/api/v" .. version .. "/" .. res .. "/" .. id .. "/actions/" .. ACTIONS[x % 4 + 1]
    else
      path = "/api/v" .. version .. "/" .. res .. "/" .. id .. "/" .. SUBS[x % 3 + 1] .. "/k" .. (x % 977)
    end
  else
    path = "/static/" .. res .. "/" .. id .. ".png"       -- matches no route: 404
  end
  return method .. " " .. path .. "?limit=" .. (x % 50) .. "&page=" .. (x % 9) .. "&fields=id,name HTTP/1.1"
end

local checksum, not_found = 0, 0
local x = 99
for _ = 1, requests do
  x = (x * 16807) % 2147483647
  local method, path, query = request_line(x):match("^(%u+) ([^?]+)%??(%S*) HTTP/1%.1$")
  local params = {}
  for k, v in query:gmatch("([^&=]+)=([^&]*)") do params[k] = v end
  local response
  for i = 1, #routes do
    local route = routes[i]
    if route.method == method then
      local a, b, c = path:match(route.pattern)
      if a or (route.kind == "list" and path:find(route.pattern)) then
        response = handlers[route.kind](params, a, b, c)
        break
      end
    end
  end
  if response then
    checksum = (checksum * 31 + response.status + (response.id or response.count or 0)
      + #(response.path or response.action or response.etag or "")) % 1000000007
  else
    not_found = not_found + 1
  end
end
print("router", requests, not_found, checksum)
