use super::*;

const FILE: &str = "suites/lab/lab-chain.toml";

/// The smallest valid lab-chain suite; refusal tests append to or edit it.
const BASE: &str = "app = \"lab-chain\"
start_budget_secs = 30
reboot_budget_secs = 120
";

/// Probes that make BASE valid.
const PROBES: &str = "
[[rpc]]
kind = \"tcp\"
port = 18443

[[ui]]
kind = \"dashboard\"
";

/// Appended last by `ok` and `refuse` (so line numbers above stay put): makes `update` apply.
const UPDATE: &str = "
[update]
image = \"localhost/lab-app:v2\"

[[update.before]]
kind = \"tcp\"
port = 18443

[[update.after]]
kind = \"tcp\"
port = 18443
";

fn with_update(text: &str) -> String {
    if text.contains("[update]") || text.contains("\nupdate = ") {
        text.to_owned()
    } else {
        format!("{text}{UPDATE}")
    }
}

fn ok(text: &str) -> Suite {
    parse(Path::new(FILE), "lab", &with_update(text))
        .unwrap()
        .suite
}

fn refuse(text: &str) -> String {
    parse(Path::new(FILE), "lab", &with_update(text))
        .unwrap_err()
        .to_string()
}

fn workspace_root() -> PathBuf {
    crate::workspace::source_root().to_path_buf()
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/suites")
}

fn app(id: &str) -> AppId {
    AppId::new(id).unwrap()
}

#[test]
fn parses_every_probe_kind_into_the_checked_types() {
    let suite = ok(&format!(
        r#"{BASE}requires = ["lab-x"]
volumes = ["lab-chain-data"]

[[rpc]]
kind = "app-json-rpc"
port = 18443
method = "getinfo"
expect = {{ pointer = "/result/chain", value = "lab" }}

[[rpc]]
kind = "orchestrator-rpc"
method = "package.status"
params = {{ id = "lab-chain" }}
expect = {{ pointer = "/result/state", value = "running" }}

[[rpc]]
kind = "tcp"
port = 50001
send = "version"
expect = "lab-index"

[[rpc]]
kind = "ssh"
command = "true"

[[ui]]
kind = "dashboard"
contains = "lab-chain"

[[ui]]
kind = "app-proxy"
path = "api/v1/backend-info"

[[ui]]
kind = "direct"
port = 18091

[[ui]]
kind = "app-proxy"
prefix = "chain"
served_by = "lab-chain-ui"

[[ui]]
kind = "direct"
port = 18092
served_by = "lab-chain-ui"

[[data]]
name = "height"
port = 18443
path = "/rpc"
method = "getinfo"
pointer = "/result/height"
rule = "unchanged"

[not_applicable]
daemon-restart = "because"
"#
    ));
    assert_eq!(
        suite,
        Suite {
            path: PathBuf::from(FILE),
            catalog: "lab".into(),
            app: app("lab-chain"),
            requires: vec![app("lab-x")],
            rpc: vec![
                Probe::AppJsonRpc {
                    port: 18443,
                    path: "/".into(),
                    method: "getinfo".into(),
                    expect: Some(("/result/chain".into(), serde_json::json!("lab"))),
                },
                Probe::OrchestratorRpc {
                    method: "package.status".into(),
                    params: serde_json::json!({"id": "lab-chain"}),
                    expect: Some(("/result/state".into(), serde_json::json!("running"))),
                },
                Probe::Tcp {
                    port: 50001,
                    send: Some("version".into()),
                    expect: Some("lab-index".into()),
                },
                Probe::Ssh {
                    command: "true".into(),
                    expect: None,
                },
            ],
            ui: vec![
                UiProbe {
                    target: UiTarget::Dashboard,
                    contains: Some("lab-chain".into()),
                    served_by: None,
                },
                UiProbe {
                    target: UiTarget::AppProxy {
                        prefix: ProxyPrefix::from(app("lab-chain")),
                        path: "api/v1/backend-info".into(),
                    },
                    contains: None,
                    served_by: None,
                },
                UiProbe {
                    target: UiTarget::Direct {
                        port: 18091,
                        path: "/".into(),
                    },
                    contains: None,
                    served_by: None,
                },
                UiProbe {
                    target: UiTarget::AppProxy {
                        prefix: ProxyPrefix::new("chain").unwrap(),
                        path: String::new(),
                    },
                    contains: None,
                    served_by: Some(app("lab-chain-ui")),
                },
                UiProbe {
                    target: UiTarget::Direct {
                        port: 18092,
                        path: "/".into(),
                    },
                    contains: None,
                    served_by: Some(app("lab-chain-ui")),
                },
            ],
            data: vec![DataProbe {
                name: "height".into(),
                port: 18443,
                path: "/rpc".into(),
                method: "getinfo".into(),
                pointer: "/result/height".into(),
                rule: DataRule::Unchanged,
            }],
            not_applicable: BTreeMap::from([(Check::DaemonRestart, "because".into())]),
            start_budget: Duration::from_secs(30),
            reboot_budget: Duration::from_secs(120),
            volumes: vec!["lab-chain-data".into()],
            update: Some(crate::suite::UpdateSpec {
                image: "localhost/lab-app:v2".into(),
                before: vec![Probe::Tcp {
                    port: 18443,
                    send: None,
                    expect: None
                }],
                after: vec![Probe::Tcp {
                    port: 18443,
                    send: None,
                    expect: None
                }],
            }),
            fault: None,
            journey: Vec::new(),
        }
    );
}

