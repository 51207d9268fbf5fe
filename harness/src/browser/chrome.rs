//! `Chrome`: Debian's `chromedriver` on a loopback port and one headless Chromium session with a
//! fresh profile, both ended when the value is dropped (or by [`Chrome::quit`]).

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use thirtyfour::{ChromiumLikeCapabilities, DesiredCapabilities, WebDriver};

use super::BrowserError;

/// Where Debian's `chromium` package puts the browser.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Where Debian's `chromium-driver` package puts the driver.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The flags proven to work in this sandbox, and that keep Chromium from calling home: no
/// background fetches, component updates, sync or QUIC. [`Chrome::start`] adds a resolver rule
/// that maps every host but the allowed addresses to nowhere.
pub const FLAGS: [&str; 10] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
];

/// How long chromedriver gets to answer on its port.
const DRIVER_START: Duration = Duration::from_secs(20);

/// A running chromedriver and the browser session it drives.
pub struct Chrome {
    driver: tokio::process::Child,
    profile: PathBuf,
    /// The WebDriver session (one window).
    pub session: WebDriver,
}

impl Chrome {
    /// Starts chromedriver on a free loopback port and a headless Chromium whose profile is a new
    /// folder under `scratch` (removed again by [`Chrome::quit`]), that can reach `allowed` only
    /// (the caller has checked their routes): any other host, by name or address, resolves to
    /// nothing, so nothing a page links to leaves the lab.
    pub async fn start(scratch: &Path, allowed: &[IpAddr]) -> Result<Chrome, BrowserError> {
        for path in [CHROMIUM, CHROMEDRIVER] {
            if !Path::new(path).exists() {
                return Err(BrowserError::NotInstalled { path });
            }
        }
        let port = free_port().map_err(|e| BrowserError::Driver(format!("no free port: {e}")))?;
        let mut driver = tokio::process::Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, which Chromium's processes join: ending the group ends
            // them all, even when the driver had no time to end the browser itself.
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| BrowserError::Driver(e.to_string()))?;
        let url = format!("http://127.0.0.1:{port}");
        wait_listening(&mut driver, port).await?;

        let profile = scratch.join(format!("chromium-profile-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).map_err(|source| BrowserError::Write {
            path: profile.clone(),
            source,
        })?;
        let session = session(&url, &profile, allowed)
            .await
            .map_err(|e| BrowserError::Driver(format!("failed to open a session: {e}")))?;
        Ok(Chrome {
            driver,
            profile,
            session,
        })
    }

    /// Ends the session, the driver and the browser, and removes the profile.
    pub async fn quit(self) {
        let _ = self.session.clone().quit().await;
        // Drop ends the process group and removes the profile.
    }
}

/// A browser not quit (a panic, a cancelled run) still goes: the driver's whole process group
/// is killed, so no Chromium outlives the harness's run.
impl Drop for Chrome {
    fn drop(&mut self) {
        if let Some(pid) = self.driver.id() {
            // SAFETY: kill(2) with a negative pid signals the process group `pid` leads; it
            // touches no memory of ours.
            unsafe {
                libc::kill(-(pid as libc::pid_t), libc::SIGKILL);
            }
        }
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

async fn session(
    url: &str,
    profile: &Path,
    allowed: &[IpAddr],
) -> thirtyfour::error::WebDriverResult<WebDriver> {
    let mut caps = DesiredCapabilities::chrome();
    caps.set_binary(CHROMIUM)?;
    for flag in FLAGS {
        caps.add_arg(flag)?;
    }
    caps.add_arg(&resolver_rules(allowed))?;
    caps.add_arg(&format!("--user-data-dir={}", profile.display()))?;
    // Console messages, uncaught exceptions and failed loads: read back after every step.
    caps.set_browser_log_level(thirtyfour::common::log::LoggingPrefsLogLevel::All)?;
    WebDriver::new(url, caps).await
}

/// Chromium's flag mapping every host except `allowed` to "not found".
pub fn resolver_rules(allowed: &[IpAddr]) -> String {
    let mut rules = String::from("--host-resolver-rules=MAP * ~NOTFOUND");
    for a in allowed {
        rules.push_str(&format!(", EXCLUDE {a}"));
    }
    rules
}

/// A port nobody listens on now (the kernel's pick for port 0).
fn free_port() -> std::io::Result<u16> {
    let l = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
    Ok(l.local_addr()?.port())
}

/// Waits until the driver accepts connections, or says why it will not.
async fn wait_listening(driver: &mut tokio::process::Child, port: u16) -> Result<(), BrowserError> {
    let start = Instant::now();
    loop {
        if let Ok(Some(status)) = driver.try_wait() {
            return Err(BrowserError::Driver(format!("it exited: {status}")));
        }
        if tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        if start.elapsed() > DRIVER_START {
            return Err(BrowserError::Driver(format!(
                "nothing listening on 127.0.0.1:{port} after {} s",
                DRIVER_START.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_host_but_the_allowed_ones_resolves_to_nothing() {
        let lab: [IpAddr; 2] = ["10.77.0.228".parse().unwrap(), "127.0.0.1".parse().unwrap()];
        assert_eq!(
            resolver_rules(&lab),
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 10.77.0.228, EXCLUDE 127.0.0.1"
        );
        assert_eq!(resolver_rules(&[]), "--host-resolver-rules=MAP * ~NOTFOUND");
    }
}
