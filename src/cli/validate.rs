//! `tasker validate FILE…`: check templates and print their graph summaries.

use std::path::PathBuf;

use serde_json::json;

use super::Global;
use crate::error::{Error, exit};
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
    /// Check the templates with `environments.ENV` merged in [env: TASKER_ENV; config: env]
    #[arg(long = "env", value_name = "ENV")]
    pub environment: Option<String>,
    /// Make every warning an error (for CI) [config: strict = true]
    #[arg(long)]
    pub strict: bool,
}

pub fn run(global: &Global, args: &Args) -> Result<u8, Error> {
    let config = global.config()?;
    let environment = global.environment(args.environment.as_deref());
    let options = templates::LoadOptions {
        environment: environment.as_deref(),
        require_environment: args.environment.is_some(),
        handlers: config.handlers.as_ref(),
        strict: global.strict(args.strict),
        checking: true,
    };
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let mut docs = Vec::new();
    let mut out = String::new();
    for file in &args.files {
        match templates::load_file(file, options) {
            Ok(loaded) => {
                let t = &loaded.template;
                warnings.extend(t.warnings.iter().cloned());
                let names: Vec<&str> = t.steps.iter().map(|s| s.name.as_str()).collect();
                let dag = t.dag();
                let shown = file.display().to_string();
                if args.json {
                    let graph = if args.graph {
                        serde_json::to_value(dag.analyze(&names, None, None)).unwrap_or_default()
                    } else {
                        serde_json::to_value(dag.summary(&names)).unwrap_or_default()
                    };
                    let list: Vec<String> = t.warnings.iter().map(ToString::to_string).collect();
                    docs.push(json!({"file": shown, "valid": true, "name": t.name, "namespace": t.namespace, "version": t.version, "metadata": t.metadata, "warnings": list, "graph": graph}));
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
                    let list = |warning: bool| -> Vec<String> {
                        ps.iter()
                            .filter(|p| p.warning == warning)
                            .map(ToString::to_string)
                            .collect()
                    };
                    docs.push(
                        json!({"file": file.display().to_string(), "valid": false, "errors": list(false), "warnings": list(true)}),
                    );
                }
                problems.extend(ps);
            }
        }
    }
    if !args.json {
        for w in &warnings {
            super::say!("warning: {w}");
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
