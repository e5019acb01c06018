-- POST /api/auth/refresh. Each refresh credential is single-use, so every answer's new
-- `refresh_token` goes back into this thread's pool and is presented next. A thread starts
-- with as many credentials as it has connections (one chain per connection, from the file
-- BENCH_TOKENS, one credential per line; thread i takes lines i*k+1 .. i*k+k). Each
-- connection has one request in flight, and wrk reads an answer before it writes the next
-- request, so the pool never runs dry unless an answer is an error (then the chain is lost
-- and counted as a status error).
dofile(os.getenv("BENCH_LUA") .. "/report.lua")
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local pool = {}
-- Sent when a thread's pool is empty (a chain was lost): well-formed, never issued, so it
-- is refused as unknown without looking like the reuse of a real credential.
local NONE = "tsr_" .. string.rep("A", 43)
-- wrk 4.1 calls request() once in the first thread's state before any connection, to
-- check what it returns; that request is never sent, so it must not take a credential.
local dry_run = false

function init(args)
  local per = tonumber(os.getenv("BENCH_PER_THREAD"))
  local i = 0
  dry_run = (tid == 1)
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    if i >= (tid - 1) * per and i < tid * per then
      pool[#pool + 1] = line
    end
    i = i + 1
  end
end

function request()
  local token
  if dry_run then
    dry_run = false
    token = NONE
  else
    token = table.remove(pool) or NONE
  end
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"},
    '{"refresh_token":"' .. token .. '"}')
end

function response(status, headers, body)
  if status == 200 then
    local next_token = string.match(body, '"refresh_token":"([^"]+)"')
    if next_token then
      pool[#pool + 1] = next_token
    end
  end
end
