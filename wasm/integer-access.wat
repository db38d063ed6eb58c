;; lua_Integer arguments without BigInt: the C API takes and returns lua_Integer as an i64,
;; which crosses into JavaScript as a BigInt (tens of nanoseconds to make, per value). The
;; value bridge moves small integers (array indices, registry references, numbers that are
;; safe integers) as f64 or i32 instead, and these functions widen them inside Wasm, where
;; a call into another instance's export costs no more than a direct call.
;;
;; This file is the source. wasm/integer-access.bytes.ts holds the bytes wat2wasm (wabt)
;; makes of it; test/values/integer-access-wat.test.ts assembles this file again and fails
;; if the two differ. After editing this file:
;;   npx tsc -p tsconfig.json && node dist/test/wat.js --write && npx tsc -p tsconfig.json
;;
;; Callers pass only values that fit: a safe integer as the f64 (i64.trunc_f64_s would
;; trap on NaN or a value beyond int64, never reached), indices and references as i32.
(module
  (import "lua" "lua_pushinteger" (func $lua_pushinteger (param i32 i64)))
  (import "lua" "lua_rawseti" (func $lua_rawseti (param i32 i32 i64)))
  (import "lua" "lua_rawgeti" (func $lua_rawgeti (param i32 i32 i64) (result i32)))

  ;; lua_pushinteger(L, n) for a safe integer n given as a double
  (func (export "pushinteger") (param $L i32) (param $n f64)
    (call $lua_pushinteger (local.get $L) (i64.trunc_f64_s (local.get $n))))

  ;; lua_rawseti(L, idx, i) for 0 <= i < 2^32
  (func (export "rawseti") (param $L i32) (param $idx i32) (param $i i32)
    (call $lua_rawseti (local.get $L) (local.get $idx) (i64.extend_i32_u (local.get $i))))

  ;; lua_rawgeti(L, idx, i) for -2^31 <= i < 2^31; returns the value's type
  (func (export "rawgeti") (param $L i32) (param $idx i32) (param $i i32) (result i32)
    (call $lua_rawgeti (local.get $L) (local.get $idx) (i64.extend_i32_s (local.get $i)))))
