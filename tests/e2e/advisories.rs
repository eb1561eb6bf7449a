//! Published advisories of peer runtimes replayed from page script against
//! the demo as shipped (`tests/js/advisories.js`); `docs/advisories.md`
//! names each result, and `tests/advisories.rs` checks that every test it
//! names exists and runs.

use super::*;

#[test]
fn published_advisories_replayed_from_the_page_find_nothing() {
    let xdg = tempfile::tempdir().unwrap();
    let out = run("advisories.js", xdg.path(), 90);
    out.assert_passed(&[
        "GHSA-h7rp-cf8h-j98x: poisoned built-ins catch no key",
        "GHSA-h7rp-cf8h-j98x: calls still pass the hooks",
        "GHSA-ff2p-hmqr-hxm4: an accessor is read once, and what the hook saw is what runs",
        "GHSA-ff2p-hmqr-hxm4: an own \"__proto__\" key is data, not a prototype",
        "GHSA-f9mq-jph6-9mhm: window.open(file:///etc/passwd, features) opens nothing",
        "GHSA-f9mq-jph6-9mhm: window.open(app://localhost/, features) opens nothing",
        "GHSA-5c9j-mhmv-5xgx: fs path with a NUL after an allowed prefix",
        "GHSA-5c9j-mhmv-5xgx: open URL with a NUL after an allowed prefix",
        "GHSA-5c9j-mhmv-5xgx: shell argument with a NUL after an allowed value",
        "GHSA-4p4r-m79c-wq3v: app:/index%0D%0ASet-Cookie:%20x=1 injects no header",
        "GHSA-4p4r-m79c-wq3v: app:/style.css%0D%0AX-Injected:%201 injects no header",
        "GHSA-4p4r-m79c-wq3v: app:/a%00.css injects no header",
        "GHSA-4p4r-m79c-wq3v: a request header with CR LF never leaves the page",
        "CVE-2023-23623: eval and new Function are refused in the page",
        "GHSA-3p22-ghq8-v749: no device API (Bluetooth, USB, HID, serial) is offered to the page",
    ]);
    // The report the hook judged is the one on disk; the NUL never landed.
    let report = std::fs::read_to_string(report_path(xdg.path())).unwrap_or_default();
    assert!(!report.contains('\0'), "{report:?}");
}
