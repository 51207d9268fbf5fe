//! Manifest parsing and every refusal, and catalog loading that survives bad files.

use std::path::Path;

use orchestrator::Error;
use orchestrator::manifest::{
    Catalog, Health, Manifest, Network, Port, Protocol, RestartPolicy, Ui, Volume,
};

const GOOD: &str = r#"id = "lab-chain"
image = "localhost/lab-app:latest"
command = ["chain", "--port", "18443", "--data", "/data"]
ports = ["18443:18443"]
volumes = ["lab-chain-data:/data"]
network = "host"
memory = "64m"
restart = "on-failure"
requires = []
[environment]
CHAIN_URL = "http://127.0.0.1:18443/"
[health]
http = { port = 18443, path = "/healthz" }
[ui]
port = 18080
proxied = true
"#;

fn parse(text: &str) -> Result<Manifest, Error> {
    Manifest::from_toml(Path::new("cat/x.toml"), text)
}

/// The (line, key, what) of a refusal.
fn refusal(text: &str) -> (Option<usize>, String, String) {
    match parse(text) {
        Err(Error::Invalid {
            file,
            line,
            key,
            what,
        }) => {
            assert_eq!(file, Path::new("cat/x.toml"));
            (line, key, what)
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn parses_the_contract_example() {
    let m = parse(GOOD).unwrap();
    assert_eq!(m.id.as_str(), "lab-chain");
    assert_eq!(m.image, "localhost/lab-app:latest");
    assert_eq!(m.command, ["chain", "--port", "18443", "--data", "/data"]);
    assert_eq!(
        m.ports,
        [Port {
            host: 18443,
            container: 18443,
            protocol: Protocol::Tcp
        }]
    );
    assert_eq!(
        m.volumes,
        [Volume {
            name: "lab-chain-data".into(),
            path: "/data".into()
        }]
    );
    assert_eq!(m.network, Some(Network::Host));
    assert_eq!(m.memory_mib, Some(64));
    assert_eq!(m.restart, RestartPolicy::OnFailure);
    assert!(m.requires.is_empty());
    assert_eq!(m.environment["CHAIN_URL"], "http://127.0.0.1:18443/");
    assert_eq!(
        m.health,
        Some(Health::Http {
            port: 18443,
            path: "/healthz".into()
        })
    );
    assert_eq!(
        m.ui,
        Some(Ui {
            port: 18080,
            proxied: true,
            prefix: None,
        })
    );
}

#[test]
fn defaults_and_other_forms() {
    let m = parse("id = \"a\"\nimage = \"i\"\nmemory = \"2g\"\n[health]\ntcp = { port = 50001 }\n[ui]\nport = 1\n").unwrap();
    assert_eq!(m.memory_mib, Some(2048));
    assert_eq!(m.restart, RestartPolicy::OnFailure);
    assert_eq!(m.health, Some(Health::Tcp { port: 50001 }));
    assert_eq!(
        m.ui,
        Some(Ui {
            port: 1,
            proxied: true,
            prefix: None,
        })
    );
    assert_eq!(m.proxy_prefix().map(|p| p.as_str()), Some("a"));
    let m = parse("id = \"a\"\nimage = \"i\"\nrestart = \"no\"\nports = [\"53:53/udp\"]\n[health]\ncommand = [\"/app\", \"check\"]\n").unwrap();
    assert_eq!(m.restart, RestartPolicy::No);
    assert_eq!(m.ports[0].to_string(), "53:53/udp");
    assert_eq!(
        m.health,
        Some(Health::Command(vec!["/app".into(), "check".into()]))
    );
}

#[test]
fn refuses_bad_ids_with_line_and_key() {
    let long = "a".repeat(64);
    for bad in ["../x", "a/b", "", long.as_str(), "Lab"] {
        let (line, key, what) = refusal(&format!("image = \"i\"\nid = \"{bad}\"\n"));
        assert_eq!((line, key.as_str()), (Some(2), "id"), "{bad:?}");
        assert!(what.contains("[a-z0-9][a-z0-9-]{0,62}"), "{what}");
    }
}

#[test]
fn refuses_each_bad_value() {
    let base = "id = \"a\"\nimage = \"i\"\n";
    let cases = [
        ("memory = \"512\"", "memory"),
        ("memory = \"1.5g\"", "memory"),
        ("memory = \"0m\"", "memory"),
        ("memory = \"12k\"", "memory"),
        ("ports = [\"80\"]", "ports"),
        ("ports = [\"0:80\"]", "ports"),
        ("ports = [\"80:70000\"]", "ports"),
        ("ports = [\"80:80/sctp\"]", "ports"),
        ("volumes = [\"/host/path:/data\"]", "volumes"),
        ("volumes = [\"data:relative\"]", "volumes"),
        ("volumes = [\"data:/a/../../etc\"]", "volumes"),
        ("network = \"bridge\"", "network"),
        ("requires = [\"../x\"]", "requires"),
        ("requires = [\"a\"]", "requires"),
        ("command = []", "command"),
        ("restart = \"sometimes\"", "restart"),
        ("memory = 64", "memory"),
        ("colour = \"red\"", "colour"),
    ];
    for (extra, key) in cases {
        let (line, got_key, what) = refusal(&format!("{base}{extra}\n"));
        assert_eq!((line, got_key.as_str()), (Some(3), key), "{extra}: {what}");
    }
}

#[test]
fn refuses_bad_tables() {
    let base = "id = \"a\"\nimage = \"i\"\n";
    let (_, key, _) = refusal(&format!(
        "{base}[health]\nhttp = {{ port = 1, path = \"/\" }}\ntcp = {{ port = 2 }}\n"
    ));
    assert_eq!(key, "health");
    let (_, key, _) = refusal(&format!("{base}[health]\n"));
    assert_eq!(key, "health");
    let (_, key, _) = refusal(&format!(
        "{base}[health]\nhttp = {{ port = 1, path = \"healthz\" }}\n"
    ));
    assert_eq!(key, "health.http.path");
    let (_, key, _) = refusal(&format!("{base}[environment]\n\"BAD-NAME\" = \"x\"\n"));
    assert_eq!(key, "environment.BAD-NAME");
    let (_, _, what) = refusal("id = \"a\"\n");
    assert!(what.contains("image"), "{what}");
}

#[test]
fn a_ui_prefix_names_the_proxied_path_and_needs_proxied() {
    let base = "id = \"archy-lnd-ui\"\nimage = \"i\"\n[ui]\nport = 1\n";
    let m = parse(&format!("{base}prefix = \"lnd\"\n")).unwrap();
    assert_eq!(m.proxy_prefix().map(|p| p.as_str()), Some("lnd"));
    assert_eq!(
        refusal(&format!("{base}prefix = \"../lnd\"\n")),
        (
            Some(5),
            "ui.prefix".into(),
            "failed to parse app id \"../lnd\": must match [a-z0-9][a-z0-9-]{0,62}".into()
        )
    );
    assert_eq!(
        refusal(&format!("{base}proxied = false\nprefix = \"lnd\"\n")),
        (
            Some(6),
            "ui.prefix".into(),
            "a prefix names the proxied path: it needs proxied = true".into()
        )
    );
    let m = parse(&format!("{base}proxied = false\n")).unwrap();
    assert_eq!(m.proxy_prefix(), None);
}

#[test]
fn catalog_refuses_a_second_app_at_a_proxied_path() {
    let dir = tempdir("catalog-prefix");
    std::fs::write(
        dir.join("lnd.toml"),
        "id = \"lnd\"\nimage = \"i\"\n[ui]\nport = 1\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("lnd-ui.toml"),
        "id = \"lnd-ui\"\nimage = \"i\"\n[ui]\nport = 2\nprefix = \"lnd\"\n",
    )
    .unwrap();
    // Files load in path order, so lnd-ui.toml claims /app/lnd/ first.
    let (catalog, errors) = Catalog::load(&dir).unwrap();
    let ids: Vec<_> = catalog.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["lnd-ui"]);
    let messages: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].ends_with("/lnd.toml: ui.prefix: /app/lnd/ is already the UI of \"lnd-ui\""),
        "{}",
        messages[0]
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_lab_catalog_proxies_lab_chain_under_its_companion() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("catalog/lab");
    let (catalog, errors) = Catalog::load(&dir).unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    let chain = orchestrator::manifest::AppId::parse("lab-chain").unwrap();
    assert_eq!(
        catalog.proxied(&chain).map(|m| m.id.as_str()),
        Some("lab-chain-ui")
    );
}

#[test]
fn catalog_keeps_good_files_and_reports_bad_ones() {
    let dir = tempdir("catalog");
    std::fs::create_dir_all(dir.join("lab")).unwrap();
    std::fs::write(dir.join("lab/lab-chain.toml"), GOOD).unwrap();
    std::fs::write(
        dir.join("lab/broken.toml"),
        "id = \"broken\"\nimage = \"i\"\nmemory = \"lots\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("lab/wrong-name.toml"),
        "id = \"other\"\nimage = \"i\"\n",
    )
    .unwrap();
    std::fs::write(dir.join("top.toml"), "id = \"top\"\nimage = \"i\"\n").unwrap();
    std::fs::write(dir.join("notes.txt"), "ignored").unwrap();
    let (catalog, errors) = Catalog::load(&dir).unwrap();
    let ids: Vec<_> = catalog.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["lab-chain", "top"]);
    let messages: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[0]
            .ends_with("lab/broken.toml:3: memory: \"lots\" is not a size like \"512m\" or \"2g\""),
        "{}",
        messages[0]
    );
    assert!(
        messages[1].ends_with("lab/wrong-name.toml: id: \"other\" does not match the file name"),
        "{}",
        messages[1]
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// A fresh, empty folder under the system temp dir.
pub fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("orch-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn refuses_what_could_corrupt_a_unit_naming_line_key_and_value() {
    let base = "id = \"a\"\nimage = \"i\"\n";
    let image = |v: &str| {
        format!(
            "{v:?} is not an image reference (letters, digits and . _ - / : @, starting with a letter or digit)"
        )
    };
    let path = |v: &str, c: char| {
        format!("{v:?}: the path holds {c:?}; a path may hold letters, digits and / . _ - + @ ~")
    };
    let cases: Vec<(String, usize, &str, String)> =
        vec![
        // An image is one word of podman's command line: no option, no expansion, no split.
        ("id = \"a\"\nimage = \"-v=/:/host\"\n".into(), 2, "image", image("-v=/:/host")),
        ("id = \"a\"\nimage = \"--privileged\"\n".into(), 2, "image", image("--privileged")),
        ("id = \"a\"\nimage = \"img\\u0001x\"\n".into(), 2, "image", image("img\u{1}x")),
        ("id = \"a\"\nimage = \"img\\tx\"\n".into(), 2, "image", image("img\tx")),
        ("id = \"a\"\nimage = \"a b\"\n".into(), 2, "image", image("a b")),
        ("id = \"a\"\nimage = \"img:$TAG\"\n".into(), 2, "image", image("img:$TAG")),
        ("id = \"a\"\nimage = \"img:%n\"\n".into(), 2, "image", image("img:%n")),
        // Volume= is copied as it is: newline, continuation, specifier, word split, quote.
        (
            format!("{base}volumes = [\"d:/data\\n[Service]\\nExecStartPre=/bin/sh\"]\n"),
            3,
            "volumes",
            path("d:/data\n[Service]\nExecStartPre=/bin/sh", '\n'),
        ),
        (format!("{base}volumes = [\"d:/data\\\\\"]\n"), 3, "volumes", path("d:/data\\", '\\')),
        (format!("{base}volumes = [\"d:/data%h\"]\n"), 3, "volumes", path("d:/data%h", '%')),
        (format!("{base}volumes = [\"d:/my data\"]\n"), 3, "volumes", path("d:/my data", ' ')),
        (format!("{base}volumes = [\"d:/a\\\"b\"]\n"), 3, "volumes", path("d:/a\"b", '"')),
        (format!("{base}volumes = [\"d:/a$b\"]\n"), 3, "volumes", path("d:/a$b", '$')),
        (format!("{base}volumes = [\"d:/a\\tb\"]\n"), 3, "volumes", path("d:/a\tb", '\t')),
        // Values that are escaped when rendered may still not hold control characters.
        (
            format!("{base}[environment]\nOK = \"x\"\nBAD = \"a\\rb\"\n"),
            5,
            "environment.BAD",
            "holds a control character".into(),
        ),
        (
            format!("{base}command = [\"run\", \"a\\u0000b\"]\n"),
            3,
            "command",
            "\"a\\0b\" holds a control character".into(),
        ),
        (
            format!("{base}[health]\nhttp = {{ port = 1, path = \"/x HTTP/1.0\\r\\nX: y\" }}\n"),
            // The [health] table's line: its inner tables carry no position of their own.
            3,
            "health.http.path",
            "\"/x HTTP/1.0\\r\\nX: y\" must start with / and hold no spaces or control characters"
                .into(),
        ),
        (
            format!("{base}[health]\ntcp = {{ port = 1 }}\nstart_budget_secs = 0\n"),
            5,
            "health.start_budget_secs",
            "0 is not between 1 and 3600".into(),
        ),
        (
            format!("{base}[health]\ntcp = {{ port = 1 }}\nstart_budget_secs = 3601\n"),
            5,
            "health.start_budget_secs",
            "3601 is not between 1 and 3600".into(),
        ),
    ];
    for (text, line, key, what) in cases {
        let got = refusal(&text);
        assert_eq!(got, (Some(line), key.to_owned(), what), "{text}");
    }
}

#[test]
fn accepts_what_is_escaped_and_reads_the_start_budget() {
    let m = parse(
        "id = \"a\"\nimage = \"registry.local:5000/team/app@sha256:abc\"\nvolumes = [\"d:/var/lib/app-1.0/data_x+y@z~\"]\ncommand = [\"echo\", \"$HOME\", \"100%\", \"a\\nb\"]\n[environment]\nPASS = \"p$w%rd\\nline2\"\n[health]\ntcp = { port = 1 }\nstart_budget_secs = 5\n",
    )
    .unwrap();
    assert_eq!(m.start_budget_secs, 5);
    assert_eq!(m.environment["PASS"], "p$w%rd\nline2");
    assert_eq!(
        parse("id = \"a\"\nimage = \"i\"\n")
            .unwrap()
            .start_budget_secs,
        60
    );
}
