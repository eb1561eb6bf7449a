// Launch links reach the page as `moat:launch` events: the first launch's
// own link (held until this late listener), then those later launches
// hand over. The test runs the later launches once this says it listens.
const got = [];
let done = false;
window.moat.listen('moat:launch', (a) => {
  got.push(a.url || a.file);
  if (a.url === 'moat-demo://done') done = true;
});
const until = async (f, ms) => { for (let t = 0; t < ms && !f(); t += 50) await sleep(50); return f(); };
const shown = () => document.getElementById('log').textContent.includes('opened with → ok: moat-demo://first/start');
check('launch: the demo shows the link it was opened with', await until(shown, 10000), document.getElementById('log').textContent.slice(0, 300));
check('launch: listening', true);
await until(() => done, 80000);
check('launch: the first launch\'s own link arrived, before any listener', got[0] === 'moat-demo://first/start', got);
check('launch: a second launch\'s link arrived in its parsed form', got.includes('moat-demo://open/item?id=42&q=a%20b'), got);
check('launch: nothing refused arrived', !got.some((u) => /evil|passwd|other-user|\n/.test(u) || u.length > 2048), got);
const flood = got.filter((u) => u.startsWith('moat-demo://flood/')).length;
check('launch: a flood of launches is cut at the rate', flood >= 1 && flood < 25, flood);
harness.done();
