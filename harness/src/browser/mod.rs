//! A real Chromium for the L4 journeys, driven over WebDriver: `chrome` starts Debian's
//! `chromedriver` on loopback and a headless Chromium with a fresh profile; `page` is one
//! browser's steps (open, click, type, wait) and what the pages did wrong meanwhile (console
//! errors, uncaught exceptions, sub-resources that failed or came from outside their prefix),
//! with the evidence a red journey leaves (screenshot, DOM, console log).

mod chrome;
mod error;
mod page;

pub use chrome::{CHROMEDRIVER, CHROMIUM, Chrome, FLAGS, resolver_rules};
pub use error::BrowserError;
pub use page::{Evidence, Finding, Page};
