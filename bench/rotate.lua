-- wrk script: each request takes the next path of WRK_PATHS ("/a" "/b" ...), round-robin.
local paths = {}
for path in string.gmatch(os.getenv("WRK_PATHS") or "/", '"([^"]+)"') do
  table.insert(paths, "/" .. path)
end
local index = 0

request = function()
  index = index % #paths + 1
  return wrk.format("GET", paths[index])
end
