//! Files a run writes because a flag named them (`--events-out`, `--summary-json`): refused
//! up front when writing them would destroy something.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::error::Error;

/// The first bytes of every SQLite database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Open the file `flag` names for writing (after [`check`]).
pub fn create(flag: &str, path: &Path) -> Result<File, Error> {
    File::create(path)
        .map_err(|e| Error::Io(format!("`{flag}`: cannot write `{}`: {e}", path.display())))
}

/// Check that writing the file `flag` names destroys nothing: it is not the store or one
/// of its companion files, not a directory, not any SQLite database, not a file another
/// output flag also names.
pub fn check(flag: &str, path: &Path, store: &Path, others: &[(&str, &Path)]) -> Result<(), Error> {
    let refuse = |why: String| Error::Usage(format!("`{flag}`: {why}"));
    let shown = path.display();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut companion = store.as_os_str().to_owned();
        companion.push(suffix);
        let companion = PathBuf::from(companion);
        if same_file(path, &companion) {
            let what = if suffix.is_empty() {
                "the store"
            } else {
                "a file of the store"
            };
            return Err(refuse(format!(
                "`{shown}` is {what} (`{}`); writing it would destroy every task\n  hint: give another file",
                companion.display()
            )));
        }
    }
    for (other, other_path) in others {
        if same_file(path, other_path) {
            return Err(refuse(format!(
                "`{shown}` is also the file of `{other}`; give each its own file"
            )));
        }
    }
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.is_dir() {
            return Err(refuse(format!(
                "`{shown}` is a directory\n  hint: name a file in it"
            )));
        }
        if meta.is_file() && is_sqlite(path) {
            return Err(refuse(format!(
                "`{shown}` is a SQLite database; tasker never writes over one\n  hint: give another file"
            )));
        }
    }
    Ok(())
}

fn is_sqlite(path: &Path) -> bool {
    let mut head = [0u8; 16];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| &head == SQLITE_HEADER)
}

/// Whether `a` and `b` name the same file: the same inode when both exist (through links
/// and symlinks), else the same absolute path once the directory is resolved.
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => resolved(a) == resolved(b),
    }
}

fn resolved(p: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(p).ok()?;
    let dir = absolute.parent()?.canonicalize().ok()?;
    Some(dir.join(absolute.file_name()?))
}
