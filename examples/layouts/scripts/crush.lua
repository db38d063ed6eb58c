-- CRUSH-like pseudorandom placement: the file is cut into objects of `objectSize` bytes;
-- each replica of object o goes to the device with the highest straw2 draw
-- log(u) / weight, u a 16-bit hash of (file, o), the device and the replica: adding or
-- removing a device moves only the objects it wins or held. A replica that lands on a
-- device already chosen draws again (50 times, then the first free device in table order).
-- Objects sit at their file offset on their device (sparse, like Ceph's per-file objects).
return function(p, devices)
  local objsize = int(p.objectSize, 'objectSize', 1)
  local file = int(p.fileId, 'fileId', 0)
  local replicas = int(p.replicas or 1, 'replicas', 1)
  local ids, weights, n = {}, {}, 0
  for i = 1, #devices do
    local w = weight(devices[i], i)
    if w > 0 then
      n = n + 1
      ids[n], weights[n] = devices[i].id, w
    end
  end
  if replicas > n then error(replicas .. ' replicas need as many devices of positive weight, got ' .. n, 0) end

  local function straw2(key, r)
    local best, bestDraw = 1, nil
    for i = 1, n do
      local u = hash3(key, ids[i], r) & 0xffff
      local draw = ((log2fix(u + 1) - 0x100000) * 0x10000) // weights[i]
      if bestDraw == nil or draw > bestDraw then best, bestDraw = i, draw end
    end
    return best
  end

  local function place(obj)
    local key = hash3(file, obj, 0)
    local chosen, taken = {}, {}
    for r = 0, replicas - 1 do
      local pick
      for attempt = 0, 49 do
        local i = straw2(key, r + attempt * replicas)
        if not taken[i] then pick = i break end
      end
      if pick == nil then
        pick = 1
        while taken[pick] do pick = pick + 1 end
      end
      taken[pick] = true
      chosen[r + 1] = ids[pick]
    end
    return chosen
  end

  return objectLayout(objsize, replicas, place)
end
