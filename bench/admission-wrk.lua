-- wrk script for bench/admission.mjs: POSTs one AdmissionReview over keep-alive HTTPS at a fixed
-- offered rate, then prints one JSON line (prefixed "WRK_RESULT ") with the achieved rate and
-- latency percentiles.
--
-- Environment (read by every wrk thread; each thread has its own Lua state):
--   BENCH_BODY_FILE  file holding the request body
--   BENCH_RATE       total offered rate, requests/s (default 500)
--   BENCH_THREADS    the -t given to wrk (default 1): each thread offers BENCH_RATE / BENCH_THREADS
--
-- Pacing: delay() is asked before every request. Each thread keeps one schedule of send slots
-- (every 1000 * threads / rate ms) shared by its connections, and a connection waits for the next
-- free slot. The offered rate therefore does not depend on the latency (open loop, as long as
-- some connection is idle when a slot is due); a slot that is late is sent at once, never skipped.
-- wrk timestamps a request when it is written, so the wait itself is not counted as latency.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } duallane_timespec;
  int clock_gettime(int clk_id, duallane_timespec *tp);
]]
local ts = ffi.new("duallane_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local body_file = os.getenv("BENCH_BODY_FILE")
if body_file == nil then error("BENCH_BODY_FILE is not set") end
local f = assert(io.open(body_file, "rb"))
local body = f:read("*a")
f:close()

local rate = tonumber(os.getenv("BENCH_RATE") or "500")
local threads = tonumber(os.getenv("BENCH_THREADS") or "1")
local interval_ms = 1000 * threads / rate

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"

-- per thread
local next_slot = nil
denied = 0
responses = 0

function delay()
  local now = now_ms()
  if next_slot == nil then next_slot = now end
  local slot = next_slot
  next_slot = next_slot + interval_ms
  local wait = slot - now
  if wait < 0 then return 0 end
  return math.floor(wait + 0.5)
end

-- Counts answers that are not an allowed AdmissionReview (a bare 200 would hide a denial).
function response(status, headers, body)
  responses = responses + 1
  if status ~= 200 or not string.find(body, '"allowed":true', 1, true) then denied = denied + 1 end
end

-- main Lua state
local thread_list = {}
function setup(thread)
  table.insert(thread_list, thread)
end

function done(summary, latency, requests)
  local not_allowed = 0
  for _, t in ipairs(thread_list) do
    not_allowed = not_allowed + (t:get("denied") or 0)
  end
  local e = summary.errors
  local pct = function(p) return latency:percentile(p) / 1000 end -- microseconds -> ms
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_s":%.3f,"achieved":%.1f,"not_allowed":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"p50":%.3f,"p90":%.3f,"p99":%.3f,"p999":%.3f,"max":%.3f,"mean":%.3f}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6), not_allowed,
    e.connect, e.read, e.write, e.status, e.timeout,
    pct(50), pct(90), pct(99), pct(99.9), latency.max / 1000, latency.mean / 1000))
end
