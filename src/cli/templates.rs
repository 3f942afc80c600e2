//! `tasker templates list|show`: the templates in the template directories.

use comfy_table::{ContentArrangement, Table, presets};
use serde_json::json;

use super::Global;
use super::run::TemplateDirs;
use crate::error::{Error, exit};
use crate::templates::LoadOptions;
use crate::templates::catalog::{Catalog, Lookup};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List the templates found in the template directories
    #[command(
        after_help = "Examples:\n  tasker templates list\n  tasker templates list --templates ./flows --json"
    )]
    List(ListArgs),
    /// Print a template's source
    #[command(
        after_help = "Examples:\n  tasker templates show ecommerce/order_fulfillment\n  tasker templates show ecommerce/order_fulfillment@1.0.0"
    )]
    Show(ShowArgs),
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub templates: TemplateDirs,
    /// Print as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// NAMESPACE/NAME[@VERSION]; the highest version when none is given
    #[arg(value_name = "NAME")]
    pub name: String,
    #[command(flatten)]
    pub templates: TemplateDirs,
    /// Print its identity, file and source as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(global: &Global, cmd: &Command) -> Result<u8, Error> {
    match cmd {
        Command::List(args) => list(global, args),
        Command::Show(args) => show(global, args),
    }
}

fn options(config: &crate::config::Config) -> LoadOptions<'_> {
    LoadOptions {
        environment: None,
        require_environment: false,
        handlers: config.handlers.as_ref(),
        strict: false,
        checking: true,
    }
}

fn list(global: &Global, args: &ListArgs) -> Result<u8, Error> {
    let config = global.config()?;
    let catalog = Catalog::scan(&args.templates.resolve(config), options(config));
    let quiet = global.quiet;
    for (path, problem) in &catalog.invalid {
        if !quiet {
            super::say!("warning: skipped {}: {problem}", path.display());
        }
    }
    if !quiet {
        for e in catalog.entries.iter().filter(|e| e.warnings > 0) {
            super::say!(
                "warning: {}: {} (`tasker validate {}` lists them)",
                e.path.display(),
                crate::render::count(e.warnings, "warning"),
                e.path.display()
            );
        }
    }
    for (key, files) in &catalog.duplicates {
        let shown: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        super::say!(
            "warning: `{key}` is defined by several files: {}",
            shown.join(", ")
        );
    }
    if args.json {
        let docs: Vec<_> = catalog
            .entries
            .iter()
            .map(|e| {
                json!({
                    "namespace": e.namespace,
                    "name": e.name,
                    "version": e.version,
                    "description": e.description,
                    "steps": e.steps,
                    "file": e.path.display().to_string(),
                })
            })
            .collect();
        super::emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&docs).unwrap_or_default()
        ));
    } else if catalog.entries.is_empty() {
        super::say!("no templates found");
    } else {
        let mut t = Table::new();
        t.load_style(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_header(["template", "version", "steps", "file", "description"]);
        for e in &catalog.entries {
            t.add_row([
                crate::templates::qualified(&e.namespace, &e.name),
                e.version.clone(),
                e.steps.to_string(),
                e.path.display().to_string(),
                e.description.clone().unwrap_or_default(),
            ]);
        }
        super::emit(&format!("{t}\n"));
    }
    Ok(if catalog.duplicates.is_empty() {
        exit::OK
    } else {
        exit::USAGE
    })
}

fn show(global: &Global, args: &ShowArgs) -> Result<u8, Error> {
    let config = global.config()?;
    let catalog = Catalog::scan(&args.templates.resolve(config), options(config));
    let entry = catalog.find(&args.name).map_err(|e| match e {
        Lookup::NotFound(m) => Error::NotFound(m),
        Lookup::Ambiguous(m) => Error::Usage(m),
    })?;
    // Listed, so it was read and checked: within the template limit.
    let text = match crate::limits::read(&entry.path, crate::limits::TEMPLATE) {
        Ok(crate::limits::Bounded::All(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
        Ok(crate::limits::Bounded::TooBig(_)) => {
            return Err(Error::Usage(format!(
                "`{}` is bigger than a template may be",
                entry.path.display()
            )));
        }
        Err(e) => {
            return Err(Error::NotFound(format!(
                "cannot read `{}`: {e}",
                entry.path.display()
            )));
        }
    };
    if args.json {
        let doc = json!({
            "namespace": entry.namespace,
            "name": entry.name,
            "version": entry.version,
            "description": entry.description,
            "steps": entry.steps,
            "file": entry.path.display().to_string(),
            "source": text,
        });
        super::emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        ));
    } else {
        super::emit(&format!(
            "# {} ({})\n{text}",
            entry.shown(),
            entry.path.display()
        ));
    }
    Ok(exit::OK)
}
