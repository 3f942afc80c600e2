//! Templates by name: the template directories, keyed `namespace/name@version`.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};

use super::{LoadOptions, Template, load_file};

/// One valid template found in a template directory.
#[derive(Debug, Clone)]
pub struct Entry {
    pub namespace: String,
    pub name: String,
    pub version: String,
    pub description: Option<String>,
    pub steps: usize,
    pub path: PathBuf,
    /// How many warnings its template has (`tasker validate` lists them).
    pub warnings: usize,
}

/// What the template directories hold.
#[derive(Debug, Default)]
pub struct Catalog {
    pub entries: Vec<Entry>,
    /// Files that failed to load, with the first problem.
    pub invalid: Vec<(PathBuf, String)>,
    /// `namespace/name@version` claimed by more than one file.
    pub duplicates: Vec<(String, Vec<PathBuf>)>,
    /// The directories that were read.
    pub dirs: Vec<PathBuf>,
}

/// Why a name did not lead to one template.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup {
    NotFound(String),
    Ambiguous(String),
}

impl Entry {
    /// The key that must be unique: `namespace/name@version`, always both parts.
    pub fn key(&self) -> String {
        format!("{}/{}@{}", self.namespace, self.name, self.version)
    }

    /// How users see and write it: `namespace/name@version`, once-qualified.
    pub fn shown(&self) -> String {
        super::identity(&self.namespace, &self.name, &self.version)
    }
}

fn template_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = read.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            template_files(&p, out);
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("yml" | "yaml" | "json")
        ) {
            out.push(p);
        }
    }
}

/// Whether a file in a template directory is meant as a template: any YAML file; a JSON
/// file only when it is an object with `steps`.
fn template_shaped(path: &Path) -> bool {
    if path.extension().is_none_or(|e| e != "json") {
        return true;
    }
    std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .is_some_and(|doc| doc.get("steps").is_some())
}

impl Catalog {
    /// Read every `*.yml`, `*.yaml` and `*.json` under `dirs` (recursively). A JSON file
    /// that is not a mapping with `steps` (a context, a schema) is not a template, and is
    /// left out rather than listed as an invalid one.
    pub fn scan(dirs: &[PathBuf], options: LoadOptions<'_>) -> Catalog {
        let mut files = Vec::new();
        for d in dirs {
            template_files(d, &mut files);
        }
        let mut catalog = Catalog {
            dirs: dirs.to_vec(),
            ..Catalog::default()
        };
        for path in files {
            match load_file(&path, options) {
                Ok(loaded) => catalog.entries.push(entry(&loaded.template, path)),
                Err(_) if !template_shaped(&path) => {}
                Err(e) => {
                    // The reason is an error, never a warning beside it.
                    let first = e
                        .into_problems()
                        .into_iter()
                        .find(|p| !p.warning)
                        .map(|p| p.to_string());
                    catalog.invalid.push((path, first.unwrap_or_default()));
                }
            }
        }
        catalog.entries.sort_by(|a, b| {
            (&a.namespace, &a.name)
                .cmp(&(&b.namespace, &b.name))
                .then_with(|| compare_versions(&a.version, &b.version))
        });
        let mut i = 0;
        while i < catalog.entries.len() {
            let key = catalog.entries[i].key();
            let same: Vec<PathBuf> = catalog.entries[i..]
                .iter()
                .take_while(|e| e.key() == key)
                .map(|e| e.path.clone())
                .collect();
            i += same.len();
            if same.len() > 1 {
                catalog.duplicates.push((key, same));
            }
        }
        catalog
    }

