// Real clicks (sent by the Rust test with xdotool once the targets are
// placed): a target=_blank link outside scope.open, a download link, and a
// target=_blank link inside scope.open. No new window and no download; the
// third goes to the system opener (the Rust test checks which); the page
// stays.
const place = (el, top) => {
  el.style.cssText = `position:fixed;left:0;top:${top}px;width:400px;height:150px;display:block;background:#ccc;z-index:9`;
  document.body.appendChild(el);
};
// Inline style= attributes are blocked by the CSP; cssText set from script is
// not an attribute and applies.
const blank = document.createElement('a');
blank.href = 'https://example.com/'; blank.target = '_blank'; blank.textContent = 'new window';
const dl = document.createElement('a');
dl.href = URL.createObjectURL(new Blob(['report'], { type: 'text/plain' })); dl.download = 'report.txt'; dl.textContent = 'download';
const scoped = document.createElement('a');
scoped.href = 'https://github.com/moat-demo'; scoped.target = '_blank'; scoped.textContent = 'in scope.open';
let clicks = 0;
for (const a of [blank, dl, scoped]) a.addEventListener('click', () => { clicks++; });
place(blank, 0);
place(dl, 200);
place(scoped, 400);
harness.result('click targets placed', true, null);
for (let i = 0; i < 200 && clicks < 3; i++) await sleep(100);
check('all three links were clicked by a real user gesture', clicks === 3, clicks);
await sleep(1500);
check('the page stays after a target=_blank click and a download click', location.href === 'app://localhost/', location.href);
harness.done();
