//! The L4 browser against a real HTTP server on loopback: Debian's Chromium and chromedriver
//! (installed by scripts/setup.sh), never a fake. One browser for the whole file: starting one
//! takes a second or two.

use std::{net::SocketAddr, time::Duration};

use harness::browser::{BrowserError, Chrome, Finding, Page};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

/// What the server answers for a path: status, content type, body.
fn route(path: &str) -> (u16, &'static str, &'static str) {
    match path {
        "/plain/" | "/sandboxed/" => (200, "text/html", "<!doctype html><p>app</p>"),
        "/rpc" => (200, "application/json", ""),
        "/good/" => (
            200,
            "text/html",
            "<!doctype html><html><head><script src=\"/good/app.js\"></script></head>\
             <body><p id=\"out\">loading</p><button id=\"go\">go</button>\
             <input id=\"name\"></body></html>",
        ),
        "/good/app.js" => (
            200,
            "text/javascript",
            "addEventListener('DOMContentLoaded', () => {\
               const out = document.getElementById('out');\
               setTimeout(() => { out.textContent = 'ready'; }, 300);\
               document.getElementById('go').onclick = () => {\
                 if (confirm('sure?')) out.textContent = 'clicked ' + document.getElementById('name').value;\
               };\
             });",
        ),
        "/bad/" => (
            200,
            "text/html",
            "<!doctype html><html><body><p id=\"out\">bad</p>\
             <img src=\"/bad/missing.png\"><script src=\"/elsewhere.js\"></script>\
             <script>console.error('boom'); throw new Error('uncaught here');</script>\
             </body></html>",
        ),
        "/elsewhere.js" => (200, "text/javascript", "window.elsewhere = 1;"),
        _ => (404, "text/plain", "not found"),
    }
}

