//! `chain-ui` mode (mirrors the bitcoin UI companion): a page on its own direct port showing
//! lab-chain's height and the app's version (also at `GET /version`).

use std::sync::Arc;

use serde_json::json;
use tokio::net::TcpListener;

use crate::client::{self, ChainUrl};
use crate::fault::Faults;
use crate::html;
use crate::http::{self, Request, Response};
use crate::rpc::Call;

/// Serves the UI on `listener`, asking `chain` for its height on each request, until the
/// `exit` fault.
pub async fn serve(listener: TcpListener, chain: ChainUrl, version: &'static str, faults: Faults) {
    let chain = Arc::new(chain);
    http::serve(listener, faults, move |request| {
        route(request, chain.clone(), version)
    })
    .await;
}

async fn route(request: Request, chain: Arc<ChainUrl>, version: &str) -> Response {
    match (request.method.as_str(), request.path.as_str()) {
        ("GET", "/healthz") => Response::ok(),
        ("GET", "/version") => Response::text(200, version),
        ("GET", "/") => Response::html(page(client::chain_height(&chain).await.ok(), version)),
        ("POST", "/") => Response::json(&match Call::parse(&request.body) {
            Ok(call) if call.method == "getinfo" => {
                let height = client::chain_height(&chain).await.ok();
                call.reply(json!({"height": height}))
            }
            Ok(call) => call.unknown(),
            Err(refusal) => refusal,
        }),
        _ => Response::not_found(),
    }
}

fn page(height: Option<u64>, version: &str) -> String {
    let height = height.map_or_else(|| "unavailable".to_string(), |h| h.to_string());
    let version = html::escape(version);
    html::page(
        "lab-chain-ui",
        &format!("<p>Height: {height}</p>\n<p>Version: {version}</p>"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{
        bind, check_http_faults, get, rpc, scratch_dir, spawn_chain, unreachable_url, url,
    };

    #[tokio::test]
    async fn shows_unavailable_without_chain() {
        let (listener, addr) = bind().await;
        let task = tokio::spawn(serve(listener, unreachable_url().await, "1", Faults::new()));
        assert_eq!(get(addr, "/healthz").await, (200, "ok".into()));
        assert!(
            get(addr, "/")
                .await
                .1
                .contains("<p>Height: unavailable</p>\n<p>Version: 1</p>")
        );
        assert_eq!(
            rpc(addr, "getinfo").await["result"],
            json!({"height": null})
        );
        task.abort();
    }

    #[tokio::test]
    async fn shows_chain_height() {
        let dir = scratch_dir("chain-ui");
        std::fs::write(dir.join("height"), "5").unwrap();
        let (chain_addr, chain) = spawn_chain(&dir).await;
        let (listener, addr) = bind().await;
        let task = tokio::spawn(serve(listener, url(chain_addr), "1", Faults::new()));
        let height = rpc(addr, "getinfo").await["result"]["height"]
            .as_u64()
            .unwrap();
        assert!((5..=6).contains(&height), "{height}");
        let (_, page) = get(addr, "/").await;
        assert!(
            page.contains("<p>Height: 5</p>") || page.contains("<p>Height: 6</p>"),
            "{page}"
        );
        task.abort();
        chain.abort();
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn page_shows_height_and_escaped_version() {
        assert_eq!(
            page(Some(5), "2<"),
            html::page("lab-chain-ui", "<p>Height: 5</p>\n<p>Version: 2&lt;</p>")
        );
    }

    #[tokio::test]
    async fn reports_its_version_and_obeys_faults() {
        let (listener, addr) = bind().await;
        let task = tokio::spawn(serve(listener, unreachable_url().await, "2", Faults::new()));
        assert_eq!(get(addr, "/version").await, (200, "2".into()));
        assert!(get(addr, "/").await.1.contains("<p>Version: 2</p>"));
        check_http_faults(addr, "/version", task).await;
    }
}
