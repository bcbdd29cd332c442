// The coordinator web view end to end, in Debian's headless Chromium driven by
// playwright-core, against a running gateway seeded with the demo story
// (client-0004). Test-only; tests/integration/web_test.cc starts the gateway,
// makes the two people and runs this. See README.md.
//
//   node web_e2e.mjs --url https://127.0.0.1:PORT --artifacts DIR \
//     --coordinator ORG/USER/ONE_TIME_PASSWORD --housing ORG/USER/ONE_TIME_PASSWORD
//
// Prints one JSON report on stdout ({"passed": bool, "checks": [{name, passed,
// detail}], "screenshots": [...], "seconds": n}) and writes it to
// DIR/report.json; progress goes to stderr. Exit 0 when every check passed, 1
// when one failed, 2 on bad arguments or when Chromium cannot start.
//
// No fixed sleeps: every step waits for a navigation, a response or a selector,
// with a short timeout so that the whole run stays well under a minute.
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

// What the pages say (gateway/web/pages.h, client_page.cc, web_app.cc).
const kItemChangedMessage =
  'This goal changed since you opened the page \u2014 reload to see the latest version.';
const kSignInFailedMessage = 'The organisation, user name or password is not right.';
const kWithheld = "Something was withheld under the client's consent.";
const kNotFoundMessage = "There is no such client among your organisation's clients.";

// The demo story (deploy/demo/demo-story.json, switchboard.textproto).
const kClient = 'client-0004';
const kOtherTeamsClient = 'client-0003';  // northside-family and care-coord only
const kUnknownClient = 'client-9999';
const kHousingGoal = 'Secure a stable tenancy';
// Words of the PSY-labelled goal and discharge section. Phrases are matched
// case-insensitively; "CMHT" as written (a random CSRF token could hold "cmht").
const kPsyPhrases = ['community mental-health team', 'Mental state at discharge', 'mental-health'];
const kPsyExact = ['CMHT'];

const kChromiumArgs = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const kTimeoutMs = 10000;

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z_]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new Error(`unexpected argument '${argv[i]}'`);
    out[m[1]] = m[2] !== undefined ? m[2] : argv[++i];
  }
  for (const k of ['url', 'artifacts', 'coordinator', 'housing']) {
    if (!out[k]) throw new Error(`--${k} is required`);
  }
  const person = (flag) => {
    const parts = out[flag].split('/');
    if (parts.length < 3) throw new Error(`--${flag}: expected ORG/USER/PASSWORD`);
    return { org: parts[0], user: parts[1], password: parts.slice(2).join('/') };
  };
  return {
    url: out.url.replace(/\/+$/, ''),
    artifacts: out.artifacts,
    chromium: out.chromium || '/usr/bin/chromium',
    coordinator: person('coordinator'),
    housing: person('housing'),
    // A shell command that disables the housing person (sbctl user disable).
    disableHousing: out.disable_housing || '',
  };
}

let args;
try {
  args = parseArgs(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`web_e2e: ${e.message}\n`);
  process.exit(2);
}
mkdirSync(args.artifacts, { recursive: true });

const started = Date.now();
const checks = [];
const screenshots = [];
const log = (s) => process.stderr.write(`web_e2e ${((Date.now() - started) / 1000).toFixed(1)}s: ${s}\n`);

