-- wrk script for bench/http/run.sh: cycles over a list of requests.
--   wrk ... -s cycle.lua URL -- post CONTENT-TYPE FILE...   POST each file's bytes to URL's path
--   wrk ... -s cycle.lua URL -- get LISTFILE                GET each line of LISTFILE (a path)
-- Every request is formatted once per thread (in init), so request() costs a
-- table index. done() prints one machine-readable line for run.sh.

local counter = 0
local threads = {}

function setup(thread)
   thread:set("id", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

local reqs = {}
local n, i = 0, 0

local function slurp(path)
   local f = assert(io.open(path, "rb"))
   local s = f:read("*a")
   f:close()
   return s
end

function init(args)
   local mode = args[1]
   local path = wrk.path
   if mode == "post" then
      local headers = { ["Content-Type"] = args[2] }
      for k = 3, #args do
         n = n + 1
         reqs[n] = wrk.format("POST", path, headers, slurp(args[k]))
      end
   elseif mode == "get" then
      for line in io.lines(args[2]) do
         if #line > 0 then
            n = n + 1
            reqs[n] = wrk.format("GET", line)
         end
      end
   else
      error("cycle.lua: mode must be post or get")
   end
   assert(n > 0, "cycle.lua: no requests")
   -- Threads start at different places in the list.
   i = (id or 0) * 37 % n
end

function request()
   i = i % n + 1
   return reqs[i]
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%d duration_us=%d bytes=%d p50_us=%d p99_us=%d max_us=%d " ..
      "connect=%d read=%d write=%d status=%d timeout=%d\n",
      summary.requests, summary.duration, summary.bytes,
      latency:percentile(50), latency:percentile(99), latency.max,
      e.connect, e.read, e.write, e.status, e.timeout))
end
