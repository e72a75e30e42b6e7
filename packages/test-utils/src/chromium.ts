import { type Browser, chromium } from 'playwright-core';
import { requireBinary } from './binaries.js';

/** A headless Debian Chromium driven by playwright-core; dispose to close it. */
export interface ChromiumHandle extends AsyncDisposable {
  readonly browser: Browser;
  close(): Promise<void>;
}

/**
 * Launches the system Chromium (`/usr/bin/chromium` from the Debian package, or
 * `TIDEWATCH_CHROMIUM_BIN`) headless; playwright gives it a fresh temporary profile. The flags keep it off the network:
 * this machine refuses outside connections, and background services would retry them.
 *
 * @throws Error when Chromium is not installed (run `node scripts/ensure-tools.mjs`).
 */
export async function launchChromium(): Promise<ChromiumHandle> {
  const executablePath = requireBinary('chromium');
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    timeout: 30_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await browser.close().catch(() => {});
  };
  return { browser, close, [Symbol.asyncDispose]: close };
}
