//! Running a suite's probes: RPC reachability, UI URLs, data values and their rules.

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use super::{CheckResult, NodeCtx};
use crate::{
    model::AppId,
    suite::{DataProbe, DataRule, Probe, Suite, UiProbe, UiTarget},
    transport::{RpcReply, TransportError},
};

fn expect_ok(reply: &RpcReply, expect: &Option<(String, Value)>) -> Result<(), String> {
    match reply {
        RpcReply::Err { code, message } => Err(format!("error {code} {message}")),
        RpcReply::Ok(v) => match expect {
            Some((ptr, want)) => {
                // The pointer addresses the whole reply, so `/result/...` works as suites write it.
                let whole = serde_json::json!({ "result": v });
                match whole.pointer(ptr).or_else(|| v.pointer(ptr)) {
                    Some(got) if got == want => Ok(()),
                    got => Err(format!(
                        "{ptr} is {} not {want}",
                        got.map_or("absent".into(), Value::to_string)
                    )),
                }
            }
            None => Ok(()),
        },
    }
}

/// One rpc probe: `Ok(Err(why))` is the app not answering (a product failure); `Err` is the
/// node itself being unreachable.
pub async fn rpc_probe(ctx: &NodeCtx, app: &AppId, p: &Probe) -> CheckResult<Result<(), String>> {
    let r = match p {
        Probe::AppJsonRpc {
            port,
            path,
            method,
            expect,
        } => match ctx.http.app_rpc(*port, path, method).await {
            Ok(reply) => {
                expect_ok(&reply, expect).map_err(|e| format!("{method} on port {port}: {e}"))
            }
            Err(e) => Err(format!("{method} on port {port}: {e}")),
        },
        Probe::OrchestratorRpc {
            method,
            params,
            expect,
        } => {
            let reply = ctx.http.call(method, params.clone()).await?;
            expect_ok(&reply, expect).map_err(|e| format!("{method}: {e}"))
        }
        Probe::Tcp { port, send, expect } => {
            tcp_probe(ctx, *port, send.as_deref(), expect.as_deref()).await?
        }
        Probe::Ssh { command, expect } => {
            let out = ctx.sh(command).await?;
            match (out.status, expect) {
                (0, Some(e)) if !out.stdout.contains(e.as_str()) => {
                    Err(format!("`{command}` printed no {e:?}"))
                }
                (0, _) => Ok(()),
                (s, _) => Err(format!("`{command}` exited {s}")),
            }
        }
    };
    ctx.note(&format!(
        "probe {app} {}: {}",
        describe(p),
        r.as_ref()
            .map_or_else(|e| format!("FAILED {e}"), |_| "ok".into())
    ));
    Ok(r)
}

fn describe(p: &Probe) -> String {
    match p {
        Probe::AppJsonRpc { port, method, .. } => format!("rpc {method}@{port}"),
        Probe::OrchestratorRpc { method, .. } => format!("orchestrator {method}"),
        Probe::Tcp { port, .. } => format!("tcp {port}"),
        Probe::Ssh { command, .. } => format!("ssh {command:?}"),
    }
}

async fn tcp_probe(
    ctx: &NodeCtx,
    port: u16,
    send: Option<&str>,
    expect: Option<&str>,
) -> CheckResult<Result<(), String>> {
    let budget = std::time::Duration::from_secs(10);
    let s = match ctx.tcp_connect(port, budget).await {
        Ok(s) => s,
        // The guard refusing is the node being unreachable, not the app failing.
        Err(e @ (TransportError::LabDown { .. } | TransportError::OffLab { .. })) => {
            return Err(e.into());
        }
        Err(e) => return Ok(Err(format!("tcp {port}: {e}"))),
    };
    let Some(line) = send else {
        return Ok(Ok(()));
    };
    let go = async {
        let mut s = s;
        s.write_all(format!("{line}\n").as_bytes())
            .await
            .map_err(|e| format!("tcp {port}: {e}"))?;
        let mut answer = String::new();
        BufReader::new(s)
            .read_line(&mut answer)
            .await
            .map_err(|e| format!("tcp {port}: {e}"))?;
        if let Some(e) = expect.filter(|e| !answer.contains(e)) {
            return Err(format!(
                "tcp {port}: answered {:?}, not containing {e:?}",
                answer.trim()
            ));
        }
        Ok(())
    };
    Ok(tokio::time::timeout(budget, go)
        .await
        .unwrap_or_else(|_| Err(format!("tcp {port}: timed out"))))
}

/// Every rpc probe of the suite; `Ok(Err(..))` lists the failures.
pub async fn all_rpc(ctx: &NodeCtx, suite: &Suite) -> CheckResult<Result<(), String>> {
    let mut bad = Vec::new();
    for p in &suite.rpc {
        if let Err(e) = rpc_probe(ctx, &suite.app, p).await? {
            bad.push(e);
        }
    }
    Ok(if bad.is_empty() {
        Ok(())
    } else {
        Err(bad.join("; "))
    })
}

