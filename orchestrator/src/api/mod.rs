//! The HTTP face: JSON-RPC 2.0 at `/rpc`, login and dashboard pages, and the app UI proxy.

mod backoff;
mod connections;
mod csrf;
mod http;
mod pages;
mod proxy;
mod rpc;
mod server;
mod tracker;

pub use server::{Api, HttpLimits, serve};
