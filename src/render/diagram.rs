//! Diagrams of a task or a template: Mermaid `flowchart TD`, Graphviz DOT, or JSON.
//!
//! The state is always in a node's text (colour only helps); edges are solid when the
//! dependency is satisfied and dotted when it is not; the critical path is drawn thick.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value, json};

use crate::graph::Dag;
use crate::model::State;
use crate::store::TaskRecord;
use crate::templates::Template;
use crate::templates::duration::human;

/// A step in a diagram.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub name: String,
    /// `None` for a template that has not run.
    pub state: Option<State>,
    pub attempts: u32,
    pub duration_ms: Option<u64>,
    pub critical: bool,
}

/// A dependency: `from` must finish before `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    pub satisfied: bool,
    pub critical: bool,
}

/// What a diagram shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagram {
    pub title: String,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

/// An edge from each parent to its step; `satisfied(parent)` says whether it is met.
fn edges(parents: &[&[usize]], satisfied: impl Fn(usize) -> bool) -> Vec<Edge> {
    parents
        .iter()
        .enumerate()
        .flat_map(|(i, ps)| ps.iter().map(move |&p| (p, i)))
        .map(|(p, i)| Edge {
            from: p,
            to: i,
            satisfied: satisfied(p),
            critical: false,
        })
        .collect()
}

fn mark_path(nodes: &mut [Node], edges: &mut [Edge], path: &[usize]) {
    for &i in path {
        nodes[i].critical = true;
    }
    for w in path.windows(2) {
        if let Some(e) = edges.iter_mut().find(|e| e.from == w[0] && e.to == w[1]) {
            e.critical = true;
        }
    }
}

impl Diagram {
    /// A template that has not run: the critical path is the longest chain of steps.
    pub fn from_template(t: &Template) -> Diagram {
        let dag = t.dag();
        let mut nodes: Vec<Node> = t
            .steps
            .iter()
            .map(|s| Node {
                name: s.name.clone(),
                state: None,
                attempts: 0,
                duration_ms: None,
                critical: false,
            })
            .collect();
        let parents: Vec<&[usize]> = t.steps.iter().map(|s| s.parents.as_slice()).collect();
        let mut edges = edges(&parents, |_| true);
        mark_path(&mut nodes, &mut edges, &dag.longest_path(|_| 1));
        Diagram {
            title: crate::templates::identity(&t.namespace, &t.name, &t.version),
            nodes,
            edges,
        }
    }

    /// A task as stored: the critical path is the heaviest chain by measured duration.
    pub fn from_task(task: &TaskRecord, now: i64) -> Diagram {
        let parents: Vec<&[usize]> = task.steps.iter().map(|s| s.parents.as_slice()).collect();
        let dag = Dag::from_parents(&parents);
        let mut nodes: Vec<Node> = task
            .steps
            .iter()
            .map(|s| Node {
                name: s.name.clone(),
                state: Some(s.status),
                attempts: s.attempts_shown(),
                duration_ms: crate::model::running(
                    s.state.started_at,
                    s.state.finished_at,
                    &task.sessions,
                    now,
                ),
                critical: false,
            })
            .collect();
        let mut edges = edges(&parents, |p| task.steps[p].status.is_satisfied());
        // Steps that never ran weigh nothing: the critical path is made of measured work.
        let weights: Vec<u64> = nodes
            .iter()
            .map(|n| n.duration_ms.map_or(0, |d| d.max(1)))
            .collect();
        mark_path(&mut nodes, &mut edges, &dag.longest_path(|i| weights[i]));
        Diagram {
            title: format!(
                "task {} {}",
                task.task_id,
                crate::templates::identity(&task.namespace, &task.name, &task.version)
            ),
            nodes,
            edges,
        }
    }

    /// The text under a step's name: its state, attempts and duration.
    fn detail(n: &Node) -> String {
        let Some(state) = n.state else {
            return "template".into();
        };
        let mut d = state.as_str().to_owned();
        if n.attempts > 0 {
            let s = if n.attempts == 1 { "" } else { "s" };
            let _ = write!(d, " · {} attempt{s}", n.attempts);
        }
        if let Some(ms) = n.duration_ms {
            let _ = write!(d, " · {}", human(Duration::from_millis(ms)));
        }
        d
    }

