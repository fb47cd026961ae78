-- wrk script: HTTP/1.1 pipelining. Every write carries `depth` requests (GET /, GET /healthz
-- and POST /echo in turn) and wrk counts each response, so answers must come back complete and
-- in request order.
--   wrk -t1 -c4 -d3s -s tests/integration/pipeline.lua http://127.0.0.1:PORT/ -- 16

local pipelined

init = function(args)
  local depth = tonumber(args[1]) or 16
  local requests = {}
  for i = 1, depth do
    local kind = i % 3
    if kind == 0 then
      requests[i] = wrk.format("POST", "/echo", {["Content-Type"] = "text/plain"},
                               "pipelined body " .. i)
    elseif kind == 1 then
      requests[i] = wrk.format("GET", "/")
    else
      requests[i] = wrk.format("GET", "/healthz")
    end
  end
  pipelined = table.concat(requests)
end

request = function()
  return pipelined
end
