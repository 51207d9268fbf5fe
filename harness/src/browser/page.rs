//! `Page`: one journey's steps in the browser (open, click, type, wait, accept a dialog), a log of
//! them, and what the pages did wrong meanwhile: every `SEVERE` browser-log entry (a
//! `console.error`, an uncaught exception, a sub-resource that failed or answered >= 400) and, on
//! a proxied app's page, every sub-resource fetched from outside its `/app/<id>/` prefix.

use std::{
    fmt,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use thirtyfour::By;

use super::{BrowserError, Chrome};

/// The browser asks every origin for its icon by itself when a page names none; that request is
/// not the page's, and a 404 for it is not a finding.
const FAVICON: &str = "/favicon.ico";

/// Whether `url` is an origin's `/favicon.ico` (and not an app's own icon under its prefix).
fn is_browser_icon(url: &str) -> bool {
    url.split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .is_some_and(|path| path == FAVICON)
}

/// How often a wait looks at the page again.
const POLL: Duration = Duration::from_millis(100);

/// Something a page did wrong; any one makes the journey red.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// A `SEVERE` browser-log entry: a console error, an uncaught exception, a failed load.
    Console {
        /// Where chromedriver says it came from (`console-api`, `javascript`, `network`).
        source: String,
        /// The entry's text.
        message: String,
    },
    /// A sub-resource of a proxied app's page that answered >= 400 (0: it never loaded).
    Resource {
        /// Its URL.
        url: String,
        /// The HTTP status.
        status: u64,
    },
    /// A sub-resource of a proxied app's page fetched from outside the app's prefix.
    OutsidePrefix {
        /// Its URL.
        url: String,
        /// The prefix it should be under.
        prefix: String,
    },
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::Console { source, message } => write!(f, "browser log ({source}): {message}"),
            Finding::Resource { url, status } => write!(f, "{url} answered {status}"),
            Finding::OutsidePrefix { url, prefix } => {
                write!(f, "{url} loaded from outside {prefix}")
            }
        }
    }
}

/// The files a failed step leaves, named in the case's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// `screenshot.png`.
    pub screenshot: PathBuf,
    /// `dom.html`: the page's DOM as the browser has it.
    pub dom: PathBuf,
    /// `console.log`: every browser-log entry of the journey.
    pub console: PathBuf,
    /// `steps.log`: the steps run, in order, the failed one last.
    pub steps: PathBuf,
}

/// One browser's journey: its steps, the browser log and the findings so far.
pub struct Page<'a> {
    chrome: &'a Chrome,
    steps: Vec<String>,
    console: Vec<String>,
    findings: Vec<Finding>,
}

impl<'a> Page<'a> {
    /// A journey in `chrome`'s window.
    pub fn new(chrome: &'a Chrome) -> Self {
        Page {
            chrome,
            steps: Vec::new(),
            console: Vec::new(),
            findings: Vec::new(),
        }
    }

    fn step(&mut self, what: String) {
        self.steps.push(what);
    }

    /// The driver's answer without its stack trace, on one line.
    fn failed(what: &str, e: impl fmt::Display) -> BrowserError {
        let text = e.to_string();
        let head = text.split("Stacktrace:").next().unwrap_or("");
        BrowserError::WebDriver {
            what: what.to_owned(),
            reason: head.split_whitespace().collect::<Vec<_>>().join(" "),
        }
    }

    /// Opens `url` and waits for it to load.
    pub async fn open(&mut self, url: &str) -> Result<(), BrowserError> {
        let what = format!("open {url}");
        self.step(what.clone());
        let r = self.chrome.session.goto(url).await;
        r.map_err(|e| Self::failed(&what, e))
    }

    /// Clicks the first element matching the CSS selector `css`.
    pub async fn click(&mut self, css: &str) -> Result<(), BrowserError> {
        let what = format!("click {css}");
        self.step(what.clone());
        let el = self.chrome.session.find(By::Css(css)).await;
        let el = el.map_err(|e| Self::failed(&what, e))?;
        el.click().await.map_err(|e| Self::failed(&what, e))
    }

    /// Types `text` into the first element matching `css`.
    pub async fn type_text(
        &mut self,
        css: &str,
        text: &str,
        secret: bool,
    ) -> Result<(), BrowserError> {
        let shown = if secret { "********" } else { text };
        let what = format!("type {shown:?} into {css}");
        self.step(what.clone());
        let el = self.chrome.session.find(By::Css(css)).await;
        let el = el.map_err(|e| Self::failed(&what, e))?;
        el.send_keys(text).await.map_err(|e| Self::failed(&what, e))
    }

    /// Accepts the `confirm()` dialog the last click opened.
    pub async fn accept_dialog(&mut self) -> Result<(), BrowserError> {
        self.step("accept the dialog".into());
        let r = self.chrome.session.accept_alert().await;
        r.map_err(|e| Self::failed("accept the dialog", e))
    }