/// One UI probe: 200, non-empty body, and the expected text.
pub async fn ui_probe(ctx: &NodeCtx, app: &AppId, p: &UiProbe) -> CheckResult<Result<(), String>> {
    let (port, path, session) = match &p.target {
        UiTarget::Dashboard => (None, "/".to_owned(), true),
        UiTarget::AppProxy { prefix, path } => (
            None,
            format!("/app/{prefix}/{}", path.trim_start_matches('/')),
            true,
        ),
        UiTarget::Direct { port, path } => (Some(*port), path.clone(), false),
    };
    let r = match ctx.http.get(port, &path, session).await {
        Ok((200, body)) if body.trim().is_empty() => Err(format!("GET {path}: empty body")),
        Ok((200, body)) => match &p.contains {
            Some(t) if !body.contains(t.as_str()) => Err(format!("GET {path}: body lacks {t:?}")),
            _ => Ok(()),
        },
        Ok((status, _)) => Err(format!("GET {path}: HTTP {status}")),
        Err(e) if port.is_some() => Err(format!("GET {path}: {e}")),
        Err(e) => return Err(e.into()),
    };
    ctx.note(&format!(
        "ui {app} {path}: {}",
        r.as_ref()
            .map_or_else(|e| format!("FAILED {e}"), |_| "ok".into())
    ));
    Ok(r)
}

/// Reads one data probe's number.
pub async fn read_data(ctx: &NodeCtx, d: &DataProbe) -> Result<f64, String> {
    match ctx.http.app_rpc(d.port, &d.path, &d.method).await {
        Ok(RpcReply::Ok(v)) => {
            let whole = serde_json::json!({ "result": v });
            whole
                .pointer(&d.pointer)
                .or_else(|| v.pointer(&d.pointer))
                .and_then(Value::as_f64)
                .ok_or_else(|| format!("{}: no number at {}", d.name, d.pointer))
        }
        Ok(RpcReply::Err { code, message }) => Err(format!("{}: error {code} {message}", d.name)),
        Err(e) => Err(format!("{}: {e}", d.name)),
    }
}

/// Reads every data probe of the suite and remembers the values.
pub async fn record_data(ctx: &NodeCtx, suite: &Suite) -> Result<Vec<f64>, String> {
    let mut values = Vec::new();
    for d in &suite.data {
        values.push(read_data(ctx, d).await?);
    }
    ctx.note(&format!("data {}: {values:?}", suite.app));
    ctx.data
        .lock()
        .await
        .insert(suite.app.clone(), values.clone());
    Ok(values)
}

/// True when `after` obeys `rule` relative to `before`.
pub fn data_rule_holds(rule: DataRule, before: f64, after: f64) -> bool {
    match rule {
        DataRule::NonDecreasing => after >= before,
        DataRule::Unchanged => after == before,
    }
}

/// Reads the data again and checks each rule against the values remembered earlier.
pub async fn check_data(ctx: &NodeCtx, suite: &Suite) -> Result<(), String> {
    let before = ctx.data.lock().await.get(&suite.app).cloned();
    let after = record_data(ctx, suite).await?;
    judge_data(&suite.data, before.as_deref(), &after)
}

/// Each rule against the value read before; a rule with no earlier value fails (it would
/// otherwise pass without having compared anything).
pub fn judge_data(data: &[DataProbe], before: Option<&[f64]>, after: &[f64]) -> Result<(), String> {
    let Some(before) = before.filter(|b| b.len() == data.len()) else {
        return match data.first() {
            None => Ok(()),
            Some(d) => Err(format!(
                "{}: no value was read before the operation, so its rule ({:?}) compared nothing",
                d.name, d.rule
            )),
        };
    };
    for ((d, b), a) in data.iter().zip(before).zip(after) {
        if !data_rule_holds(d.rule, *b, *a) {
            return Err(format!("{} went from {b} to {a} ({:?})", d.name, d.rule));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_with_no_earlier_value_fails() {
        let d = DataProbe {
            name: "height".into(),
            port: 1,
            path: "/".into(),
            method: "getinfo".into(),
            pointer: "/result/height".into(),
            rule: DataRule::NonDecreasing,
        };
        let one = std::slice::from_ref(&d);
        assert_eq!(judge_data(&[], None, &[]), Ok(()));
        assert_eq!(
            judge_data(one, None, &[5.0]),
            Err(
                "height: no value was read before the operation, so its rule (NonDecreasing) \
                 compared nothing"
                    .into()
            )
        );
        assert_eq!(judge_data(one, Some(&[4.0]), &[5.0]), Ok(()));
        assert_eq!(
            judge_data(one, Some(&[6.0]), &[5.0]),
            Err("height went from 6 to 5 (NonDecreasing)".into())
        );
    }

    #[test]
    fn data_rules() {
        assert!(data_rule_holds(DataRule::NonDecreasing, 5.0, 5.0));
        assert!(data_rule_holds(DataRule::NonDecreasing, 5.0, 9.0));
        assert!(!data_rule_holds(DataRule::NonDecreasing, 5.0, 4.0));
        assert!(data_rule_holds(DataRule::Unchanged, 5.0, 5.0));
        assert!(!data_rule_holds(DataRule::Unchanged, 5.0, 6.0));
    }

    #[test]
    fn expectations_read_the_reply_through_a_pointer() {
        let ok = RpcReply::Ok(serde_json::json!({"chain": "lab"}));
        assert_eq!(
            expect_ok(&ok, &Some(("/result/chain".into(), "lab".into()))),
            Ok(())
        );
        assert_eq!(
            expect_ok(&ok, &Some(("/chain".into(), "main".into()))),
            Err("/chain is \"lab\" not \"main\"".into())
        );
        assert_eq!(
            expect_ok(&ok, &Some(("/x".into(), 1.into()))),
            Err("/x is absent not 1".into())
        );
        let err = RpcReply::Err {
            code: crate::api::ErrorCode::MethodNotFound,
            message: "method not found".into(),
        };
        assert_eq!(
            expect_ok(&err, &None),
            Err("error -32601 method not found".into())
        );
    }
}
