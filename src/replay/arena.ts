/**
 * Output memory for sampled batches. A batch is about fifteen small typed arrays, and each
 * `new Float32Array(n)` costs an ArrayBuffer of its own (an off-heap backing store, external-memory
 * accounting and the GC work to free it: 1–5 µs each on Node 20, more than drawing the batch from a
 * million-transition tree). The arena cuts them as views from a shared slab instead.
 *
 * A region is never handed out twice, so a batch stays valid (and unchanged) however long the caller
 * keeps it, exactly as if its arrays had been allocated one by one; a slab is freed by the GC when
 * no view of it is left. The cost of that: a batch kept alive keeps its whole slab (1 MiB) alive, and
 * `.buffer` of a returned array is the slab (use byteOffset/byteLength, as for any view).
 *
 * Unless the arena is rewound: a caller that drops each batch before drawing the next (the trainer)
 * lets the buffer cut every batch from the same region. Fresh slabs are external memory that V8
 * counts towards its collection triggers, so at ~15 KB per batch they cost full GCs as well as the
 * allocation; a rewound arena allocates nothing after its first batch.
 */
const SLAB_BYTES = 1 << 20;
/** Requests above this get an ArrayBuffer of their own rather than wasting most of a slab. */
const OWN_BUFFER_BYTES = SLAB_BYTES >> 2;

export class BatchArena {
  private slab = new ArrayBuffer(0);
  private used = 0;

  /** A fresh, zeroed region of `bytes` (8-byte aligned) as [buffer, byteOffset]. */
  private take(bytes: number): [ArrayBuffer, number] {
    if (bytes > OWN_BUFFER_BYTES) return [new ArrayBuffer(bytes), 0];
    if (this.used + bytes > this.slab.byteLength) {
      this.slab = new ArrayBuffer(SLAB_BYTES);
      this.used = 0;
    }
    const at = this.used;
    this.used += (bytes + 7) & ~7;
    return [this.slab, at];
  }

  /**
   * Hand out the current slab's regions again, from the start, zeroed. Every array cut since the
   * last rewind becomes invalid: its contents change with the next batch.
   */
  rewind(): void {
    new Uint8Array(this.slab, 0, this.used).fill(0);
    this.used = 0;
  }

  f32(n: number): Float32Array {
    const [b, at] = this.take(n * 4);
    return new Float32Array(b, at, n);
  }

  f64(n: number): Float64Array {
    const [b, at] = this.take(n * 8);
    return new Float64Array(b, at, n);
  }

  i32(n: number): Int32Array {
    const [b, at] = this.take(n * 4);
    return new Int32Array(b, at, n);
  }

  u8(n: number): Uint8Array {
    const [b, at] = this.take(n);
    return new Uint8Array(b, at, n);
  }
}
