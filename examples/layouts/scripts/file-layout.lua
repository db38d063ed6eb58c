-- NFSv4.1 file layout (RFC 8881 section 13.4, formerly RFC 5661): the file is cut into stripe
-- units of `stripeUnit` bytes from `patternOffset`; unit i goes to the device at position
-- stripeIndices[(i + firstStripeIndex) % #stripeIndices] of the device table; `dense`
-- packs each device's units back to back, otherwise (sparse) a unit sits at its file offset.
return function(p, devices)
  local unit = int(p.stripeUnit, 'stripeUnit', 1)
  local first = int(p.firstStripeIndex or 0, 'firstStripeIndex', 0)
  local base = int(p.patternOffset or 0, 'patternOffset', 0)
  local dense = p.dense == true
  local ids = deviceIds(p.stripeIndices, devices, 'stripeIndices')
  if first >= #ids then error('firstStripeIndex must be below the stripe count ' .. #ids, 0) end
  return function(offset, length)
    if offset < base then error('offset ' .. offset .. ' is below the pattern offset ' .. base, 0) end
    return stripe({}, ids, unit, first, base, dense, offset, length)
  end
end
