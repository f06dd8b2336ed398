-- CPU benchmark: n-body. Integrates five bodies (the classic Jovian planets setup) with
-- floating-point arithmetic on table fields; no allocation in the loop.
-- Usage: luajit nbody.lua [steps]   Prints the energy before and after (must match).

local steps = tonumber(arg and arg[1]) or 5000000

local PI = math.pi
local SOLAR_MASS = 4 * PI * PI
local DAYS_PER_YEAR = 365.24

local function body(x, y, z, vx, vy, vz, mass)
  return { x = x, y = y, z = z, vx = vx * DAYS_PER_YEAR, vy = vy * DAYS_PER_YEAR,
           vz = vz * DAYS_PER_YEAR, mass = mass * SOLAR_MASS }
end

local bodies = {
  body(0, 0, 0, 0, 0, 0, 1),
  body(4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
       1.66007664274403694e-03, 7.69901118419740425e-03, -6.90460016972063023e-05,
       9.54791938424326609e-04),
  body(8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
       -2.76742510726862411e-03, 4.99852801234917238e-03, 2.30417297573763929e-05,
       2.85885980666130812e-04),
  body(1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
       2.96460137564761618e-03, 2.37847173959480950e-03, -2.96589568540237556e-05,
       4.36624404335156298e-05),
  body(1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
       2.68067772490389322e-03, 1.62824170038242295e-03, -9.51592254519715870e-05,
       5.15138902046611451e-05),
}

local function offset_momentum(list)
  local px, py, pz = 0, 0, 0
  for _, b in ipairs(list) do
    px, py, pz = px + b.vx * b.mass, py + b.vy * b.mass, pz + b.vz * b.mass
  end
  list[1].vx, list[1].vy, list[1].vz = -px / SOLAR_MASS, -py / SOLAR_MASS, -pz / SOLAR_MASS
end

local function energy(list)
  local e = 0
  for i = 1, #list do
    local a = list[i]
    e = e + 0.5 * a.mass * (a.vx * a.vx + a.vy * a.vy + a.vz * a.vz)
    for j = i + 1, #list do
      local b = list[j]
      local dx, dy, dz = a.x - b.x, a.y - b.y, a.z - b.z
      e = e - a.mass * b.mass / math.sqrt(dx * dx + dy * dy + dz * dz)
    end
  end
  return e
end

local function advance(list, nbody, dt)
  for i = 1, nbody do
    local a = list[i]
    local ax, ay, az, am = a.x, a.y, a.z, a.mass
    local avx, avy, avz = a.vx, a.vy, a.vz
    for j = i + 1, nbody do
      local b = list[j]
      local dx, dy, dz = ax - b.x, ay - b.y, az - b.z
      local d2 = dx * dx + dy * dy + dz * dz
      local mag = dt / (d2 * math.sqrt(d2))
      local bm = b.mass * mag
      avx, avy, avz = avx - dx * bm, avy - dy * bm, avz - dz * bm
      bm = am * mag
      b.vx, b.vy, b.vz = b.vx + dx * bm, b.vy + dy * bm, b.vz + dz * bm
    end
    a.vx, a.vy, a.vz = avx, avy, avz
    a.x, a.y, a.z = ax + dt * avx, ay + dt * avy, az + dt * avz
  end
end

offset_momentum(bodies)
local before = energy(bodies)
local nbody = #bodies
for _ = 1, steps do advance(bodies, nbody, 0.01) end
print("nbody", steps, string.format("%.9f %.9f", before, energy(bodies)))
