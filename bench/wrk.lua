-- Cycles through the request paths listed in the file named by WRK_PATHS (one per
-- line), each connection starting at its own offset, and reports the latency
-- percentiles and throughput as one JSON line.
-- A line may end with a tab and an ETag, sent as If-None-Match.
local paths = {}
local etags = {}
for line in io.lines(os.getenv("WRK_PATHS")) do
  local path, etag = line:match("^([^\t]*)\t(.*)$")
  paths[#paths + 1] = path or line
  etags[#paths] = etag
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
  local number = (position % #paths) + 1
  local headers = { ["Accept-Encoding"] = "gzip" }
  if etags[number] then
    headers["If-None-Match"] = etags[number]
  end
  return wrk.format("GET", paths[number], headers)
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
