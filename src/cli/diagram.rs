//! `tasker diagram`: a task or a template as Mermaid, Graphviz DOT or JSON.

use std::path::PathBuf;

use super::Global;
use crate::clock::now_ms;
use crate::error::{Error, exit};
use crate::render::diagram::Diagram;
use crate::templates::{self, LoadOptions};

/// Draw a task (state, attempts, duration per step; the critical path marked) or a template
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  tasker diagram 42                          Mermaid, ready to paste into a pull request
  tasker diagram 42 --format dot | dot -Tsvg > task.svg
  tasker diagram --template workflows/order_fulfillment.yml
  tasker diagram 42 --format json")]
pub struct Args {
    /// The task id
    #[arg(required_unless_present = "template", conflicts_with = "template")]
    pub id: Option<i64>,
    /// Draw a template file instead of a task
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,
    /// mermaid, dot (Graphviz) or json
    #[arg(long, value_enum, default_value_t = Format::Mermaid)]
    pub format: Format,
    /// Draw the template with `environments.ENV` merged in
    #[arg(long = "env", value_name = "ENV", requires = "template")]
    pub environment: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Mermaid,
    Dot,
    Json,
}

pub fn run(global: &Global, args: &Args) -> Result<u8, Error> {
    let diagram = match (&args.template, args.id) {
        (Some(file), _) => {
            let config = global.config()?;
            let environment = global.environment(args.environment.as_deref());
            let loaded = templates::load_file(
                file,
                LoadOptions {
                    environment: environment.as_deref(),
                    require_environment: args.environment.is_some(),
                    handlers: config.handlers.as_ref(),
                    strict: false,
                    checking: true,
                },
            )?;
            if !global.quiet {
                for w in &loaded.template.warnings {
                    super::say!("warning: {w}");
                }
            }
            Diagram::from_template(&loaded.template)
        }
        (None, Some(id)) => {
            let store = super::existing_store(global, id)?;
            Diagram::from_task(&super::find_task(&*store, id)?, now_ms())
        }
        (None, None) => return Err(Error::Usage("give a task id or --template FILE".into())),
    };
    let text = match args.format {
        Format::Mermaid => diagram.mermaid(),
        Format::Dot => diagram.dot(),
        Format::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&diagram.json()).unwrap_or_default()
        ),
    };
    super::emit(&text);
    Ok(exit::OK)
}
