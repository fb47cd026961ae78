-- wrk script: HTTP/1.1 pipelining of `GET /` only. Every write carries `depth` identical
-- requests (script argument, default 16) and wrk counts every response, so the "Requests/sec"
-- wrk prints is responses per second. Used by loadtest/peers.sh against srv and nginx:
--   wrk -t1 -c64 -d5s -s loadtest/get_pipeline.lua http://127.0.0.1:PORT/ -- 16

local pipelined

init = function(args)
  local depth = tonumber(args[1]) or 16
  if depth < 1 then
    depth = 1
  end
  local request = wrk.format("GET", "/")
  local requests = {}
  for i = 1, depth do
    requests[i] = request
  end
  pipelined = table.concat(requests)
end

request = function()
  return pipelined
end
