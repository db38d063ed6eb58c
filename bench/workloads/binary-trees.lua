-- binary-trees (Benchmarks Game): allocation and GC of many small tables.
-- N is the maximum tree depth.
local maxdepth = N or 14
local function bottomup(depth)
  if depth == 0 then return {} end
  depth = depth - 1
  return { bottomup(depth), bottomup(depth) }
end
local function check(tree)
  if tree[1] then return 1 + check(tree[1]) + check(tree[2]) end
  return 1
end
local mindepth = 4
if mindepth + 2 > maxdepth then maxdepth = mindepth + 2 end
local out = {}
out[#out + 1] = check(bottomup(maxdepth + 1))
local longlived = bottomup(maxdepth)
for depth = mindepth, maxdepth, 2 do
  local iters = 1
  for _ = 1, maxdepth - depth + mindepth do iters = iters * 2 end
  local c = 0
  for _ = 1, iters do c = c + check(bottomup(depth)) end
  out[#out + 1] = c
end
out[#out + 1] = check(longlived)
return table.concat(out, " ")
