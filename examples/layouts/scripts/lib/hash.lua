-- A 32-bit integer hash that TypeScript computes identically (fixed/hash.ts): Chris
-- Wellons' lowbias32 mix; the products are taken modulo 2^32 with a mask, as Math.imul does.
local M32 = 0xffffffff

local function mix32(h)
  h = h ~ (h >> 16)
  h = (h * 0x7feb352d) & M32
  h = h ~ (h >> 15)
  h = (h * 0x846ca68b) & M32
  return h ~ (h >> 16)
end

-- A non-negative integer below 2^53, folded to 32 bits.
local function fold(v)
  return (v & M32) ~ (v >> 32)
end

local function hash3(a, b, c)
  return mix32(mix32(mix32(fold(a) ~ 0x9e3779b9) ~ fold(b)) ~ fold(c))
end
