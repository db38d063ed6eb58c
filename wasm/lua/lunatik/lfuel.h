/*
** Fuel: the instruction budget of lunatik-wasm, compiled into the interpreter.
**
** One counter per image (an image runs one call at a time): every dispatched Lua
** instruction takes one unit (lvm.c, vmfetch) and the C loops that a script can keep
** running take units too (see the list in lfuel.c). When the counter goes negative the
** host is asked for another slice (env.lunatik_refuel: the instruction budget and the
** soft deadline live there); when it refuses, the image is "stopped": the running
** operation raises LUA_ERRFUEL, and so does every later charge, in any coroutine, in a
** message handler, a __close or a __gc, until the host starts the next call.
**
** LUA_ERRFUEL is raised like a memory error (luaD_throw, no message handler runs, no
** allocation at the raise point, the message is preallocated): it is safe wherever an
** allocation may fail. Places where not even that is safe (hash-chain walks inside the
** table code) use lunatik_chargequiet: they only count, and if a single operation there
** overruns the budget by LUNATIK_FUEL_MARGIN units, the image traps (the host discards
** the instance: the last resort).
*/
#ifndef lfuel_h
#define lfuel_h

#include "lua.h"

/* A status beyond Lua's own (lauxlib's LUA_ERRFILE is LUA_ERRERR + 1): the budget or the deadline ran out. */
#define LUA_ERRFUEL	(LUA_ERRERR + 2)

#define LUNATIK_FUEL_MESSAGE	"instruction budget exceeded"

/* Units a quiet charge may overrun an exhausted budget before the image traps. */
#define LUNATIK_FUEL_MARGIN	((long long)1 << 26)

extern long long lunatik_fuel;

LUAI_FUNC void lunatik_outoffuel (lua_State *L);
LUAI_FUNC void lunatik_fuelfloor (void);

/* Charges n units; raises LUA_ERRFUEL when the budget is spent. */
#define lunatik_charge(L,n) \
  { if (__builtin_expect((lunatik_fuel -= (long long)(n)) < 0, 0)) lunatik_outoffuel(L); }

/* Charges n units where no error may be raised. */
#define lunatik_chargequiet(n) \
  { if (__builtin_expect((lunatik_fuel -= (long long)(n)) < -LUNATIK_FUEL_MARGIN, 0)) \
      lunatik_fuelfloor(); }

/*
** Costs in units, so that a unit takes about as long as a Lua instruction (2-3 ns on the
** machine where they were measured; bench/results/fuel-costs.md): copying or scanning
** LUNATIK_FUEL_BYTES bytes, one step of the pattern matcher, and a protected call
** (pcall, coroutine.resume, load, a finalizer), which crosses into the host twice for the
** setjmp/longjmp shim and costs a microsecond or more.
*/
#define LUNATIK_FUEL_BYTES	32
#define LUNATIK_FUEL_MATCH	4
#define LUNATIK_FUEL_PROTECTED	512

#define lunatik_bytes(n)	(1 + ((size_t)(n) / LUNATIK_FUEL_BYTES))

#endif
