-- Cycles through the request paths listed in the file named by WRK_PATHS (one per
-- line), each connection starting at its own offset, counts the answers that are not
-- 2xx, and reports requests, non-2xx and latency percentiles as one JSON line.
local paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do
  paths[#paths + 1] = line
end
local threads = {}
local counter = 0

function setup(thread)
  thread:set("offset", counter * 97)
  thread:set("non2xx", 0)
  counter = counter + 1
  threads[#threads + 1] = thread
end

function init(args)
  position = offset
end

function request()
  position = position + 1
  return wrk.format("GET", paths[(position % #paths) + 1], { ["Accept-Encoding"] = "gzip" })
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local non2xx = 0
  for _, thread in ipairs(threads) do
    non2xx = non2xx + thread:get("non2xx")
  end
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "non_2xx": %d, "socket_errors": %d, "seconds": %.2f, "rps": %.1f, '
      .. '"p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f}\n',
    summary.requests, non2xx, errors.connect + errors.read + errors.write + errors.timeout,
    summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
