// node page-check.mjs PAGES.json ARTIFACT_DIR
//
// Loads each buyer's page ([{"name": ..., "url": ...}]) in the system's
// headless Chromium, runs axe-core with the WCAG 2.0/2.1 A and AA rules and
// writes a screenshot at phone (390x844) and desktop (1280x800) width to
// ARTIFACT_DIR/verify-<name>-<phone|desktop>.png. The page has no script and
// a strict CSP: axe is injected over the DevTools protocol with the CSP
// bypassed for the checker only, never for what the page itself loads.
// Prints one JSON report; exit 0: no violation anywhere, 1: violations,
// anything else: the check could not run.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import puppeteer from 'puppeteer-core';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const [pagesPath, artifacts] = process.argv.slice(2);
if (!pagesPath || !artifacts) {
  console.error('usage: node page-check.mjs PAGES.json ARTIFACT_DIR');
  process.exit(2);
}
const pages = JSON.parse(readFileSync(pagesPath, 'utf8'));
const widths = [
  { tag: 'phone', width: 390, height: 844, isMobile: true, deviceScaleFactor: 2 },
  { tag: 'desktop', width: 1280, height: 800, isMobile: false, deviceScaleFactor: 1 },
];

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const report = [];
let violations = 0;
try {
  for (const { name, url } of pages) {
    for (const w of widths) {
      const page = await browser.newPage();
      await page.setBypassCSP(true);
      await page.setViewport(w);
      const res = await page.goto(url, { waitUntil: 'load', timeout: 30000 });
      const entry = { name, width: w.tag, http: res.status() };
      await page.screenshot({ path: `${artifacts}/verify-${name}-${w.tag}.png`, fullPage: true });
      if (w.tag === 'phone') { // the rules do not depend on the width; once per page is enough
        await page.addScriptTag({ content: axeSource });
        const r = await page.evaluate(() => window.axe.run(document, {
          runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
        }));
        entry.passes = r.passes.length;
        entry.violations = r.violations.map((v) => ({
          id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.html),
        }));
        violations += r.violations.length;
      }
      report.push(entry);
      await page.close();
    }
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(report, null, 1));
process.exit(violations === 0 ? 0 : 1);