#[test]
fn orchestrator_rpc_params_default_to_an_empty_object() {
    let suite = ok(&format!(
        "{BASE}[[rpc]]\nkind = \"orchestrator-rpc\"\nmethod = \"container-list\"\n[[ui]]\nkind = \"dashboard\"\n"
    ));
    assert_eq!(
        suite.rpc,
        vec![Probe::OrchestratorRpc {
            method: "container-list".into(),
            params: serde_json::json!({}),
            expect: None
        }]
    );
}

#[test]
fn refuses_an_unknown_top_level_key() {
    assert_eq!(
        refuse(&format!("{BASE}bogus = 1\n{PROBES}")),
        "failed to load suite suites/lab/lab-chain.toml:4: key `bogus`: unknown field `bogus`, \
         expected one of `app`, `requires`, `volumes`, `start_budget_secs`, `reboot_budget_secs`, \
         `rpc`, `ui`, `data`, `not_applicable`, `update`, `fault`, `journey`"
    );
}

#[test]
fn refuses_an_unknown_key_in_a_probe() {
    assert_eq!(
        refuse(&format!("{BASE}{PROBES}contain = \"x\"\n")),
        "failed to load suite suites/lab/lab-chain.toml:11: key `ui.contain`: unknown field \
         `contain`, expected one of `kind`, `port`, `path`, `prefix`, `served_by`, `contains`"
    );
}

#[test]
fn refuses_an_unknown_rpc_probe_kind() {
    assert_eq!(
        refuse(&format!("{BASE}[[rpc]]\nkind = \"http\"\nport = 1\n")),
        "failed to load suite suites/lab/lab-chain.toml:5: key `rpc.kind`: unknown probe kind \
         \"http\" (known: app-json-rpc, orchestrator-rpc, tcp, ssh)"
    );
}

#[test]
fn refuses_an_unknown_ui_probe_kind() {
    assert_eq!(
        refuse(&format!(
            "{BASE}[[rpc]]\nkind = \"tcp\"\nport = 1\n[[ui]]\nkind = \"proxy\"\n"
        )),
        "failed to load suite suites/lab/lab-chain.toml:8: key `ui.kind`: unknown probe kind \
         \"proxy\" (known: dashboard, app-proxy, direct)"
    );
}

#[test]
fn refuses_an_unknown_check_in_not_applicable() {
    assert_eq!(
        refuse(&format!(
            "{BASE}{PROBES}[not_applicable]\nreinstal = \"typo\"\n"
        )),
        "failed to load suite suites/lab/lab-chain.toml:12: key `not_applicable.reinstal`: \
         unknown check \"reinstal\" (known: present, valid, rpc, ui, stop, start, restart, \
         reinstall, uninstalled-clean, update, required-stack, reboot, daemon-restart, stopped-survives, journey, api-contract)"
    );
}

