//! What can go wrong with a typed call besides the API's own refusal: the node could not be
//! reached (`TransportError`, an error of the run) or the reply broke the contract
//! (`ReplyError`, a failure of the implementation under test).

use crate::transport::TransportError;

/// A reply that does not fit the API's contract: names the method, the field and the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    /// A field the contract requires is absent.
    #[error("{method} answered no {field}, expected {expected}")]
    Missing {
        /// The method called.
        method: String,
        /// The field's path in the result (`state`, `apps[2].id`).
        field: String,
        /// What the contract holds there.
        expected: String,
    },
    /// A field holds a value the contract does not allow.
    #[error("{method} answered {field} = {value}, expected {expected}")]
    Invalid {
        /// The method called.
        method: String,
        /// The field's path in the result (`state`, `apps[2].id`).
        field: String,
        /// The value as JSON text (cut at 200 characters).
        value: String,
        /// What the contract holds there.
        expected: String,
    },
}

/// Why a typed call has no answer: the node, or a reply that broke the contract.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The node could not be reached or talked to.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The API answered something its contract does not allow.
    #[error(transparent)]
    Reply(#[from] ReplyError),
}
