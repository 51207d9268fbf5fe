//! `plan`: suites + selection -> the ordered stages every node runs in every iteration.
//!
//! Order per node and iteration: setup (install in dependency order), the `present` cases
//! (concurrently), the other read-only cases (concurrently), each app's state-changing cases one at
//! a time, then the node-level daemon restart, then the node reboot, then (L5) each chaos
//! scenario alone, then (L6) each KPI cell alone.

use std::collections::{BTreeMap, BTreeSet};

use super::Selection;
use crate::{
    chaos::Scenario,
    error::Error,
    model::{AppId, CaseName, Check, Layer},
    perf::Kpi,
    suite::Suite,
};

/// One case to run on a node in an iteration.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// Its stable name.
    pub name: CaseName,
    /// The app checked.
    pub app: AppId,
    /// What is checked.
    pub check: Check,
    /// Cases of the same node and iteration that must have passed first.
    pub depends_on: Vec<CaseName>,
}

/// A group of cases run together on one node.
#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    /// Install these apps (in this order) where they are not installed yet.
    Setup(Vec<AppId>),
    /// Read-only cases that may run at the same time.
    Concurrent(Vec<Case>),
    /// A state-changing case: nothing else runs on the node meanwhile.
    Alone(Case),
    /// Restart the daemon unit once, then judge one case per app.
    DaemonRestart(Vec<Case>),
    /// Reboot the node once, then judge one case per app.
    Reboot(Vec<Case>),
    /// Stop every app, restart the daemon, reboot: judge one case per app (still stopped).
    StoppedSurvives(Vec<Case>),
}

/// A check that does not apply to an app: reported, never run, never a pass.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NotApplicable {
    /// The app.
    pub app: AppId,
    /// The check.
    #[serde(alias = "state")]
    pub check: Check,
    /// Why it does not apply.
    pub reason: String,
}

/// Everything a run will do on each node in each iteration.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Apps selected (setup may install more: their requirements).
    pub apps: Vec<AppId>,
    /// True when the L0 case (`cargo test --workspace`, once, locally) is selected.
    pub l0: bool,
    /// The stages, in order.
    pub stages: Vec<Stage>,
    /// States skipped as not applicable.
    pub not_applicable: Vec<NotApplicable>,
}

/// The app name node-level cases are filed under.
pub const NODE_APP: &str = "orchestrator";

/// The one node-level case: the orchestrator's API contract (whole catalog runs only).
fn api_contract_case() -> Case {
    let app = AppId::new(NODE_APP).expect("a valid app id");
    Case {
        name: CaseName::of(&app, Check::ApiContract),
        app,
        check: Check::ApiContract,
        depends_on: Vec::new(),
    }
}

/// The L0 case's name.
pub fn l0_name() -> CaseName {
    CaseName {
        layer: Layer::L0,
        app: "workspace".into(),
        check: "cargo-test".into(),
    }
}

impl Plan {
    /// Every node case, in run order.
    pub fn cases(&self) -> Vec<&Case> {
        self.stages
            .iter()
            .flat_map(|s| match s {
                Stage::Setup(_) => Vec::new(),
                Stage::Concurrent(c)
                | Stage::DaemonRestart(c)
                | Stage::Reboot(c)
                | Stage::StoppedSurvives(c) => c.iter().collect(),
                Stage::Alone(c) => vec![c],
            })
            .collect()
    }

    /// The lines `harness list` prints (libtest's `name: test` form).
    pub fn list(&self) -> String {
        let mut out = String::new();
        if self.l0 {
            out.push_str(&format!("{}: test\n", l0_name()));
        }
        for c in self.cases() {
            out.push_str(&format!("{}: test\n", c.name));
        }
        out
    }

    /// The lines `harness list --urls` adds: each UI case's URLs, one per probe, and who serves
    /// those another app serves.
    pub fn ui_urls(&self, suites: &[Suite]) -> String {
        let mut out = String::new();
        for c in self.cases().into_iter().filter(|c| c.check == Check::Ui) {
            let Some(suite) = suites.iter().find(|s| s.app == c.app) else {
                continue;
            };
            for p in &suite.ui {
                let note = match (&p.target, &p.served_by) {
                    (crate::suite::UiTarget::Dashboard, _) => " (the dashboard)".to_owned(),
                    (_, Some(by)) => format!(" (served by {by})"),
                    (_, None) => String::new(),
                };
                out.push_str(&format!("{}: {}{note}\n", c.name, p.url()));
            }
        }
        out
    }
}

