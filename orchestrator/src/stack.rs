//! Required stacks: which installed apps need which (`requires` in their manifests), and the
//! order a cascade takes them down in, as pure functions of one graph.

use std::collections::{BTreeMap, BTreeSet};

use crate::manifest::AppId;

/// Every installed app and the apps its manifest requires.
pub type Graph = BTreeMap<AppId, Vec<AppId>>;

/// The installed apps that require `id`, directly or through other installed apps; never `id`.
pub fn dependents(graph: &Graph, id: &AppId) -> BTreeSet<AppId> {
    let mut found = BTreeSet::new();
    let mut todo = vec![id.clone()];
    while let Some(needed) = todo.pop() {
        for (app, requires) in graph {
            if app != id && requires.contains(&needed) && found.insert(app.clone()) {
                todo.push(app.clone());
            }
        }
    }
    found
}

/// `apps` in teardown order: each app before every app of the set it requires (its dependents
/// go first), ties by id. A cycle (possible only through edited manifests) is broken at the
/// smallest id rather than looping.
pub fn teardown_order(graph: &Graph, apps: &BTreeSet<AppId>) -> Vec<AppId> {
    let mut left = apps.clone();
    let mut order = Vec::with_capacity(apps.len());
    let required_by_left = |left: &BTreeSet<AppId>, x: &AppId| {
        left.iter()
            .any(|a| a != x && graph.get(a).is_some_and(|r| r.contains(x)))
    };
    while let Some(first) = left.first().cloned() {
        let next = left
            .iter()
            .find(|x| !required_by_left(&left, x))
            .cloned()
            .unwrap_or(first);
        left.remove(&next);
        order.push(next);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> AppId {
        AppId::parse(s).unwrap()
    }

    /// chain <- wallet, index, explorer; explorer <- ui (ui requires explorer and chain).
    fn lab() -> Graph {
        [
            ("chain", vec![]),
            ("wallet", vec!["chain"]),
            ("index", vec!["chain"]),
            ("explorer", vec!["chain", "index"]),
            ("ui", vec!["explorer"]),
            ("lonely", vec![]),
        ]
        .into_iter()
        .map(|(a, r)| (id(a), r.into_iter().map(id).collect()))
        .collect()
    }

    fn names(v: impl IntoIterator<Item = AppId>) -> Vec<String> {
        v.into_iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn dependents_are_transitive_and_only_installed() {
        let g = lab();
        assert_eq!(
            names(dependents(&g, &id("chain"))),
            ["explorer", "index", "ui", "wallet"]
        );
        assert_eq!(names(dependents(&g, &id("index"))), ["explorer", "ui"]);
        assert!(dependents(&g, &id("ui")).is_empty());
        assert!(dependents(&g, &id("lonely")).is_empty());
        let mut without_explorer = g.clone();
        without_explorer.remove(&id("explorer"));
        assert_eq!(
            names(dependents(&without_explorer, &id("index"))),
            Vec::<String>::new(),
            "ui needs explorer, which is not installed: nothing installed needs index"
        );
    }

    #[test]
    fn teardown_takes_dependents_first_and_breaks_ties_by_id() {
        let g = lab();
        let all = dependents(&g, &id("chain"));
        assert_eq!(
            names(teardown_order(&g, &all)),
            ["ui", "explorer", "index", "wallet"]
        );
        let mut cyclic = g.clone();
        cyclic.insert(id("chain"), vec![id("wallet")]);
        let set: BTreeSet<AppId> = [id("chain"), id("wallet")].into();
        assert_eq!(names(teardown_order(&cyclic, &set)), ["chain", "wallet"]);
    }
}
