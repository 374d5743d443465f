// A system Chromium for tests that render pages in a real browser (Debian: the `chromium` package, which
// .ci/run installs). puppeteer-core drives it; nothing is downloaded.
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import type { Browser } from "puppeteer-core";

const NAMES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The browser's path: $PUPPETEER_EXECUTABLE_PATH if set, else the first of NAMES on PATH; null if none. */
export function findChromium(): string | null {
  const explicit = process.env.PUPPETEER_EXECUTABLE_PATH;
  if (explicit) {
    if (!executable(explicit)) throw new Error(`PUPPETEER_EXECUTABLE_PATH=${explicit} is not an executable file`);
    return explicit;
  }
  for (const dir of (process.env.PATH ?? "").split(delimiter).filter((d) => d)) {
    for (const name of NAMES) {
      const file = join(dir, name);
      if (executable(file)) return file;
    }
  }
  return null;
}

/** Launches headless Chromium from `executablePath` (no sandbox: CI runs as root in a container). */
export async function launchChromium(executablePath: string): Promise<Browser> {
  const { launch } = await import("puppeteer-core");
  return launch({
    executablePath,
    headless: true,
    args: ["--no-sandbox", "--headless=new", "--disable-dev-shm-usage", "--disable-gpu"],
  });
}

/**
 * Closes the browser; if that has not finished in `ms`, kills its process group by the PID it was started
 * with (puppeteer starts it detached, as the leader of its own group, so its renderers go with it).
 */
export async function closeChromium(browser: Browser, ms = 5_000): Promise<void> {
  const pid = browser.process()?.pid;
  let timer: NodeJS.Timeout | undefined;
  const closed = await Promise.race([
    browser.close().then(
      () => true,
      () => false,
    ),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ]);
  clearTimeout(timer);
  if (closed || pid === undefined) return;
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, "SIGKILL");
    } catch {
      // already gone
    }
  }
}