#[test]
fn refuses_an_empty_not_applicable_reason() {
    assert_eq!(
        refuse(&format!("{BASE}{PROBES}[not_applicable]\nreboot = \" \"\n")),
        "failed to load suite suites/lab/lab-chain.toml:12: key `not_applicable.reboot`: the \
         reason is empty"
    );
}

#[test]
fn refuses_bad_ports() {
    for (value, message) in [
        ("0", "port must be between 1 and 65535, got 0"),
        ("70000", "port must be between 1 and 65535, got 70000"),
        ("-1", "port must be between 1 and 65535, got -1"),
        ("\"x\"", "invalid type: string \"x\", expected i64"),
    ] {
        assert_eq!(
            refuse(&format!(
                "{BASE}[[rpc]]\nkind = \"tcp\"\nport = {value}\n[[ui]]\nkind = \"dashboard\"\n"
            )),
            format!("failed to load suite suites/lab/lab-chain.toml:6: key `rpc.port`: {message}")
        );
    }
    assert_eq!(
        refuse(&format!(
            "{BASE}[[rpc]]\nkind = \"tcp\"\nport = 1\n[[ui]]\nkind = \"direct\"\nport = 65536\n"
        )),
        "failed to load suite suites/lab/lab-chain.toml:9: key `ui.port`: port must be between 1 \
         and 65535, got 65536"
    );
}

#[test]
fn refuses_missing_keys() {
    assert_eq!(
        refuse(&format!(
            "# lab chain\nstart_budget_secs = 30\nreboot_budget_secs = 120\n{PROBES}"
        )),
        "failed to load suite suites/lab/lab-chain.toml:1: key `app`: missing field `app`"
    );
    assert_eq!(
        refuse("app = \"lab-chain\"\nstart_budget_secs = 30\n"),
        "failed to load suite suites/lab/lab-chain.toml:1: key `reboot_budget_secs`: missing \
         field `reboot_budget_secs`"
    );
    assert_eq!(
        refuse(&format!("{BASE}\n[[rpc]]\nport = 1\n")),
        "failed to load suite suites/lab/lab-chain.toml:5: key `rpc.kind`: missing field `kind`"
    );
    assert_eq!(
        refuse(&format!("{BASE}\n[[rpc]]\nkind = \"tcp\"\n")),
        "failed to load suite suites/lab/lab-chain.toml:5: key `rpc.port`: missing key `port` \
         (required by kind \"tcp\")"
    );
    assert_eq!(
        refuse(&format!(
            "{BASE}\n[[rpc]]\nkind = \"app-json-rpc\"\nport = 1\n"
        )),
        "failed to load suite suites/lab/lab-chain.toml:5: key `rpc.method`: missing key \
         `method` (required by kind \"app-json-rpc\")"
    );
    assert_eq!(
        refuse(&format!("{BASE}\n[[rpc]]\nkind = \"ssh\"\n")),
        "failed to load suite suites/lab/lab-chain.toml:5: key `rpc.command`: missing key \
         `command` (required by kind \"ssh\")"
    );
    assert_eq!(
        refuse(&format!(
            "{BASE}{PROBES}\n[[data]]\nname = \"height\"\nport = 1\nmethod = \"getinfo\"\nrule = \"unchanged\"\n"
        )),
        "failed to load suite suites/lab/lab-chain.toml:12: key `data.pointer`: missing field \
         `pointer`"
    );
}

#[test]
fn refuses_a_key_that_does_not_apply_to_the_kind() {
    assert_eq!(
        refuse(&format!(
            "{BASE}[[rpc]]\nkind = \"tcp\"\nport = 1\nmethod = \"getinfo\"\n[[ui]]\nkind = \"dashboard\"\n"
        )),
        "failed to load suite suites/lab/lab-chain.toml:7: key `rpc.method`: does not apply to \
         kind \"tcp\""
    );
    assert_eq!(
        refuse(&format!(
            "{BASE}[[rpc]]\nkind = \"tcp\"\nport = 1\n[[ui]]\nkind = \"dashboard\"\npath = \"/\"\n"
        )),
        "failed to load suite suites/lab/lab-chain.toml:9: key `ui.path`: does not apply to kind \
         \"dashboard\""
    );
}

