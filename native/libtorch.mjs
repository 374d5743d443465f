// Finds libtorch for the addon build: `node libtorch.mjs include|link|check`.
// LIBTORCH names an unpacked libtorch (the PyTorch C++ distribution, CPU or CUDA); without it the system's
// (Debian: libtorch-dev) is used. `check` exits 1 with one line naming what to install when neither is there.
import { existsSync } from "node:fs";
import path from "node:path";

const HINT = "install it with apt-get install -y libtorch-dev libopenblas0-pthread g++ (Debian), or set LIBTORCH to an unpacked libtorch";

function locate() {
  const root = process.env.LIBTORCH;
  if (root) {
    const inc = path.join(root, "include");
    if (!existsSync(path.join(inc, "ATen", "ATen.h"))) return { error: `libtorch not found: LIBTORCH=${root} has no include/ATen/ATen.h; ${HINT}` };
    return { include: [inc, path.join(inc, "torch", "csrc", "api", "include")], libdir: path.join(root, "lib") };
  }
  for (const libdir of ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib", "/usr/local/lib"]) {
    if (existsSync(path.join(libdir, "libtorch.so")) && existsSync("/usr/include/ATen/ATen.h")) return { include: ["/usr/include/torch/csrc/api/include"], libdir };
  }
  return { error: `libtorch not found; ${HINT}` };
}

const where = locate();
const what = process.argv[2];
if (where.error) {
  console.error(where.error);
  process.exit(1);
}
if (what === "include") console.log(where.include.join(" "));
// --no-as-needed keeps libtorch.so linked although no symbol comes from it directly: it loads the CUDA
// kernels (libtorch_cuda) in CUDA builds.
else if (what === "link") console.log(`-L${where.libdir} -Wl,-rpath,${where.libdir} -Wl,--no-as-needed -ltorch -ltorch_cpu -lc10 -Wl,--as-needed`);
else if (what !== "check") {
  console.error("usage: node libtorch.mjs include|link|check");
  process.exit(2);
}
