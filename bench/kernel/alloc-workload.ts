/*
 * The allocation-heavy workload of issue 3: binary-trees of depth 15, then 200,000
 * formatted strings. Plain Lua 5.4, so the kernel and a bare state run the same code.
 */
export const ALLOC_WORKLOAD = `
local function bottomUp(depth)
  if depth == 0 then return {} end
  depth = depth - 1
  return { bottomUp(depth), bottomUp(depth) }
end
local function check(tree)
  if tree[1] then return 1 + check(tree[1]) + check(tree[2]) end
  return 1
end
local maxDepth = 15
local total = check(bottomUp(maxDepth + 1))
local long = bottomUp(maxDepth)
for depth = 4, maxDepth, 2 do
  local iters = 1 << (maxDepth - depth + 4)
  for _ = 1, iters do total = total + check(bottomUp(depth)) end
end
total = total + check(long)
local parts = {}
for i = 1, 200000 do parts[#parts + 1] = string.format("item %d: %08.3f|%s", i, i / 7, "x") end
return total + #table.concat(parts, "\\n")
`;
