;; The hot path of lunatik_buffer: __index, __newindex, __len and __call of a buffer,
;; written by hand so that `buf[i]` never leaves WebAssembly.
;;
;; This file is the source. wasm/buffer-access.bytes.ts holds the bytes wat2wasm (wabt)
;; makes of it; test/bindings/buffer-access-wat.test.ts assembles this file again and
;; fails if the two differ. After editing this file:
;;   npx tsc -p tsconfig.json && node dist/test/wat.js --write && npx tsc -p tsconfig.json
;;
;; A buffer is a full userdata with no user values, laid out as
;;   offset 0: u32 size in bytes
;;   offset 4: u32 reserved, 0
;;   offset 8: the bytes
;;
;; Each function is a lua_CFunction, (L: i32) -> i32.
;;
;; __index and __newindex handle the common case only: an integer key within 1..size and,
;; for __newindex, an integer value within 0..255. Everything else (method names, floats
;; with an integral value, every error and its message) goes to the JavaScript binding
;; imported as host.index / host.newindex, which implements the whole behaviour; this
;; module is only a faster route to the same answers.
;;
;; Those two read their arguments straight from the Lua stack and push their result
;; there, instead of calling lua_touserdata, lua_isinteger, lua_tointegerx and
;; lua_pushinteger: those calls cost about a third of an access, and what is left is the Lua
;; VM's own metamethod dispatch. This depends on the layout of the pinned image
;; (wasmoon 1.16.0's Lua 5.4, wasm32):
;;   lua_State: StkId top at offset 12, CallInfo *ci at offset 20
;;   CallInfo:  StkId func at offset 0; argument k is the 16-byte slot func + 16k
;;   TValue:    value at offset 0 (i64 for an integer, Udata* for a full userdata),
;;              type tag byte at offset 8: 3 integer (LUA_VNUMINT), 0x47 full userdata
;;   Udata with no user values: its memory (lua_touserdata) starts 16 bytes in
;; `selftest` checks every one of these facts against the C API on a real C call, and
;; the loader (wasm/buffer-access.ts) uses index/newindex only if it passes; otherwise
;; the JavaScript bindings serve them, slower but the same.
;;
;; Argument 1 is trusted to be a buffer: these functions are reachable only as
;; metamethods of the buffer metatable, which scripts cannot get (`__metatable` is false
;; and there is no debug library), so Lua itself passes the buffer. The type tag is
;; checked all the same, and anything else goes to the host, which raises a type error.
(module
  (type $cfunction (func (param i32) (result i32)))
  (import "lua" "memory" (memory 0))
  (import "lua" "lua_gettop" (func $lua_gettop (param i32) (result i32)))
  (import "lua" "lua_touserdata" (func $lua_touserdata (param i32 i32) (result i32)))
  (import "lua" "lua_isinteger" (func $lua_isinteger (param i32 i32) (result i32)))
  (import "lua" "lua_tointegerx" (func $lua_tointegerx (param i32 i32 i32) (result i64)))
  (import "lua" "lua_pushinteger" (func $lua_pushinteger (param i32 i64)))
  (import "lua" "lua_createtable" (func $lua_createtable (param i32 i32 i32)))
  (import "lua" "lua_rawseti" (func $lua_rawseti (param i32 i32 i64)))
  ;; The complete behaviours, in JavaScript (they raise every error).
  (import "host" "index" (func $host_index (type $cfunction)))
  (import "host" "newindex" (func $host_newindex (type $cfunction)))
  ;; Raises "buffer expected" for argument 1.
  (import "host" "notbuffer" (func $host_notbuffer (type $cfunction)))

  ;; v = buf[i]   (stack: buf, i)
  (func $index (export "index") (type $cfunction)
    (local $arg i32)
    (local $ud i32)
    (local $offset i64)
    (local $top i32)
    (block $slow
      (local.set $arg ;; the first argument's slot: L->ci->func + 16
        (i32.add (i32.load (i32.load offset=20 (local.get 0))) (i32.const 16)))
      (br_if $slow (i32.ne (i32.load8_u offset=8 (local.get $arg)) (i32.const 0x47)))
      (br_if $slow (i32.ne (i32.load8_u offset=24 (local.get $arg)) (i32.const 3)))
      (local.set $ud (i32.add (i32.load (local.get $arg)) (i32.const 16)))
      ;; i - 1 compared unsigned: below the size exactly when 1 <= i <= size
      (local.set $offset (i64.sub (i64.load offset=16 (local.get $arg)) (i64.const 1)))
      (br_if $slow (i64.ge_u (local.get $offset) (i64.load32_u (local.get $ud))))
      ;; push the integer: value, tag, top + 1 (a C function always has LUA_MINSTACK free slots)
      (local.set $top (i32.load offset=12 (local.get 0)))
      (i64.store (local.get $top)
        (i64.load8_u offset=8 (i32.add (local.get $ud) (i32.wrap_i64 (local.get $offset)))))
      (i32.store8 offset=8 (local.get $top) (i32.const 3))
      (i32.store offset=12 (local.get 0) (i32.add (local.get $top) (i32.const 16)))
      (return (i32.const 1)))
    (call $host_index (local.get 0)))

  ;; buf[i] = v   (stack: buf, i, v)
  (func $newindex (export "newindex") (type $cfunction)
    (local $arg i32)
    (local $ud i32)
    (local $offset i64)
    (local $value i64)
    (block $slow
      (local.set $arg ;; the first argument's slot: L->ci->func + 16
        (i32.add (i32.load (i32.load offset=20 (local.get 0))) (i32.const 16)))
      (br_if $slow (i32.ne (i32.load8_u offset=8 (local.get $arg)) (i32.const 0x47)))
      (br_if $slow (i32.ne (i32.load8_u offset=24 (local.get $arg)) (i32.const 3)))
      (br_if $slow (i32.ne (i32.load8_u offset=40 (local.get $arg)) (i32.const 3)))
      (local.set $ud (i32.add (i32.load (local.get $arg)) (i32.const 16)))
      (local.set $offset (i64.sub (i64.load offset=16 (local.get $arg)) (i64.const 1)))
      (br_if $slow (i64.ge_u (local.get $offset) (i64.load32_u (local.get $ud))))
      (local.set $value (i64.load offset=32 (local.get $arg)))
      ;; unsigned: a negative value is huge, so this also rejects v < 0
      (br_if $slow (i64.gt_u (local.get $value) (i64.const 255)))
      (i64.store8 offset=8
        (i32.add (local.get $ud) (i32.wrap_i64 (local.get $offset)))
        (local.get $value))
      (return (i32.const 0)))
    (call $host_newindex (local.get 0)))

  ;; #buf
  (func $len (export "len") (type $cfunction)
    (local $ud i32)
    (local.set $ud (call $lua_touserdata (local.get 0) (i32.const 1)))
    (if (i32.eqz (local.get $ud))
      (then (return (call $host_notbuffer (local.get 0)))))
    (call $lua_pushinteger (local.get 0) (i64.load32_u (local.get $ud)))
    (i32.const 1))

  ;; buf(): a new table { buf[1], ..., buf[#buf] }
  (func $call (export "call") (type $cfunction)
    (local $ud i32)
    (local $size i32)
    (local $i i32)
    (local.set $ud (call $lua_touserdata (local.get 0) (i32.const 1)))
    (if (i32.eqz (local.get $ud))
      (then (return (call $host_notbuffer (local.get 0)))))
    (local.set $size (i32.load (local.get $ud)))
    ;; may raise a memory error: a longjmp, which unwinds through here as through C.
    ;; The collector never moves a userdata, so $ud stays valid.
    ;; The size is only a hint, capped at 2^20 slots: Lua sizes the array part as
    ;; n * 16 bytes in a 32-bit size_t with no overflow check, so a hint of 2^28 or more
    ;; would wrap to a small block and the loop would write past it. Above the cap the
    ;; table grows as rawseti fills it, through Lua's checked growth (a memory error).
    (call $lua_createtable (local.get 0)
      (select (local.get $size) (i32.const 0x100000) (i32.le_u (local.get $size) (i32.const 0x100000)))
      (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $size)))
        (call $lua_pushinteger (local.get 0)
          (i64.load8_u offset=8 (i32.add (local.get $ud) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (call $lua_rawseti (local.get 0) (i32.const -2) (i64.extend_i32_u (local.get $i)))
        (br $next)))
    (i32.const 1))

  ;; Checks the layout facts above on a real C call with the arguments
  ;; (a full userdata with no user values, 3, 2.5, 200); returns 1 value, 1 if all hold.
  (func $selftest (export "selftest") (type $cfunction)
    (local $arg i32)
    (local $top i32)
    (local $ok i32)
    (local.set $arg
      (i32.add (i32.load (i32.load offset=20 (local.get 0))) (i32.const 16)))
    (local.set $top (i32.load offset=12 (local.get 0)))
    (local.set $ok (i32.and
      (i32.eq (call $lua_gettop (local.get 0)) (i32.const 4))
      (i32.eq (local.get $top) (i32.add (local.get $arg) (i32.const 64)))))
    ;; 1: full userdata, memory 16 bytes into the object
    (local.set $ok (i32.and (local.get $ok) (i32.and
      (i32.eq (i32.load8_u offset=8 (local.get $arg)) (i32.const 0x47))
      (i32.eq (i32.add (i32.load (local.get $arg)) (i32.const 16))
              (call $lua_touserdata (local.get 0) (i32.const 1))))))
    ;; 2: the integer 3
    (local.set $ok (i32.and (local.get $ok) (i32.and
      (i32.eq (i32.load8_u offset=24 (local.get $arg)) (i32.const 3))
      (i32.and (i64.eq (i64.load offset=16 (local.get $arg)) (i64.const 3))
               (call $lua_isinteger (local.get 0) (i32.const 2))))))
    ;; 3: a float is not tagged as an integer
    (local.set $ok (i32.and (local.get $ok) (i32.and
      (i32.ne (i32.load8_u offset=40 (local.get $arg)) (i32.const 3))
      (i32.eqz (call $lua_isinteger (local.get 0) (i32.const 3))))))
    ;; 4: the integer 200, read as lua_tointegerx reads it
    (local.set $ok (i32.and (local.get $ok) (i32.and
      (i32.eq (i32.load8_u offset=56 (local.get $arg)) (i32.const 3))
      (i64.eq (i64.load offset=48 (local.get $arg))
              (call $lua_tointegerx (local.get 0) (i32.const 4) (i32.const 0))))))
    ;; a push the direct way is seen by the API as a fifth value, the integer 99
    (i64.store (local.get $top) (i64.const 99))
    (i32.store8 offset=8 (local.get $top) (i32.const 3))
    (i32.store offset=12 (local.get 0) (i32.add (local.get $top) (i32.const 16)))
    (local.set $ok (i32.and (local.get $ok) (i32.and
      (i32.eq (call $lua_gettop (local.get 0)) (i32.const 5))
      (i32.and (call $lua_isinteger (local.get 0) (i32.const 5))
               (i64.eq (call $lua_tointegerx (local.get 0) (i32.const 5) (i32.const 0)) (i64.const 99))))))
    (call $lua_pushinteger (local.get 0) (i64.extend_i32_u (local.get $ok)))
    (i32.const 1)))
