//! Transports: SSH (ssh2) and HTTP (reqwest) to a node, behind the lab route guard.

mod error;
mod http;
mod route;
pub mod socket_http;
mod ssh;

pub use error::TransportError;
pub use http::{HttpClient, RpcReply};
pub use route::{RouteGuard, egress_interface, interface_index};
pub use ssh::{CmdOutput, OUTPUT_CAP, SshConfig, SshPool};
