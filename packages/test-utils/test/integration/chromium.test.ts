import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { launchChromium } from '../../src/index.js';

describe('launchChromium', () => {
  it('renders a loopback page and runs its script', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(
        '<title>t</title><p id="x">static</p><script>document.getElementById("x").textContent = "ran"</script>',
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    await using chrome = await launchChromium();
    const page = await chrome.browser.newPage();
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    expect(await page.textContent('#x')).toBe('ran');
    server.close();
  });
});
