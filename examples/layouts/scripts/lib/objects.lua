-- What the object-placing layouts share (fixed/objects.ts says the same): the request cut
-- into objects of `objsize` bytes, each placed whole, at its file offset, on the devices
-- `place(object)` returns, one per replica. Returns one flat extent list per replica.
local function placeObjects(offset, length, objsize, replicas, place)
  local lists = {}
  for r = 1, replicas do lists[r] = {} end
  local pos, stop, m = offset, offset + length, 0
  while pos < stop do
    local obj = pos // objsize
    local len = (obj + 1) * objsize - pos
    if len > stop - pos then len = stop - pos end
    local ids = place(obj)
    for r = 1, replicas do
      local list = lists[r]
      list[m + 1], list[m + 2], list[m + 3] = ids[r], pos, len
    end
    m = m + 3
    pos = pos + len
  end
  return table.unpack(lists, 1, replicas)
end

-- The resolve function and shape of a layout that places objects with `place`.
local function objectLayout(objsize, replicas, place)
  return function(offset, length)
    return placeObjects(offset, length, objsize, replicas, place)
  end, { mirrors = replicas }
end
