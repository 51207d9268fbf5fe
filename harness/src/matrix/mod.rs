//! The coverage matrix: TESTING.md regenerated from `results.json`.