// Records one check; `fn` returns a detail string (or nothing) or throws with
// why it failed. A check that needs an earlier one names it in `needs`.
async function check(name, fn, needs = []) {
  const missing = needs.filter((n) => !checks.find((c) => c.name === n && c.passed));
  if (missing.length > 0) {
    checks.push({ name, passed: false, detail: `not run: needs ${missing.join(', ')}` });
    log(`SKIP ${name}`);
    return false;
  }
  try {
    const detail = (await fn()) || '';
    checks.push({ name, passed: true, detail });
    log(`PASS ${name}${detail ? ` (${detail})` : ''}`);
    return true;
  } catch (e) {
    checks.push({ name, passed: false, detail: String(e && e.message ? e.message : e) });
    log(`FAIL ${name}: ${e && e.message ? e.message : e}`);
    return false;
  }
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

async function shot(page, file, fullPage = true) {
  const path = join(args.artifacts, file);
  await page.screenshot({ path, fullPage });
  screenshots.push(path);
  return path;
}

const bodyText = (page) => page.evaluate(() => document.body.innerText);
const flashText = async (page) =>
  (await page.locator('main .flash').count()) > 0 ? (await page.locator('main .flash').innerText()).trim() : '';

// Signs in on `page`; changes the one-time password when sent to /password.
// Returns the navigation responses seen.
async function signIn(page, person, newPassword) {
  await page.goto(`${args.url}/sign-in`);
  await page.getByLabel('Organisation').fill(person.org);
  await page.getByLabel('User name').fill(person.user);
  await page.getByLabel('Password', { exact: true }).fill(person.password);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/password' || u.pathname === '/clients'),
    page.getByRole('button', { name: 'Sign in' }).click(),
  ]);
  if (new URL(page.url()).pathname !== '/password') return false;
  await page.getByLabel('Current password').fill(person.password);
  await page.getByLabel('New password', { exact: true }).fill(newPassword);
  await page.getByLabel('New password again').fill(newPassword);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/clients'),
    page.getByRole('button', { name: 'Change password' }).click(),
  ]);
  person.password = newPassword;
  return true;
}

// The housing goal's list item on a client page.
const goalItem = (page) => page.locator('li.item', { has: page.locator('h4', { hasText: kHousingGoal }) });

// "All progress (N), newest first" of the housing goal: N.
async function progressCount(page) {
  const summary = await goalItem(page).locator('details.history summary').innerText();
  const m = /All progress \((\d+)\)/.exec(summary);
  expect(m, `no progress count in '${summary}'`);
  return Number(m[1]);
}

// Fills and sends the housing goal's "Add progress" form on `page`; waits for
// the redirect back to the client page.
async function addProgress(page, rating, note) {
  const form = goalItem(page).locator('form', { has: page.getByRole('group', { name: 'Add progress' }) });
  await form.locator('select[name=rating]').selectOption(rating);
  await form.locator('textarea[name=note]').fill(note);
  const [response] = await Promise.all([
    page.waitForNavigation(),
    form.getByRole('button', { name: 'Add progress' }).click(),
  ]);
  return response;
}

// Security headers of one response; throws naming what is missing.
function checkHeaders(response, what) {
  const h = response.headers();
  const csp = h['content-security-policy'] || '';
  expect(csp, `${what}: no Content-Security-Policy`);
  expect(!csp.includes("'unsafe-inline'") && !csp.includes("'unsafe-eval'"), `${what}: CSP allows inline or eval: ${csp}`);
  expect(/script-src 'self'/.test(csp) || /default-src 'none'/.test(csp), `${what}: CSP has no script-src: ${csp}`);
  expect(/frame-ancestors 'none'/.test(csp) || (h['x-frame-options'] || '').toUpperCase() === 'DENY',
    `${what}: neither frame-ancestors 'none' nor X-Frame-Options DENY`);
  expect((h['x-frame-options'] || '').toUpperCase() === 'DENY', `${what}: X-Frame-Options is '${h['x-frame-options']}'`);
  expect(h['referrer-policy'] === 'no-referrer', `${what}: Referrer-Policy is '${h['referrer-policy']}'`);
  return `${what}: ${csp}`;
}

const clientUrl = (id) => `${args.url}/clients/${encodeURIComponent(id)}`;

// Loads `url` on `page` and follows the timeline's "Older" link to its last page
// (at most 10): per page, its URL, rendered text, DOM and timeline text.
async function allTimelinePages(page, url) {
  const pages = [];
  let next = url;
  while (next && pages.length < 10) {
    const response = await page.goto(next);
    expect(response.status() === 200, `${next}: status ${response.status()}`);
    pages.push({
      url: next,
      text: await bodyText(page),
      dom: await page.content(),
      timeline: await page.locator('#timeline').innerText(),
    });
    const older = page.locator('#timeline a[rel=next]');
    next = (await older.count()) > 0 ? new URL(await older.getAttribute('href'), args.url).toString() : null;
  }
  return pages;
}

