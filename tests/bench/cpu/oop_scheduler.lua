-- CPU benchmark: an object-oriented task scheduler in the manner of richards. Classes are
-- metatables with __index chains two and three levels deep (Task -> Worker -> Hasher);
-- a scheduler picks runnable tasks by priority and calls their methods, and the tasks
-- pass message objects (a class instance with a small payload table) to each other
-- through per-task mailboxes, creating new ones and dropping consumed ones. Method calls
-- through inherited lookups plus steady creation of small objects: the shape of
-- class-style Lua code in game loops, protocol handlers and middleware stacks.
-- Usage: luajit oop_scheduler.lua [ticks]   Prints a checksum that must match.

local ticks = tonumber(arg and arg[1]) or 2000000
local TASKS = 12

local function class(parent)
  local c = {}
  c.__index = c
  if parent then setmetatable(c, { __index = parent }) end
  return c
end

local Message = class()
function Message.new(kind, from, value)
  return setmetatable({ kind = kind, from = from, payload = { value, value % 7 } }, Message)
end
function Message:weight() return self.payload[1] + self.payload[2] end

local Task = class()
function Task.new(cls, id, priority)
  local t = setmetatable({ id = id, priority = priority, inbox = {}, head = 1, tail = 0,
                           handled = 0, sum = 0 }, cls)
  return t
end
function Task:post(msg)
  local tail = self.tail + 1
  self.tail = tail
  self.inbox[tail] = msg
end
function Task:take()
  local head = self.head
  if head > self.tail then return nil end
  local msg = self.inbox[head]
  self.inbox[head] = nil
  if head == self.tail then self.head, self.tail = 1, 0 else self.head = head + 1 end
  return msg
end
function Task:runnable() return self.head <= self.tail end
function Task:account(msg)
  self.handled = self.handled + 1
  self.sum = (self.sum + msg:weight()) % 1000000007
end

local Worker = class(Task)
function Worker:step(sched)
  local msg = self:take()
  self:account(msg)
  sched:send(self:route(msg), Message.new("work", self.id, self:transform(msg.payload[1])))
end
function Worker:route(msg) return (msg.from + self.id) % TASKS + 1 end
function Worker:transform(v) return (v * 3 + self.id) % 10007 end

local Hasher = class(Worker)
function Hasher:transform(v) return (v * 31 + 17) % 10007 end

local Device = class(Task)
function Device:step(sched)
  local msg = self:take()
  self:account(msg)
  if msg.kind == "work" then
    sched:send(1, Message.new("done", self.id, msg.payload[1] + 1))
  end
end

local Idle = class(Task)
function Idle:step(sched)
  local msg = self:take()
  self:account(msg)
  local seed = (msg.payload[1] * 16807) % 2147483647
  -- Fan out only while the backlog is short, so the number of live messages stays bounded.
  local fanout = (self.tail - self.head < 32) and 3 or 0
  for i = 1, fanout do
    sched:send((seed + i) % TASKS + 1, Message.new("work", self.id, (seed + i) % 10007))
  end
end

local Scheduler = class()
function Scheduler.new(tasks) return setmetatable({ tasks = tasks, sent = 0 }, Scheduler) end
function Scheduler:send(to, msg)
  self.sent = self.sent + 1
  self.tasks[to]:post(msg)
end
-- pick: the runnable task of highest priority, the lowest id among equals.
function Scheduler:pick()
  local best
  for _, t in ipairs(self.tasks) do
    if t:runnable() and (not best or t.priority > best.priority) then best = t end
  end
  return best
end

local tasks = { Task.new(Idle, 1, 0) }
for id = 2, TASKS do
  local cls = (id % 3 == 0) and Device or ((id % 3 == 1) and Hasher or Worker)
  tasks[id] = Task.new(cls, id, (id * 5) % 7 + 1)
end
local sched = Scheduler.new(tasks)
sched:send(1, Message.new("done", 1, 1))

local run = 0
while run < ticks do
  local t = sched:pick()
  if not t then sched:send(1, Message.new("done", 1, run)); t = tasks[1] end
  t:step(sched)
  run = run + 1
end

local checksum = 0
local backlog = 0
for _, t in ipairs(tasks) do backlog = backlog + t.tail - t.head + 1 end
for _, t in ipairs(tasks) do checksum = (checksum * 31 + t.handled + t.sum) % 1000000007 end
print("oop_scheduler", ticks, sched.sent, backlog, checksum)
