;; The page pool's lua_Alloc fast path: the common allocator calls of a Lua state served
;; in WebAssembly, with no call into JavaScript.
;;
;; This file is the source. wasm/pool-fastpath.bytes.ts holds the bytes wat2wasm (wabt)
;; makes of it; test/memory/pool-fastpath.test.ts assembles this file again and fails if
;; the two differ. After editing this file:
;;   npx tsc -p tsconfig.json && node dist/test/wat.js --write && npx tsc -p tsconfig.json
;;
;; The module addresses one memory: the pools' own (src/memory/pool-memory.ts, one per
;; process, each pool's bookkeeping at its own header address), never the Lua image's, so
;; Lua's C code cannot reach the allocator's bookkeeping. It never reads
;; or writes the blocks it hands out either: the bytes a moving realloc keeps are copied
;; by the imported pool.copy, which is wasm/pool-copy.wat's memory.copy over the image's
;; memory when the kernel installs this allocator, or a JavaScript copyWithin over the
;; pool's heap view otherwise.
;;
;; Served here, on the same structures and with the same choices as the JavaScript code
;; (src/memory/slab.ts alloc/locate/release, src/memory/pool.ts malloc/free/realloc):
;;   malloc  (ptr 0, nsize 1..8192) when the class has a partial slab: pop its free list;
;;   free    (nsize 0) of a live slab object (a slab it empties goes to pool.emptied);
;;   realloc of a live slab object to a size of the same class: in place;
;;   realloc of a live slab object to another class of <= 8192 bytes that has a partial
;;           slab: take the new object, copy, free the old one.
;; Every other call goes to pool.slow, the whole lua_Alloc contract in JavaScript, with
;; the arguments unchanged; a slab emptied here is handed to pool.emptied (keep it as the
;; class's spare or give its pages back to the buddy allocator, which lives in JS). No
;; path here needs a page, so none can fail: refusals (the budget) are all JavaScript's.
;; Statistics (used, peak, allocated, count, byType) are updated here as there, so they
;; are exact at every moment.
;;
;; Layout of a pool's header, from address $h (src/memory/pool-memory.ts defines the same
;; numbers); the arrays it points to are absolute addresses in the same memory:
;;   0 f64 used   8 f64 peak   16 f64 allocated   24 f64 count (last sequence number)
;;   32 f64[6] bytes per type category
;;   80 i32 owner id   84 i32 region base   88 i32 pages   92 i32 log2(page size)
;;   96 i32 address of pageClass (u8 per page: class + 1 of the slab there, 0: none)
;;   100 i32 address of pageSlot (i32 per page: slab slot within its class)
;;   128 + 64 * class: descriptor
;;       0 partial (slot at the head of the partial list, -1: none)
;;       4 object size   8 objects per slab
;;       addresses of the per-slot arrays (i32): 12 slabPage  16 inuse  20 freeHead
;;                                               24 next  28 prev
;;       32 address of the object records, object m = slot * objectsPerSlab + i at
;;          records + 16 m: 0 link (i32: next free index)  4 size (u16)
;;                          6 tag (u8, 0: free)  8 seq (f64)
;;       36 address of the owners (u16 per object; 0 when owners are not tracked)
;;       40 floor(2^32 / object size) + 1: (offset * this) >> 32 = offset / object size
;;          exactly for every multiple of the size below 2^32, so no division
;;       44 address of fresh (i32 per slot): objects of the slab at that index and
;;          above were never handed out since it was made; their records mean
;;          nothing. The free list runs freeHead -> link -> ... and ends at fresh,
;;          which is popped by advancing it (SLUB's lazy freelist): a new slab costs
;;          nothing per object and is handed out in address order.
;;   1024 u8[1025]: class of a request of n bytes (1..8192), at (n + 7) >> 3
;;   2112 u8[64]: tag byte of a fresh allocation's osize (0..63; above: entry 0)
;; A tag byte: bits 0-3 Lua basic type, bit 4 live, bits 5-7 byType category.
;;
;; V8 in Node 20 does not inline Wasm calls, so malloc and free, most of a Lua state's
;; calls, are written out in full in $alloc; the rarer realloc paths share helpers that
;; do the same steps.
(module
  (import "pool" "memory" (memory 1))
  ;; Address of this pool's header: every address in the layout below is relative to it.
  (import "pool" "header" (global $h i32))
  ;; lua_Alloc(ptr, osize, nsize) in JavaScript: every case not served here.
  (import "pool" "slow" (func $slow (param i32 i32 i32) (result i32)))
  ;; (class, slot): that slab has just become empty.
  (import "pool" "emptied" (func $emptied (param i32 i32)))
  ;; (dst, src, n): memmove within the region, for a moving realloc.
  (import "pool" "copy" (func $copy (param i32 i32 i32)))

  ;; lua_Alloc(ud, ptr, osize, nsize); ud is unused.
  (func $alloc (export "alloc") (param $ud i32) (param $ptr i32) (param $osize i32) (param $nsize i32) (result i32)
    (local $d i32)      ;; the class descriptor
    (local $c i32)      ;; the class
    (local $s i32)      ;; slab slot
    (local $i i32)      ;; object index within the slab
    (local $m i32)      ;; object index within the class
    (local $r i32)      ;; the object's record
    (local $ops i32)    ;; objects per slab
    (local $a i32)
    (local $n i32)
    (local $off i32)
    (local $size i32)
    (local $tag i32)
    (local $new i32)
    (local $f f64)
    (local $u f64)
    (block $slow
      (if (i32.eqz (local.get $ptr))
        (then
          ;; malloc (or free(NULL), which returns NULL): slab.ts alloc, pool.ts malloc
          (if (i32.eqz (local.get $nsize)) (then (return (i32.const 0))))
          (br_if $slow (i32.gt_u (local.get $nsize) (i32.const 8192)))
          (local.set $d (call $class_desc (local.get $nsize)))
          (local.set $s (i32.load (local.get $d)))
          (br_if $slow (i32.lt_s (local.get $s) (i32.const 0))) ;; no partial slab: JS grows the class
          (local.set $ops (i32.load offset=8 (local.get $d)))
          ;; i = freeHead[s], then freeHead[s] = its link, or i + 1 (and fresh too) if i is fresh
          (local.set $a (i32.add (i32.load offset=20 (local.get $d)) (i32.shl (local.get $s) (i32.const 2))))
          (local.set $i (i32.load (local.get $a)))
          (local.set $m (i32.add (i32.mul (local.get $s) (local.get $ops)) (local.get $i)))
          (local.set $r (i32.add (i32.load offset=32 (local.get $d)) (i32.shl (local.get $m) (i32.const 4))))
          (local.set $n (i32.add (i32.load offset=44 (local.get $d)) (i32.shl (local.get $s) (i32.const 2))))
          (if (i32.eq (local.get $i) (i32.load (local.get $n)))
            (then
              (i32.store (local.get $n) (i32.add (local.get $i) (i32.const 1)))
              (i32.store (local.get $a) (i32.add (local.get $i) (i32.const 1))))
            (else (i32.store (local.get $a) (i32.load (local.get $r)))))
          ;; ++inuse[s]; a full slab leaves the partial list (it is its head)
          (local.set $a (i32.add (i32.load offset=16 (local.get $d)) (i32.shl (local.get $s) (i32.const 2))))
          (local.set $n (i32.add (i32.load (local.get $a)) (i32.const 1)))
          (i32.store (local.get $a) (local.get $n))
          (if (i32.eq (local.get $n) (local.get $ops))
            (then
              (local.set $n (i32.load (i32.add (i32.load offset=24 (local.get $d)) (i32.shl (local.get $s) (i32.const 2)))))
              (i32.store (local.get $d) (local.get $n))
              (if (i32.ge_s (local.get $n) (i32.const 0))
                (then
                  (i32.store (i32.add (i32.load offset=28 (local.get $d)) (i32.shl (local.get $n) (i32.const 2)))
                    (i32.const -1))))))
          ;; the record: size, tag, sequence number (count + 1, counted); the owner
          (local.set $tag (i32.load8_u offset=2112
            (i32.add (global.get $h)
              (select (local.get $osize) (i32.const 0) (i32.lt_u (local.get $osize) (i32.const 64))))))
          (i32.store16 offset=4 (local.get $r) (local.get $nsize))
          (i32.store8 offset=6 (local.get $r) (local.get $tag))
          (local.set $f (f64.add (f64.load offset=24 (global.get $h)) (f64.const 1)))
          (f64.store offset=24 (global.get $h) (local.get $f))
          (f64.store offset=8 (local.get $r) (local.get $f))
          (local.set $a (i32.load offset=36 (local.get $d)))
          (if (local.get $a)
            (then
              (i32.store16 (i32.add (local.get $a) (i32.shl (local.get $m) (i32.const 1)))
                (i32.load offset=80 (global.get $h)))))
          ;; account: allocated, used, peak, byType all grow by nsize
          (local.set $f (f64.convert_i32_u (local.get $nsize)))
          (f64.store offset=16 (global.get $h) (f64.add (f64.load offset=16 (global.get $h)) (local.get $f)))
          (local.set $u (f64.add (f64.load (global.get $h)) (local.get $f)))
          (f64.store (global.get $h) (local.get $u))
          (if (f64.gt (local.get $u) (f64.load offset=8 (global.get $h)))
            (then (f64.store offset=8 (global.get $h) (local.get $u))))
          (local.set $a (i32.add (global.get $h) (i32.shl (i32.shr_u (local.get $tag) (i32.const 5)) (i32.const 3))))
          (f64.store offset=32 (local.get $a) (f64.add (f64.load offset=32 (local.get $a)) (local.get $f)))
          ;; base + slabPage[s] * pageSize + i * objectSize
          (return
            (i32.add
              (i32.add (i32.load offset=84 (global.get $h))
                (i32.shl (i32.load (i32.add (i32.load offset=12 (local.get $d)) (i32.shl (local.get $s) (i32.const 2))))
                         (i32.load offset=92 (global.get $h))))
              (i32.mul (local.get $i) (i32.load offset=4 (local.get $d)))))))

      ;; ptr != NULL: find the live slab object starting exactly at ptr (slab.ts locate).
      ;; Below the region the subtraction wraps to an offset past its end.
      (local.set $off (i32.sub (local.get $ptr) (i32.load offset=84 (global.get $h))))
      (local.set $a (i32.shr_u (local.get $off) (i32.load offset=92 (global.get $h)))) ;; page
      (br_if $slow (i32.ge_u (local.get $a) (i32.load offset=88 (global.get $h))))
      (local.set $c (i32.load8_u (i32.add (i32.load offset=96 (global.get $h)) (local.get $a))))
      (br_if $slow (i32.eqz (local.get $c))) ;; not a slab page: a large block, or not ours
      (local.set $c (i32.sub (local.get $c) (i32.const 1)))
      (local.set $d (i32.add (i32.add (global.get $h) (i32.const 128)) (i32.shl (local.get $c) (i32.const 6))))
      (local.set $s (i32.load (i32.add (i32.load offset=100 (global.get $h)) (i32.shl (local.get $a) (i32.const 2)))))
      ;; offset within the slab, which must be a whole number of objects
      (local.set $off (i32.sub (local.get $off)
        (i32.shl (i32.load (i32.add (i32.load offset=12 (local.get $d)) (i32.shl (local.get $s) (i32.const 2))))
                 (i32.load offset=92 (global.get $h)))))
      (local.set $i (i32.wrap_i64 (i64.shr_u
        (i64.mul (i64.extend_i32_u (local.get $off)) (i64.extend_i32_u (i32.load offset=40 (local.get $d))))
        (i64.const 32))))
      (br_if $slow (i32.ne (i32.mul (local.get $i) (i32.load offset=4 (local.get $d))) (local.get $off)))
      ;; a fresh object (or the slab's unused tail) is free: JS counts the invalid pointer
      (br_if $slow (i32.ge_u (local.get $i)
        (i32.load (i32.add (i32.load offset=44 (local.get $d)) (i32.shl (local.get $s) (i32.const 2))))))
      (local.set $ops (i32.load offset=8 (local.get $d)))
      (local.set $m (i32.add (i32.mul (local.get $s) (local.get $ops)) (local.get $i)))
      (local.set $r (i32.add (i32.load offset=32 (local.get $d)) (i32.shl (local.get $m) (i32.const 4))))
      (local.set $tag (i32.load8_u offset=6 (local.get $r)))
      (br_if $slow (i32.eqz (local.get $tag))) ;; a free object: JS counts the invalid pointer
      (local.set $size (i32.load16_u offset=4 (local.get $r)))

      (if (i32.eqz (local.get $nsize))
        (then
          ;; free: pool.ts free (unaccount), then slab.ts release
          (local.set $f (f64.convert_i32_u (local.get $size)))
          (f64.store (global.get $h) (f64.sub (f64.load (global.get $h)) (local.get $f)))
          (local.set $a (i32.add (global.get $h) (i32.shl (i32.shr_u (local.get $tag) (i32.const 5)) (i32.const 3))))
          (f64.store offset=32 (local.get $a) (f64.sub (f64.load offset=32 (local.get $a)) (local.get $f)))
          (i32.store8 offset=6 (local.get $r) (i32.const 0))
          (local.set $a (i32.add (i32.load offset=20 (local.get $d)) (i32.shl (local.get $s) (i32.const 2))))
          (i32.store (local.get $r) (i32.load (local.get $a)))
          (i32.store (local.get $a) (local.get $i))
          (local.set $a (i32.add (i32.load offset=16 (local.get $d)) (i32.shl (local.get $s) (i32.const 2))))
          (local.set $n (i32.load (local.get $a)))
          (i32.store (local.get $a) (i32.sub (local.get $n) (i32.const 1)))
          (if (i32.eq (local.get $n) (local.get $ops))
            (then (call $push_partial (local.get $d) (local.get $s))))
          (if (i32.eq (local.get $n) (i32.const 1))
            (then (call $emptied (local.get $c) (local.get $s))))
          (return (i32.const 0))))

      ;; realloc (pool.ts realloc, slab object)
      (br_if $slow (i32.gt_u (local.get $nsize) (i32.const 8192)))
      (local.set $new (call $class_desc (local.get $nsize)))
      (if (i32.eq (local.get $new) (local.get $d))
        (then
          ;; same class: in place, with a new sequence number
          (i32.store16 offset=4 (local.get $r) (local.get $nsize))
          (f64.store offset=8 (local.get $r) (call $next_seq))
          (call $account (local.get $tag) (i32.sub (local.get $nsize) (local.get $size)))
          (return (local.get $ptr))))
      ;; another class: move, keeping the type and owner; that class must have a partial slab
      (br_if $slow (i32.lt_s (i32.load (local.get $new)) (i32.const 0)))
      (local.set $a (i32.load offset=36 (local.get $d)))
      (local.set $new (call $take (local.get $new) (local.get $nsize) (local.get $tag)
        (if (result i32) (local.get $a)
          (then (i32.load16_u (i32.add (local.get $a) (i32.shl (local.get $m) (i32.const 1)))))
          (else (i32.const 0)))))
      (call $copy (local.get $new) (local.get $ptr)
        (select (local.get $size) (local.get $nsize) (i32.lt_u (local.get $size) (local.get $nsize))))
      (call $release (local.get $d) (local.get $c) (local.get $s) (local.get $i) (local.get $r))
      (call $account (local.get $tag) (i32.sub (local.get $nsize) (local.get $size)))
      (return (local.get $new)))
    (call $slow (local.get $ptr) (local.get $osize) (local.get $nsize)))

  ;; Descriptor address of the class serving a request of n bytes (1..8192).
  (func $class_desc (param $n i32) (result i32)
    (i32.add (i32.add (global.get $h) (i32.const 128))
      (i32.shl (i32.load8_u offset=1024 (i32.add (global.get $h) (i32.shr_u (i32.add (local.get $n) (i32.const 7)) (i32.const 3))))
               (i32.const 6))))

  ;; count += 1; returns the new count (the sequence number of this allocation).
  (func $next_seq (result f64)
    (local $seq f64)
    (local.set $seq (f64.add (f64.load offset=24 (global.get $h)) (f64.const 1)))
    (f64.store offset=24 (global.get $h) (local.get $seq))
    (local.get $seq))

  ;; Takes an object from the head of the partial list of class d (slab.ts alloc; the
  ;; caller checked there is one), records its size, tag, owner and the next sequence
  ;; number, counts that number, and returns its address. ($alloc's malloc, written out.)
  (func $take (param $d i32) (param $nsize i32) (param $tag i32) (param $owner i32) (result i32)
    (local $s i32)
    (local $i i32)
    (local $m i32)
    (local $r i32)
    (local $ops i32)
    (local $a i32)
    (local $n i32)
    (local.set $s (i32.load (local.get $d)))
    (local.set $ops (i32.load offset=8 (local.get $d)))
    (local.set $a (i32.add (i32.load offset=20 (local.get $d)) (i32.shl (local.get $s) (i32.const 2))))
    (local.set $i (i32.load (local.get $a)))
    (local.set $m (i32.add (i32.mul (local.get $s) (local.get $ops)) (local.get $i)))
    (local.set $r (i32.add (i32.load offset=32 (local.get $d)) (i32.shl (local.get $m) (i32.const 4))))
    (local.set $n (i32.add (i32.load offset=44 (local.get $d)) (i32.shl (local.get $s) (i32.const 2))))
    (if (i32.eq (local.get $i) (i32.load (local.get $n)))
      (then
        (i32.store (local.get $n) (i32.add (local.get $i) (i32.const 1)))
        (i32.store (local.get $a) (i32.add (local.get $i) (i32.const 1))))
      (else (i32.store (local.get $a) (i32.load (local.get $r)))))
    (local.set $a (i32.add (i32.load offset=16 (local.get $d)) (i32.shl (local.get $s) (i32.const 2))))
    (local.set $n (i32.add (i32.load (local.get $a)) (i32.const 1)))
    (i32.store (local.get $a) (local.get $n))
    (if (i32.eq (local.get $n) (local.get $ops))
      (then
        (local.set $n (i32.load (i32.add (i32.load offset=24 (local.get $d)) (i32.shl (local.get $s) (i32.const 2)))))
        (i32.store (local.get $d) (local.get $n))
        (if (i32.ge_s (local.get $n) (i32.const 0))
          (then
            (i32.store (i32.add (i32.load offset=28 (local.get $d)) (i32.shl (local.get $n) (i32.const 2)))
              (i32.const -1))))))
    (i32.store16 offset=4 (local.get $r) (local.get $nsize))
    (i32.store8 offset=6 (local.get $r) (local.get $tag))
    (f64.store offset=8 (local.get $r) (call $next_seq))
    (local.set $a (i32.load offset=36 (local.get $d)))
    (if (local.get $a)
      (then (i32.store16 (i32.add (local.get $a) (i32.shl (local.get $m) (i32.const 1))) (local.get $owner))))
    (i32.add
      (i32.add (i32.load offset=84 (global.get $h))
        (i32.shl (i32.load (i32.add (i32.load offset=12 (local.get $d)) (i32.shl (local.get $s) (i32.const 2))))
                 (i32.load offset=92 (global.get $h))))
      (i32.mul (local.get $i) (i32.load offset=4 (local.get $d)))))

  ;; Frees the object with record r, index i of slot s of class c (descriptor d):
  ;; slab.ts release. ($alloc's free, written out.)
  (func $release (param $d i32) (param $c i32) (param $s i32) (param $i i32) (param $r i32)
    (local $a i32)
    (local $n i32)
    (i32.store8 offset=6 (local.get $r) (i32.const 0))
    (local.set $a (i32.add (i32.load offset=20 (local.get $d)) (i32.shl (local.get $s) (i32.const 2))))
    (i32.store (local.get $r) (i32.load (local.get $a)))
    (i32.store (local.get $a) (local.get $i))
    (local.set $a (i32.add (i32.load offset=16 (local.get $d)) (i32.shl (local.get $s) (i32.const 2))))
    (local.set $n (i32.load (local.get $a)))
    (i32.store (local.get $a) (i32.sub (local.get $n) (i32.const 1)))
    ;; a full slab rejoins the partial list; an emptied one goes to JS, which keeps it as
    ;; the class's spare or gives its pages back
    (if (i32.eq (local.get $n) (i32.load offset=8 (local.get $d)))
      (then (call $push_partial (local.get $d) (local.get $s))))
    (if (i32.eq (local.get $n) (i32.const 1))
      (then (call $emptied (local.get $c) (local.get $s)))))

  ;; Slot s becomes the head of the partial list of class d (SlabCache.pushPartial).
  (func $push_partial (param $d i32) (param $s i32)
    (local $h i32)
    (local.set $h (i32.load (local.get $d)))
    (i32.store (i32.add (i32.load offset=24 (local.get $d)) (i32.shl (local.get $s) (i32.const 2))) (local.get $h))
    (i32.store (i32.add (i32.load offset=28 (local.get $d)) (i32.shl (local.get $s) (i32.const 2))) (i32.const -1))
    (if (i32.ge_s (local.get $h) (i32.const 0))
      (then (i32.store (i32.add (i32.load offset=28 (local.get $d)) (i32.shl (local.get $h) (i32.const 2))) (local.get $s))))
    (i32.store (local.get $d) (local.get $s)))

  ;; used += delta; peak = max(peak, used); allocated += max(delta, 0); byType[tag >> 5] += delta
  (func $account (param $tag i32) (param $delta i32)
    (local $d f64)
    (local $u f64)
    (local $t i32)
    (local.set $d (f64.convert_i32_s (local.get $delta)))
    (if (i32.gt_s (local.get $delta) (i32.const 0))
      (then (f64.store offset=16 (global.get $h) (f64.add (f64.load offset=16 (global.get $h)) (local.get $d)))))
    (local.set $u (f64.add (f64.load (global.get $h)) (local.get $d)))
    (f64.store (global.get $h) (local.get $u))
    (if (f64.gt (local.get $u) (f64.load offset=8 (global.get $h)))
      (then (f64.store offset=8 (global.get $h) (local.get $u))))
    (local.set $t (i32.add (global.get $h) (i32.shl (i32.shr_u (local.get $tag) (i32.const 5)) (i32.const 3))))
    (f64.store offset=32 (local.get $t) (f64.add (f64.load offset=32 (local.get $t)) (local.get $d))))
)
