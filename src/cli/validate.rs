//! `tasker validate FILE…`: check templates and print their graph summaries.

use std::path::PathBuf;

use serde_json::json;

use super::Global;
use crate::error::{Error, exit};
use crate::graph::Dag;
use crate::render::table;
use crate::templates::{self, TemplateError};

/// Check templates without running them; print each graph's summary or every problem
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  tasker validate workflows/order_fulfillment.yml\n  tasker validate --json workflows/*.yml"
)]
pub struct Args {
    /// Template files
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Print the summaries as JSON
    #[arg(long)]
    pub json: bool,
    /// Also print the levels and the steps that block the most dependents
    #[arg(long)]
    pub graph: bool,
    /// Check the templates with `environments.ENV` merged in
    #[arg(long = "env", value_name = "ENV")]
    pub environment: Option<String>,
}

pub fn run(global: &Global, args: &Args) -> Result<u8, Error> {
    let config = global.config()?;
    let options = templates::LoadOptions {
        environment: args.environment.as_deref(),
        handlers: config.handlers.as_ref(),
    };
    let mut problems = Vec::new();
    let mut docs = Vec::new();
    let mut out = String::new();
    for file in &args.files {
        match templates::load_file(file, options) {
            Ok(loaded) => {
                let t = &loaded.template;
                let names: Vec<&str> = t.steps.iter().map(|s| s.name.as_str()).collect();
                let dag = Dag::new(t);
                let shown = file.display().to_string();
                if args.json {
                    let graph = if args.graph {
                        serde_json::to_value(dag.analyze(&names, None, None)).unwrap_or_default()
                    } else {
                        serde_json::to_value(dag.summary(&names)).unwrap_or_default()
                    };
                    docs.push(json!({"file": shown, "valid": true, "name": t.name, "namespace": t.namespace, "version": t.version, "graph": graph}));
                } else {
                    out.push_str(&table::summary(&shown, &t.name, &dag.summary(&names)));
                    if args.graph {
                        out.push_str(&table::analysis(&dag.analyze(&names, None, None)));
                    }
                }
            }
            Err(e) => {
                let ps = e.into_problems();
                if args.json {
                    let list: Vec<String> = ps.iter().map(ToString::to_string).collect();
                    docs.push(
                        json!({"file": file.display().to_string(), "valid": false, "errors": list}),
                    );
                }
                problems.extend(ps);
            }
        }
    }
    if args.json {
        super::emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&docs).unwrap_or_default()
        ));
    } else {
        super::emit(&out);
    }
    if problems.is_empty() {
        Ok(exit::OK)
    } else if args.json {
        Ok(exit::USAGE)
    } else {
        Err(Error::Template(TemplateError::Invalid(problems)))
    }
}
