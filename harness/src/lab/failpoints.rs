//! `harness lab failpoints NODE SPEC|--clear`: switch the orchestrator's fail points (its
//! `failpoints` build reads `FAILPOINTS` at start-up) through a systemd drop-in, so a gate can
//! be shown red against a regression switched on, and green again once it is cleared.

use std::{fmt, fs, path::Path, str::FromStr, time::Duration};

use super::{
    LabError,
    layout::{FAILPOINTS_DROP_IN, LabNode, node_dir},
    node,
    up::wait_orchestrator,
};

/// The actions of the `fail` crate (`[p%][cnt*]task[(arg)]`).
const TASKS: [&str; 8] = [
    "off", "return", "sleep", "panic", "print", "pause", "yield", "delay",
];

/// A checked `FAILPOINTS` value: `name=action[->action...][;name=...]` in the `fail` crate's
/// syntax, with names `[a-z0-9.-]+` and nothing a unit file would read as a quote, an escape
/// or a line break. The orchestrator panics at start-up on a value `fail` cannot parse, so
/// nothing else is ever written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailSpec(String);

impl FailSpec {
    /// The value as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FailSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for FailSpec {
    type Err = String;

    /// Checks `spec`; `Err` says what is wrong, in the words of the `fail` syntax.
    fn from_str(spec: &str) -> Result<Self, String> {
        if spec.is_empty() {
            return Err("empty fail point spec (use --clear to remove fail points)".into());
        }
        if let Some(c) = spec
            .chars()
            .find(|c| matches!(c, '"' | '\'' | '\\' | '`' | '$') || c.is_control())
        {
            return Err(format!("{c:?} is not allowed in a fail point spec"));
        }
        for entry in spec.split(';') {
            let (name, actions) = entry
                .split_once('=')
                .ok_or_else(|| format!("{entry:?} is not name=actions"))?;
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
            {
                return Err(format!("fail point name {name:?} is not [a-z0-9.-]+"));
            }
            for action in actions.split("->") {
                check_action(action).map_err(|why| format!("action {action:?}: {why}"))?;
            }
        }
        Ok(Self(spec.to_owned()))
    }
}

/// Checks one action, `[p%][cnt*]task[(arg)]`, as `fail` parses it (and no spaces around).
fn check_action(action: &str) -> Result<(), String> {
    let (rest, arg) = match action.split_once('(') {
        Some((rest, arg)) => {
            let arg = arg.strip_suffix(')').ok_or("parentheses do not match")?;
            if let Some(c) = arg
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || " _.,:!/+=-".contains(*c)))
            {
                return Err(format!("{c:?} is not allowed in an argument"));
            }
            (rest, Some(arg))
        }
        None => (action, None),
    };
    let rest = match rest.split_once('%') {
        Some((percent, rest)) => {
            let ok = !percent.is_empty()
                && percent.chars().all(|c| c.is_ascii_digit() || c == '.')
                && percent
                    .parse::<f32>()
                    .is_ok_and(|p| (0.0..=100.0).contains(&p));
            if !ok {
                return Err(format!("frequency {percent:?}% is not 0 to 100"));
            }
            rest
        }
        None => rest,
    };
    let task = match rest.split_once('*') {
        Some((count, task)) => {
            if count.is_empty() || !count.chars().all(|c| c.is_ascii_digit()) {
                return Err(format!("count {count:?}* is not a number"));
            }
            task
        }
        None => rest,
    };
    if !TASKS.contains(&task) {
        return Err(format!(
            "unknown task {task:?} (known: {})",
            TASKS.join(", ")
        ));
    }
    let needs_millis = task == "sleep" || task == "delay";
    match arg {
        Some(ms) if needs_millis && ms.parse::<u64>().is_err() => {
            Err(format!("{task} needs milliseconds, not {ms:?}"))
        }
        None if needs_millis => Err(format!("{task} needs milliseconds: {task}(100)")),
        Some(_) if matches!(task, "off" | "pause" | "yield") => {
            Err(format!("{task} takes no argument"))
        }
        _ => Ok(()),
    }
}

