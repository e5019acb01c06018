-- A fixed GET, optionally with `Authorization: <BENCH_AUTH>`. No per-request Lua.
dofile(os.getenv("BENCH_LUA") .. "/report.lua")
local auth = os.getenv("BENCH_AUTH")
if auth and auth ~= "" then
  wrk.headers["Authorization"] = auth
end
