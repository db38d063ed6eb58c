-- String building: string.format, concatenation, string library calls and table.concat.
-- N is the number of records; the checksum stays below 2^31 (fengari has 32-bit integers).
local n = N or 280000
local parts = {}
for i = 1, n do
  local key = "k" .. (i % 977)
  local rec = string.format("%s=%d:%05.2f;", key, i * 3 % 10007, (i % 1000) / 7)
  if i % 3 == 0 then rec = rec:upper() end
  parts[#parts + 1] = rec .. string.rep("x", i % 5)
end
local s = table.concat(parts)
local h = 0
for i = 1, #s, 97 do h = (h * 31 + s:byte(i)) % 65521 end
local count = 0
for _ in s:gmatch("K%d+=") do count = count + 1 end
return #s .. " " .. h .. " " .. count
