// Real clicks (sent by the Rust test with xdotool once the targets are
// placed): a target=_blank link and a download link. Both must be refused by
// Moat's handlers, and the page must stay.
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
let clicks = 0;
for (const a of [blank, dl]) a.addEventListener('click', () => { clicks++; });
place(blank, 0);
place(dl, 200);
harness.result('click targets placed', true, null);
for (let i = 0; i < 200 && clicks < 2; i++) await sleep(100);
check('both links were clicked by a real user gesture', clicks === 2, clicks);
await sleep(1500);
check('the page stays after a target=_blank click and a download click', location.href === 'app://localhost/', location.href);
harness.done();
