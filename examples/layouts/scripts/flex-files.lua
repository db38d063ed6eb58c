-- Flexible file layout (RFC 8435): every byte is written to each of k mirrors; a mirror
-- is a list of data servers striped densely in units of `stripeUnit` (ffl_stripe_unit).
-- `mirrors` lists, per mirror, 0-based positions in the device table.
return function(p, devices)
  local unit = int(p.stripeUnit, 'stripeUnit', 1)
  if type(p.mirrors) ~= 'table' or #p.mirrors == 0 then error('mirrors must be a non-empty list', 0) end
  local mirrors = {}
  for m = 1, #p.mirrors do mirrors[m] = deviceIds(p.mirrors[m], devices, 'mirrors[' .. m .. ']') end
  local k = #mirrors
  return function(offset, length)
    local lists = {}
    for m = 1, k do lists[m] = stripe({}, mirrors[m], unit, 0, 0, true, offset, length) end
    return table.unpack(lists, 1, k)
  end, { mirrors = k }
end
