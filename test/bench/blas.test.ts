import { describe, expect, it } from "vitest";
import { classifyBlas, parseBlasMaps } from "../../src/bench/torch.js";

// Excerpts of /proc/self/maps of python3 after `import torch` on Debian, with either libblas.so.3 alternative.
const REFERENCE_MAPS = `
55d5c1a00000-55d5c1a2f000 r--p 00000000 08:01 1311 /usr/bin/python3.11
7f3a10000000-7f3a10021000 rw-p 00000000 00:00 0
7f3a2c400000-7f3a2c40e000 r--p 00000000 08:01 40872 /usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0
7f3a2c40e000-7f3a2c45c000 r-xp 0000e000 08:01 40872 /usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0
7f3a2c600000-7f3a2c9f0000 r-xp 00000000 08:01 51234 /usr/lib/x86_64-linux-gnu/libtorch_cpu.so.1.13
7ffd5e9f0000-7ffd5ea11000 rw-p 00000000 00:00 0                          [stack]
`;

const OPENBLAS_MAPS = `
7f0b8c000000-7f0b8c021000 rw-p 00000000 00:00 0
7f0b90a00000-7f0b90a2c000 r--p 00000000 08:01 61001 /usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so
7f0b90a2c000-7f0b92a1b000 r-xp 0002c000 08:01 61001 /usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so
7f0b92c00000-7f0b92c0a000 r--p 00000000 08:01 61002 /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3
7f0b93000000-7f0b93400000 r-xp 00000000 08:01 51234 /usr/lib/x86_64-linux-gnu/libtorch_cpu.so.1.13
`;

describe("BLAS detection of the torch reference", () => {
  it("finds the mapped BLAS libraries, once each, ignoring everything else", () => {
    expect(parseBlasMaps(REFERENCE_MAPS)).toEqual(["/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0"]);
    expect(parseBlasMaps(OPENBLAS_MAPS)).toEqual([
      "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so",
      "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3",
    ]);
    expect(parseBlasMaps("")).toEqual([]);
  });

  it("names the reference BLAS and the OpenBLAS variants; falls back on BLAS_INFO when none is mapped", () => {
    expect(classifyBlas(parseBlasMaps(REFERENCE_MAPS), "generic")).toBe("reference");
    expect(classifyBlas(parseBlasMaps(OPENBLAS_MAPS), "generic")).toBe("openblas-pthread");
    expect(classifyBlas(["/opt/lib/libopenblas.so.0"], "open")).toBe("openblas");
    expect(classifyBlas([], "mkl")).toBe("mkl");
    expect(classifyBlas([], "generic")).toBe("unknown");
  });
});
