//! L4 `journey`: an app's `[[journey]]` steps, run by a person's means in real Chromium against the
//! node's dashboard and the app's own page. A step passes when its action works and its
//! expectation shows in time, and every page it leaves has no console error, uncaught exception,
//! failed sub-resource or (on a proxied app's page) asset from outside the app's prefix. A red
//! step leaves a screenshot, the DOM, the browser log and the steps in
//! `reports/<run-id>/artifacts/<case>/<node>-<iteration>/`, named in the case's output.

use std::{path::Path, time::Duration};

use super::{CheckResult, NodeCtx};
use crate::{
    browser::{BrowserError, Chrome, Page},
    model::Outcome,
    suite::{
        Suite,
        journey::{Action, Step},
    },
};

/// How long a refused action's error may take to show in its row.
const REFUSAL_SHOWS: Duration = Duration::from_secs(10);

/// Runs `suite`'s journey on the node in the node's browser (started on first use); a failed
/// step's evidence goes into `evidence_dir`.
pub async fn journey(
    ctx: &NodeCtx,
    suite: &Suite,
    password: &str,
    evidence_dir: &Path,
) -> CheckResult<()> {
    let mut slot = ctx.browser.lock().await;
    if slot.is_none() {
        // Chromium may reach the node only, and only once the kernel's route to it is the lab's.
        ctx.guard().check(ctx.node.address)?;
        let started = Chrome::start(&std::env::temp_dir(), &[ctx.node.address]).await;
        *slot = Some(started.map_err(|e| Outcome::Error(e.to_string()))?);
    }
    let chrome = slot.as_ref().expect("started above");
    let mut page = Page::new(chrome);
    let before = page
        .leave()
        .await
        .map_err(|e| Outcome::Error(e.to_string()))?;
    if before > 0 {
        ctx.note(&format!(
            "{before} browser-log entries from before this journey set aside"
        ));
    }
    let r = steps(ctx, suite, password, evidence_dir, &mut page).await;
    if let Err(e) = page.leave().await {
        ctx.note(&format!("could not leave the last page: {e}"));
    }
    r
}

/// The journey's steps, each judged by its own result and the findings it left.
async fn steps(
    ctx: &NodeCtx,
    suite: &Suite,
    password: &str,
    evidence_dir: &Path,
    page: &mut Page<'_>,
) -> CheckResult<()> {
    let base = format!(
        "http://{}:{}",
        ctx.node.address, ctx.fleet.orchestrator_port
    );
    let mut prefix: Option<String> = None;
    for (i, step) in suite.journey.iter().enumerate() {
        ctx.note(&format!("step {}: {step}", i + 1));
        let done = run_step(page, ctx, suite, step, &base, password, &mut prefix).await;
        let failure = match done {
            Err(e) => Some(e),
            Ok(()) => {
                let findings = page
                    .look(prefix.as_deref())
                    .await
                    .map_err(|e| Outcome::Error(e.to_string()))?;
                (!findings.is_empty()).then(|| {
                    let list: Vec<String> = findings.iter().map(|f| f.to_string()).collect();
                    StepFailure::Fail(list.join("; "))
                })
            }
        };
        if let Some(failure) = failure {
            let message = format!("step {} ({step}): {}", i + 1, failure.text());
            match page.evidence(evidence_dir).await {
                Ok(ev) => {
                    ctx.note(&format!(
                        "evidence: {}, {}, {}, {}",
                        ev.screenshot.display(),
                        ev.dom.display(),
                        ev.console.display(),
                        ev.steps.display()
                    ));
                }
                Err(e) => ctx.note(&format!("no evidence: {e}")),
            }
            return Err(failure.into_outcome(message));
        }
    }
    Ok(())
}

/// A step that did not do what it should: the app or page was wrong (fail), or the browser could
/// not be driven (error).
enum StepFailure {
    Fail(String),
    Error(String),
}

impl StepFailure {
    fn text(&self) -> &str {
        match self {
            StepFailure::Fail(t) | StepFailure::Error(t) => t,
        }
    }

    fn into_outcome(self, message: String) -> Outcome {
        match self {
            StepFailure::Fail(_) => Outcome::Fail(message),
            StepFailure::Error(_) => Outcome::Error(message),
        }
    }
}

impl From<BrowserError> for StepFailure {
    fn from(e: BrowserError) -> Self {
        match e {
            // What the page showed (or did not) is the product's answer.
            BrowserError::Timeout { .. } | BrowserError::WebDriver { .. } => {
                StepFailure::Fail(e.to_string())
            }
            _ => StepFailure::Error(e.to_string()),
        }
    }
}

/// The prefix (`/app/<id>/`) a path of the orchestrator is served under, if it is an app's.
fn app_prefix(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/app/")?;
    let id = rest.split('/').next().filter(|s| !s.is_empty())?;
    Some(format!("/app/{id}/"))
}

