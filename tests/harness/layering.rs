//! The module graph has no cycle: lower modules never import higher ones (DESIGN.md, "Lower
//! modules never import higher ones"; STYLE.md, "Data flows one way").
//!
//! The graph is read from the sources: an edge `a -> b` for every `crate::b` path in the
//! non-test code of top-level module `a` (its `mod.rs`/`a.rs` and the files below it, up to the
//! first `#[cfg(test)] mod`, comments stripped). `main.rs`, `lib.rs` and `cli.rs` are the binary's
//! front end and may use everything.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn top_level_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src is readable") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("rs")
                || path.file_name().and_then(|n| n.to_str()) == Some("tests.rs")
            {
                continue;
            }
            let rel = path.strip_prefix(&src).expect("below src");
            let top = rel
                .components()
                .next()
                .and_then(|c| c.as_os_str().to_str())
                .expect("a file name")
                .trim_end_matches(".rs")
                .to_string();
            if matches!(top.as_str(), "main" | "lib" | "cli") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("source is UTF-8");
            let deps = graph.entry(top.clone()).or_default();
            for line in text
                .lines()
                .take_while(|l| !l.trim_start().starts_with("#[cfg(test)]"))
            {
                let code = line.split("//").next().unwrap_or("");
                for (i, _) in code.match_indices("crate::") {
                    let name: String = code[i + "crate::".len()..]
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                        .collect();
                    if !name.is_empty() && name != top && name != "test_corpus" {
                        deps.insert(name);
                    }
                }
            }
        }
    }
    graph
}

/// The first cycle found by a depth-first walk, as `a -> b -> … -> a`.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|p| p == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|k| visit(k, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_top_level_module_graph_has_no_cycle() {
    let graph = top_level_graph();
    assert!(graph.len() > 10, "read too few modules: {graph:?}");
    if let Some(cycle) = find_cycle(&graph) {
        panic!("module cycle: {}", cycle.join(" -> "));
    }
}

#[test]
fn the_cycle_finder_finds_a_planted_cycle() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    graph
        .entry("finding".into())
        .or_default()
        .insert("rule".into());
    graph
        .entry("rule".into())
        .or_default()
        .insert("finding".into());
    graph.entry("run".into()).or_default().insert("rule".into());
    let cycle = find_cycle(&graph).expect("a cycle");
    assert_eq!(cycle.first(), cycle.last());
    assert_eq!(cycle.len(), 3);
}
