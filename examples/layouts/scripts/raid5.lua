-- Rotating parity (RAID-5, left-symmetric) over every device of the table, in table order:
-- row r holds n - 1 data units and one parity unit, the parity on position n - 1 - r % n
-- and the data units on the positions after it, wrapping. Returns the data extents, then
-- the parity unit of every row the request touches (what a write must update).
return function(p, devices)
  local unit = int(p.stripeUnit, 'stripeUnit', 1)
  local n = #devices
  if n < 3 then error('rotating parity needs at least 3 devices, got ' .. n, 0) end
  local ids = {}
  for i = 1, n do ids[i] = devices[i].id end
  local width = unit * (n - 1)
  return function(offset, length)
    local data, parity = {}, {}
    local pos, stop, m = offset, offset + length, 0
    while pos < stop do
      local row, inrow = pos // width, pos % width
      local within = inrow % unit
      local len = unit - within
      if len > stop - pos then len = stop - pos end
      data[m + 1] = ids[(n - 1 - row % n + 1 + inrow // unit) % n + 1]
      data[m + 2] = row * unit + within
      data[m + 3] = len
      m = m + 3
      pos = pos + len
    end
    m = 0
    for row = offset // width, (stop - 1) // width do
      parity[m + 1] = ids[n - row % n]
      parity[m + 2] = row * unit
      parity[m + 3] = unit
      m = m + 3
    end
    return data, parity
  end, { parity = true }
end
