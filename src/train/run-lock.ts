/**
 * One process trains a run directory at a time: `<run>/lock` holds the owner's PID and host, created
 * exclusively. A lock whose process is gone (same host, PID not alive) is taken over with a note; a live
 * owner, or one on another host (which cannot be checked from here), is an error.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { QttdmError } from "../core/errors.js";

export interface RunLock {
  /** Removes the lock if it is still this process's. Idempotent. */
  release(): void;
}

interface Owner {
  pid: number;
  host: string;
  since: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readOwner(path: string): Owner | null {
  try {
    const o = JSON.parse(readFileSync(path, "utf8")) as Owner;
    return Number.isSafeInteger(o.pid) && typeof o.host === "string" ? o : null;
  } catch {
    return null;
  }
}

/**
 * Takes the lock of the run directory `root`.
 * @param note receives a line when a stale lock is taken over
 * @throws QttdmError when another live process holds it
 */
export function lockRunDir(root: string, note: (line: string) => void): RunLock {
  const path = join(root, "lock");
  const me: Owner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, "wx");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const owner = readOwner(path);
      if (owner && owner.host !== me.host) {
        throw new QttdmError(`run directory ${root} is locked by PID ${owner.pid} on host ${owner.host} (since ${owner.since}); expected no other process training it. If that process is gone, delete ${path}`);
      }
      if (owner && alive(owner.pid)) {
        throw new QttdmError(`run directory ${root} is being trained by PID ${owner.pid} (since ${owner.since}); expected no other process training it. Stop that process first, or delete ${path} if it is not a qttdm run`);
      }
      note(owner ? `taking over the stale lock of ${root} (PID ${owner.pid} is not running)` : `replacing the unreadable lock file ${path}`);
      rmSync(path, { force: true });
      continue;
    }
    try {
      writeSync(fd, JSON.stringify(me) + "\n");
    } finally {
      closeSync(fd);
    }
    let held = true;
    return {
      release() {
        if (!held) return;
        held = false;
        const owner = readOwner(path);
        if (owner && owner.pid === me.pid && owner.since === me.since) rmSync(path, { force: true });
      },
    };
  }
  throw new QttdmError(`run directory ${root}: could not take its lock ${path} (another process took it at the same moment)`);
}
