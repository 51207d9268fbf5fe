//! The orchestrator library.
