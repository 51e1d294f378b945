-- Cycles through the request paths listed in the file named by WRK_PATHS (one per
-- line), each connection starting at its own offset, and reports the latency
-- percentiles and throughput as one JSON line.
local paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do
  paths[#paths + 1] = line
end
local counter = 0

function setup(thread)
  thread:set("offset", counter * 97)
  counter = counter + 1
end

function init(args)
  position = offset
end

function request()
  position = position + 1
  return wrk.format("GET", paths[(position % #paths) + 1], { ["Accept-Encoding"] = "gzip" })
end

function done(summary, latency, requests)
  io.write(string.format(
    '{"p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, "requests": %d, "errors": %d, "seconds": %.2f, "rps": %.1f}\n',
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status
      + summary.errors.timeout,
    summary.duration / 1e6, summary.requests / (summary.duration / 1e6)))
end
