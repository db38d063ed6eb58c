-- Table insert/remove: table.insert/table.remove at the end and in the middle, array growth.
-- N is the number of rounds; the checksum stays below 2^31 (fengari has 32-bit integers).
local rounds = N or 60
local sum = 0
for r = 1, rounds do
  local t = {}
  for i = 1, 20000 do table.insert(t, i + r) end
  for i = 1, 20 do table.insert(t, (i * 7) % #t + 1, i) end
  for _ = 1, 20 do sum = (sum + table.remove(t, (r * 13) % #t + 1)) % 1000003 end
  while #t > 0 do sum = (sum + table.remove(t)) % 1000003 end
end
return tostring(sum)