/// The drop-in's text. systemd expands `%` specifiers in `Environment=`, so `%` is doubled.
pub fn drop_in(spec: &FailSpec) -> String {
    format!(
        "[Service]\nEnvironment=\"FAILPOINTS={}\"\n",
        spec.as_str().replace('%', "%%")
    )
}

/// Writes (`Some`) or removes (`None`) the node's drop-in, restarts its orchestrator and waits
/// until it answers `auth.login`; then checks the running orchestrator has exactly that value.
pub fn switch(n: &LabNode, spec: Option<&FailSpec>) -> Result<i32, LabError> {
    if node::leader_pid(n).is_none() {
        return Err(LabError::NodeDown {
            node: n.name.into(),
        });
    }
    match spec {
        Some(spec) => super::host::write_atomic(
            &node_dir(n).join(FAILPOINTS_DROP_IN.trim_start_matches('/')),
            drop_in(spec).as_bytes(),
            0o644,
        )?,
        None => {
            remove_drop_in(&node_dir(n))?;
        }
    }
    node::exec_in(n, &["systemctl", "daemon-reload"])?;
    node::exec_in(n, &["systemctl", "restart", "orchestrator.service"])?;
    wait_orchestrator(n, Duration::from_secs(60))?;
    let active = active(n)?;
    if active.as_deref() != spec.map(FailSpec::as_str) {
        return Err(LabError::Failpoints {
            node: n.name.into(),
            detail: format!(
                "the restarted orchestrator runs with FAILPOINTS={}",
                active.as_deref().unwrap_or("(none)")
            ),
        });
    }
    match spec {
        Some(spec) => println!("{}: orchestrator restarted with FAILPOINTS={spec}", n.name),
        None => println!("{}: orchestrator restarted without fail points", n.name),
    }
    Ok(0)
}

/// Removes the drop-in from a node's root (`lab up` and `--clear`); returns whether there
/// was one.
pub fn remove_drop_in(root: &Path) -> Result<bool, LabError> {
    let path = root.join(FAILPOINTS_DROP_IN.trim_start_matches('/'));
    match fs::remove_file(&path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(LabError::Io {
            path: path.display().to_string(),
            detail: e.to_string(),
        }),
    }
}

/// The `FAILPOINTS` value of the node's running orchestrator (read from its process's
/// environment); `None` when it has none or does not run.
pub fn active(n: &LabNode) -> Result<Option<String>, LabError> {
    let pid = node::exec_in(
        n,
        &[
            "systemctl",
            "show",
            "--property=MainPID",
            "--value",
            "orchestrator.service",
        ],
    )?;
    let pid = pid.trim();
    if pid == "0" || pid.is_empty() {
        return Ok(None);
    }
    // The process may have just exited; then it has no fail points either.
    let environ = node::exec_in(n, &["cat", &format!("/proc/{pid}/environ")]).unwrap_or_default();
    Ok(failpoints_in(&environ))
}

