-- Load of bench/gate.py: one connection per wrk thread (wrk -tN -cN), so that a thread's
-- requests follow each other and the pick-up mode can carry the lookup's token into the
-- release. Arguments (after `--`):
--   checkin <path> <first index> <threads> <host id>
--       POST <path> with a check-in body of a new person per request: person n gets a
--       valid resident ID number of region 110105 (no register person lives there), born
--       1971-01-01 + n // 999 days, sequence n % 999 + 1.
--   pickup <codes file> <first index> <threads>
--       POST /api/v1/pickup/lookup with code n (one JSON string a line: a PIN or a card
--       QR), then POST /api/v1/pickup/release with the lookup's confirmation token.
-- Thread t takes the indexes first + t, first + t + threads, ... Printed at the end (read by
-- bench/loadgen.py and bench/gate.py): HUXIAO_NOT_OK <count> <a status>, HUXIAO_NEXT <the
-- first index no thread used>, HUXIAO_EXHAUSTED <requests without a code left>.
local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("tid", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

local WEIGHTS = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
local CHECK = "10X98765432"
local FIRST_BORN = 31579200 -- 1971-01-01 12:00 UTC

local function id_number(n)
  local born = os.date("!%Y%m%d", FIRST_BORN + math.floor(n / 999) * 86400)
  local first17 = string.format("110105%s%03d", born, n % 999 + 1)
  local total = 0
  for i = 1, 17 do
    total = total + tonumber(first17:sub(i, i)) * WEIGHTS[i]
  end
  local check = total % 11 + 1
  return first17 .. CHECK:sub(check, check)
end

local function checkin_body(n)
  return string.format(
    '{"name":"访客%d","id_number":"%s","phone":"139%08d","purpose":"official",' ..
      '"purpose_note":"bench","host_id":%s,"items":"文件"}',
    n, id_number(n), n % 100000000, host_id)
end

function init(args)
  -- wrk.format uses wrk.headers (with -H's Authorization) only when given no headers.
  wrk.headers["Content-Type"] = "application/json"
  mode = args[1]
  not_ok = 0
  last_status = 0
  exhausted = 0
  step = tonumber(args[4])
  next_index = tonumber(args[3]) + tid
  if mode == "checkin" then
    path = args[2]
    host_id = args[5]
  elseif mode == "pickup" then
    codes = {}
    local i = 0
    local first = tonumber(args[3])
    for line in io.lines(args[2]) do
      if i >= first and (i - first) % step == tid then
        table.insert(codes, line)
      end
      i = i + 1
    end
    taken = 0
    token = nil
  else
    error("unknown mode " .. tostring(mode))
  end
  used = next_index
end

function request()
  if mode == "checkin" then
    local n = next_index
    next_index = next_index + step
    used = next_index
    expect = 201
    return wrk.format("POST", path, nil, checkin_body(n))
  end
  if token ~= nil then
    local body = '{"confirmation_token":"' .. token .. '"}'
    token = nil
    expect = 201
    return wrk.format("POST", "/api/v1/pickup/release", nil, body)
  end
  taken = taken + 1
  next_index = next_index + step
  used = next_index
  local code = codes[taken]
  expect = 200
  if code == nil then
    exhausted = exhausted + 1
    code = '"000000"' -- refused: the run fails with HUXIAO_EXHAUSTED
  end
  return wrk.format("POST", "/api/v1/pickup/lookup", nil, '{"code":' .. code .. '}')
end

function response(status, headers, body)
  if status ~= expect then
    not_ok = not_ok + 1
    last_status = status
  elseif mode == "pickup" and expect == 200 then
    token = body:match('"confirmation_token"%s*:%s*"([^"]+)"')
  end
end

function done(summary, latency, requests)
  local total, status, next_free, empty = 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("not_ok")
    local s = thread:get("last_status")
    if s ~= 0 then status = s end
    local u = thread:get("used")
    if u > next_free then next_free = u end
    empty = empty + thread:get("exhausted")
  end
  io.write(string.format("HUXIAO_NOT_OK %d %d\n", total, status))
  io.write(string.format("HUXIAO_NEXT %d\n", next_free))
  io.write(string.format("HUXIAO_EXHAUSTED %d\n", empty))
end