async fn serve() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let n = s.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]);
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let (status, ctype, body) = route(&path);
                let (ctype, body) = if path == "/rpc" {
                    // Says which origin called; no CORS header, as the orchestrator sends none.
                    let origin = head
                        .lines()
                        .find_map(|l| l.strip_prefix("Origin: ").or(l.strip_prefix("origin: ")))
                        .unwrap_or("none");
                    (
                        "application/json",
                        format!("{{\"result\":\"ran\",\"origin\":\"{origin}\"}}"),
                    )
                } else {
                    (ctype, body.to_owned())
                };
                let csp = if path == "/sandboxed/" {
                    "Content-Security-Policy: sandbox allow-scripts allow-forms\r\n"
                } else {
                    ""
                };
                let reply = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\n{csp}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(reply.as_bytes()).await;
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drives_real_chromium_and_sees_what_a_page_does_wrong() {
    let addr = serve().await;
    let scratch = std::env::temp_dir().join(format!("harness-browser-test-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let chrome = Chrome::start(&scratch, &[addr.ip()])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let base = format!("http://{addr}");

    // A page that behaves: waits, a typed value, a confirm dialog, and nothing found.
    let mut page = Page::new(&chrome);
    page.open(&format!("{base}/good/")).await.unwrap();
    page.wait_text("#out", "ready", Duration::from_secs(10))
        .await
        .unwrap();
    page.type_text("#name", "satoshi", false).await.unwrap();
    page.click("#go").await.unwrap();
    page.accept_dialog().await.unwrap();
    page.wait_text("#out", "clicked satoshi", Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(page.look(Some("/good/")).await.unwrap(), &[]);
    assert_eq!(
        page.steps(),
        [
            format!("open {base}/good/"),
            "wait for #out to show \"ready\" (up to 10 s)".into(),
            "type \"satoshi\" into #name".into(),
            "click #go".into(),
            "accept the dialog".into(),
            "wait for #out to show \"clicked satoshi\" (up to 5 s)".into(),
        ]
    );

    // A wait that runs out says what the page showed instead.
    match page
        .wait_text("#out", "never", Duration::from_secs(1))
        .await
    {
        Err(BrowserError::Timeout { what, secs, last }) => {
            assert_eq!(
                (what.as_str(), secs, last.as_str()),
                ("wait for #out to show \"never\"", 1, "clicked satoshi")
            );
        }
        other => panic!("expected a timeout, got {other:?}"),
    }

    // A page that misbehaves: every kind of finding, then the evidence.
    let mut page = Page::new(&chrome);
    page.open(&format!("{base}/bad/")).await.unwrap();
    let findings = page.look(Some("/bad/")).await.unwrap().to_vec();
    let console: Vec<(&str, bool)> = findings
        .iter()
        .filter_map(|f| match f {
            Finding::Console { source, message } => Some((
                source.as_str(),
                message.contains("boom")
                    || message.contains("uncaught here")
                    || message.contains("missing.png"),
            )),
            _ => None,
        })
        .collect();
    assert!(console.iter().all(|(_, known)| *known), "{findings:#?}");
    for want in ["boom", "uncaught here", "missing.png"] {
        assert!(
            findings
                .iter()
                .any(|f| matches!(f, Finding::Console { message, .. } if message.contains(want))),
            "no finding for {want}: {findings:#?}"
        );
    }
    assert!(
        findings.contains(&Finding::Resource {
            url: format!("{base}/bad/missing.png"),
            status: 404
        }),
        "{findings:#?}"
    );
    assert!(
        findings.contains(&Finding::OutsidePrefix {
            url: format!("{base}/elsewhere.js"),
            prefix: "/bad/".into()
        }),
        "{findings:#?}"
    );
    assert_eq!(findings.len(), 5, "{findings:#?}");

    let dir = scratch.join("artifacts/L4::x::journey");
    let ev = page.evidence(&dir).await.unwrap();
    assert_eq!(ev.screenshot, dir.join("screenshot.png"));
    assert!(
        std::fs::read(&ev.screenshot)
            .unwrap()
            .starts_with(b"\x89PNG\r\n\x1a\n")
    );
    assert!(
        std::fs::read_to_string(&ev.dom)
            .unwrap()
            .contains("<p id=\"out\">bad</p>")
    );
    assert!(
        std::fs::read_to_string(&ev.console)
            .unwrap()
            .contains("boom")
    );
    assert_eq!(
        std::fs::read_to_string(&ev.steps).unwrap(),
        format!("open {base}/bad/")
    );

    // What a page logged after its journey (a dashboard's poll refused during another case's
    // reboot) is set aside when the browser leaves it, so the next journey starts clean.
    let mut page = Page::new(&chrome);
    page.open(&format!("{base}/bad/")).await.unwrap();
    assert!(page.leave().await.unwrap() >= 2);
    let mut page = Page::new(&chrome);
    page.open(&format!("{base}/good/")).await.unwrap();
    assert_eq!(page.look(Some("/good/")).await.unwrap(), &[]);

    // A page's own script POSTing to the server: same origin, it reads the answer; from a page
    // the server sandboxes (an opaque origin, as the orchestrator's proxy makes app pages), the
    // request says `Origin: null` and the page cannot read what came back. Neither is a finding.
    let mut page = Page::new(&chrome);
    page.open(&format!("{base}/plain/")).await.unwrap();
    let rpc = format!("{base}/rpc");
    assert_eq!(
        page.forge_post(&rpc, "{}").await.unwrap(),
        format!("answered 200 {{\"result\":\"ran\",\"origin\":\"{base}\"}}")
    );
    page.open(&format!("{base}/sandboxed/")).await.unwrap();
    assert_eq!(
        page.forge_post(&rpc, "{}").await.unwrap(),
        "failed: TypeError: Failed to fetch"
    );
    assert_eq!(page.look(None).await.unwrap(), &[]);

    chrome.quit().await;
    // Nothing of the browser is left: no process names the profile, which is gone.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut left = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(scratch.to_str().unwrap()) {
            left.push(entry.file_name());
        }
    }
    assert_eq!(
        left,
        Vec::<std::ffi::OsString>::new(),
        "browser processes left"
    );
    let profiles = std::fs::read_dir(&scratch)
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("chromium-profile-")
        })
        .count();
    assert_eq!(profiles, 0, "the profile is left");
    std::fs::remove_dir_all(&scratch).unwrap();
}
