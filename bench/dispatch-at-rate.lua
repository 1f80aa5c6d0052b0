-- wrk script: shared/bench/dispatch.lua's dispatches, each connection pausing DELAY_MS milliseconds before each
-- dispatch, so that D connections offer about D * 1000 / (DELAY_MS + latency) dispatches/s whatever the server's
-- speed (a fixed rate, for CPU time per dispatch below saturation). DISPATCH_LUA is the path of dispatch.lua.
dofile(os.getenv("DISPATCH_LUA"))
local pause = tonumber(os.getenv("DELAY_MS") or "10")
function delay()
  return pause
end
