//! What a page load leaves when it goes, and what a page can make the core
//! hold or log: pending calls counted per page load, a command's events
//! for its own page load only, reply bytes bounded and dropped with their
//! page load, probes rate limited and logged in bursts (issue 22, points
//! 4, 5, 7 and 9).

use super::*;

#[test]
fn a_gone_page_load_locks_nothing_out_and_hears_nothing() {
    let xdg = tempfile::tempdir().unwrap();
    let out = run_with_config(
        "page_loads.js",
        xdg.path(),
        r#"{"identifier":"dev.moat.pageloads","title":"page loads","isolation":{"hooks":["validate.js"]},
            "allowlist":{"commands":["slow","echo","emit_later","emit_later_result"]},
            "limits":{"maxMessageBytes":1048576,"callTimeoutMs":30000,"maxPendingCalls":3}}"#,
        &[],
    );
    out.assert_passed(&[
        "pending: a fourth call of this page is busy",
        "pending: the next page load is not locked out by the calls of the one before",
        "event: a command of the page before emits into nothing",
        "event: and is told its page is gone",
    ]);
}

#[test]
fn reply_bytes_are_bounded_and_go_with_their_page_load() {
    let xdg = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(xdg.path()).unwrap();
    let config = serde_json::json!({
        "identifier": "dev.moat.replybytes",
        "title": "reply bytes",
        "isolation": {"hooks": ["validate.js"]},
        "allowlist": {"commands": ["echo"], "fs": {"readFile": true}},
        "scope": {"fs": {"allow": ["$APPDATA/**"]}},
        // Reply bytes may wait 4 s, 4 x 34 MiB = 136 MiB of them at most;
        // 100 calls (or probes) a second.
        "limits": {"maxMessageBytes": 35651584, "callTimeoutMs": 4000, "maxCallsPerSecond": 100},
    });
    let appdata = root.join("dev.moat.replybytes");
    std::fs::create_dir_all(&appdata).unwrap();
    std::fs::write(appdata.join("big.bin"), vec![7u8; 33 << 20]).unwrap();
    let (config_file, script) = scripted(
        &root,
        "reply_bytes.js",
        &config,
        &serde_json::json!({"path": "$APPDATA/big.bin"}),
    );
    let out = run_with(
        script.to_str().unwrap(),
        &root,
        90,
        &["--harness-config", config_file.to_str().unwrap()],
    );
    out.assert_passed(&[
        "bytes: before",
        "bytes: while unfetched",
        "bytes: after they expire",
        "bytes: after their page load is gone",
        "probes: reply bytes nobody is owed are not found",
        "probes: past the call rate they are rate_limited",
        "probes: the app still answers",
    ]);
    let mb = |name: &str| out.result(name).unwrap()["rss_now_kb"].as_f64().unwrap() / 1024.0;
    let before = mb("bytes: before");
    let held = mb("bytes: while unfetched") - before;
    let expired = mb("bytes: after they expire") - before;
    let gone = mb("bytes: after their page load is gone") - before;
    eprintln!(
        "reply bytes: before {before:.0} MB, held {held:.0}, expired {expired:.0}, gone {gone:.0}"
    );
    // Eight replies of 33 MiB: four fit under the bound, four are refused.
    assert!(held < 136.0 + 48.0, "{held} MB held while unfetched");
    assert!(expired < 48.0, "{expired} MB still held after expiry");
    assert!(gone < 48.0, "{gone} MB still held after the page load went");
    // The bridge fetches no bytes for calls it does not wait for, so in
    // the first page load four replies are kept and at least four refused
    // (more if the second batch finishes before its page load goes).
    let refused = out
        .stderr
        .matches("bytes of replies are waiting to be fetched")
        .count();
    assert!(
        (4..=8).contains(&refused),
        "{refused} replies refused\n{}",
        out.tail()
    );
    // 1,500 probes: logged one by one only in bursts, the rest counted.
    let one_by_one = out
        .stderr
        .lines()
        .filter(|l| {
            l.contains("refused code=\"not_found\"") || l.contains("refused code=\"rate_limited\"")
        })
        .count();
    assert!(one_by_one <= 4 * 20, "{one_by_one} probe lines in the log");
    assert!(
        out.stderr
            .contains("more refusals with this code were not logged one by one"),
        "{}",
        out.tail()
    );
}