let browser;
try {
  browser = await chromium.launch({
    executablePath: args.chromium,
    headless: true,
    args: kChromiumArgs,
    timeout: 30000,
  });
} catch (e) {
  process.stderr.write(`web_e2e: cannot start Chromium at ${args.chromium}: ${e.message}\n`);
  process.exit(2);
}

const contextOptions = { ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 }, locale: 'en-GB' };
const coordContext = await browser.newContext(contextOptions);
const housingContext = await browser.newContext(contextOptions);
for (const c of [coordContext, housingContext]) c.setDefaultTimeout(kTimeoutMs);
const coord = await coordContext.newPage();
const housing = await housingContext.newPage();
// Script errors and CSP violations (console), and every answer >= 400 the
// pages got (their own loads, assets and the browser's favicon request).
const consoleErrors = [];
const failedLoads = [];
for (const c of [coordContext, housingContext]) {
  c.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) consoleErrors.push(m.text());
  });
  c.on('weberror', (e) => consoleErrors.push(String(e.error())));
  c.on('response', (r) => {
    if (r.status() >= 400) failedLoads.push(`${r.status()} ${new URL(r.url()).pathname}`);
  });
}

try {
  // --- 1. The coordinator signs in with the one-time password --------------------
  await check('sign-in page: security headers and pre-session cookie', async () => {
    const response = await coord.goto(`${args.url}/`);
    expect(new URL(coord.url()).pathname === '/sign-in', `/ led to ${coord.url()}`);
    const detail = checkHeaders(response, '/sign-in');
    const cookie = (await coordContext.cookies()).find((c) => c.name === 'sb_signin');
    expect(cookie, 'no sb_signin cookie');
    expect(cookie.secure && cookie.httpOnly && cookie.sameSite === 'Strict',
      `sb_signin flags: ${JSON.stringify(cookie)}`);
    await shot(coord, 'sign-in.png');
    return detail;
  });

  await check('a failed sign-in says the same words whatever failed', async () => {
    await coord.getByLabel('Organisation').fill(args.coordinator.org);
    await coord.getByLabel('User name').fill('nobody-here');
    await coord.getByLabel('Password', { exact: true }).fill('not-the-password');
    const [response] = await Promise.all([
      coord.waitForNavigation(),
      coord.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    expect(response.status() === 401, `status ${response.status()}`);
    const alert = await coord.getByRole('alert').innerText();
    expect(alert.includes(kSignInFailedMessage), `alert: ${alert}`);
    expect(await coord.getByLabel('User name').inputValue() === 'nobody-here', 'user name not refilled');
    expect(await coord.getByLabel('Password', { exact: true }).inputValue() === '', 'password refilled');
  });

  await check('coordinator: one-time password, sent to change it, lands on the clients list', async () => {
    const changed = await signIn(coord, args.coordinator, 'coordinator pass phrase 2026');
    expect(changed, 'a one-time password did not lead to /password');
    expect(await coord.getByRole('heading', { level: 1 }).innerText() === 'Clients', 'no Clients heading');
    const flash = await flashText(coord);
    expect(flash.includes('Your password was changed.'), `flash: '${flash}'`);
    const who = await coord.locator('.who').innerText();
    expect(who.includes('Signed in as'), `header: ${who}`);
    await shot(coord, 'clients.png');
    return who;
  });

  await check('session cookie: Secure, HttpOnly, SameSite=Strict (browser context)', async () => {
    const cookie = (await coordContext.cookies()).find((c) => c.name === 'sb_session');
    expect(cookie, 'no sb_session cookie');
    expect(cookie.secure, 'sb_session is not Secure');
    expect(cookie.httpOnly, 'sb_session is not HttpOnly');
    expect(cookie.sameSite === 'Strict', `sb_session SameSite=${cookie.sameSite}`);
    expect(cookie.path === '/', `sb_session path ${cookie.path}`);
    expect(cookie.value.length >= 40, 'sb_session value is short');
    // HttpOnly: not readable from the page's script.
    const visible = await coord.evaluate(() => document.cookie);
    expect(!visible.includes('sb_session'), 'sb_session readable by document.cookie');
    return `expires ${cookie.expires === -1 ? 'with the browser session' : cookie.expires}`;
  }, ['coordinator: one-time password, sent to change it, lands on the clients list']);

  await check('coordinator finds the demo client by name', async () => {
    await coord.getByLabel('Find a client by identifier or name').fill('sam tay');
    await Promise.all([coord.waitForNavigation(), coord.getByRole('button', { name: 'Search' }).click()]);
    const link = coord.locator('ul.results a', { hasText: 'Sam Taylor' });
    expect(await link.count() === 1, `results: ${await coord.locator('main').innerText()}`);
  }, ['coordinator: one-time password, sent to change it, lands on the clients list']);

  await check('coordinator finds the demo client by search and opens it', async () => {
    await coord.getByLabel('Find a client by identifier or name').fill('0004');
    await Promise.all([coord.waitForNavigation(), coord.getByRole('button', { name: 'Search' }).click()]);
    expect(new URL(coord.url()).searchParams.get('q') === '0004', `search URL ${coord.url()}`);
    const link = coord.locator('ul.results a', { hasText: kClient });
    expect(await link.count() === 1, `results: ${await coord.locator('main').innerText()}`);
    const [response] = await Promise.all([coord.waitForNavigation(), link.click()]);
    expect(response.status() === 200, `client page status ${response.status()}`);
    expect(new URL(coord.url()).pathname === `/clients/${kClient}`, `opened ${coord.url()}`);
    return checkHeaders(response, `/clients/${kClient}`);
  }, ['coordinator: one-time password, sent to change it, lands on the clients list']);

  // --- 2. The plan and the timeline, as the coordinator ---------------------------
  const coordOpened = ['coordinator finds the demo client by search and opens it'];
  await check('plan: the housing goal is reopened, with an attainment chart that has an accessible name', async () => {
    const item = goalItem(coord);
    expect(await item.count() === 1, `housing goal '${kHousingGoal}' not found once`);
    const status = (await item.locator('.status').innerText()).trim();
    expect(status === 'reopened', `status '${status}'`);
    const owner = await item.locator('dt:text-is("Owner") + dd').innerText();
    expect(/Harbour Housing/.test(owner), `owner '${owner}'`);
    const chart = item.getByRole('img', { name: /^Attainment over time: / });
    expect(await chart.count() === 1, 'no chart with role img and an "Attainment over time" name');
    expect(await chart.evaluate((e) => e.tagName.toLowerCase()) === 'svg', 'the chart is not an SVG');
    const name = await chart.getAttribute('aria-label');
    expect(/−2 on 8 Oct/.test(name) && /\+1 on 24 Nov/.test(name), `chart name: ${name}`);
    expect(await chart.locator('circle').count() >= 2, 'chart has fewer than two points');
    const box = await chart.boundingBox();
    expect(box && box.width > 0 && box.height > 0, 'chart not drawn');
    // No form on a goal of another organisation.
    expect(await item.locator('form').count() === 0, 'the coordinator has forms on housing\'s goal');
    return name;
  }, coordOpened);

  await check('screenshot: coordinator\'s client page', async () => shot(coord, 'client-coordinator.png'), coordOpened);
  // Smaller pictures for docs/web.md and the README (the top of the page, the
  // plan and the timeline as the viewport shows them).
  await check('screenshots: parts of the coordinator\'s client page', async () => {
    await shot(coord, 'client-coordinator-top.png', false);
    for (const [id, file] of [['plan', 'client-coordinator-plan.png'], ['timeline', 'client-coordinator-timeline.png']]) {
      await coord.locator(`#${id}`).scrollIntoViewIfNeeded();
      await coord.evaluate((section) => document.getElementById(section).scrollIntoView(), id);
      await shot(coord, file, false);
    }
    await coord.evaluate(() => window.scrollTo(0, 0));
  }, coordOpened);

  let coordPages = [];
  await check('timeline: the discharge and the referral to housing, newest first, paged', async () => {
    const timeline = coord.locator('#timeline');
    const iso = await timeline.locator('.entry-when time').evaluateAll((ts) => ts.map((t) => t.getAttribute('datetime')));
    expect(iso.length > 0, 'empty timeline');
    const sorted = [...iso].sort().reverse();
    expect(JSON.stringify(iso) === JSON.stringify(sorted), `not newest first: ${iso.join(' ')}`);
    coordPages = await allTimelinePages(coord, clientUrl(kClient));
    const text = coordPages.map((p) => p.timeline).join('\n');
    expect(text.includes('Discharge summary: Discharge from Ward 7'), 'no discharge entry');
    expect(text.includes('Referral ref-0004-housing to harbour-housing: housing-support'), 'no referral entry');
    expect(text.includes('Referral ref-0004-housing (housing-support) accepted'), 'no referral acceptance');
    expect(text.includes('goal g-tenancy [housing] reopened'), 'no reopening of the housing goal');
    return `${iso.length} entries on the first of ${coordPages.length} pages`;
  }, coordOpened);

  await check('coordinator sees the PSY content (goal and discharge section)', async () => {
    const text = coordPages.map((p) => p.text).join('\n').toLowerCase();
    expect(text.includes('community mental-health team'), 'no "community mental-health team"');
    expect(text.includes('mental state at discharge'), 'no "Mental state at discharge"');
    expect(!text.includes(kWithheld.toLowerCase()), 'something is withheld from the coordinator');
    await coord.goto(clientUrl(kClient));
    expect(await coord.locator('h4', { hasText: 'Keep weekly appointments with the community mental-health team' }).count() === 1,
      'no mental-health goal in the plan');
  }, ['timeline: the discharge and the referral to housing, newest first, paged']);

  // --- 3. Housing adds progress; the version conflict ---------------------------
  await check('housing: one-time password changed, lands on the clients list', async () => {
    const changed = await signIn(housing, args.housing, 'housing pass phrase 2026');
    expect(changed, 'a one-time password did not lead to /password');
    expect(new URL(housing.url()).pathname === '/clients', `at ${housing.url()}`);
  });
  const housingIn = ['housing: one-time password changed, lands on the clients list'];

  let countBefore = 0;
  await check('housing adds a progress entry (+2, a note) to its goal and sees it saved', async () => {
    const response = await housing.goto(clientUrl(kClient));
    expect(response.status() === 200, `status ${response.status()}`);
    countBefore = await progressCount(housing);
    const note = `Keys collected; moved in (e2e ${Date.now()}).`;
    await addProgress(housing, '2', note);
    expect(new URL(housing.url()).pathname === `/clients/${kClient}`, `back at ${housing.url()}`);
    const flash = await flashText(housing);
    expect(flash === 'Saved.', `flash '${flash}'`);
    const item = goalItem(housing);
    const latest = await item.locator('.latest').innerText();
    expect(latest.includes(note) && latest.includes('rating +2'), `latest: ${latest}`);
    expect(await progressCount(housing) === countBefore + 1, 'progress count did not grow by one');
    const chartName = await item.getByRole('img', { name: /^Attainment over time: / }).getAttribute('aria-label');
    expect(/\+2 on /.test(chartName), `chart has no +2: ${chartName}`);
    return `${countBefore} -> ${countBefore + 1} entries`;
  }, housingIn);

  let conflictFlashBox = null;
  let conflictHash = '';
  await check('version conflict: a stale tab gets the "changed since you opened" message and saves nothing', async () => {
    const tabA = await housingContext.newPage();
    const tabB = await housingContext.newPage();
    await tabA.goto(clientUrl(kClient));
    await tabB.goto(clientUrl(kClient));
    const versionA = await goalItem(tabA).locator('input[name=version]').first().inputValue();
    const versionB = await goalItem(tabB).locator('input[name=version]').first().inputValue();
    expect(versionA === versionB, `tabs opened different versions ${versionA} ${versionB}`);
    const count = await progressCount(tabA);
    const noteA = `Tab A note ${Date.now()}`;
    const noteB = `Tab B stale note ${Date.now()}`;
    await addProgress(tabA, '1', noteA);
    const flashA = await flashText(tabA);
    expect(flashA === 'Saved.', `tab A flash '${flashA}'`);
    await addProgress(tabB, '', noteB);
    const flashB = await flashText(tabB);
    expect(flashB === kItemChangedMessage, `tab B flash '${flashB}'`);
    expect(await tabB.locator('main .flash').getAttribute('class').then((c) => /flash-warning/.test(c)),
      'tab B message is not a warning');
    conflictFlashBox = await tabB.locator('main .flash').boundingBox();
    conflictHash = new URL(tabB.url()).hash;
    await shot(tabB, 'version-conflict.png', false);
    // Tab B's page is the latest now: A's note, not B's.
    const textB = await bodyText(tabB);
    expect(textB.includes(noteA), 'tab B after the conflict does not show tab A\'s note');
    expect(!textB.includes(noteB), 'tab B\'s note was saved');
    const reload = await housing.goto(clientUrl(kClient));
    expect(reload.status() === 200, `reload status ${reload.status()}`);
    expect(await progressCount(housing) === count + 1, 'not exactly one entry added by the two tabs');
    expect(!(await housing.content()).includes(noteB), 'tab B\'s note is in the page source');
    await tabA.close();
    await tabB.close();
    return `version ${versionA}; ${count} -> ${count + 1} entries`;
  }, housingIn);

  await check('version conflict: the message is on screen after the redirect', async () => {
    // The redirect goes to the goal's #item- anchor; the message is at the top
    // of <main>: a person who does not scroll up does not see it.
    const box = conflictFlashBox;
    expect(box && box.y >= 0 && box.y + box.height <= 900,
      `off screen after the redirect to ${conflictHash}: its top is at ${box && Math.round(box.y)}px of a 900px view`);
  }, ['version conflict: a stale tab gets the "changed since you opened" message and saves nothing']);

  // --- 4. Housing never sees the PSY section ------------------------------------
  let housingPages = [];
  await check('housing: no PSY content in the rendered DOM, page.content() or the raw page source', async () => {
    housingPages = await allTimelinePages(housing, clientUrl(kClient));
    const found = [];
    let bytes = 0;
    for (const p of housingPages) {
      const raw = await (await housingContext.request.get(p.url, { maxRedirects: 0 })).text();
      expect(raw.includes(kHousingGoal), `the raw fetch of ${p.url} did not get the client page`);
      bytes += raw.length;
      for (const [where, text] of [['innerText', p.text], ['page.content()', p.dom], ['raw HTML', raw]]) {
        for (const w of kPsyPhrases) if (text.toLowerCase().includes(w.toLowerCase())) found.push(`${p.url} ${where}: '${w}'`);
        for (const w of kPsyExact) if (text.includes(w)) found.push(`${p.url} ${where}: '${w}'`);
      }
    }
    expect(found.length === 0, `found ${found.join('; ')}`);
    // Still the discharge, without its psychiatric section.
    const all = housingPages.map((p) => p.timeline).join('\n');
    expect(all.includes('Discharge summary: Discharge from Ward 7'), 'no discharge entry');
    expect(all.includes('Hospital course'), 'no hospital course');
    return `${housingPages.length} timeline pages, ${bytes} bytes of raw HTML checked`;
  }, housingIn);

  await check('housing: the withheld goal and entries show the withheld sentence only', async () => {
    await housing.goto(clientUrl(kClient));
    const plan = housing.locator('#plan');
    const withheld = plan.locator('li.item.withheld');
    expect(await withheld.count() === 1, `${await withheld.count()} withheld plan items`);
    expect((await withheld.innerText()).trim() === kWithheld, `withheld item says '${await withheld.innerText()}'`);
    const entries = housing.locator('#timeline li.entry.withheld');
    expect(await entries.count() >= 1, 'no withheld timeline entry');
    for (const t of await entries.locator('p:not(.entry-when)').allInnerTexts()) {
      expect(t.trim() === kWithheld, `withheld entry says '${t}'`);
    }
    const withheldCount = await entries.count();
    await shot(housing, 'client-housing.png');
    await housing.evaluate(() => document.getElementById('plan').scrollIntoView());
    await shot(housing, 'client-housing-plan.png', false);
    await housing.evaluate(() => window.scrollTo(0, 0));
    // The discharge (on whichever page it is now) says part of it was withheld.
    let partly = null;
    for (const p of housingPages) {
      await housing.goto(p.url);
      const discharge = housing.locator('#timeline li.entry', { hasText: 'Discharge from Ward 7' });
      if (await discharge.count() > 0) partly = await discharge.innerText();
    }
    expect(partly !== null, 'no discharge entry');
    expect(partly.includes('Some of this was withheld'), `the discharge does not say part was withheld: ${partly}`);
    return `${withheldCount} withheld timeline entries on the first page`;
  }, ['housing: no PSY content in the rendered DOM, page.content() or the raw page source']);

  // --- 5. Forged forms ------------------------------------------------------------
  await check('a form posted without the CSRF token, or with another, is refused (403) and changes nothing', async () => {
    await housing.goto(clientUrl(kClient));
    const count = await progressCount(housing);
    const form = goalItem(housing).locator('form', { has: housing.getByRole('group', { name: 'Add progress' }) });
    const action = new URL(await form.getAttribute('action'), args.url).toString();
    const version = await form.locator('input[name=version]').inputValue();
    // (a) The real form in the browser, its csrf field removed.
    await form.locator('input[name=csrf]').evaluate((e) => e.remove());
    await form.locator('textarea[name=note]').fill('forged without a token');
    const [response] = await Promise.all([
      housing.waitForNavigation(),
      form.getByRole('button', { name: 'Add progress' }).click(),
    ]);
    expect(response.status() === 403, `no token: status ${response.status()}`);
    checkHeaders(response, '403 page');
    const refused = await bodyText(housing);
    expect(/not sent from a page of this site/.test(refused), `403 page says: ${refused.slice(0, 300)}`);
    // (b) The session cookie with a wrong token, and with none, outside a page.
    for (const csrf of ['AAAAforgedAAAAtokenAAAAAAAAAAAAAAAAAAAAAAAA', null]) {
      const fields = { version, scale: 'gas', rating: '2', note: 'forged by request' };
      if (csrf !== null) fields.csrf = csrf;
      const r = await housingContext.request.post(action, { form: fields, maxRedirects: 0 });
      expect(r.status() === 403, `csrf=${csrf}: status ${r.status()}`);
    }
    await housing.goto(clientUrl(kClient));
    expect(await progressCount(housing) === count, 'a forged form added progress');
    const text = await bodyText(housing);
    expect(!text.includes('forged'), 'a forged note is on the page');
    return `${action} refused three times`;
  }, housingIn);

  // --- 7. Outside the care teams: 404 ----------------------------------------------
  await check('housing: a client outside its care teams is 404, the same page as an unknown client', async () => {
    const other = await housing.goto(clientUrl(kOtherTeamsClient));
    const otherStatus = other.status();
    const otherText = await housing.locator('main').innerText();
    const unknown = await housing.goto(clientUrl(kUnknownClient));
    const unknownText = await housing.locator('main').innerText();
    expect(otherStatus === 404, `${kOtherTeamsClient}: status ${otherStatus}`);
    expect(unknown.status() === 404, `${kUnknownClient}: status ${unknown.status()}`);
    expect(otherText.includes(kNotFoundMessage), `${kOtherTeamsClient} says: ${otherText}`);
    expect(otherText === unknownText, `pages differ:\n${otherText}\n---\n${unknownText}`);
    // Not in the search either.
    await housing.goto(`${args.url}/clients?q=0003`);
    expect(await housing.locator('ul.results a').count() === 0, `${kOtherTeamsClient} found by search`);
    return otherText.split('\n')[0];
  }, housingIn);

  // --- 9. Phone size ------------------------------------------------------------
  await check('screenshot: client page at phone size (390×844), no horizontal scrolling', async () => {
    const phone = await housingContext.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(clientUrl(kClient));
    await shot(phone, 'client-phone.png');
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await phone.close();
    expect(overflow <= 0, `the page is ${overflow}px wider than the phone`);
  }, housingIn);

  // --- 10. Keyboard -----------------------------------------------------------
  await check('keyboard: the first Tab reaches the skip link, which moves focus to the main content', async () => {
    await coord.goto(clientUrl(kClient));
    await coord.keyboard.press('Tab');
    const first = await coord.evaluate(() => ({
      tag: document.activeElement.tagName, cls: document.activeElement.className,
      href: document.activeElement.getAttribute('href'), text: document.activeElement.textContent.trim(),
    }));
    expect(first.cls.includes('skip-link') && first.href === '#main', `first Tab: ${JSON.stringify(first)}`);
    const box = await coord.locator('.skip-link').boundingBox();
    expect(box && box.y >= 0 && box.y < 900, 'the focused skip link is not visible');
    await coord.keyboard.press('Enter');
    await coord.waitForFunction(() => document.activeElement && document.activeElement.id === 'main');
    await coord.keyboard.press('Tab');
    const next = await coord.evaluate(() => ({
      inMain: document.getElementById('main').contains(document.activeElement),
      text: document.activeElement.textContent.trim(),
    }));
    expect(next.inMain, `Tab after the skip link left main: ${JSON.stringify(next)}`);
    return `"${first.text}", then main, then "${next.text}"`;
  }, coordOpened);

  // --- 6. An ended session is sent to sign in ----------------------------------
  if (args.disableHousing) {
    await check('a person disabled while signed in is signed out at the next page', async () => {
      await housing.goto(clientUrl(kClient));
      expect(new URL(housing.url()).pathname === `/clients/${kClient}`, `before: at ${housing.url()}`);
      execSync(args.disableHousing, { stdio: 'ignore' });
      await housing.goto(clientUrl(kClient));
      expect(new URL(housing.url()).pathname === '/sign-in', `after disable: at ${housing.url()}`);
      expect(!(await bodyText(housing)).includes(kHousingGoal), 'client content shown');
    }, housingIn);
  }

  await check('a corrupted session cookie is sent to sign in (with next=)', async () => {
    const cookie = (await housingContext.cookies()).find((c) => c.name === 'sb_session');
    expect(cookie, 'no session cookie');
    await housingContext.addCookies([{ ...cookie, value: cookie.value.slice(0, -4) + 'AAAA' }]);
    await housing.goto(clientUrl(kClient));
    const url = new URL(housing.url());
    expect(url.pathname === '/sign-in', `at ${housing.url()}`);
    expect(url.searchParams.get('next') === `/clients/${kClient}`, `next=${url.searchParams.get('next')}`);
    expect(!(await bodyText(housing)).includes(kHousingGoal), 'client content shown');
  }, housingIn);

  await check('a session ended on the server (signed out) is sent to sign in when its cookie is replayed', async () => {
    const cookie = (await coordContext.cookies()).find((c) => c.name === 'sb_session');
    expect(cookie, 'no session cookie');
    await coord.goto(clientUrl(kClient));
    await Promise.all([
      coord.waitForURL((u) => u.pathname === '/sign-in'),
      coord.getByRole('button', { name: 'Sign out' }).click(),
    ]);
    expect(!(await coordContext.cookies()).some((c) => c.name === 'sb_session' && c.value),
      'sign-out left the session cookie');
    await coordContext.addCookies([cookie]);
    await coord.goto(clientUrl(kClient));
    expect(new URL(coord.url()).pathname === '/sign-in', `replayed cookie reached ${coord.url()}`);
    const r = await coordContext.request.get(clientUrl(kClient), { maxRedirects: 0 });
    expect(r.status() === 303, `raw request with the old cookie: status ${r.status()}`);
  }, coordOpened);

  await check('no script errors or CSP violations in the browser console', async () => {
    expect(consoleErrors.length === 0, consoleErrors.join(' | '));
  });

  await check('no failed loads but the refusals the checks asked for', async () => {
    const expected = new Set([
      '401 /sign-in', `404 /clients/${kOtherTeamsClient}`, `404 /clients/${kUnknownClient}`,
      '403 /clients/client-0004/items/g-tenancy/progress',
    ]);
    const unexpected = failedLoads.filter((f) => !expected.has(f));
    expect(unexpected.length === 0, `unexpected: ${[...new Set(unexpected)].join(', ')}`);
    return `${failedLoads.length} expected refusals`;
  });
} catch (e) {
  checks.push({ name: 'the run', passed: false, detail: `aborted: ${e.stack || e}` });
} finally {
  await browser.close().catch(() => {});
}

const report = {
  passed: checks.length > 0 && checks.every((c) => c.passed),
  checks,
  screenshots,
  seconds: Math.round((Date.now() - started) / 100) / 10,
};
writeFileSync(join(args.artifacts, 'report.json'), JSON.stringify(report, null, 2) + '\n');
process.stdout.write(JSON.stringify(report, null, 2) + '\n');
process.exit(report.passed ? 0 : 1);