#[test]
fn refuses_a_bad_prefix_or_served_by_naming_the_line() {
    let ui = |t: &str| format!("{BASE}[[rpc]]\nkind = \"tcp\"\nport = 1\n[[ui]]\n{t}");
    assert_eq!(
        refuse(&ui("kind = \"app-proxy\"\nprefix = \"../btcpay\"\n")),
        "failed to load suite suites/lab/lab-chain.toml:9: key `ui.prefix`: invalid proxy prefix \
         \"../btcpay\": must match [a-z0-9][a-z0-9-]{0,62}"
    );
    assert_eq!(
        refuse(&ui("kind = \"direct\"\nport = 8334\nprefix = \"btcpay\"\n")),
        "failed to load suite suites/lab/lab-chain.toml:10: key `ui.prefix`: does not apply to \
         kind \"direct\""
    );
    assert_eq!(
        refuse(&ui("kind = \"dashboard\"\nserved_by = \"lab-chain-ui\"\n")),
        "failed to load suite suites/lab/lab-chain.toml:9: key `ui.served_by`: does not apply to \
         kind \"dashboard\""
    );
    assert_eq!(
        refuse(&ui("kind = \"app-proxy\"\nserved_by = \"lab-chain\"\n")),
        "failed to load suite suites/lab/lab-chain.toml:9: key `ui.served_by`: app \"lab-chain\" \
         serves its own UI: leave served_by out"
    );
    assert_eq!(
        refuse(&ui("kind = \"app-proxy\"\nserved_by = \"Lab\"\n")),
        "failed to load suite suites/lab/lab-chain.toml:9: key `ui.served_by`: invalid app id \
         \"Lab\": must match [a-z0-9][a-z0-9-]{0,62}"
    );
}

#[test]
fn a_probe_url_reads_as_the_user_sees_it() {
    let s = ok(&format!(
        "{BASE}[[rpc]]\nkind = \"tcp\"\nport = 1\n[[ui]]\nkind = \"dashboard\"\n[[ui]]\nkind = \"app-proxy\"\n\
         [[ui]]\nkind = \"app-proxy\"\nprefix = \"btcpay\"\npath = \"api\"\n[[ui]]\nkind = \"direct\"\nport = 8334\n"
    ));
    let urls: Vec<String> = s.ui.iter().map(UiProbe::url).collect();
    assert_eq!(urls, ["/", "/app/lab-chain/", "/app/btcpay/api", ":8334/"]);
}

#[test]
fn refuses_an_app_not_matching_the_file_stem() {
    assert_eq!(
        refuse(&format!("app = \"lab-wallet\"\n{}", &BASE[18..]).replace("\n\n", "\n")),
        "failed to load suite suites/lab/lab-chain.toml:1: key `app`: app \"lab-wallet\" does not \
         match the file name \"lab-chain\" (the file must be <app>.toml)"
    );
}

#[test]
fn refuses_an_invalid_app_id() {
    assert_eq!(
        refuse(&format!(
            "{}{PROBES}",
            BASE.replace("lab-chain", "Lab_Chain")
        )),
        "failed to load suite suites/lab/lab-chain.toml:1: key `app`: invalid app id \
         \"Lab_Chain\": must match [a-z0-9][a-z0-9-]{0,62}"
    );
    assert_eq!(
        refuse(&format!("{BASE}requires = [\"../x\"]\n{PROBES}")),
        "failed to load suite suites/lab/lab-chain.toml:4: key `requires`: invalid app id \
         \"../x\": must match [a-z0-9][a-z0-9-]{0,62}"
    );
}

#[test]
fn refuses_a_requires_on_itself_or_twice() {
    assert_eq!(
        refuse(&format!("{BASE}requires = [\"lab-chain\"]\n{PROBES}")),
        "failed to load suite suites/lab/lab-chain.toml:4: key `requires`: app \"lab-chain\" \
         requires itself"
    );
    assert_eq!(
        refuse(&format!("{BASE}requires = [\"a\",\n  \"a\"]\n{PROBES}")),
        "failed to load suite suites/lab/lab-chain.toml:5: key `requires`: app \"a\" is listed \
         twice"
    );
}

