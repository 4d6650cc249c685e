-- TikTok webhooks: pre-signed deliveries, one a line ("<signature>\t<body>") in
-- BENCH_BODY_FILE, each with its own tts_notification_id and return_id. Thread n of N sends
-- lines n, n+N, ... in order; a thread that runs out starts over and counts it in `wrapped`
-- (the bench then fails: repeats would be answered as cheap duplicates).
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local report = require("report")

local threads = {}
local count = 0

function setup(thread)
  thread:set("tid", count)
  count = count + 1
  table.insert(threads, thread)
end

function init(args)
  local n = tonumber(os.getenv("BENCH_THREADS") or "1")
  requests_ = {}
  wrapped = 0
  local i = 0
  for line in io.lines(os.getenv("BENCH_BODY_FILE")) do
    if i % n == tid then
      local tab = line:find("\t", 1, true)
      local headers = {
        ["Authorization"] = line:sub(1, tab - 1),
        ["Content-Type"] = "application/json",
      }
      table.insert(requests_, wrk.format("POST", "/webhooks/tiktok", headers, line:sub(tab + 1)))
    end
    i = i + 1
  end
  next_ = 0
end

function request()
  next_ = next_ + 1
  if next_ > #requests_ then
    next_ = 1
    wrapped = wrapped + 1
  end
  return requests_[next_]
end

function done(summary, latency, requests)
  local wrapped_total = 0
  for _, thread in ipairs(threads) do
    wrapped_total = wrapped_total + (thread:get("wrapped") or 0)
  end
  report.done(summary, latency, wrapped_total)
end
