-- CPU benchmark: small vector tables. 20,000 particles, each a {x, y} table for position
-- and one for velocity, stepped with vector helpers that return a new table per operation;
-- every step replaces every particle's vectors. The shape of geometry, game and layout
-- code written with immutable small tables: many two-field tables, most dead at once.
-- Usage: luajit points.lua [steps]   Prints a checksum that must match across builds.

local steps = tonumber(arg and arg[1]) or 250
local N = 20000

local function vec(x, y) return { x = x, y = y } end
local function add(a, b) return { x = a.x + b.x, y = a.y + b.y } end
local function sub(a, b) return { x = a.x - b.x, y = a.y - b.y } end
local function scale(a, s) return { x = a.x * s, y = a.y * s } end
local function dot(a, b) return a.x * b.x + a.y * b.y end

local pos, vel = {}, {}
local x = 777
for i = 1, N do
  x = (x * 16807) % 2147483647
  pos[i] = vec(x % 1000, (x / 1000) % 1000)
  vel[i] = vec((x % 17) - 8, (x % 13) - 6)
end

local center, dt = vec(500, 500), 0.01
for _ = 1, steps do
  for i = 1, N do
    local p, v = pos[i], vel[i]
    local to_center = sub(center, p)
    local d2 = dot(to_center, to_center) + 1
    v = add(v, scale(to_center, dt * 100 / d2))
    local np = add(p, scale(v, dt))
    if np.x < 0 or np.x > 1000 then v = vec(-v.x, v.y) end
    if np.y < 0 or np.y > 1000 then v = vec(v.x, -v.y) end
    pos[i], vel[i] = np, v
  end
end

local sx, sy = 0, 0
for i = 1, N do sx, sy = sx + pos[i].x, sy + pos[i].y end
print("points", steps, string.format("%.6f %.6f", sx, sy))
