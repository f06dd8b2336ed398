-- jitmods.lua: the jit.* Lua modules shipped with the build (found through LUA_PATH) load and
-- agree with the VM: jit.vmdef names the VM's bytecodes, jit.bc lists a function, jit.v and
-- jit.dump can be started and stopped, jit.util inspects a function.
package.path = (arg[0]:match("(.*/)") or "./") .. "lib/?.lua;" .. package.path
local t = require("t")

for _, name in ipairs({ "jit.vmdef", "jit.bc", "jit.v", "jit.dump", "jit.bcsave", "jit.p", "jit.zone" }) do
  local ok, mod = pcall(require, name)
  t.ok(ok, "require '" .. name .. "': " .. (ok and "ok" or tostring(mod)))
end

local vmdef = require("jit.vmdef")
t.eq(type(vmdef.bcnames), "string", "vmdef.bcnames")
t.ok(vmdef.bcnames:find("FUNCF", 1, true) ~= nil, "vmdef knows FUNCF")

local util = require("jit.util")
local function probe(a) return a + 1 end
local info = util.funcinfo(probe)
t.eq(info.params, 1, "funcinfo params")
t.ok(info.bytecodes >= 2, "funcinfo bytecodes")
-- The last instruction of probe is a return; its opcode name comes from vmdef.
local ins = util.funcbc(probe, info.bytecodes - 1)
local op = vmdef.bcnames:sub(bit.band(ins, 0xff) * 6 + 1, bit.band(ins, 0xff) * 6 + 6)
t.ok(op:find("^RET") ~= nil, "last bytecode is a RET (" .. op .. ")")

-- jit.bc writes a listing to any object with :write.
local listing = {}
local sink = {
  write = function(_, ...) for k = 1, select("#", ...) do listing[#listing + 1] = select(k, ...) end end,
  flush = function() end,
}
require("jit.bc").dump(probe, sink, true)
local text = table.concat(listing)
t.ok(text:find("ADDVN", 1, true) ~= nil or text:find("ADD", 1, true) ~= nil, "jit.bc lists the add")
t.ok(text:find("RET1", 1, true) ~= nil, "jit.bc lists RET1")

-- jit.v to a temp file, when the JIT is on it reports the compiled trace.
if jit.status() then
  local path = os.tmpname()
  local v = require("jit.v")
  v.on(path)
  local acc = 0
  for k = 1, 5000 do acc = acc + k % 3 end
  v.off()
  local f = assert(io.open(path, "r"))
  local out = f:read("*a")
  f:close()
  os.remove(path)
  t.ok(out:find("TRACE%s+%d+ ") ~= nil, "jit.v reports a trace: " .. out)
  -- 1666 cycles of 1+2+0 for k = 1..4998, then 4999 % 3 + 5000 % 3 = 1 + 2.
  t.eq(acc, 1666 * 3 + 3, "loop under jit.v")
else
  t.eq(jit.status(), false, "jit.v trace check not applicable with the JIT off")
end

t.done()
