-- log2(x) for 1 <= x <= 2^16 in fixed point with 16 fractional bits, by repeated squaring:
-- integer steps only, so TypeScript (fixed/straw2.ts) gets the same bits. Straw2 needs a
-- logarithm; a float log could differ between C and V8 in the last bit.
local function log2fix(x)
  local n = 0
  while x >> (n + 1) ~= 0 do n = n + 1 end
  local y = (x << 16) >> n
  local r = n << 16
  for bit = 15, 0, -1 do
    y = (y * y) >> 16
    if y >= 0x20000 then
      y = y >> 1
      r = r | (1 << bit)
    end
  end
  return r
end
