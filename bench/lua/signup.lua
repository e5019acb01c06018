-- Sign-up with an address never used before: a random prefix per run (BENCH_PREFIX), the
-- thread number and a counter per thread.
dofile(os.getenv("BENCH_LUA") .. "/report.lua")
local prefix = os.getenv("BENCH_PREFIX")
local password = os.getenv("BENCH_PASSWORD")
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local n = 0
function request()
  n = n + 1
  local body = string.format(
    '{"name":"Load %d","email":"%s-%d-%d@bench.example.com","password":"%s"}',
    n, prefix, tid, n, password)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
