//! The step graph: a petgraph DAG with cycle naming, levels, roots, leaves and longest paths.

use petgraph::Direction;
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;

/// The dependency graph of a validated template. Node `i` is step `i`; edges run parent → child.
#[derive(Debug, Clone)]
pub struct Dag {
    graph: DiGraph<(), ()>,
    /// Topological level of each step: roots are 0, others one more than their deepest parent.
    levels: Vec<usize>,
    /// Steps in an order where every parent comes before its children.
    order: Vec<usize>,
}

/// What `validate` prints about a graph.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub steps: usize,
    pub edges: usize,
    pub roots: Vec<String>,
    pub leaves: Vec<String>,
    pub levels: usize,
    /// 1-based: the roots are level 1.
    pub widest_level: usize,
    pub widest_level_width: usize,
    pub longest_path: Vec<String>,
}

impl Dag {
    /// Build from parent lists; the caller guarantees there is no cycle.
    pub fn from_parents(parents: &[&[usize]]) -> Dag {
        let n = parents.len();
        let mut graph = DiGraph::with_capacity(n, parents.iter().map(|p| p.len()).sum());
        for _ in 0..n {
            graph.add_node(());
        }
        for (child, ps) in parents.iter().enumerate() {
            for &p in *ps {
                graph.add_edge(NodeIndex::new(p), NodeIndex::new(child), ());
            }
        }
        // Kahn's algorithm, keeping the written order among steps that are ready together.
        let mut indegree: Vec<usize> = parents.iter().map(|p| p.len()).collect();
        let mut levels = vec![0usize; n];
        let mut order: Vec<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
        let mut head = 0;
        while head < order.len() {
            let i = order[head];
            head += 1;
            for c in graph.neighbors_directed(NodeIndex::new(i), Direction::Outgoing) {
                let c = c.index();
                levels[c] = levels[c].max(levels[i] + 1);
                indegree[c] -= 1;
                if indegree[c] == 0 {
                    order.push(c);
                }
            }
        }
        Dag {
            graph,
            levels,
            order,
        }
    }

    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    pub fn is_empty(&self) -> bool {
        self.graph.node_count() == 0
    }

    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// The steps that depend directly on step `i`.
    pub fn children(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.graph
            .neighbors_directed(NodeIndex::new(i), Direction::Outgoing)
            .map(NodeIndex::index)
    }

    /// The steps step `i` depends on directly.
    pub fn parents(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.graph
            .neighbors_directed(NodeIndex::new(i), Direction::Incoming)
            .map(NodeIndex::index)
    }

    pub fn parent_count(&self, i: usize) -> usize {
        self.graph
            .neighbors_directed(NodeIndex::new(i), Direction::Incoming)
            .count()
    }

    pub fn level(&self, i: usize) -> usize {
        self.levels[i]
    }

    /// A topological order (parents first).
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// The longest chain of steps, weighting each step by `weight` (1 for step count,
    /// a measured duration for the critical path).
    pub fn longest_path(&self, weight: impl Fn(usize) -> u64) -> Vec<usize> {
        let n = self.len();
        let mut best = vec![0u64; n];
        let mut via: Vec<Option<usize>> = vec![None; n];
        for &i in &self.order {
            let (from, cost) = self
                .parents(i)
                .map(|p| (Some(p), best[p]))
                .max_by_key(|&(p, c)| (c, std::cmp::Reverse(p)))
                .unwrap_or((None, 0));
            best[i] = cost + weight(i);
            via[i] = from;
        }
        let Some(mut end) = (0..n).max_by_key(|&i| (best[i], std::cmp::Reverse(i))) else {
            return Vec::new();
        };
        let mut path = vec![end];
        while let Some(p) = via[end] {
            path.push(p);
            end = p;
        }
        path.reverse();
        path
    }

    /// The steps of each level, in order (level 1 = the roots).
    pub fn levels(&self) -> Vec<Vec<usize>> {
        let count = self.levels.iter().max().map_or(0, |m| m + 1);
        let mut out = vec![Vec::new(); count];
        for (i, &l) in self.levels.iter().enumerate() {
            out[l].push(i);
        }
        out
    }

    /// How many steps depend on each step, directly or not.
    pub fn descendants(&self) -> Vec<usize> {
        let n = self.len();
        // Bitsets would be faster on huge graphs; a walk per step is plenty for templates.
        let mut seen = vec![usize::MAX; n];
        (0..n)
            .map(|start| {
                let mut stack: Vec<usize> = self.children(start).collect();
                let mut count = 0;
                while let Some(c) = stack.pop() {
                    if seen[c] == start {
                        continue;
                    }
                    seen[c] = start;
                    count += 1;
                    stack.extend(self.children(c));
                }
                count
            })
            .collect()
    }

    /// Steps, edges, roots, leaves, levels, widest level and longest path.
    pub fn summary(&self, names: &[&str]) -> Summary {
        let n = self.len();
        let roots = (0..n).filter(|&i| self.parent_count(i) == 0);
        let leaves = (0..n).filter(|&i| self.children(i).next().is_none());
        let level_count = self.levels.iter().max().map_or(0, |m| m + 1);
        let mut widths = vec![0usize; level_count];
        for &l in &self.levels {
            widths[l] += 1;
        }
        let (widest_level, widest_level_width) = widths
            .iter()
            .enumerate()
            .max_by_key(|&(l, w)| (*w, std::cmp::Reverse(l)))
            .map_or((0, 0), |(l, w)| (l + 1, *w));
        Summary {
            steps: n,
            edges: self.edge_count(),
            roots: roots.map(|i| names[i].to_owned()).collect(),
            leaves: leaves.map(|i| names[i].to_owned()).collect(),
            levels: level_count,
            widest_level,
            widest_level_width,
            longest_path: self
                .longest_path(|_| 1)
                .into_iter()
                .map(|i| names[i].to_owned())
                .collect(),
        }
    }
}

