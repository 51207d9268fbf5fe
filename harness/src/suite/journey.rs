//! An app's L4 journey: the `[[journey]]` steps of its suite, each one table with one action,
//! read from the wire shape and checked (selectors and paths non-empty, deadlines positive,
//! dashboard actions known) with the file, line and key of anything refused.

use std::{fmt, time::Duration};

use toml::Spanned;

/// A dashboard button, as the row's `button.<action>` and the API method it calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `package.install`: the row ends running and healthy.
    Install,
    /// `package.start`: running and healthy.
    Start,
    /// `package.stop`: stopped.
    Stop,
    /// `package.restart`: running and healthy.
    Restart,
    /// `package.update`: running and healthy.
    Update,
    /// `package.uninstall` (after its confirmation): not installed.
    Uninstall,
}

impl Action {
    /// Every action, in the dashboard's button order.
    pub const ALL: [Action; 6] = [
        Action::Install,
        Action::Start,
        Action::Stop,
        Action::Restart,
        Action::Update,
        Action::Uninstall,
    ];

    /// The button's class and the word in the suite.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Install => "install",
            Action::Start => "start",
            Action::Stop => "stop",
            Action::Restart => "restart",
            Action::Update => "update",
            Action::Uninstall => "uninstall",
        }
    }

    /// The state the row must show once the action is done.
    pub fn settles_to(self) -> &'static str {
        match self {
            Action::Install | Action::Start | Action::Restart | Action::Update => "running",
            Action::Stop => "stopped",
            Action::Uninstall => "not-installed",
        }
    }

    /// Whether the button asks for a confirmation first.
    pub fn confirms(self) -> bool {
        self == Action::Uninstall
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One step of a journey.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Open `/login`, type the fleet's password, submit: the dashboard shows.
    Login,
    /// Open a path of the orchestrator (`/`, `/app/lab-wallet/`).
    Open(String),
    /// Click the app row's button and wait (up to the app's start budget) until the row shows
    /// the state the action settles to (and `healthy` where it runs).
    Dashboard(Action),
    /// Click the app row's button; the orchestrator must refuse: the row's error shows `text`
    /// and its state does not change.
    Refused {
        /// The button.
        action: Action,
        /// Text the row's error must contain.
        text: String,
    },
    /// Click the app row's `open` link; later steps check the page's resources against its
    /// `/app/<prefix>/`.
    OpenUi,
    /// Click the first element matching a CSS selector.
    Click(String),
    /// Type text into the first element matching a CSS selector.
    Type {
        /// The selector.
        css: String,
        /// The text.
        text: String,
    },
    /// Wait until an element matching the selector shows `text` (any element when empty).
    Wait {
        /// The selector.
        css: String,
        /// Text it must contain.
        text: String,
        /// How long to wait (0: it must show now, the suite's `expect`).
        deadline: Duration,
    },
    /// The orchestrator path no longer loads: it answers >= 400 or fails.
    Gone(String),
    /// A script of the page shown (a proxied app's) calls `package.stop` of this app on the
    /// orchestrator's `/rpc` with whatever credentials the browser would send: it must not
    /// work, and the app must still run.
    ForgeStop,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Login => f.write_str("log in"),
            Step::Open(p) => write!(f, "open {p}"),
            Step::Dashboard(a) => write!(f, "{a} from the dashboard"),
            Step::Refused { action, text } => write!(f, "{action} refused with {text:?}"),
            Step::OpenUi => f.write_str("open the app's UI"),
            Step::Click(c) => write!(f, "click {c}"),
            Step::Type { css, text } => write!(f, "type {text:?} into {css}"),
            Step::Wait {
                css,
                text,
                deadline,
            } => {
                write!(f, "wait {} s for {css} {text:?}", deadline.as_secs())
            }
            Step::Gone(p) => write!(f, "{p} no longer loads"),
            Step::ForgeStop => f.write_str("the page's script cannot stop the app"),
        }
    }
}

/// How long a `wait` waits when the suite names no deadline.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(10);

/// One `[[journey]]` table before checking.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireStep {
    /// `login = true`.
    pub login: Option<Spanned<bool>>,
    /// `open = "/"`.
    pub open: Option<Spanned<String>>,
    /// `dashboard = "install"`.
    pub dashboard: Option<Spanned<String>>,
    /// `refused = "stop"` (with `text`).
    pub refused: Option<Spanned<String>>,
    /// `open_ui = true`.
    pub open_ui: Option<Spanned<bool>>,
    /// `click = "<css>"`.
    pub click: Option<Spanned<String>>,
    /// `type = "<css>"` (with `text`).
    #[serde(rename = "type")]
    pub type_into: Option<Spanned<String>>,
    /// `wait = "<css>"` (with `text`, `deadline_secs`).
    pub wait: Option<Spanned<String>>,
    /// `expect = "<css>"` (with `text`): a wait of no time.
    pub expect: Option<Spanned<String>>,
    /// `gone = "/app/<id>/"`.
    pub gone: Option<Spanned<String>>,
    /// `forge_stop = true`.
    pub forge_stop: Option<Spanned<bool>>,
    /// The text of `refused`, `type`, `wait`, `expect`.
    pub text: Option<Spanned<String>>,
    /// The deadline of `wait`.
    pub deadline_secs: Option<Spanned<i64>>,
}

