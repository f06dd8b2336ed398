-- CPU benchmark: a small ray tracer. Renders 320 x 240 frames of spheres on a plane with
-- one light, shadows and two levels of reflection, with vectors as {x, y, z} tables and a
-- new table for every vector operation (add, scale, normalize, the hit record), as plain
-- Lua vector code is written. Millions of short-lived three-field tables whose lifetimes
-- the JIT cannot always sink: the shape of geometry, physics and layout code.
-- Usage: luajit raytrace.lua [frames]   Prints a checksum that must match.

local frames = tonumber(arg and arg[1]) or 16
local WIDTH, HEIGHT, MAX_BOUNCES = 320, 240, 2

local sqrt, floor = math.sqrt, math.floor

local function vec(x, y, z) return { x = x, y = y, z = z } end
local function add(a, b) return vec(a.x + b.x, a.y + b.y, a.z + b.z) end
local function sub(a, b) return vec(a.x - b.x, a.y - b.y, a.z - b.z) end
local function scale(a, s) return vec(a.x * s, a.y * s, a.z * s) end
local function dot(a, b) return a.x * b.x + a.y * b.y + a.z * b.z end
local function normalize(a) return scale(a, 1 / sqrt(dot(a, a))) end

local spheres = {
  { center = vec(0, 1, 5), radius = 1, color = vec(0.9, 0.2, 0.2), reflect = 0.3 },
  { center = vec(-2, 0.7, 6), radius = 0.7, color = vec(0.2, 0.9, 0.2), reflect = 0.5 },
  { center = vec(2, 0.5, 4), radius = 0.5, color = vec(0.2, 0.2, 0.9), reflect = 0.1 },
  { center = vec(0.5, 0.3, 3), radius = 0.3, color = vec(0.9, 0.9, 0.2), reflect = 0.6 },
}
local light = vec(-5, 8, -2)
local EPSILON = 1e-4

-- nearest: the closest hit along the ray as a record {t, point, normal, color, reflect},
-- or nil. The plane y = 0 is a checkerboard.
local function nearest(origin, dir)
  local best
  for i = 1, #spheres do
    local s = spheres[i]
    local oc = sub(origin, s.center)
    local b = dot(oc, dir)
    local c = dot(oc, oc) - s.radius * s.radius
    local disc = b * b - c
    if disc > 0 then
      local t = -b - sqrt(disc)
      if t > EPSILON and (not best or t < best.t) then
        local point = add(origin, scale(dir, t))
        best = { t = t, point = point, normal = normalize(sub(point, s.center)),
                 color = s.color, reflect = s.reflect }
      end
    end
  end
  if dir.y < 0 then
    local t = -origin.y / dir.y
    if t > EPSILON and (not best or t < best.t) then
      local point = add(origin, scale(dir, t))
      local odd = (floor(point.x) + floor(point.z)) % 2 == 1
      best = { t = t, point = point, normal = vec(0, 1, 0),
               color = odd and vec(0.8, 0.8, 0.8) or vec(0.1, 0.1, 0.1), reflect = 0.2 }
    end
  end
  return best
end

local function trace(origin, dir, depth)
  local hit = nearest(origin, dir)
  if not hit then return vec(0.1, 0.2, 0.4) end
  local to_light = normalize(sub(light, hit.point))
  local shade = 0.1
  local diffuse = dot(hit.normal, to_light)
  if diffuse > 0 and not nearest(add(hit.point, scale(hit.normal, EPSILON)), to_light) then
    shade = shade + 0.9 * diffuse
  end
  local color = scale(hit.color, shade)
  if depth < MAX_BOUNCES and hit.reflect > 0 then
    local r = sub(dir, scale(hit.normal, 2 * dot(dir, hit.normal)))
    local bounced = trace(add(hit.point, scale(hit.normal, EPSILON)), normalize(r), depth + 1)
    color = add(scale(color, 1 - hit.reflect), scale(bounced, hit.reflect))
  end
  return color
end

local checksum = 0
for frame = 1, frames do
  local eye = vec(0.1 * frame, 1, -1)
  for py = 0, HEIGHT - 1 do
    for px = 0, WIDTH - 1 do
      local dir = normalize(vec((px - WIDTH / 2) / HEIGHT, (HEIGHT / 2 - py) / HEIGHT, 1))
      local c = trace(eye, dir, 0)
      local pixel = floor(c.x * 255) * 65536 + floor(c.y * 255) * 256 + floor(c.z * 255)
      checksum = (checksum * 31 + pixel) % 1000000007
    end
  end
end
print("raytrace", frames, checksum)
