//! `harness`: the command line.

fn main() {}
