-- RFC 8881 section 13.4.4: the stripe unit holding a file offset, and its offset on the data
-- server (dense packing: the servers hold the units back to back; sparse: at the file offset).
-- Appends one (device, deviceOffset, length) triple per stripe unit touched to `out`.
local function stripe(out, ids, unit, first, base, dense, offset, length)
  local count = #ids
  local width = unit * count
  local n = #out
  local pos, stop = offset, offset + length
  while pos < stop do
    local rel = pos - base
    local within = rel % unit
    local len = unit - within
    if len > stop - pos then len = stop - pos end
    out[n + 1] = ids[(rel // unit + first) % count + 1]
    out[n + 2] = dense and (rel // width) * unit + within or pos
    out[n + 3] = len
    n = n + 3
    pos = pos + len
  end
  return out
end
