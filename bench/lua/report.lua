-- Shared by the bench's scripts: `done` prints one line, "WRK_RESULT {json}", that bench/load.py
-- reads (requests, duration, errors, latency percentiles in microseconds, bodies reused).
local report = {}

function report.done(summary, latency, wrapped)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,' ..
    '"max_us":%d,"wrapped":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean,
    latency.max, wrapped or 0))
end

return report
