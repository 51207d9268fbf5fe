//! `TransportError`: the node could not be reached or talked to. Kept apart from a command that
//! ran and exited non-zero (that is a `CmdOutput`), because one is an error and the other a result.

/// Why a node could not be reached; each makes a case an `Error`, never a `Fail`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The lab interface does not exist: the lab is not up.
    #[error("lab is down: run harness lab up (there is no interface {interface})")]
    LabDown {
        /// The fleet's lab interface.
        interface: String,
    },
    /// The route guard refused: the kernel would send packets for the node elsewhere.
    #[error(
        "refused to contact {addr}: the kernel routes it through {found}, not the lab interface {expected}"
    )]
    OffLab {
        /// The node address.
        addr: String,
        /// The interface the kernel's route leaves by (or why there is none).
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
    /// An operation took longer than allowed (an SSH command's whole budget, an HTTP request).
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
