//! `tasker completions SHELL` and the man pages: generated from the command line itself.

use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;

use super::{Cli, Global};
use crate::error::{Error, exit};

/// Print the completion script for a shell
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  tasker completions bash > ~/.local/share/bash-completion/completions/tasker
  tasker completions zsh > ~/.zfunc/_tasker
  tasker completions fish > ~/.config/fish/completions/tasker.fish")]
pub struct Args {
    /// bash, zsh, fish, elvish or powershell
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Write the completion scripts and man pages into directories (`completions/`, `man/`)
#[derive(Debug, clap::Args)]
pub struct DocsArgs {
    /// Where the completion scripts go
    #[arg(long, default_value = "completions")]
    pub completions: PathBuf,
    /// Where the man pages go
    #[arg(long, default_value = "man")]
    pub man: PathBuf,
}

pub fn run(_global: &Global, args: &Args) -> Result<u8, Error> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "tasker", &mut out);
    super::emit(&String::from_utf8_lossy(&out));
    Ok(exit::OK)
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| Error::Io(format!("cannot write `{}`: {e}", path.display()))
}

/// Every man page: `tasker.1`, and `tasker-SUB[-SUB].1` for each subcommand.
fn man_pages(
    cmd: &clap::Command,
    prefix: &str,
    out: &mut Vec<(String, Vec<u8>)>,
) -> std::io::Result<()> {
    let name = if prefix.is_empty() {
        cmd.get_name().to_owned()
    } else {
        format!("{prefix}-{}", cmd.get_name())
    };
    // `help` is no page of its own: `man tasker-run`, not `tasker help run`.
    let page = cmd
        .clone()
        .name(name.clone())
        .display_name(name.replace('-', " "))
        .disable_help_subcommand(true);
    let mut buf = Vec::new();
    clap_mangen::Man::new(page).render(&mut buf)?;
    out.push((format!("{name}.1"), examples_unfilled(&buf)));
    for sub in cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
    {
        man_pages(sub, &name, out)?;
    }
    Ok(())
}

/// The page with the indented lines of its closing section (the examples, aligned by hand)
/// kept as written: no-fill, so `man` neither joins nor hyphenates them.
fn examples_unfilled(page: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(page);
    let Some((head, extra)) = text.split_once(".SH EXTRA\n") else {
        return page.to_vec();
    };
    let (body, tail) = match extra.find("\n.SH ") {
        Some(at) => (&extra[..=at], &extra[at + 1..]),
        None => (extra, ""),
    };
    let mut out = format!("{head}.SH NOTES\n");
    let mut unfilled = false;
    for line in body.lines() {
        let indented = line.starts_with("  ");
        if indented != unfilled {
            out.push_str(if indented { ".nf\n" } else { ".fi\n" });
            unfilled = indented;
        }
        out.push_str(line);
        out.push('\n');
    }
    if unfilled {
        out.push_str(".fi\n");
    }
    out.push_str(tail);
    out.into_bytes()
}

/// The generated files: `(directory, file name, contents)`.
pub fn generated(args: &DocsArgs) -> Result<Vec<(PathBuf, String, Vec<u8>)>, Error> {
    let mut files = Vec::new();
    for (shell, file) in [
        (Shell::Bash, "tasker.bash"),
        (Shell::Zsh, "_tasker"),
        (Shell::Fish, "tasker.fish"),
        (Shell::Elvish, "tasker.elv"),
        (Shell::PowerShell, "_tasker.ps1"),
    ] {
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "tasker", &mut out);
        files.push((args.completions.clone(), file.to_owned(), out));
    }
    // The pages carry the release, not the revision: they change only when the CLI does.
    let mut pages = Vec::new();
    let cmd = Cli::command().version(env!("CARGO_PKG_VERSION"));
    man_pages(&cmd, "", &mut pages).map_err(io(&args.man))?;
    files.extend(pages.into_iter().map(|(n, b)| (args.man.clone(), n, b)));
    Ok(files)
}

pub fn generate_docs(_global: &Global, args: &DocsArgs) -> Result<u8, Error> {
    for dir in [&args.completions, &args.man] {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    for (dir, name, bytes) in generated(args)? {
        let path = dir.join(name);
        std::fs::write(&path, bytes).map_err(io(&path))?;
    }
    super::say!(
        "wrote completions to {} and man pages to {}",
        args.completions.display(),
        args.man.display()
    );
    Ok(exit::OK)
}
