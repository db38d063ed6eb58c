-- Consistent hashing ring with virtual nodes: each device owns vnodes * weight points
-- hash(id, v) on a 32-bit ring; object o of the file (objects of `objectSize` bytes) goes
-- to the owner of the first point at or after hash(file, o), its replicas to the next
-- distinct owners clockwise. Objects sit at their file offset on their device (sparse).
return function(p, devices)
  local objsize = int(p.objectSize, 'objectSize', 1)
  local file = int(p.fileId, 'fileId', 0)
  local replicas = int(p.replicas or 1, 'replicas', 1)
  local vnodes = int(p.vnodes, 'vnodes', 1)
  local entries, owners = {}, 0
  for i = 1, #devices do
    local id, w = devices[i].id, weight(devices[i], i)
    if w > 0 then owners = owners + 1 end
    for v = 0, vnodes * w - 1 do entries[#entries + 1] = { hash3(id, v, 0x5bd1e995), id } end
  end
  if replicas > owners then error(replicas .. ' replicas need as many devices of positive weight, got ' .. owners, 0) end
  table.sort(entries, function(a, b)
    if a[1] ~= b[1] then return a[1] < b[1] end
    return a[2] < b[2]
  end)
  local points, owner = {}, {}
  for i = 1, #entries do points[i], owner[i] = entries[i][1], entries[i][2] end
  local size = #points

  local function place(obj)
    local h = hash3(file, obj, 1)
    local lo, hi = 1, size + 1
    while lo < hi do
      local mid = (lo + hi) // 2
      if points[mid] < h then lo = mid + 1 else hi = mid end
    end
    if lo > size then lo = 1 end
    local chosen, seen = {}, {}
    while #chosen < replicas do
      local id = owner[lo]
      if not seen[id] then
        seen[id] = true
        chosen[#chosen + 1] = id
      end
      lo = lo % size + 1
    end
    return chosen
  end

  return objectLayout(objsize, replicas, place)
end
