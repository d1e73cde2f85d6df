// browser-shot.js -- screenshot what Debian's Chromium shows for a URL, its certificate warning page
// included (plain `chromium --headless --screenshot` writes nothing on a certificate error).
// Needs playwright-core from npm, installed OUTSIDE the repository, found through NODE_PATH:
//   (mkdir -p /tmp/pw && cd /tmp/pw && npm install playwright-core)
//   NODE_PATH=/tmp/pw/node_modules node docs/browser-shot.js URL OUT.png [advanced|details] [WxH]
// advanced: open "Advanced" (the "Proceed to ... (unsafe)" link); details: click the error code,
// which shows the certificate's subject, issuer and dates. Trust comes from $HOME/.pki/nssdb.
const { chromium } = require('playwright-core');

(async () => {
	const [url, out, open = '', size = '1000x700'] = process.argv.slice(2);
	const [width, height] = size.split('x').map(Number);
	if (!url || !out || !width || !height) {
		console.error('usage: node browser-shot.js URL OUT.png [advanced|details] [WxH]');
		process.exit(2);
	}
	const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
	    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
		'--disable-background-networking', '--no-first-run', '--disable-component-update',
		'--disable-sync'] });
	const page = await browser.newPage({ ignoreHTTPSErrors: false, viewport: { width, height } });
	try {
		await page.goto(url);
		console.log('loaded: ' + await page.title());
	} catch (e) {
		// A certificate error fails goto(), but the warning page is there to see.
		console.log('not loaded: ' + e.message.split('\n')[0].replace(/^page\.goto: /, ''));
	}
	if (open === 'advanced')
		await page.click('#details-button');
	else if (open === 'details')
		await page.click('#error-code');
	await page.waitForTimeout(300);
	await page.screenshot({ path: out });
	console.log('wrote ' + out);
	await browser.close();
})();