/// A step and how many steps depend on it, directly or not.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Blocking {
    pub step: String,
    pub dependents: usize,
}

/// `validate --graph` and `status --graph`: the shape of the graph, what blocks the most,
/// and (for a task) the critical path by measured duration.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Analysis {
    #[serde(flatten)]
    pub summary: Summary,
    pub level_steps: Vec<Vec<String>>,
    /// Steps with the most dependents (for a task: among those not yet done), at most ten.
    pub blocking: Vec<Blocking>,
    pub critical_path: Option<Vec<String>>,
    pub critical_path_ms: Option<u64>,
}

impl Dag {
    /// Analyse the graph; `durations` (ms, for a task: 0 for steps that never ran, at least
    /// 1 for those that did) give the critical path, `open` restricts "blocking" to steps
    /// not yet done.
    pub fn analyze(
        &self,
        names: &[&str],
        durations: Option<&[u64]>,
        open: Option<&[bool]>,
    ) -> Analysis {
        let descendants = self.descendants();
        let mut blocking: Vec<Blocking> = (0..self.len())
            .filter(|&i| descendants[i] > 0 && open.is_none_or(|o| o[i]))
            .map(|i| Blocking {
                step: names[i].to_owned(),
                dependents: descendants[i],
            })
            .collect();
        blocking.sort_by(|a, b| b.dependents.cmp(&a.dependents).then(a.step.cmp(&b.step)));
        blocking.truncate(10);
        let critical = durations.map(|d| self.longest_path(|i| d[i]));
        Analysis {
            summary: self.summary(names),
            level_steps: self
                .levels()
                .into_iter()
                .map(|l| l.into_iter().map(|i| names[i].to_owned()).collect())
                .collect(),
            blocking,
            critical_path_ms: critical
                .as_ref()
                .zip(durations)
                .map(|(p, d)| p.iter().map(|&i| d[i]).sum()),
            critical_path: critical.map(|p| p.into_iter().map(|i| names[i].to_owned()).collect()),
        }
    }
}

/// Every dependency cycle among steps, one per strongly connected component, each as the
/// shortest loop through its first-written step, in "depends on" order.
pub fn find_cycles(parents: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = parents.len();
    // Edges child → parent ("depends on"), self-loops left out (reported on their own).
    let mut graph = DiGraph::<(), ()>::with_capacity(n, 0);
    for _ in 0..n {
        graph.add_node(());
    }
    for (child, ps) in parents.iter().enumerate() {
        for &p in ps {
            if p != child && p < n {
                graph.add_edge(NodeIndex::new(child), NodeIndex::new(p), ());
            }
        }
    }
    let mut cycles = Vec::new();
    for scc in tarjan_scc(&graph) {
        if scc.len() < 2 {
            continue;
        }
        let members: std::collections::HashSet<usize> = scc.iter().map(|x| x.index()).collect();
        let Some(&start) = members.iter().min() else {
            continue;
        };
        // Breadth-first search back to `start` inside the component.
        let mut prev: Vec<Option<usize>> = vec![None; n];
        let mut queue = std::collections::VecDeque::from([start]);
        let mut found = None;
        'search: while let Some(u) = queue.pop_front() {
            for v in graph.neighbors_directed(NodeIndex::new(u), Direction::Outgoing) {
                let v = v.index();
                if !members.contains(&v) {
                    continue;
                }
                if v == start {
                    found = Some(u);
                    break 'search;
                }
                if prev[v].is_none() {
                    prev[v] = Some(u);
                    queue.push_back(v);
                }
            }
        }
        if let Some(mut last) = found {
            let mut cycle = vec![last];
            while last != start {
                match prev[last] {
                    Some(p) => {
                        cycle.push(p);
                        last = p;
                    }
                    None => break,
                }
            }
            cycle.reverse();
            cycles.push(cycle);
        }
    }
    cycles.sort();
    cycles
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_each_separate_cycle() {
        // a→b→c→a and d→e→d, plus f free.
        let parents = vec![vec![1], vec![2], vec![0], vec![4], vec![3], vec![]];
        assert_eq!(find_cycles(&parents), vec![vec![0, 1, 2], vec![3, 4]]);
    }

    #[test]
    fn summary_of_a_diamond() {
        let parents: Vec<&[usize]> = vec![&[], &[0], &[0], &[1, 2]];
        let dag = Dag::from_parents(&parents);
        let s = dag.summary(&["a", "b", "c", "d"]);
        assert_eq!(s.edges, 4);
        assert_eq!(s.roots, vec!["a"]);
        assert_eq!(s.leaves, vec!["d"]);
        assert_eq!(s.levels, 3);
        assert_eq!((s.widest_level, s.widest_level_width), (2, 2));
        assert_eq!(s.longest_path, vec!["a", "b", "d"]);
    }

    #[test]
    fn weighted_longest_path_follows_the_heavy_branch() {
        let parents: Vec<&[usize]> = vec![&[], &[0], &[0], &[1, 2]];
        let dag = Dag::from_parents(&parents);
        let weights = [1, 1, 10, 1];
        assert_eq!(dag.longest_path(|i| weights[i]), vec![0, 2, 3]);
    }
}