/// Builds the plan; an unknown app is refused, listing the known ones.
pub fn plan(suites: &[Suite], sel: &Selection) -> Result<Plan, Error> {
    let by_id: BTreeMap<&AppId, &Suite> = suites.iter().map(|s| (&s.app, s)).collect();
    for app in &sel.apps {
        if !by_id.contains_key(app) {
            let known: Vec<_> = by_id.keys().map(|a| a.as_str()).collect();
            return Err(Error::Usage(format!(
                "unknown app \"{app}\" (known: {})",
                known.join(", ")
            )));
        }
    }
    let apps: Vec<AppId> = if sel.apps.is_empty() {
        by_id.keys().map(|a| (*a).clone()).collect()
    } else {
        sel.apps.clone()
    };
    let layers = sel.layers();

    let mut not_applicable = Vec::new();
    let mut chosen: BTreeMap<&AppId, Vec<Check>> = BTreeMap::new();
    for app in &apps {
        let suite = by_id[app];
        for check in Check::per_app() {
            if !layers.contains(&check.layer())
                || !sel.matches(&CaseName::of(app, check).to_string())
            {
                continue;
            }
            // A journey is a case only where the suite declares its steps.
            if check == Check::Journey
                && suite.journey.is_empty()
                && !suite.not_applicable.contains_key(&check)
            {
                continue;
            }
            if let Some(reason) = suite.not_applicable.get(&check) {
                not_applicable.push(NotApplicable {
                    app: app.clone(),
                    check,
                    reason: reason.clone(),
                });
            } else {
                chosen.entry(app).or_default().push(check);
            }
        }
    }
    let has = |app: &AppId, st: Check| chosen.get(app).is_some_and(|v| v.contains(&st));
    let case = |app: &AppId, check: Check| {
        let mut depends_on = Vec::new();
        if check != Check::Present && has(app, Check::Present) {
            depends_on.push(CaseName::of(app, Check::Present));
        }
        for req in by_id
            .get(app)
            .map(|s| s.requires.as_slice())
            .unwrap_or_default()
        {
            if has(req, Check::Present) {
                depends_on.push(CaseName::of(req, Check::Present));
            }
        }
        if check == Check::Ui {
            for server in servers(by_id[app]) {
                let name = CaseName::of(server, Check::Present);
                if has(server, Check::Present) && !depends_on.contains(&name) {
                    depends_on.push(name);
                }
            }
        }
        Case {
            name: CaseName::of(app, check),
            app: app.clone(),
            check,
            depends_on,
        }
    };
    let of_checks = |checks: &[Check]| -> Vec<Case> {
        chosen
            .iter()
            .flat_map(|(app, st)| {
                st.iter()
                    .filter(|s| checks.contains(s))
                    .map(|s| case(app, *s))
            })
            .collect()
    };

    let mut stages = Vec::new();
    if !chosen.is_empty() {
        // An app whose UI a companion serves needs the companion installed for its ui case.
        let mut to_install: Vec<AppId> = chosen.keys().map(|a| (*a).clone()).collect();
        for (app, checks) in &chosen {
            if checks.contains(&Check::Ui) {
                to_install.extend(servers(by_id[*app]).cloned());
            }
        }
        stages.push(Stage::Setup(install_order(&to_install, &by_id)?));
    }
    for group in [
        &[Check::Present][..],
        &[Check::Valid, Check::Rpc, Check::Ui],
    ] {
        let cases = of_checks(group);
        if !cases.is_empty() {
            stages.push(Stage::Concurrent(cases));
        }
    }
    let contract = api_contract_case();
    if sel.apps.is_empty() && layers.contains(&Layer::L1) && sel.matches(&contract.name.to_string())
    {
        stages.push(Stage::Alone(contract));
    }
    for c in of_checks(&[
        Check::Stop,
        Check::Start,
        Check::Restart,
        Check::Update,
        Check::RequiredStack,
        Check::UninstalledClean,
        Check::Reinstall,
        Check::Journey,
    ]) {
        stages.push(Stage::Alone(c));
    }
    let dr = of_checks(&[Check::DaemonRestart]);
    if !dr.is_empty() {
        stages.push(Stage::DaemonRestart(dr));
    }
    let rb = of_checks(&[Check::Reboot]);
    if !rb.is_empty() {
        stages.push(Stage::Reboot(rb));
    }
    let ss = of_checks(&[Check::StoppedSurvives]);
    if !ss.is_empty() {
        stages.push(Stage::StoppedSurvives(ss));
    }
    let l0 = layers.contains(&Layer::L0) && sel.matches(&l0_name().to_string());
    Ok(Plan {
        apps,
        l0,
        stages,
        not_applicable,
    })
}

