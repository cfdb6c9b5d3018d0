-- bench/supervision.py: status.lua's counter of non-200 responses, plus the 95th percentile
-- of latency (wrk --latency prints 50/75/90/99 only; the target of issue 6 is a p95).
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  not_ok = 0
  last_status = 0
end

function response(status, headers, body)
  if status ~= 200 then
    not_ok = not_ok + 1
    last_status = status
  end
end

function done(summary, latency, requests)
  local total, status = 0, 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("not_ok")
    local s = thread:get("last_status")
    if s ~= 0 then status = s end
  end
  io.write(string.format("HUXIAO_P95_US %d\n", latency:percentile(95.0)))
  io.write(string.format("HUXIAO_NOT_OK %d %d\n", total, status))
end