    /// `namespace/name[@version]` (or `name[@version]` when one namespace has it): when no
    /// version is given, the highest release by semver (a pre-release only if there is no release).
    pub fn find(&self, spec: &str) -> Result<&Entry, Lookup> {
        let (path, version) = match spec.rsplit_once('@') {
            Some((p, v)) => (p, Some(v)),
            None => (spec, None),
        };
        let matches_name = |e: &&Entry| match path.split_once('/') {
            Some((ns, name)) if e.namespace == ns && e.name == name => true,
            _ => e.name == path,
        };
        let candidates: Vec<&Entry> = self.entries.iter().filter(matches_name).collect();
        // `ns/name` may be a name holding its namespace or a namespace and a name: two
        // templates answering it is a question, not a pick.
        let mut identities: Vec<(&str, &str)> = candidates
            .iter()
            .map(|e| (e.namespace.as_str(), e.name.as_str()))
            .collect();
        identities.dedup();
        if identities.len() > 1 && identities.iter().all(|(ns, _)| *ns == identities[0].0) {
            let shown: Vec<String> = identities
                .iter()
                .map(|(ns, name)| format!("`{ns}/{name}`"))
                .collect();
            return Err(Lookup::Ambiguous(format!(
                "`{path}` names several templates: {}\n  hint: write the namespace and the name in full",
                shown.join(", ")
            )));
        }
        if candidates.is_empty() {
            let known: Vec<String> = self
                .entries
                .iter()
                .map(|e| super::qualified(&e.namespace, &e.name))
                .collect();
            let mut known = known;
            known.dedup();
            let hint = if known.is_empty() {
                let dirs: Vec<String> = self
                    .dirs
                    .iter()
                    .map(|d| format!("`{}`", d.display()))
                    .collect();
                format!(
                    "no templates were found in {} (give a file path, or the directories with --templates DIR, TASKER_TEMPLATES or `templates =` in tasker.toml)",
                    if dirs.is_empty() {
                        "no directory".to_owned()
                    } else {
                        dirs.join(", ")
                    }
                )
            } else {
                format!("templates: {}", known.join(", "))
            };
            return Err(Lookup::NotFound(format!(
                "no template named `{path}`\n  hint: {hint}"
            )));
        }
        let mut namespaces: Vec<&str> = candidates.iter().map(|e| e.namespace.as_str()).collect();
        namespaces.dedup();
        if namespaces.len() > 1 {
            return Err(Lookup::Ambiguous(format!(
                "`{path}` exists in several namespaces: {}\n  hint: write `NAMESPACE/{path}`",
                namespaces.join(", ")
            )));
        }
        let chosen = match version {
            Some(v) => candidates
                .iter()
                .rev()
                .find(|e| e.version == v)
                .copied()
                .ok_or_else(|| {
                    let versions: Vec<&str> =
                        candidates.iter().map(|e| e.version.as_str()).collect();
                    Lookup::NotFound(format!(
                        "no version `{v}` of `{path}`\n  hint: versions: {}",
                        versions.join(", ")
                    ))
                })?,
            // Like cargo: the highest release; a pre-release only when there is nothing else.
            None => candidates
                .iter()
                .rev()
                .find(|e| !e.version.split('+').next().unwrap_or("").contains('-'))
                .or(candidates.last())
                .copied()
                .ok_or_else(|| Lookup::NotFound(path.to_owned()))?,
        };
        if let Some((key, files)) = self.duplicates.iter().find(|(k, _)| *k == chosen.key()) {
            let shown: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
            return Err(Lookup::Ambiguous(format!(
                "`{key}` is defined by several files: {}",
                shown.join(", ")
            )));
        }
        Ok(chosen)
    }
}

fn entry(t: &Template, path: PathBuf) -> Entry {
    Entry {
        namespace: t.namespace.clone(),
        name: t.name.clone(),
        version: t.version.clone(),
        description: t.description.clone(),
        steps: t.steps.len(),
        path,
        warnings: t.warnings.len(),
    }
}

/// Order two semantic versions (build metadata ignored; a pre-release sorts first).
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    match (semver::Version::parse(a), semver::Version::parse(b)) {
        (Ok(x), Ok(y)) => x.cmp_precedence(&y),
        // Only valid templates are listed; anything else sorts by text.
        _ => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semver_order() {
        let mut v = vec![
            "1.10.0",
            "1.2.0",
            "1.2.0-rc.1",
            "1.2.0-alpha",
            "0.9.9",
            "1.2.0-rc.10",
        ];
        v.sort_by(|a, b| compare_versions(a, b));
        assert_eq!(
            v,
            vec![
                "0.9.9",
                "1.2.0-alpha",
                "1.2.0-rc.1",
                "1.2.0-rc.10",
                "1.2.0",
                "1.10.0"
            ]
        );
    }
}
