// Declares the image's one import beyond Emscripten's own, so the linker keeps it as an
// import. The JS glue Emscripten emits is discarded: wasm/syscall-table.ts serves it.
mergeInto(LibraryManager.library, {
  lunatik_refuel: function (used) { return 0; },
});
