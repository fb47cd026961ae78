-- wrk script: HTTP/1.1 pipelining. Every write carries `depth` requests and wrk counts every
-- response, so the "Requests/sec" wrk prints is responses per second, and answers must come back
-- complete and in request order.
--   wrk -t1 -c4 -d3s -s loadtest/pipeline.lua http://127.0.0.1:PORT/ -- 16        GET /, GET
--       /healthz and POST /echo in turn (tests/integration/http.sh, against srv)
--   wrk -t1 -c64 -d5s -s loadtest/pipeline.lua http://127.0.0.1:PORT/ -- 16 get   GET / only
--       (loadtest/peers.sh, the same requests to srv and nginx)

local pipelined

init = function(args)
  local depth = math.max(tonumber(args[1]) or 16, 1)
  local get_only = args[2] == "get"
  local requests = {}
  for i = 1, depth do
    local kind = get_only and 1 or i % 3
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
