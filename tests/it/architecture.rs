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

/// The first path segment of each item of a use-group at the start of `text` (`{a::x, b}`).
fn group_heads(text: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let (mut depth, mut item) = (0usize, String::new());
    for c in text.chars().skip(1) {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                heads.push(std::mem::take(&mut item));
                break;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => heads.push(std::mem::take(&mut item)),
            _ => {}
        }
        if depth == 0 && c != ',' && c != '}' {
            item.push(c);
        }
    }
    heads
        .iter()
        .map(|h| {
            h.trim()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

/// The module path of a source file below `src/` (`engine/run/mod.rs` → `[engine, run]`).
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The top-level modules of `src/` and the modules each one's code names: `crate::x`,
/// `crate::{x::…, y}`, `super::…::x` reaching the crate root, and `crate::Name` for a name
/// `lib.rs` re-exports from a module.
fn uses(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap_or_default();
    // `pub use error::Error;` → `Error` is the `error` module's.
    let reexports: BTreeMap<String, String> = lib
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub use ")?.strip_suffix(';'))
        .filter_map(|p| p.split_once("::"))
        .map(|(m, name)| (name.to_owned(), m.to_owned()))
        .collect();
    let is_module = |name: &str| {
        !name.is_empty() && (src.join(name).is_dir() || src.join(format!("{name}.rs")).is_file())
    };
    let resolve = |name: &str, out: &mut BTreeSet<String>| {
        if is_module(name) {
            out.insert(name.to_owned());
        } else if let Some(m) = reexports.get(name) {
            out.insert(m.clone());
        }
    };
    let ident = |text: &str| -> String {
        text.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    fn files(path: &Path, out: &mut Vec<std::path::PathBuf>) {
        if path.is_dir() {
            for entry in std::fs::read_dir(path).expect("read dir").flatten() {
                files(&entry.path(), out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path.to_owned());
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
        let mut sources = Vec::new();
        files(&path, &mut sources);
        let mut used = BTreeSet::new();
        for file in sources {
            let text = std::fs::read_to_string(&file).expect("read");
            let here = module_path(file.strip_prefix(src).expect("below src"));
            for (i, _) in text.match_indices("crate::") {
                let rest = &text[i + "crate::".len()..];
                if rest.starts_with('{') {
                    for head in group_heads(rest) {
                        resolve(&head, &mut used);
                    }
                } else {
                    resolve(&ident(rest), &mut used);
                }
            }
            // `super::super::x`: as many levels up as there are `super`s; at the root, `x`
            // is a top-level module.
            let mut at = 0;
            while let Some(found) = text[at..].find("super::") {
                let start = at + found;
                // Only the first `super` of a chain starts one.
                let chained = text[..start].ends_with("super::");
                at = start + "super::".len();
                if chained
                    || text[..start].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
                {
                    continue;
                }
                let mut rest = &text[start..];
                let mut ups = 0;
                while let Some(r) = rest.strip_prefix("super::") {
                    ups += 1;
                    rest = r;
                }
                if ups == here.len() {
                    if rest.starts_with('{') {
                        for head in group_heads(rest) {
                            resolve(&head, &mut used);
                        }
                    } else {
                        resolve(&ident(rest), &mut used);
                    }
                }
            }
        }
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