#[test]
fn refuses_a_requires_naming_an_app_without_a_suite() {
    let err = load_catalog(&fixtures().join("missing-require"), "lab").unwrap_err();
    let file = fixtures().join("missing-require/lab/lab-wallet.toml");
    assert_eq!(
        err.to_string(),
        format!(
            "failed to load suite {}:4: key `requires`: app \"lab-nope\" has no suite in catalog \"lab\"",
            file.display()
        )
    );
}

#[test]
fn refuses_a_served_by_naming_an_app_without_a_suite() {
    let err = load_catalog(&fixtures().join("missing-server"), "lab").unwrap_err();
    let file = fixtures().join("missing-server/lab/lab-chain.toml");
    assert_eq!(
        err.to_string(),
        format!(
            "failed to load suite {}:12: key `ui.served_by`: app \"lab-nope\" has no suite in catalog \"lab\"",
            file.display()
        )
    );
}

#[test]
fn refuses_a_catalog_without_suites() {
    let err = load_catalog(&fixtures().join("empty"), "lab").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "failed to load suites: no *.toml suite in {}",
            fixtures().join("empty/lab").display()
        )
    );
    let err = load_catalog(&fixtures().join("empty"), "nope").unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "failed to read suite directory {}: ",
            fixtures().join("empty/nope").display()
        )),
        "{err}"
    );
}

#[test]
fn refuses_bad_budgets_volumes_and_paths() {
    assert_eq!(
        refuse(&format!("{}{PROBES}", BASE.replace("= 30", "= 0"))),
        "failed to load suite suites/lab/lab-chain.toml:2: key `start_budget_secs`: must be \
         between 1 and 3600 seconds, got 0"
    );
    assert_eq!(
        refuse(&format!("{}{PROBES}", BASE.replace("= 120", "= 86400"))),
        "failed to load suite suites/lab/lab-chain.toml:3: key `reboot_budget_secs`: must be \
         between 1 and 3600 seconds, got 86400"
    );
    assert_eq!(
        refuse(&format!("{BASE}volumes = [\"data:/x\"]\n{PROBES}")),
        "failed to load suite suites/lab/lab-chain.toml:4: key `volumes`: invalid volume name \
         \"data:/x\": must match [A-Za-z0-9][A-Za-z0-9_.-]*"
    );
    assert_eq!(
        refuse(&format!(
            "{BASE}[[rpc]]\nkind = \"tcp\"\nport = 1\n[[ui]]\nkind = \"app-proxy\"\npath = \"/x\"\n"
        )),
        "failed to load suite suites/lab/lab-chain.toml:9: key `ui.path`: path \"/x\" is below \
         /app/<prefix>/ and must not start with /"
    );
    assert_eq!(
        refuse(&format!(
            "{BASE}[[rpc]]\nkind = \"tcp\"\nport = 1\n[[ui]]\nkind = \"direct\"\nport = 1\npath = \"x\"\n"
        )),
        "failed to load suite suites/lab/lab-chain.toml:10: key `ui.path`: path \"x\" must start \
         with /"
    );
}

#[test]
fn refuses_a_malformed_expect() {
    let rpc = "[[ui]]\nkind = \"dashboard\"\n[[rpc]]\nkind = \"app-json-rpc\"\nport = 1\nmethod = \"m\"\n";
    assert_eq!(
        refuse(&format!("{BASE}{rpc}expect = \"lab\"\n")),
        "failed to load suite suites/lab/lab-chain.toml:10: key `rpc.expect`: must be { pointer \
         = \"/result/...\", value = ... }, got \"lab\""
    );
    assert_eq!(
        refuse(&format!(
            "{BASE}{rpc}expect = {{ pointer = \"/a\", valu = 1 }}\n"
        )),
        "failed to load suite suites/lab/lab-chain.toml:10: key `rpc.expect.valu`: unknown key; \
         must be { pointer = \"/result/...\", value = ... }"
    );
    assert_eq!(
        refuse(&format!(
            "{BASE}{rpc}expect = {{ pointer = \"a\", value = 1 }}\n"
        )),
        "failed to load suite suites/lab/lab-chain.toml:10: key `rpc.expect.pointer`: JSON \
         pointer \"a\" must be empty or start with /"
    );
    assert_eq!(
        refuse(&format!(
            "{BASE}[[ui]]\nkind = \"dashboard\"\n[[rpc]]\nkind = \"ssh\"\ncommand = \"true\"\nexpect = {{ pointer = \"/a\", value = 1 }}\n"
        )),
        "failed to load suite suites/lab/lab-chain.toml:9: key `rpc.expect`: must be a non-empty \
         string for this kind, got { pointer = \"/a\", value = 1 }"
    );
}