/// Adds one L5 case per chaos scenario and one L6 case per KPI cell the selection asks for (one
/// about an app only when that app is selected or none is), each alone on its node after every
/// other stage. Scenarios and cells judge or disturb the whole catalog, so setup then installs
/// every app.
pub fn with_chaos_and_perf(
    mut p: Plan,
    suites: &[Suite],
    scenarios: &[Scenario],
    kpis: &[Kpi],
    sel: &Selection,
) -> Result<Plan, Error> {
    let layers = sel.layers();
    let mut cases = Vec::new();
    let chaos = scenarios
        .iter()
        .map(|s| (Layer::L5, Check::Chaos, &s.target, &s.name));
    let perf = kpis
        .iter()
        .map(|k| (Layer::L6, Check::Perf, &k.app, &k.name));
    for (layer, kind, about, check) in chaos.chain(perf) {
        if !layers.contains(&layer)
            || about
                .as_ref()
                .is_some_and(|t| !sel.apps.is_empty() && !sel.apps.contains(t))
        {
            continue;
        }
        let app = about
            .clone()
            .unwrap_or_else(|| AppId::new(NODE_APP).expect("a valid app id"));
        let name = CaseName {
            layer,
            app: app.to_string(),
            check: check.clone(),
        };
        if sel.matches(&name.to_string()) {
            cases.push(Case {
                name,
                app,
                check: kind,
                depends_on: Vec::new(),
            });
        }
    }
    if cases.is_empty() {
        return Ok(p);
    }
    let by_id: BTreeMap<&AppId, &Suite> = suites.iter().map(|s| (&s.app, s)).collect();
    let all: Vec<AppId> = by_id.keys().map(|a| (*a).clone()).collect();
    let setup = Stage::Setup(install_order(&all, &by_id)?);
    match p.stages.first_mut() {
        Some(first @ Stage::Setup(_)) => *first = setup,
        _ => p.stages.insert(0, setup),
    }
    p.stages.extend(cases.into_iter().map(Stage::Alone));
    Ok(p)
}

/// The companions serving some of `suite`'s UI URLs.
fn servers(suite: &Suite) -> impl Iterator<Item = &AppId> {
    suite.ui.iter().filter_map(|u| u.served_by.as_ref())
}

