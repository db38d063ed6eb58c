-- The layout engine's side of the kernel (run once per Lua state). Each layout script is
-- loaded as text into an environment of its own holding only the safe library, so it
-- cannot reach `layouts`, the engine's functions or another layout; its resolve function
-- is kept in `layouts[slot]`, where kernel.call('layouts.<slot>') finds it.
layouts = {}

local G = _G
local SAFE = {
  'assert', 'error', 'getmetatable', 'ipairs', 'next', 'pairs', 'pcall', 'rawequal', 'rawget',
  'rawlen', 'rawset', 'select', 'setmetatable', 'tonumber', 'tostring', 'type', 'xpcall',
  'coroutine', 'math', 'string', 'table', 'utf8', '_VERSION',
}

-- Returns 'ok', mirrors, parity; or 'syntax', message. Errors (and limits) propagate.
function layout_install(slot, code, name, params, devices)
  local env = {}
  for _, k in ipairs(SAFE) do env[k] = G[k] end
  local chunk, err = load(code, '=' .. name, 't', env)
  if not chunk then return 'syntax', err end
  local make = chunk()
  if type(make) ~= 'function' then error(name .. ': the script must return function(params, devices), got ' .. type(make), 0) end
  local resolve, info = make(params, devices)
  if type(resolve) ~= 'function' then error(name .. ': the layout must return a resolve function, got ' .. type(resolve), 0) end
  local mirrors, parity = 1, false
  if info ~= nil then
    if type(info) ~= 'table' then error(name .. ': the layout info must be a table, got ' .. type(info), 0) end
    mirrors = rawget(info, 'mirrors') or 1
    parity = rawget(info, 'parity') or false
    if math.type(mirrors) ~= 'integer' or mirrors < 1 then error(name .. ': mirrors must be a positive integer', 0) end
    if type(parity) ~= 'boolean' then error(name .. ': parity must be a boolean', 0) end
  end
  layouts[slot] = resolve
  return 'ok', mirrors, parity
end

function layout_remove(slot)
  layouts[slot] = nil
end

-- Kernel pools (pool.ts): each worker has a state of its own and no call can pick its
-- worker, so the call that finds a layout's slot missing in its worker brings the layout
-- along and sets it up there first; the file's older slot in that state goes. Without
-- offset, only the set-up, answering as layout_install does.
local current = {}
function layout_pooled(file, slot, code, name, params, devices, offset, length)
  if layouts[slot] == nil or offset == nil then
    local status, a, b = layout_install(slot, code, name, params, devices)
    if status ~= 'ok' then
      if offset == nil then return status, a end
      error(a, 0)
    end
    if current[file] ~= nil and current[file] ~= slot then layouts[current[file]] = nil end
    current[file] = slot
    if offset == nil then return status, a, b end
  end
  return layouts[slot](offset, length)
end
