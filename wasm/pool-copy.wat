;; memmove within the Lua image's memory, for the page pool's moving realloc
;; (wasm/pool-fastpath.wat imports it as pool.copy). A module of its own because a module
;; has one memory (Node 20: no multi-memory): this one imports the image's, the fast path
;; has the pool's. Instantiated once per image; Wasm calling Wasm, no JavaScript between.
;;
;; Source of POOL_COPY_WASM in wasm/pool-fastpath.bytes.ts (see pool-fastpath.wat).
(module
  (import "image" "memory" (memory 0))
  (func (export "copy") (param $dst i32) (param $src i32) (param $n i32)
    (memory.copy (local.get $dst) (local.get $src) (local.get $n))))