    /// Mermaid `flowchart TD`.
    pub fn mermaid(&self) -> String {
        let mut out = String::from("flowchart TD\n");
        for state in State::ALL {
            let (fill, stroke) = colours(state);
            let _ = writeln!(
                out,
                "    classDef {} fill:{fill},stroke:{stroke},color:#111111",
                state.as_str()
            );
        }
        // No `;` after a colour: Mermaid would read `#b71c1c;` as an entity code.
        out.push_str("    classDef template fill:#f5f5f5,stroke:#616161,color:#111111\n");
        out.push_str("    classDef critical stroke-width:4px\n");
        for (i, n) in self.nodes.iter().enumerate() {
            let class = n.state.map_or("template", State::as_str);
            let _ = writeln!(
                out,
                "    s{i}[\"{}<br/>{}\"]:::{class}",
                mermaid_text(&n.name),
                mermaid_text(&Self::detail(n))
            );
        }
        let mut critical_links = Vec::new();
        for (k, e) in self.edges.iter().enumerate() {
            let arrow = if e.satisfied { "-->" } else { "-.->" };
            let _ = writeln!(out, "    s{} {arrow} s{}", e.from, e.to);
            if e.critical {
                critical_links.push(k.to_string());
            }
        }
        let critical: Vec<String> = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.critical)
            .map(|(i, _)| format!("s{i}"))
            .collect();
        if !critical.is_empty() {
            let _ = writeln!(out, "    class {} critical", critical.join(","));
        }
        if !critical_links.is_empty() {
            let _ = writeln!(
                out,
                "    linkStyle {} stroke-width:4px,stroke:#b71c1c",
                critical_links.join(",")
            );
        }
        out
    }

    /// Graphviz DOT.
    pub fn dot(&self) -> String {
        let mut out = format!("digraph \"{}\" {{\n", dot_text(&self.title));
        out.push_str("    rankdir=TB;\n");
        out.push_str("    node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];\n");
        for (i, n) in self.nodes.iter().enumerate() {
            let fill = n.state.map_or("#f5f5f5", |s| colours(s).0);
            let pen = if n.critical { ", penwidth=3" } else { "" };
            let _ = writeln!(
                out,
                "    s{i} [label=\"{}\\n{}\", fillcolor=\"{fill}\"{pen}];",
                dot_text(&n.name),
                dot_text(&Self::detail(n))
            );
        }
        for e in &self.edges {
            let style = if e.satisfied { "solid" } else { "dashed" };
            let critical = if e.critical {
                ", penwidth=3, color=\"#b71c1c\""
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "    s{} -> s{} [style={style}{critical}];",
                e.from, e.to
            );
        }
        out.push_str("}\n");
        out
    }

    /// Nodes and edges as JSON.
    pub fn json(&self) -> Value {
        json!({
            "title": self.title,
            "nodes": self.nodes.iter().enumerate().map(|(i, n)| json!({
                "id": format!("s{i}"),
                "name": n.name,
                "state": n.state,
                "attempts": n.attempts,
                "duration_ms": n.duration_ms,
                "critical": n.critical,
            })).collect::<Vec<_>>(),
            "edges": self.edges.iter().map(|e| json!({
                "from": self.nodes[e.from].name,
                "to": self.nodes[e.to].name,
                "satisfied": e.satisfied,
                "critical": e.critical,
            })).collect::<Vec<_>>(),
            "critical_path": self.nodes.iter().filter(|n| n.critical).map(|n| n.name.clone()).collect::<Vec<_>>(),
        })
    }
}

/// Fill and stroke of a state.
fn colours(state: State) -> (&'static str, &'static str) {
    match state {
        State::Pending => ("#eeeeee", "#757575"),
        State::InProgress => ("#bbdefb", "#1565c0"),
        State::Complete => ("#c8e6c9", "#2e7d32"),
        State::Error => ("#ffcdd2", "#c62828"),
        State::Cancelled => ("#ffe0b2", "#ef6c00"),
        State::ResolvedManually => ("#e1bee7", "#6a1b9a"),
    }
}

/// Text safe inside a Mermaid `["…"]` label: markup and quoting characters as entity codes.
pub fn mermaid_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '|' => out.push_str("#124;"),
            '[' => out.push_str("#91;"),
            ']' => out.push_str("#93;"),
            '{' => out.push_str("#123;"),
            '}' => out.push_str("#125;"),
            '(' => out.push_str("#40;"),
            ')' => out.push_str("#41;"),
            '`' => out.push_str("#96;"),
            ';' => out.push_str("#59;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text safe inside a DOT double-quoted string.
pub fn dot_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(
            mermaid_text(r#"a "b" [c] | <d> & e#"#),
            "a #quot;b#quot; #91;c#93; #124; #lt;d#gt; #amp; e#35;"
        );
        assert_eq!(dot_text("say \"hi\"\\\n"), "say \\\"hi\\\"\\\\\\n");
    }
}