/// A refusal: the byte span to name and the key and message.
pub type Refusal = (std::ops::Range<usize>, String, String);

/// Checks one wire step (the `index`th, from 0) into a [`Step`].
pub fn step(index: usize, w: &Spanned<WireStep>) -> Result<Step, Refusal> {
    let key = |k: &str| format!("journey[{index}].{k}");
    let s = w.get_ref();
    let mut actions = Vec::new();
    let mut name = |present: bool, k: &'static str| {
        if present {
            actions.push(k);
        }
    };
    name(s.login.is_some(), "login");
    name(s.open.is_some(), "open");
    name(s.dashboard.is_some(), "dashboard");
    name(s.refused.is_some(), "refused");
    name(s.open_ui.is_some(), "open_ui");
    name(s.click.is_some(), "click");
    name(s.type_into.is_some(), "type");
    name(s.wait.is_some(), "wait");
    name(s.expect.is_some(), "expect");
    name(s.gone.is_some(), "gone");
    name(s.forge_stop.is_some(), "forge_stop");
    let [action] = actions[..] else {
        return Err((
            w.span(),
            format!("journey[{index}]"),
            format!(
                "a step has exactly one of login, open, dashboard, refused, open_ui, click, type, \
                 wait, expect, gone, forge_stop (this one has {})",
                if actions.is_empty() {
                    "none".into()
                } else {
                    actions.join(", ")
                }
            ),
        ));
    };
    let text_for = ["refused", "type", "wait", "expect"];
    if let Some(t) = &s.text
        && !text_for.contains(&action)
    {
        return Err((t.span(), key("text"), format!("`{action}` takes no text")));
    }
    if let Some(d) = &s.deadline_secs
        && action != "wait"
    {
        return Err((
            d.span(),
            key("deadline_secs"),
            format!("`{action}` takes no deadline"),
        ));
    }
    let non_empty = |v: &Spanned<String>, k: &str| -> Result<String, Refusal> {
        if v.get_ref().trim().is_empty() {
            Err((v.span(), key(k), "must not be empty".into()))
        } else {
            Ok(v.get_ref().clone())
        }
    };
    let path = |v: &Spanned<String>, k: &str| -> Result<String, Refusal> {
        let p = non_empty(v, k)?;
        if p.starts_with('/') {
            Ok(p)
        } else {
            Err((
                v.span(),
                key(k),
                format!("{p:?} must be a path starting with /"),
            ))
        }
    };
    let yes = |v: &Spanned<bool>, k: &str| -> Result<(), Refusal> {
        if *v.get_ref() {
            Ok(())
        } else {
            Err((
                v.span(),
                key(k),
                "must be true (leave the step out instead)".into(),
            ))
        }
    };
    let action_of = |v: &Spanned<String>, k: &str| -> Result<Action, Refusal> {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str() == v.get_ref())
            .ok_or_else(|| {
                let known: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
                (
                    v.span(),
                    key(k),
                    format!(
                        "unknown action {:?} (known: {})",
                        v.get_ref(),
                        known.join(", ")
                    ),
                )
            })
    };
    let text = |need: bool| -> Result<String, Refusal> {
        match &s.text {
            Some(t) => non_empty(t, "text"),
            None if need => Err((w.span(), key("text"), format!("`{action}` needs a text"))),
            None => Ok(String::new()),
        }
    };
    Ok(match action {
        "login" => {
            yes(s.login.as_ref().expect("named"), "login")?;
            Step::Login
        }
        "open" => Step::Open(path(s.open.as_ref().expect("named"), "open")?),
        "dashboard" => Step::Dashboard(action_of(
            s.dashboard.as_ref().expect("named"),
            "dashboard",
        )?),
        "refused" => Step::Refused {
            action: action_of(s.refused.as_ref().expect("named"), "refused")?,
            text: text(true)?,
        },
        "open_ui" => {
            yes(s.open_ui.as_ref().expect("named"), "open_ui")?;
            Step::OpenUi
        }
        "click" => Step::Click(non_empty(s.click.as_ref().expect("named"), "click")?),
        "type" => Step::Type {
            css: non_empty(s.type_into.as_ref().expect("named"), "type")?,
            text: text(true)?,
        },
        "wait" => Step::Wait {
            css: non_empty(s.wait.as_ref().expect("named"), "wait")?,
            text: text(false)?,
            deadline: match &s.deadline_secs {
                None => DEFAULT_WAIT,
                Some(d) if (1..=600).contains(d.get_ref()) => {
                    Duration::from_secs(*d.get_ref() as u64)
                }
                Some(d) => {
                    return Err((
                        d.span(),
                        key("deadline_secs"),
                        format!("{} is not 1 to 600", d.get_ref()),
                    ));
                }
            },
        },
        "expect" => Step::Wait {
            css: non_empty(s.expect.as_ref().expect("named"), "expect")?,
            text: text(false)?,
            deadline: Duration::ZERO,
        },
        "forge_stop" => {
            yes(s.forge_stop.as_ref().expect("named"), "forge_stop")?;
            Step::ForgeStop
        }
        _ => Step::Gone(path(s.gone.as_ref().expect("named"), "gone")?),
    })
}
