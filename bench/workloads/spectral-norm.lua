-- spectral-norm (Benchmarks Game): float loops and function calls in tight inner loops.
-- N is the matrix order.
local n = N or 600
local function A(i, j)
  local ij = i + j - 1
  return 1.0 / (ij * (ij - 1) * 0.5 + i)
end
local function Av(x, y, m)
  for i = 1, m do
    local a = 0
    for j = 1, m do a = a + x[j] * A(i, j) end
    y[i] = a
  end
end
local function Atv(x, y, m)
  for i = 1, m do
    local a = 0
    for j = 1, m do a = a + x[j] * A(j, i) end
    y[i] = a
  end
end
local function AtAv(x, y, t, m)
  Av(x, t, m)
  Atv(t, y, m)
end
local u, v, t = {}, {}, {}
for i = 1, n do u[i] = 1 end
for _ = 1, 10 do
  AtAv(u, v, t, n)
  AtAv(v, u, t, n)
end
local vBv, vv = 0, 0
for i = 1, n do
  local ui, vi = u[i], v[i]
  vBv = vBv + ui * vi
  vv = vv + vi * vi
end
return string.format("%.9f", math.sqrt(vBv / vv))
