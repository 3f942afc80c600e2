//! Any bytes through what `tasker validate` does: read the YAML, check the template, build
//! the graph and analyse it. Nothing may panic; a valid template's graph must be sound; the
//! fast YAML readers and the full one read every input alike.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tasker::graph::Dag;
use tasker::templates;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Compared as text: a `.nan` read by both is not equal to itself.
    assert_eq!(
        format!("{:?}", templates::node::parse(text)),
        format!("{:?}", templates::node::parse_fully(text)),
        "the readers disagree"
    );
    let Ok(template) = templates::from_str(text, "fuzz.yml") else {
        return;
    };
    let dag = Dag::new(&template);
    assert_eq!(dag.len(), template.steps.len());
    let names: Vec<&str> = template.steps.iter().map(|s| s.name.as_str()).collect();
    let _ = dag.summary(&names);
    let levels = dag.levels();
    assert_eq!(levels.iter().map(Vec::len).sum::<usize>(), dag.len());
    for i in 0..dag.len() {
        for p in dag.parents(i) {
            assert!(dag.level(p) < dag.level(i), "a parent comes first");
        }
    }
    let _ = dag.longest_path(|_| 1);
});