/// `FAILPOINTS` from a NUL-separated environment block.
fn failpoints_in(environ: &str) -> Option<String> {
    environ
        .split('\0')
        .find_map(|var| var.strip_prefix("FAILPOINTS="))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> FailSpec {
        text.parse().unwrap()
    }

    fn refusal(text: &str) -> String {
        text.parse::<FailSpec>().unwrap_err()
    }

    #[test]
    fn drop_in_is_exact() {
        assert_eq!(
            drop_in(&spec("regression-update-not-applied=return")),
            "[Service]\nEnvironment=\"FAILPOINTS=regression-update-not-applied=return\"\n"
        );
        assert_eq!(
            drop_in(&spec("a.b=20%3*print(still alive!)->panic;c-1=sleep(100)")),
            "[Service]\nEnvironment=\"FAILPOINTS=a.b=20%%3*print(still alive!)->panic;c-1=sleep(100)\"\n"
        );
    }

    #[test]
    fn accepts_the_fail_crate_syntax() {
        for ok in [
            "regression-stopped-resurrects=return",
            "regression-uninstall-ignores-dependents=return;regression-update-not-applied=return",
            "x=off",
            "x=return(1)",
            "x=50%return",
            "x=12.5%2*panic(boom)->off",
            "x=delay(5)->yield->pause",
        ] {
            assert_eq!(spec(ok).as_str(), ok);
            // The orchestrator's own parser (`FailScenario::setup` splits the same way).
            for entry in ok.split(';') {
                let (name, actions) = entry.split_once('=').unwrap();
                let name = format!("harness-lab-test-{name}");
                assert_eq!(fail::cfg(name.as_str(), actions), Ok(()), "{entry}");
                fail::remove(name);
            }
        }
        for refused_by_fail_too in ["explode", "sleep", "sleep(1s)", "return(a", "1x%return"] {
            assert!(
                format!("x={refused_by_fail_too}")
                    .parse::<FailSpec>()
                    .is_err()
            );
            assert!(fail::cfg("harness-lab-test-bad", refused_by_fail_too).is_err());
        }
    }

    #[test]
    fn refuses_what_fail_or_systemd_would_misread() {
        assert_eq!(
            refusal(""),
            "empty fail point spec (use --clear to remove fail points)"
        );
        assert_eq!(
            refusal("x=\"return\""),
            "'\"' is not allowed in a fail point spec"
        );
        assert_eq!(
            refusal("x=return\nExecStart=/bin/sh"),
            "'\\n' is not allowed in a fail point spec"
        );
        assert_eq!(
            refusal("x=return'"),
            "'\\'' is not allowed in a fail point spec"
        );
        assert_eq!(refusal("x"), "\"x\" is not name=actions");
        assert_eq!(refusal("x=return;"), "\"\" is not name=actions");
        assert_eq!(
            refusal("Regression=return"),
            "fail point name \"Regression\" is not [a-z0-9.-]+"
        );
        assert_eq!(
            refusal("=return"),
            "fail point name \"\" is not [a-z0-9.-]+"
        );
        assert_eq!(
            refusal("x=explode"),
            "action \"explode\": unknown task \"explode\" (known: off, return, sleep, panic, \
             print, pause, yield, delay)"
        );
        assert_eq!(
            refusal("x= return"),
            "action \" return\": unknown task \" return\" (known: off, return, sleep, panic, \
             print, pause, yield, delay)"
        );
        assert_eq!(
            refusal("x=sleep"),
            "action \"sleep\": sleep needs milliseconds: sleep(100)"
        );
        assert_eq!(
            refusal("x=sleep(1s)"),
            "action \"sleep(1s)\": sleep needs milliseconds, not \"1s\""
        );
        assert_eq!(
            refusal("x=return(a"),
            "action \"return(a\": parentheses do not match"
        );
        assert_eq!(
            refusal("x=print(a;b)"),
            "action \"print(a\": parentheses do not match"
        );
        assert_eq!(
            refusal("x=return(%n)"),
            "action \"return(%n)\": '%' is not allowed in an argument"
        );
        assert_eq!(
            refusal("x=150%return"),
            "action \"150%return\": frequency \"150\"% is not 0 to 100"
        );
        assert_eq!(
            refusal("x=a*return"),
            "action \"a*return\": count \"a\"* is not a number"
        );
        assert_eq!(
            refusal("x=pause(1)"),
            "action \"pause(1)\": pause takes no argument"
        );
    }

    #[test]
    fn reads_failpoints_from_a_process_environment() {
        assert_eq!(
            failpoints_in("HOME=/\0FAILPOINTS=a=return;b=off\0USER=archy\0"),
            Some("a=return;b=off".into())
        );
        assert_eq!(failpoints_in("HOME=/\0XFAILPOINTS=a=return\0"), None);
        assert_eq!(failpoints_in(""), None);
    }
}
