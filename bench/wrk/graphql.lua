-- POSTs GraphQL requests from a file of "<token>\t<json body>" lines, rotating through
-- them so that every request is another user's token and another session.
local tokens, bodies = {}, {}
local counter = 0
local path, apikey = "/graphql", nil

function init(args)
  path = args[2] or path
  apikey = args[3]
  for line in io.lines(args[1]) do
    local token, body = line:match("^([^\t]+)\t(.*)$")
    tokens[#tokens + 1] = token
    bodies[#bodies + 1] = body
  end
  counter = math.random(#bodies)
end

function request()
  counter = counter % #bodies + 1
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[counter],
  }
  if apikey then headers["apikey"] = apikey end
  return wrk.format("POST", path, headers, bodies[counter])
end

function response(status, headers, body)
  if status ~= 200 or body:find('"errors"', 1, true) then
    wrk.thread:set("bad", (wrk.thread:get("bad") or 0) + 1)
  end
end

bad_threads = {}
function setup(thread)
  bad_threads[#bad_threads + 1] = thread
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(bad_threads) do bad = bad + (thread:get("bad") or 0) end
  local e = summary.errors
  io.write(string.format("RESULT %d %d %.1f %.1f %.1f %d %d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.connect + e.read + e.write + e.timeout + e.status, bad))
end