#[test]
fn refuses_an_unknown_data_rule() {
    assert_eq!(
        refuse(&format!(
            "{BASE}{PROBES}[[data]]\nname = \"h\"\nport = 1\nmethod = \"m\"\npointer = \"/h\"\nrule = \"increasing\"\n"
        )),
        "failed to load suite suites/lab/lab-chain.toml:16: key `data.rule`: unknown rule \
         \"increasing\" (known: non-decreasing, unchanged)"
    );
}

#[test]
fn refuses_checks_and_probes_that_disagree() {
    assert_eq!(
        refuse(&format!("{BASE}[[ui]]\nkind = \"dashboard\"\n")),
        "failed to load suite suites/lab/lab-chain.toml:1: key `rpc`: check rpc applies but no \
         [[rpc]] probe is declared (add one, or not_applicable.rpc with the reason)"
    );
    assert_eq!(
        refuse(&format!("{BASE}{PROBES}[not_applicable]\nui = \"no UI\"\n")),
        "failed to load suite suites/lab/lab-chain.toml:12: key `not_applicable.ui`: check ui is \
         declared not applicable but 1 [[ui]] probe(s) are declared"
    );
    let suite = ok(&format!(
        "{BASE}[[ui]]\nkind = \"dashboard\"\n[not_applicable]\nrpc = \"no RPC\"\n"
    ));
    assert!(suite.rpc.is_empty());
}

#[test]
fn refuses_text_that_is_not_toml() {
    assert_eq!(
        refuse("app = \"lab-chain\"\n[[rpc]\n"),
        "failed to load suite suites/lab/lab-chain.toml:2: unclosed array table, expected `]`"
    );
}

#[test]
fn every_shipped_suite_loads() {
    let suites_dir = workspace_root().join("suites");
    let lab = load_catalog(&suites_dir, "lab").unwrap();
    let ids: Vec<&str> = lab.iter().map(|s| s.app.as_str()).collect();
    assert_eq!(
        ids,
        [
            "lab-chain",
            "lab-chain-ui",
            "lab-explorer",
            "lab-index",
            "lab-wallet"
        ]
    );
    for s in &lab {
        assert!(
            s.not_applicable.is_empty(),
            "{}: every check must apply to a lab app (the lab gate shows 50 cells)",
            s.app
        );
    }
    let release = load_catalog(&suites_dir, "release").unwrap();
    let ids: Vec<&str> = release.iter().map(|s| s.app.as_str()).collect();
    assert_eq!(
        ids,
        [
            "archy-bitcoin-ui",
            "archy-electrs-ui",
            "archy-lnd-ui",
            "bitcoin-core",
            "bitcoin-knots",
            "btcpay-server",
            "electrumx",
            "fedimint",
            "filebrowser",
            "lnd",
            "mempool"
        ]
    );
}

#[test]
fn the_shipped_lab_chain_suite_says_what_the_contract_says() {
    let lab = load_catalog(&workspace_root().join("suites"), "lab").unwrap();
    let chain = lab.iter().find(|s| s.app.as_str() == "lab-chain").unwrap();
    assert_eq!(
        chain.rpc,
        vec![Probe::AppJsonRpc {
            port: 18443,
            path: "/".into(),
            method: "getinfo".into(),
            expect: Some(("/result/chain".into(), serde_json::json!("lab"))),
        }]
    );
    assert_eq!(chain.data[0].rule, DataRule::NonDecreasing);
    let wallet = lab.iter().find(|s| s.app.as_str() == "lab-wallet").unwrap();
    assert_eq!(wallet.requires, vec![app("lab-chain")]);
}

