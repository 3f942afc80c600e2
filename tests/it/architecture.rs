//! The module graph: which module may use which, read from the source itself. Data flows one
//! way — templates → engine → store and events → telemetry, insights, render → cli — over a
//! leaf model every layer shares. The same table is drawn in docs/architecture.md.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each module and the modules it may use (`crate::…`). `cli` may use any.
const ALLOWED: &[(&str, &[&str])] = &[
    ("clock", &[]),
    ("text", &[]),
    ("limits", &[]),
    ("secrets", &[]),
    ("model", &["clock"]),
    ("graph", &[]),
    (
        "templates",
        &["model", "graph", "limits", "secrets", "clock", "text"],
    ),
    (
        "handlers",
        &["model", "templates", "limits", "secrets", "clock", "text"],
    ),
    ("runner", &["model", "handlers", "clock"]),
    (
        "store",
        &["model", "templates", "secrets", "clock", "limits", "text"],
    ),
    (
        "events",
        &[
            "model",
            "templates",
            "handlers",
            "runner",
            "secrets",
            "clock",
            "limits",
            "text",
        ],
    ),
    (
        "engine",
        &[
            "model",
            "templates",
            "graph",
            "handlers",
            "runner",
            "store",
            "events",
            "secrets",
            "clock",
            "limits",
            "text",
        ],
    ),
    (
        "telemetry",
        &[
            "model",
            "templates",
            "graph",
            "store",
            "events",
            "secrets",
            "clock",
            "text",
        ],
    ),
    (
        "insights",
        &[
            "model",
            "templates",
            "graph",
            "store",
            "runner",
            "telemetry",
            "secrets",
            "clock",
            "text",
        ],
    ),
    (
        "render",
        &[
            "model",
            "templates",
            "graph",
            "store",
            "events",
            "telemetry",
            "insights",
            "secrets",
            "clock",
            "text",
        ],
    ),
    ("config", &["model", "templates", "store", "limits"]),
    ("error", &["model", "templates", "store", "config"]),
];

/// The top-level modules of `src/` and the modules each one's code names (`crate::x`).
fn uses(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    fn scan(src: &Path, path: &Path, out: &mut BTreeSet<String>) {
        if path.is_dir() {
            for entry in std::fs::read_dir(path).expect("read dir").flatten() {
                scan(src, &entry.path(), out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(path).expect("read");
            for (i, _) in text.match_indices("crate::") {
                let name: String = text[i + "crate::".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                // Functions at the crate root (`crate::install_tls_provider`) are no module.
                if !name.is_empty()
                    && (src.join(&name).is_dir() || src.join(format!("{name}.rs")).is_file())
                {
                    out.insert(name);
                }
            }
        }
    }
    let mut map = BTreeMap::new();
    for entry in std::fs::read_dir(src).expect("src").flatten() {
        let path = entry.path();
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("name")
            .to_owned();
        if ["lib", "main"].contains(&name.as_str()) {
            continue;
        }
        let mut used = BTreeSet::new();
        scan(src, &path, &mut used);
        used.remove(&name);
        map.insert(name, used);
    }
    map
}

#[test]
fn modules_use_only_what_the_layering_allows() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = uses(&src);
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut wrong = Vec::new();
    for (module, used) in &graph {
        if module == "cli" {
            continue;
        }
        let Some(may) = allowed.get(module.as_str()) else {
            wrong.push(format!(
                "`{module}` is a module the table does not know: add it"
            ));
            continue;
        };
        for u in used {
            if !may.contains(&u.as_str()) {
                wrong.push(format!("`{module}` uses `{u}`"));
            }
        }
    }
    assert!(wrong.is_empty(), "forbidden edges:\n{}", wrong.join("\n"));

    // The rules the table is made to keep, said outright.
    for (module, used) in &graph {
        if module != "cli" {
            assert!(
                !used.contains("engine"),
                "only cli uses engine; {module} does"
            );
        }
        for u in used {
            assert!(
                !graph.get(u).is_some_and(|back| back.contains(module)),
                "`{module}` and `{u}` use each other"
            );
        }
    }
    for banned in ["engine", "events", "config", "handlers"] {
        assert!(!graph["store"].contains(banned), "store uses {banned}");
    }
    assert!(!graph["handlers"].contains("engine"));
    assert!(
        graph["model"].iter().all(|m| m == "clock"),
        "the model is a leaf"
    );
}

/// The check sees what it must: a use of a module that the table forbids is found.
#[test]
fn the_layering_check_finds_a_forbidden_use() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::create_dir_all(dir.path().join("store")).expect("mkdir");
    std::fs::create_dir_all(dir.path().join("engine")).expect("mkdir");
    std::fs::write(
        dir.path().join("store/mod.rs"),
        "use crate::engine::run;\nfn f() { crate::install_tls_provider(); }\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("engine/mod.rs"),
        "use crate::store::Store;\n",
    )
    .expect("write");
    let graph = uses(dir.path());
    assert_eq!(
        graph["store"],
        BTreeSet::from(["engine".to_owned()]),
        "a root function is no module"
    );
    assert_eq!(graph["engine"], BTreeSet::from(["store".to_owned()]));
}
