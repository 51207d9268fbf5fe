//! The orchestrator's API as the harness reads it: its own typed model of the JSON-RPC replies
//! (`AppStatus`, the list, operation and metrics results) and error codes (`ErrorCode`). Never
//! shared with the orchestrator, so the harness can judge another implementation of the same
//! API; a reply that does not fit is a `ReplyError` naming the method, field and value.

mod code;
mod error;
mod metrics;
mod operation;
mod status;
mod wire;

pub use code::ErrorCode;
pub use error::{CallError, ReplyError};
pub use metrics::{LastOperation, Metrics, Reconcile};
pub use operation::{Operated, Uninstalled, Updated};
pub use status::{AppList, AppState, AppStatus, Desired, Health};
pub use wire::FromReply;
