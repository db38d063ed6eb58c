/*
 * lunatik_crypto (depends on buffer, as LUNATIK_CRYPTO selects LUNATIK_BUFFER):
 *
 *   crypto.sha1(b)     a new 20-byte buffer, the SHA-1 digest of buffer b's bytes; a Lua
 *                      string is accepted too (its bytes are hashed in place as well)
 *   crypto.random(n)   a new buffer of n bytes from node:crypto's CSPRNG
 *
 * Both work on the bytes where they are, in the image's memory: @noble/hashes reads a
 * view of the buffer, randomFillSync writes into the new buffer; nothing is copied out.
 * Any size within the memory budget works (lunatik-ng capped it at PAGE_SIZE, marked there as work still to do).
 */
import { sha1 } from '@noble/hashes/legacy.js';
import { randomFillSync } from 'node:crypto';
import { LUA_TSTRING } from '../../wasm/lua-api.js';
import { BUFFER_HEADER_BYTES } from '../../wasm/buffer-access.js';
import { bufferSize, checkBuffer, checkSize, pushBuffer } from './buffer.js';
import type { LunatikModule } from './module.js';

export const SHA1_BYTES = 20;

export const crypto: LunatikModule = {
  name: 'crypto',
  depends: ['buffer'],
  init(ctx) {
    ctx.library('crypto', {
      sha1(lua, L) {
        let start: number;
        let size: number;
        if (lua.type(L, 1) === LUA_TSTRING) {
          const view = lua.checkBytes(L, 1);
          start = view.byteOffset;
          size = view.length;
        } else {
          const ud = checkBuffer(lua, L, 1, 'buffer or string');
          start = ud + BUFFER_HEADER_BYTES;
          size = bufferSize(lua.image, ud);
        }
        const digest = sha1(lua.heap.subarray(start, start + size));
        // The digest is computed before allocating: a new buffer may grow (detach) the memory.
        const out = pushBuffer(lua, L, SHA1_BYTES, false);
        lua.heap.set(digest, out);
        return 1;
      },
      random(lua, L) {
        const size = checkSize(lua, L, 1);
        const start = pushBuffer(lua, L, size, false);
        if (size > 0) randomFillSync(lua.heap, start, size);
        return 1;
      },
    });
  },
};
