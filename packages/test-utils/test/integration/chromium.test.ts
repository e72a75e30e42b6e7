import { describe, expect, it } from 'vitest';
import { launchChromium, startHttpServer } from '../../src/index.js';

describe('launchChromium', () => {
  it('renders a loopback page and runs its script', async () => {
    await using server = await startHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(
        '<title>t</title><p id="x">static</p><script>document.getElementById("x").textContent = "ran"</script>',
      );
    });
    await using chrome = await launchChromium();
    const page = await chrome.browser.newPage();
    await page.goto(`${server.url}/`);
    expect(await page.textContent('#x')).toBe('ran');
  });
});
