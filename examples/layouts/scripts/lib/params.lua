-- Parameter checks shared by the layouts (fixed/params.ts says the same in TypeScript).
local function int(v, name, min)
  if math.type(v) ~= 'integer' or v < min then
    error(name .. ' must be an integer >= ' .. min .. ', got ' .. tostring(v), 0)
  end
  return v
end

-- Device ids for a list of 0-based positions in the device table.
local function deviceIds(positions, devices, name)
  if type(positions) ~= 'table' or #positions == 0 then error(name .. ' must be a non-empty list', 0) end
  local ids = {}
  for i = 1, #positions do
    local at = int(positions[i], name .. '[' .. i .. ']', 0)
    if at >= #devices then error(name .. '[' .. i .. '] = ' .. at .. ' is past the device table', 0) end
    ids[i] = devices[at + 1].id
  end
  return ids
end

-- The weight of a device (default 1); 0 takes it out of pseudorandom placement.
local function weight(device, i)
  return int(device.weight or 1, 'devices[' .. i .. '].weight', 0)
end