/// The apps and everything they require, requirements first; a cycle is refused.
fn install_order(apps: &[AppId], by_id: &BTreeMap<&AppId, &Suite>) -> Result<Vec<AppId>, Error> {
    fn visit(
        app: &AppId,
        by_id: &BTreeMap<&AppId, &Suite>,
        path: &mut Vec<AppId>,
        out: &mut Vec<AppId>,
        done: &mut BTreeSet<AppId>,
    ) -> Result<(), Error> {
        if done.contains(app) {
            return Ok(());
        }
        if path.contains(app) {
            return Err(Error::Usage(format!(
                "requirement cycle: {} -> {app}",
                path.iter()
                    .map(AppId::as_str)
                    .collect::<Vec<_>>()
                    .join(" -> ")
            )));
        }
        path.push(app.clone());
        for req in by_id
            .get(app)
            .map(|s| s.requires.as_slice())
            .unwrap_or_default()
        {
            visit(req, by_id, path, out, done)?;
        }
        path.pop();
        done.insert(app.clone());
        out.push(app.clone());
        Ok(())
    }
    let (mut out, mut done) = (Vec::new(), BTreeSet::new());
    for app in apps {
        visit(app, by_id, &mut Vec::new(), &mut out, &mut done)?;
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::time::Duration;

    use super::*;

    pub(crate) fn suite(app: &str, requires: &[&str], na: &[(Check, &str)]) -> Suite {
        Suite {
            path: format!("suites/lab/{app}.toml").into(),
            catalog: "lab".into(),
            app: AppId::new(app).unwrap(),
            requires: requires.iter().map(|r| AppId::new(r).unwrap()).collect(),
            rpc: vec![],
            ui: vec![],
            data: vec![],
            not_applicable: na.iter().map(|(s, r)| (*s, r.to_string())).collect(),
            start_budget: Duration::from_secs(30),
            reboot_budget: Duration::from_secs(90),
            volumes: vec![],
            update: None,
            fault: None,
            journey: Vec::new(),
        }
    }

    fn suites() -> Vec<Suite> {
        vec![
            suite("lab-wallet", &["lab-chain"], &[]),
            suite("lab-chain", &[], &[(Check::Reinstall, "companion")]),
        ]
    }

    fn sel(apps: &[&str], layers: &[Layer], filter: Option<&str>) -> Selection {
        Selection {
            apps: apps.iter().map(|a| AppId::new(a).unwrap()).collect(),
            layers: layers.to_vec(),
            filter: libtest_mimic::Arguments {
                filter: filter.map(str::to_owned),
                ..Default::default()
            },
            ..Selection::default()
        }
    }

    fn render(p: &Plan) -> String {
        let names = |c: &[Case]| {
            c.iter()
                .map(|c| c.name.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        p.stages
            .iter()
            .map(|s| match s {
                Stage::Setup(a) => format!(
                    "setup {}",
                    a.iter().map(AppId::as_str).collect::<Vec<_>>().join(" ")
                ),
                Stage::Concurrent(c) => format!("concurrent {}", names(c)),
                Stage::Alone(c) => format!("alone {}", c.name),
                Stage::DaemonRestart(c) => format!("daemon-restart {}", names(c)),
                Stage::Reboot(c) => format!("reboot {}", names(c)),
                Stage::StoppedSurvives(c) => format!("stopped-survives {}", names(c)),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn a_journey_is_a_case_alone_where_its_suite_declares_one() {
        let mut s = suites();
        s[0].journey = vec![crate::suite::journey::Step::Login];
        let p = plan(&s, &sel(&[], &[Layer::L4], None)).unwrap();
        assert_eq!(
            render(&p),
            "setup lab-chain lab-wallet
alone L4::lab-wallet::journey"
        );
        assert!(p.cases()[0].check.changes_node());
        assert_eq!(p.not_applicable, []);
        // Not selected, no journey, or n/a: no case (n/a is reported as such).
        assert_eq!(
            render(&plan(&s, &sel(&[], &[Layer::L3], Some("journey"))).unwrap()),
            ""
        );
        let p = plan(&suites(), &sel(&[], &[Layer::L4], None)).unwrap();
        assert_eq!((render(&p), p.not_applicable.len()), (String::new(), 0));
        let na = vec![suite("lab-chain", &[], &[(Check::Journey, "no UI")])];
        let p = plan(&na, &sel(&[], &[Layer::L4], None)).unwrap();
        assert_eq!(render(&p), "");
        assert_eq!(p.not_applicable[0].check, Check::Journey);
    }

    #[test]
    fn full_plan_orders_setup_readonly_alone_then_node_actions() {
        let p = plan(&suites(), &sel(&[], &[], None)).unwrap();
        assert_eq!(
            render(&p),
            "setup lab-chain lab-wallet
concurrent L1::lab-chain::present L1::lab-wallet::present
concurrent L1::lab-chain::valid L1::lab-chain::rpc L2::lab-chain::ui L1::lab-wallet::valid L1::lab-wallet::rpc L2::lab-wallet::ui
alone L1::orchestrator::api-contract
alone L3::lab-chain::stop
alone L3::lab-chain::start
alone L3::lab-chain::restart
alone L3::lab-chain::uninstalled-clean
alone L3::lab-chain::update
alone L3::lab-chain::required-stack
alone L3::lab-wallet::stop
alone L3::lab-wallet::start
alone L3::lab-wallet::restart
alone L3::lab-wallet::reinstall
alone L3::lab-wallet::uninstalled-clean
alone L3::lab-wallet::update
alone L3::lab-wallet::required-stack
daemon-restart L3::lab-chain::daemon-restart L3::lab-wallet::daemon-restart
reboot L3::lab-chain::reboot L3::lab-wallet::reboot
stopped-survives L3::lab-chain::stopped-survives L3::lab-wallet::stopped-survives"
        );
        assert!(p.l0);
        assert_eq!(
            p.not_applicable,
            vec![NotApplicable {
                app: AppId::new("lab-chain").unwrap(),
                check: Check::Reinstall,
                reason: "companion".into()
            }]
        );
    }

    #[test]
    fn state_changing_cases_are_never_grouped() {
        let p = plan(&suites(), &sel(&[], &[], None)).unwrap();
        for stage in &p.stages {
            if let Stage::Concurrent(cases) = stage {
                assert!(cases.iter().all(|c| !c.check.changes_node()), "{stage:?}");
            }
        }
        assert_eq!(
            p.cases().iter().filter(|c| c.check.changes_node()).count(),
            20
        );
    }

    #[test]
    fn dependencies_name_own_and_required_present() {
        let p = plan(&suites(), &sel(&[], &[], None)).unwrap();
        let restart = p
            .cases()
            .into_iter()
            .find(|c| c.name.to_string() == "L3::lab-wallet::restart")
            .unwrap();
        let deps: Vec<_> = restart.depends_on.iter().map(|d| d.to_string()).collect();
        assert_eq!(deps, ["L1::lab-wallet::present", "L1::lab-chain::present"]);
        let present = p
            .cases()
            .into_iter()
            .find(|c| c.name.to_string() == "L1::lab-wallet::present")
            .unwrap();
        assert_eq!(
            present
                .depends_on
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>(),
            ["L1::lab-chain::present"]
        );
    }

    #[test]
    fn app_and_layer_selection_still_installs_requirements() {
        let p = plan(&suites(), &sel(&["lab-wallet"], &[Layer::L3], None)).unwrap();
        assert_eq!(
            render(&p),
            "setup lab-chain lab-wallet
alone L3::lab-wallet::stop
alone L3::lab-wallet::start
alone L3::lab-wallet::restart
alone L3::lab-wallet::reinstall
alone L3::lab-wallet::uninstalled-clean
alone L3::lab-wallet::update
alone L3::lab-wallet::required-stack
daemon-restart L3::lab-wallet::daemon-restart
reboot L3::lab-wallet::reboot
stopped-survives L3::lab-wallet::stopped-survives"
        );
        assert!(!p.l0);
        assert!(p.cases().iter().all(|c| c.depends_on.is_empty()));
    }

    #[test]
    fn an_app_whose_ui_a_companion_serves_installs_the_companion_for_its_ui_case() {
        let mut chain = suite("lab-chain", &[], &[]);
        chain.ui.push(crate::suite::UiProbe {
            target: crate::suite::UiTarget::Direct {
                port: 18091,
                path: "/".into(),
            },
            contains: None,
            served_by: Some(AppId::new("lab-chain-ui").unwrap()),
        });
        let s = vec![chain, suite("lab-chain-ui", &["lab-chain"], &[])];
        let p = plan(&s, &sel(&["lab-chain"], &[Layer::L1, Layer::L2], None)).unwrap();
        assert_eq!(
            render(&p),
            "setup lab-chain lab-chain-ui
concurrent L1::lab-chain::present
concurrent L1::lab-chain::valid L1::lab-chain::rpc L2::lab-chain::ui"
        );
        let p = plan(&s, &sel(&[], &[Layer::L2], None)).unwrap();
        let ui = p
            .cases()
            .into_iter()
            .find(|c| c.name.to_string() == "L2::lab-chain::ui")
            .unwrap();
        assert!(ui.depends_on.is_empty(), "{:?}", ui.depends_on);
        let p = plan(&s, &sel(&[], &[Layer::L1, Layer::L2], None)).unwrap();
        let ui = p
            .cases()
            .into_iter()
            .find(|c| c.name.to_string() == "L2::lab-chain::ui")
            .unwrap();
        let deps: Vec<_> = ui.depends_on.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            deps,
            ["L1::lab-chain::present", "L1::lab-chain-ui::present"]
        );
        let p = plan(&s, &sel(&["lab-chain"], &[Layer::L3], None)).unwrap();
        assert!(
            render(&p).starts_with("setup lab-chain\n"),
            "{}",
            render(&p)
        );
    }

    #[test]
    fn lists_the_release_suites_ui_urls_as_the_owners_scorecard_names_them() {
        let dir = crate::workspace::source_root().join("suites");
        let suites = crate::suite::load_catalog(&dir, "release").unwrap();
        let p = plan(&suites, &sel(&[], &[Layer::L2], None)).unwrap();
        assert_eq!(
            p.ui_urls(&suites),
            "L2::archy-bitcoin-ui::ui: / (the dashboard)
L2::archy-bitcoin-ui::ui: :8334/
L2::archy-electrs-ui::ui: / (the dashboard)
L2::archy-electrs-ui::ui: /app/electrumx/
L2::archy-lnd-ui::ui: / (the dashboard)
L2::archy-lnd-ui::ui: /app/lnd/
L2::bitcoin-core::ui: / (the dashboard)
L2::bitcoin-knots::ui: / (the dashboard)
L2::bitcoin-knots::ui: :8334/ (served by archy-bitcoin-ui)
L2::btcpay-server::ui: / (the dashboard)
L2::btcpay-server::ui: /app/btcpay/
L2::electrumx::ui: / (the dashboard)
L2::electrumx::ui: /app/electrumx/ (served by archy-electrs-ui)
L2::fedimint::ui: / (the dashboard)
L2::fedimint::ui: /app/fedimint/
L2::filebrowser::ui: / (the dashboard)
L2::filebrowser::ui: /app/filebrowser/
L2::lnd::ui: / (the dashboard)
L2::lnd::ui: /app/lnd/ (served by archy-lnd-ui)
L2::mempool::ui: / (the dashboard)
L2::mempool::ui: /app/mempool/
L2::mempool::ui: /app/mempool/api/v1/backend-info
"
        );
    }

    #[test]
    fn filter_selects_case_names() {
        let p = plan(&suites(), &sel(&[], &[], Some("::restart"))).unwrap();
        assert_eq!(
            p.list(),
            "L3::lab-chain::restart: test\nL3::lab-wallet::restart: test\n"
        );
        let p = plan(&suites(), &sel(&[], &[], Some("cargo-test"))).unwrap();
        assert_eq!(p.list(), "L0::workspace::cargo-test: test\n");
        assert!(p.stages.is_empty());
    }

    #[test]
    fn unknown_app_lists_known_ones() {
        let e = plan(&suites(), &sel(&["lab-nope"], &[], None)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown app \"lab-nope\" (known: lab-chain, lab-wallet)"
        );
    }

    #[test]
    fn requirement_cycle_is_refused() {
        let s = vec![suite("a", &["b"], &[]), suite("b", &["a"], &[])];
        assert_eq!(
            plan(&s, &sel(&[], &[], None)).unwrap_err().to_string(),
            "requirement cycle: a -> b -> a"
        );
    }

    #[test]
    fn chaos_and_perf_cases_come_last_each_alone_and_install_the_whole_catalog() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let scenario = |file: &str, text: &str| {
            crate::chaos::parse(&root.join(file), text, &[AppId::new("lab-wallet").unwrap()])
                .unwrap()
        };
        let scenarios = [
            scenario(
                "kill-orchestrator.toml",
                "fault = \"kill-orchestrator\"\ndeadline_secs = 30\n",
            ),
            scenario(
                "kill-app.toml",
                "fault = \"kill-app\"\ntarget = \"lab-wallet\"\ndeadline_secs = 30\n",
            ),
        ];
        let kpi = crate::perf::parse(
            &root.join("daemon-start.toml"),
            "metric = \"daemon-start\"\nsamples = 3\nstatistic = \"max\"\nbudget_ms = 5000\n",
            &[],
        )
        .unwrap();
        let only = |apps: &[&str], layers: &[Layer]| {
            let s = sel(apps, layers, None);
            let p = plan(&suites(), &s).unwrap();
            render(
                &with_chaos_and_perf(p, &suites(), &scenarios, std::slice::from_ref(&kpi), &s)
                    .unwrap(),
            )
        };
        assert_eq!(
            only(&[], &[Layer::L5, Layer::L6]),
            "setup lab-chain lab-wallet\n\
             alone L5::orchestrator::kill-orchestrator\n\
             alone L5::lab-wallet::kill-app\n\
             alone L6::orchestrator::daemon-start"
        );
        // One app selected: its scenario and the node-level ones, still the whole catalog set up.
        assert_eq!(
            only(&["lab-chain"], &[Layer::L5]),
            "setup lab-chain lab-wallet\nalone L5::orchestrator::kill-orchestrator"
        );
        // Not selected: nothing added.
        assert_eq!(
            only(&["lab-chain"], &[Layer::L1]),
            "setup lab-chain\nconcurrent L1::lab-chain::present\nconcurrent L1::lab-chain::valid L1::lab-chain::rpc"
        );
    }
}