#[test]
fn update_needs_a_table_with_both_probe_lists_and_a_shell_safe_image() {
    let no_update = format!("{BASE}{PROBES}[not_applicable]\nupdate = \"no second image\"\n");
    assert!(ok(&no_update).update.is_none());
    let table = |image: &str, lists: &str| {
        format!("{BASE}{PROBES}\n[update]\nimage = \"{image}\"\n{lists}")
    };
    let both =
        "[[update.before]]\nkind = \"tcp\"\nport = 1\n[[update.after]]\nkind = \"tcp\"\nport = 2\n";
    let u = ok(&table("localhost/lab-app:v2", both)).update.unwrap();
    assert_eq!(u.image, "localhost/lab-app:v2");
    assert_eq!((u.before.len(), u.after.len()), (1, 1));
    assert_eq!(
        refuse(&table("img;rm -rf /", both)),
        "failed to load suite suites/lab/lab-chain.toml:13: key `update.image`: \"img;rm -rf /\" is \
         not an image reference ([A-Za-z0-9./:_@-], not starting with -)"
    );
    assert_eq!(
        refuse(&table("-x", both)),
        "failed to load suite suites/lab/lab-chain.toml:13: key `update.image`: \"-x\" is not an \
         image reference ([A-Za-z0-9./:_@-], not starting with -)"
    );
    assert_eq!(
        refuse(&table(
            "img",
            "[[update.after]]\nkind = \"tcp\"\nport = 2\n"
        )),
        "failed to load suite suites/lab/lab-chain.toml:12: key `update`: needs at least one \
         [[update.before]] and one [[update.after]] probe (how to tell the two versions apart)"
    );
    assert_eq!(
        refuse(&table(
            "img",
            "[[update.before]]\nkind = \"tcp\"\n[[update.after]]\nkind = \"tcp\"\nport = 2\n"
        )),
        "failed to load suite suites/lab/lab-chain.toml:14: key `update.before.port`: missing key \
         `port` (required by kind \"tcp\")"
    );
}

#[test]
fn fault_takes_exactly_one_port() {
    let with = |t: &str| format!("{BASE}{PROBES}\n[fault]\n{t}");
    assert_eq!(
        ok(&with("http_port = 18443\n")).fault,
        Some(crate::suite::FaultControl::Http(18443))
    );
    assert_eq!(
        ok(&with("tcp_port = 50001\n")).fault,
        Some(crate::suite::FaultControl::Tcp(50001))
    );
    assert_eq!(
        refuse(&with("http_port = 1\ntcp_port = 2\n")),
        "failed to load suite suites/lab/lab-chain.toml:12: key `fault`: needs exactly one of \
         http_port and tcp_port"
    );
    assert_eq!(
        refuse(&with("http_port = 0\n")),
        "failed to load suite suites/lab/lab-chain.toml:13: key `fault.http_port`: port must be \
         between 1 and 65535, got 0"
    );
}

#[test]
fn required_stack_must_have_something_to_check_or_be_declared_na() {
    let shipped = load_catalog(&workspace_root().join("suites"), "release").unwrap();
    let lonely = shipped
        .iter()
        .find(|s| s.app.as_str() == "filebrowser")
        .unwrap();
    assert!(lonely.not_applicable.contains_key(&Check::RequiredStack));
    let mut alone = lonely.clone();
    alone.not_applicable.remove(&Check::RequiredStack);
    assert_eq!(
        super::required_stack_applies(&alone, std::slice::from_ref(&alone))
            .unwrap_err()
            .to_string(),
        format!(
            "failed to load suite {}:1: key `not_applicable.required-stack`: check required-stack \
             applies but filebrowser neither requires an app nor is required by one (declare \
             not_applicable.required-stack with the reason)",
            alone.path.display()
        )
    );
    let lab = load_catalog(&workspace_root().join("suites"), "lab").unwrap();
    let mut wallet = lab
        .iter()
        .find(|s| s.app.as_str() == "lab-wallet")
        .unwrap()
        .clone();
    let mut chain = lab
        .iter()
        .find(|s| s.app.as_str() == "lab-chain")
        .unwrap()
        .clone();
    assert!(super::required_stack_applies(&wallet, &lab).is_ok());
    chain.fault = None;
    wallet.not_applicable.remove(&Check::RequiredStack);
    assert!(
        super::required_stack_applies(&wallet, &[chain, wallet.clone()])
            .unwrap_err()
            .to_string()
            .ends_with(
                "check required-stack needs a [fault] in lab-chain's suite to make it unhealthy \
                 (or declare not_applicable.required-stack with the reason)"
            )
    );
}

