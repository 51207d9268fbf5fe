//! `TransportError`: the node could not be reached or talked to. Kept apart from a command that
//! ran and exited non-zero (that is a `CmdOutput`), because one is an error and the other a result.

/// Why a node could not be reached; each makes a case an `Error`, never a `Fail`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The route guard refused: the lab bridge is not the way to the node.
    #[error(
        "lab is down: run harness lab up (the route to {addr} goes through {found}, not {expected})"
    )]
    LabDown {
        /// The node address.
        addr: String,
        /// The interface the route goes through (or `no route`).
        found: String,
        /// The fleet's lab interface.
        expected: String,
    },
    /// TCP connect or SSH handshake failed.
    #[error("failed to connect to {node} ({addr}): {reason}")]
    Connect {
        /// Node name.
        node: String,
        /// Address and port.
        addr: String,
        /// Why.
        reason: String,
    },
    /// The host key is unknown or changed.
    #[error("failed to verify the host key of {node}: {reason}")]
    HostKey {
        /// Node name.
        node: String,
        /// Why.
        reason: String,
    },
    /// Authentication was refused.
    #[error("failed to authenticate to {node}: {reason}")]
    Auth {
        /// Node name.
        node: String,
        /// Why.
        reason: String,
    },
    /// The session dropped while in use.
    #[error("failed to talk to {node}: connection lost: {reason}")]
    Disconnected {
        /// Node name.
        node: String,
        /// Why.
        reason: String,
    },
    /// An operation took longer than allowed.
    #[error("timed out on {node} after {secs}s: {what}")]
    Timeout {
        /// Node name.
        node: String,
        /// The limit.
        secs: u64,
        /// What was waited for.
        what: String,
    },
    /// An HTTP request failed below the application (connection refused, reset, bad body).
    #[error("failed HTTP request to {node}: {reason}")]
    Http {
        /// Node name.
        node: String,
        /// Why.
        reason: String,
    },
    /// The orchestrator refused the password.
    #[error("failed to log in to the orchestrator on {node}: {reason}")]
    Login {
        /// Node name.
        node: String,
        /// Why.
        reason: String,
    },
}
