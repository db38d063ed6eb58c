/*
** Fuel accounting of lunatik-wasm (see lfuel.h). Where fuel is charged, and what happens
** when it runs out there:
**
** Raise LUA_ERRFUEL (the call ends with -ETIME, the state lives on):
**   lvm.c      every dispatched instruction (vmfetch), one unit;
**              luaV_concat: the bytes of each concatenation;
**   lstrlib.c  pattern matching (find, match, gmatch, gsub): every step of match(), and
**              the plain find's candidate positions; string.rep: every copy;
**              upper, lower, reverse: their bytes;
**   ltablib.c  table.insert and table.remove shifting, table.move, table.concat,
**              table.unpack: every element; table.sort: every comparison;
**   lutf8lib.c utf8.len, utf8.codepoint, utf8.offset: every character;
**   lauxlib.c  luaL_Buffer: the bytes added (string building in every library).
** Count only, and trap past LUNATIK_FUEL_MARGIN (the kernel discards the instance and
** reports -ETIME; the next call boots a fresh state):
**   ltable.c   hash-chain walks of lookups (colliding keys), including those of a rehash,
**              where an error would leave a table half-built.
** Not charged, because their work is bounded by the size of something the memory budget
** already bounds: the lexer and parser (by the source, which a reader function can only
** supply through charged Lua code), garbage collection (by the heap; finalizers are Lua
** code), string hashing and comparison, number conversion, string.format/pack/unpack (by
** the format), the stack-bounded library functions (select, string.byte/char, utf8.char).
*/
#define lfuel_c
#define LUA_CORE

#include "lprefix.h"

#include "lua.h"
#include "ldo.h"
#include "lfuel.h"

long long lunatik_fuel = 0;

/* Units given to the current call so far; units used = granted - lunatik_fuel. */
static long long granted = 0;

/* The host refused more fuel: every charge raises until the next lunatik_fuelstart. */
static int stopped = 0;

/* Served by the kernel (wasm/syscall-table.ts): the next slice, or 0 to stop. */
extern double lunatik_refuel (double used);

/* Asks the host until the counter is non-negative again; false once stopped. */
static int refuel (void) {
  while (!stopped && lunatik_fuel < 0) {
    double more = lunatik_refuel((double)(granted - lunatik_fuel));
    if (!(more >= 1)) {
      stopped = 1;
      break;
    }
    granted += (long long)more;
    lunatik_fuel += (long long)more;
  }
  return !stopped;
}

void lunatik_outoffuel (lua_State *L) {
  if (refuel()) return;
  lunatik_fuel = 0;  /* the raise itself is not charged: 'used' stays the budget */
  luaD_throw(L, LUA_ERRFUEL);
}

void lunatik_fuelfloor (void) {
  if (!refuel()) __builtin_trap();
}

/* Exported: a new call gets its first slice (the host passes 2^53 for "unlimited"). */
void lunatik_fuelstart (double slice) {
  granted = (long long)slice;
  lunatik_fuel = granted;
  stopped = 0;
}

/* Exported: units charged since lunatik_fuelstart. */
double lunatik_fuelused (void) {
  return (double)(granted - lunatik_fuel);
}