#[test]
fn a_journey_is_its_steps_in_order() {
    use crate::suite::journey::{Action, Step};
    let text = format!(
        "{BASE}{PROBES}\n\
         [[journey]]\nlogin = true\n\
         [[journey]]\ndashboard = \"uninstall\"\n\
         [[journey]]\nrefused = \"stop\"\ntext = \"required by\"\n\
         [[journey]]\nopen_ui = true\n\
         [[journey]]\nclick = \"a.next\"\n\
         [[journey]]\ntype = \"#name\"\ntext = \"x\"\n\
         [[journey]]\nwait = \"body\"\ntext = \"Height: \"\ndeadline_secs = 20\n\
         [[journey]]\nexpect = \"h1\"\n\
         [[journey]]\nopen = \"/\"\n\
         [[journey]]\ngone = \"/app/lab-chain/\"\n\
         [[journey]]\nforge_stop = true\n"
    );
    assert_eq!(
        ok(&text).journey,
        [
            Step::Login,
            Step::Dashboard(Action::Uninstall),
            Step::Refused {
                action: Action::Stop,
                text: "required by".into()
            },
            Step::OpenUi,
            Step::Click("a.next".into()),
            Step::Type {
                css: "#name".into(),
                text: "x".into()
            },
            Step::Wait {
                css: "body".into(),
                text: "Height: ".into(),
                deadline: Duration::from_secs(20)
            },
            Step::Wait {
                css: "h1".into(),
                text: String::new(),
                deadline: Duration::ZERO
            },
            Step::Open("/".into()),
            Step::Gone("/app/lab-chain/".into()),
            Step::ForgeStop,
        ]
    );
    assert_eq!(ok(&format!("{BASE}{PROBES}")).journey, []);
}

#[test]
fn refuses_a_journey_step_naming_its_line_and_key() {
    let with = |t: &str| format!("{BASE}{PROBES}\n[[journey]]\nlogin = true\n[[journey]]\n{t}");
    let line = 14;
    for (step, key, why) in [
        (
            "click = \"a\"\nopen = \"/\"\n",
            "journey[1]",
            "a step has exactly one of login, open, dashboard, refused, open_ui, click, type, \
             wait, expect, gone, forge_stop (this one has open, click)",
        ),
        (
            "dashboard = \"reboot\"\n",
            "journey[1].dashboard",
            "unknown action \"reboot\" (known: install, start, stop, restart, update, uninstall)",
        ),
        (
            "click = \"a\"\ntext = \"x\"\n",
            "journey[1].text",
            "`click` takes no text",
        ),
        ("type = \"#a\"\n", "journey[1].text", "`type` needs a text"),
        (
            "open = \"app/x/\"\n",
            "journey[1].open",
            "\"app/x/\" must be a path starting with /",
        ),
        (
            "wait = \"body\"\ndeadline_secs = 0\n",
            "journey[1].deadline_secs",
            "0 is not 1 to 600",
        ),
        (
            "open_ui = false\n",
            "journey[1].open_ui",
            "must be true (leave the step out instead)",
        ),
        ("bogus = 1\n", "journey.bogus", "unknown field `bogus`"),
    ] {
        let err = refuse(&with(step));
        let want = "failed to load suite suites/lab/lab-chain.toml:";
        assert!(err.starts_with(want), "{err}");
        assert!(
            err.contains(&format!("key `{key}`: {why}")),
            "{step}: {err}"
        );
        let at: usize = err[want.len()..]
            .split(':')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (line..=line + 2).contains(&at),
            "{step}: line {at} in {err}"
        );
    }
    assert_eq!(
        refuse(&format!(
            "{BASE}{PROBES}\n[not_applicable]\njourney = \"no UI\"\n[[journey]]\nlogin = true\n"
        )),
        "failed to load suite suites/lab/lab-chain.toml:14: key `journey`: check journey is \
         declared not applicable but journey steps are declared"
    );
}
