//! Benchmarks: rendering one Quadlet unit, and one reconcile tick over 12 installed apps with the
//! runtime (`systemctl`, `podman`) answered from memory at the `Executor` trait.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use orchestrator::backend::fake::RecordingExecutor;
use orchestrator::backend::{Backend, CommandOutput, Commands, Program, QuadletBackend};
use orchestrator::manifest::{Catalog, Manifest};
use orchestrator::ops::Orchestrator;
use orchestrator::quadlet::{PodmanVersion, QuadletUnit};
use orchestrator::state::Desired;

const APPS: usize = 12;

fn manifest(i: usize) -> Manifest {
    let text = format!(
        r#"id = "app-{i}"
image = "localhost/lab-app:latest"
command = ["chain", "--port", "{port}", "--data", "/data"]
ports = ["{port}:{port}"]
volumes = ["app-{i}-data:/data"]
memory = "64m"
requires = []
[environment]
CHAIN_URL = "http://127.0.0.1:18443/"
[health]
command = ["/app", "check"]
[ui]
port = {port}
"#,
        port = 20000 + i
    );
    Manifest::from_toml(Path::new("bench.toml"), &text).unwrap()
}

fn render(c: &mut Criterion) {
    let m = manifest(0);
    let podman = PodmanVersion::new(5, 4, 2);
    c.bench_function("render_unit", |b| {
        b.iter(|| QuadletUnit::from_manifest(black_box(&m), &podman, Desired::Running).render())
    });
}

fn tick(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("orch-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let show: String = (0..APPS)
        .map(|i| format!("Id=app-{i}.service\nActiveState=active\nSubState=running\nActiveEnterTimestamp=@1795944600\n"))
        .collect::<Vec<_>>()
        .join("\n");
    let exec = Arc::new(RecordingExecutor::answering(move |p, _| CommandOutput {
        success: true,
        stdout: if p == Program::Systemctl {
            show.clone()
        } else {
            String::new()
        },
        stderr: String::new(),
    }));
    let commands = Arc::new(Commands::new(exec));
    let backend = Arc::new(QuadletBackend::new(
        dir.join("units"),
        dir.clone(),
        PodmanVersion::new(5, 4, 2),
        commands.clone(),
    ));
    let manifests: Vec<Manifest> = (0..APPS).map(manifest).collect();
    manifests.iter().for_each(|m| backend.install(m).unwrap());
    let core = Orchestrator::new(
        backend,
        commands,
        Catalog::from_manifests(manifests),
        dir.clone(),
        PodmanVersion::new(5, 4, 2),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(core.tick()).unwrap();
    c.bench_function("reconcile_tick_12_apps", |b| {
        b.iter(|| rt.block_on(core.tick()).unwrap())
    });
    std::fs::remove_dir_all(dir).unwrap();
}

criterion_group!(benches, render, tick);
criterion_main!(benches);