async fn run_step(
    page: &mut Page<'_>,
    ctx: &NodeCtx,
    suite: &Suite,
    step: &Step,
    base: &str,
    password: &str,
    prefix: &mut Option<String>,
) -> Result<(), StepFailure> {
    let row = format!("#app-{}", suite.app);
    match step {
        Step::Login => {
            *prefix = None;
            page.open(&format!("{base}/login")).await?;
            page.type_text("input[name=password]", password, true)
                .await?;
            page.click("button[type=submit]").await?;
            page.wait_text(&row, "", Duration::from_secs(10)).await?;
        }
        Step::Open(path) => {
            *prefix = app_prefix(path);
            page.open(&format!("{base}{path}")).await?;
        }
        Step::Dashboard(action) => {
            *prefix = None;
            click_action(page, &row, *action).await?;
            let budget = suite.start_budget + Duration::from_secs(10);
            let settled = page
                .wait_for(
                    &format!("{row} td.state"),
                    action.settles_to(),
                    true,
                    budget,
                )
                .await;
            let healthy = match settled {
                Ok(()) if action.settles_to() == "running" => {
                    page.wait_for(&format!("{row} td.health"), "healthy", true, budget)
                        .await
                }
                other => other,
            };
            if let Err(e) = healthy {
                let error = page.text_of(&format!("{row} td.error")).await;
                let shown = if error.is_empty() {
                    String::new()
                } else {
                    format!(" (the row's error: {error})")
                };
                return Err(StepFailure::Fail(format!("{e}{shown}")));
            }
        }
        Step::Refused { action, text } => {
            *prefix = None;
            let before = page.text_of(&format!("{row} td.state")).await;
            click_action(page, &row, *action).await?;
            page.wait_text(&format!("{row} td.error"), text, REFUSAL_SHOWS)
                .await?;
            // The row says what it is doing until the refusal comes back, then shows the app
            // as it was.
            let state = format!("{row} td.state");
            if let Err(e) = page.wait_for(&state, &before, true, REFUSAL_SHOWS).await {
                return Err(StepFailure::Fail(format!(
                    "{action} was refused but the row did not go back to {before:?}: {e}"
                )));
            }
            ctx.note(&format!("{action} refused, the row still {before:?}"));
        }
        Step::OpenUi => {
            let link = format!("{row} a.open");
            page.wait_text(&link, "", Duration::from_secs(10)).await?;
            let href = page.attribute(&link, "href").await?.unwrap_or_default();
            *prefix = app_prefix(&href);
            if prefix.is_none() {
                return Err(StepFailure::Fail(format!(
                    "the open link goes to {href:?}, not to /app/<id>/"
                )));
            }
            page.click(&link).await?;
        }
        Step::Click(css) => page.click(css).await?,
        Step::Type { css, text } => page.type_text(css, text, false).await?,
        Step::Wait {
            css,
            text,
            deadline,
        } => page.wait_text(css, text, *deadline).await?,
        Step::Gone(path) => {
            let status = page.gone(&format!("{base}{path}")).await?;
            if (1..400).contains(&status) {
                return Err(StepFailure::Fail(format!(
                    "{path} still loads: it answered {status}"
                )));
            }
            ctx.note(&format!("{path} answered {status} (0: did not load)"));
        }
        Step::ForgeStop => {
            let body = serde_json::json!({
                "jsonrpc": "2.0", "id": 1, "method": "package.stop",
                "params": {"id": suite.app.as_str()},
            });
            let outcome = page
                .forge_post(&format!("{base}/rpc"), &body.to_string())
                .await?;
            ctx.note(&format!("the page's package.stop: {outcome}"));
            if outcome.contains("\"result\"") {
                return Err(StepFailure::Fail(format!(
                    "a script of the app's page called package.stop: {outcome}"
                )));
            }
            let st = ctx.status(&suite.app).await.map_err(|o| match o {
                Outcome::Fail(m) => StepFailure::Fail(m),
                Outcome::Error(m) | Outcome::Skipped(m) => StepFailure::Error(m),
                Outcome::Pass => StepFailure::Error("no status".into()),
            })?;
            if st.state != crate::api::AppState::Running {
                return Err(StepFailure::Fail(format!(
                    "after the page's forged package.stop {} is {:?}",
                    suite.app, st.state
                )));
            }
        }
    }
    Ok(())
}

/// Clicks the row's button for `action`, confirming when it asks.
async fn click_action(page: &mut Page<'_>, row: &str, action: Action) -> Result<(), StepFailure> {
    page.click(&format!("{row} button.{action}")).await?;
    if action.confirms() {
        page.accept_dialog().await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_under_app_have_a_prefix() {
        assert_eq!(
            app_prefix("/app/lab-wallet/"),
            Some("/app/lab-wallet/".into())
        );
        assert_eq!(
            app_prefix("/app/lab-chain/x/y"),
            Some("/app/lab-chain/".into())
        );
        assert_eq!(app_prefix("/app/"), None);
        assert_eq!(app_prefix("/"), None);
        assert_eq!(app_prefix("/login"), None);
    }
}
