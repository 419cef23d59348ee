-- wrk script of the bench: POSTs one order per request.
--
--   wrk ... -s bench/post_orders.lua http://host:port/api/orders/ -- BODIES TOKENS
--
-- BODIES is a file with one JSON request body per line, TOKENS a file with one API
-- token per line. Request n of a thread sends body n and token n (rotating), so the load
-- is spread over every buyer in TOKENS and none reaches its throttle limit. Counts the
-- non-2xx answers per thread and prints one BENCH_JSON line (read by
-- bench.load.parse_wrk_output) and one BENCH_FIRST_BAD line when done.
local threads = {}
local thread_count = 0

local function read_lines(path)
  local lines = {}
  local file = assert(io.open(path, "r"), "cannot open " .. tostring(path))
  for line in file:lines() do
    if line ~= "" then table.insert(lines, line) end
  end
  file:close()
  assert(#lines > 0, path .. " is empty")
  return lines
end

function setup(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

function init(args)
  bodies = read_lines(args[1])
  tokens = read_lines(args[2])
  non2xx = 0
  first_bad = ""
  -- threads start at different buyers
  counter = thread_index * 7919
  wrk.method = "POST"
end

function request()
  counter = counter + 1
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Token " .. tokens[(counter % #tokens) + 1],
  }
  return wrk.format("POST", nil, headers, bodies[(counter % #bodies) + 1])
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_bad == "" then first_bad = tostring(status) .. " " .. string.sub(body or "", 1, 200) end
  end
end

function done(summary, latency, requests)
  local bad, sample = 0, ""
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non2xx") or 0)
    local first = thread:get("first_bad") or ""
    if sample == "" then sample = first end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "connect_errors": %d, "read_errors": %d, ' ..
    '"write_errors": %d, "status_errors": %d, "timeouts": %d, "non2xx": %d, "p50_us": %d, ' ..
    '"p95_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, bad,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, latency.mean))
  io.write("BENCH_FIRST_BAD " .. string.gsub(sample, "\n", " ") .. "\n")
end