    /// Waits until an element matching `css` shows `text` (any element when `text` is empty).
    pub async fn wait_text(
        &mut self,
        css: &str,
        text: &str,
        deadline: Duration,
    ) -> Result<(), BrowserError> {
        self.wait_for(css, text, false, deadline).await
    }

    /// Waits until an element matching `css` shows `text`: exactly (trimmed) when `exact`, else
    /// somewhere in its text (any element when `text` is empty).
    pub async fn wait_for(
        &mut self,
        css: &str,
        text: &str,
        exact: bool,
        deadline: Duration,
    ) -> Result<(), BrowserError> {
        let what = match (text.is_empty(), exact) {
            (true, _) => format!("wait for {css}"),
            (false, false) => format!("wait for {css} to show {text:?}"),
            (false, true) => format!("wait for {css} to be {text:?}"),
        };
        self.step(format!("{what} (up to {} s)", deadline.as_secs()));
        let start = Instant::now();
        let mut last = String::from("no such element");
        loop {
            if let Ok(els) = self.chrome.session.find_all(By::Css(css)).await {
                let mut texts = Vec::new();
                for el in &els {
                    texts.push(el.text().await.unwrap_or_default());
                }
                let fits = |t: &String| {
                    if exact {
                        t.trim() == text
                    } else {
                        t.contains(text)
                    }
                };
                if !els.is_empty() && (text.is_empty() || texts.iter().any(fits)) {
                    return Ok(());
                }
                if !els.is_empty() {
                    last = texts.join(" | ");
                }
            }
            if start.elapsed() >= deadline {
                return Err(BrowserError::Timeout {
                    what,
                    secs: deadline.as_secs(),
                    last,
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The text of the first element matching `css` (empty when there is none).
    pub async fn text_of(&self, css: &str) -> String {
        match self.chrome.session.find_all(By::Css(css)).await {
            Ok(els) if !els.is_empty() => els[0].text().await.unwrap_or_default(),
            _ => String::new(),
        }
    }

    /// The attribute `name` of the first element matching `css`.
    pub async fn attribute(&self, css: &str, name: &str) -> Result<Option<String>, BrowserError> {
        let what = format!("read {name} of {css}");
        let el = self.chrome.session.find(By::Css(css)).await;
        let el = el.map_err(|e| Self::failed(&what, e))?;
        el.attr(name).await.map_err(|e| Self::failed(&what, e))
    }

    /// Opens `url`, which must no longer load: returns its HTTP status (0: it did not load at
    /// all) and passes over the browser's own log line for it, which is the point here.
    pub async fn gone(&mut self, url: &str) -> Result<u64, BrowserError> {
        let what = format!("open {url}, which must not load");
        self.step(what.clone());
        let _ = self.look(None).await?;
        let seen = self.findings.len();
        // A page that does not load may still navigate: an error is an answer here.
        let _ = self.chrome.session.goto(url).await;
        let script = "const n = performance.getEntriesByType('navigation')[0];\
                      return n ? (n.responseStatus || 0) : 0;";
        let status = match self.chrome.session.execute(script, Vec::new()).await {
            Ok(v) => v.convert::<u64>().unwrap_or(0),
            Err(_) => 0,
        };
        let _ = self.look(None).await?;
        let page = url.to_owned();
        let mut i = seen;
        while i < self.findings.len() {
            let mine = matches!(&self.findings[i], Finding::Console { source, message }
                if source == "network" && message.starts_with(&page));
            if mine {
                self.findings.remove(i);
            } else {
                i += 1;
            }
        }
        Ok(status)
    }

    /// Runs `fetch(url, POST body as JSON, with the page's credentials)` in the page shown, as one
    /// of its own scripts would, and returns what came of it: `answered <status> <body>` or
    /// `failed: <error>`. The browser's log lines and the resource entry of the call are the point
    /// here, not findings.
    pub async fn forge_post(&mut self, url: &str, body: &str) -> Result<String, BrowserError> {
        let what = format!("POST {url} from the page's own script");
        self.step(what.clone());
        let _ = self.look(None).await?;
        let seen = self.findings.len();
        let script = "const done = arguments[arguments.length - 1];\
            fetch(arguments[0], {method: 'POST', credentials: 'include',\
              headers: {'Content-Type': 'application/json'}, body: arguments[1]})\
              .then(r => r.text().then(t => 'answered ' + r.status + ' ' + t))\
              .catch(e => 'failed: ' + e)\
              .then(outcome => { performance.clearResourceTimings(); done(outcome); });";
        let args = vec![serde_json::json!(url), serde_json::json!(body)];
        let r = self.chrome.session.execute_async(script, args).await;
        let v = r.map_err(|e| Self::failed(&what, e))?;
        let outcome = v
            .convert::<String>()
            .unwrap_or_else(|_| v.json().to_string());
        let _ = self.look(None).await?;
        self.findings.truncate(seen);
        Ok(outcome)
    }

    /// Leaves whatever page the browser shows for `about:blank` and sets aside the browser log
    /// so far, returning how many entries that was. Between journeys the browser stays on the
    /// last journey's page, whose dashboard keeps polling `/rpc`: during another case's daemon
    /// restart or reboot those polls fail, and their log entries belong to no journey (they
    /// were once reported as the next journey's first step failing). Called before a journey,
    /// so it starts clean, and after one, so no page polls the node while other cases run.
    pub async fn leave(&mut self) -> Result<usize, BrowserError> {
        let r = self.chrome.session.goto("about:blank").await;
        r.map_err(|e| Self::failed("open about:blank", e))?;
        let log = self.chrome.session.browser_log().await;
        Ok(log
            .map_err(|e| Self::failed("read the browser log", e))?
            .len())
    }

    /// Reads the browser log since the last look and, when `prefix` is set (a proxied app's
    /// page), the page's sub-resources; returns the findings so far.
    pub async fn look(&mut self, prefix: Option<&str>) -> Result<&[Finding], BrowserError> {
        let log = self.chrome.session.browser_log().await;
        for e in log.map_err(|e| Self::failed("read the browser log", e))? {
            let source = e.source.clone().unwrap_or_default();
            self.console.push(format!(
                "{} {} {source}: {}",
                e.timestamp, e.level, e.message
            ));
            let first = e.message.split_whitespace().next().unwrap_or("");
            if e.level == "SEVERE" && !is_browser_icon(first) {
                self.findings.push(Finding::Console {
                    source,
                    message: e.message,
                });
            }
        }
        if let Some(prefix) = prefix {
            let script = "return performance.getEntriesByType('resource')\
                .map(e => [e.name, e.responseStatus || 0]);";
            let r = self.chrome.session.execute(script, Vec::new()).await;
            let v = r.map_err(|e| Self::failed("read the page's resources", e))?;
            let entries: Vec<(String, u64)> = v.convert().unwrap_or_default();
            let base = self.origin().await?;
            for (url, status) in entries {
                if is_browser_icon(&url) {
                    continue;
                }
                let finding = if status >= 400 || status == 0 {
                    Finding::Resource { url, status }
                } else if !url.starts_with(&format!("{base}{prefix}")) {
                    Finding::OutsidePrefix {
                        url,
                        prefix: prefix.to_owned(),
                    }
                } else {
                    continue;
                };
                if !self.findings.contains(&finding) {
                    self.findings.push(finding);
                }
            }
        }
        Ok(&self.findings)
    }

    /// `scheme://host:port` of the page shown.
    async fn origin(&self) -> Result<String, BrowserError> {
        let url = self.chrome.session.current_url().await;
        let url = url.map_err(|e| Self::failed("read the page's URL", e))?;
        Ok(url.origin().ascii_serialization())
    }

    /// The steps run so far, one per line.
    pub fn steps(&self) -> &[String] {
        &self.steps
    }

    /// Writes the screenshot, the DOM, the browser log and the steps into `dir`.
    pub async fn evidence(&mut self, dir: &Path) -> Result<Evidence, BrowserError> {
        let _ = self.look(None).await;
        let write = |path: PathBuf, bytes: &[u8]| {
            crate::fsutil::write_atomic(&path, bytes, 0o644)
                .map_err(|source| BrowserError::Write {
                    path: path.clone(),
                    source,
                })
                .map(|()| path)
        };
        std::fs::create_dir_all(dir).map_err(|source| BrowserError::Write {
            path: dir.to_owned(),
            source,
        })?;
        let png = self.chrome.session.screenshot_as_png().await;
        let png = png.map_err(|e| Self::failed("take a screenshot", e))?;
        let dom = self.chrome.session.source().await.unwrap_or_default();
        Ok(Evidence {
            screenshot: write(dir.join("screenshot.png"), &png)?,
            dom: write(dir.join("dom.html"), dom.as_bytes())?,
            console: write(dir.join("console.log"), self.console.join("\n").as_bytes())?,
            steps: write(dir.join("steps.log"), self.steps.join("\n").as_bytes())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_origins_own_icon_is_the_browsers_request() {
        assert!(is_browser_icon("http://10.77.0.228:5678/favicon.ico"));
        assert!(!is_browser_icon(
            "http://10.77.0.228:5678/app/lab-chain/favicon.ico"
        ));
        assert!(!is_browser_icon("http://10.77.0.228:5678/favicon.ico.js"));
        assert!(!is_browser_icon("favicon.ico"));
    }
}
