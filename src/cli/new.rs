//! `tasker new NAME`: a template (and an example plugin) that validates and runs as it is.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::Global;
use crate::error::{Error, exit};

/// Write a new template, ready to run, and an example plugin beside it
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  tasker new order_sync
  tasker new nightly_etl --namespace analytics --steps extract,transform,load --dir flows
  tasker run workflows/order_sync.yml

Refuses to overwrite a file that exists.")]
pub struct Args {
    /// The template's name: letters, digits, `_ . / -`
    pub name: String,
    /// Its namespace
    #[arg(long, default_value = "default")]
    pub namespace: String,
    /// Its steps, in order (each depends on the one before) [default: fetch,process,report]
    #[arg(long, value_delimiter = ',', value_name = "A,B,C")]
    pub steps: Vec<String>,
    /// Where to write it
    #[arg(long, default_value = "workflows", value_name = "DIR")]
    pub dir: PathBuf,
}

/// A name that is also a safe file name: it starts with a letter, a digit or `_` (so
/// never `.`, `..` or an option), then letters, digits, `_`, `.` and `-`.
fn valid(name: &str) -> bool {
    name.len() <= 64
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

fn write_new(path: &Path, text: &str) -> Result<(), Error> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Error::Refused(format!(
                    "`{}` exists; tasker new does not overwrite",
                    path.display()
                ))
            } else {
                Error::Io(format!("cannot write `{}`: {e}", path.display()))
            }
        })?;
    file.write_all(text.as_bytes())
        .map_err(|e| Error::Io(format!("cannot write `{}`: {e}", path.display())))
}

pub fn run(_global: &Global, args: &Args) -> Result<u8, Error> {
    if !valid(&args.name) || args.name.contains('/') {
        return Err(Error::Usage(format!(
            "`{}` is not a template name: start with a letter, a digit or `_`, then letters, digits, `_`, `.` and `-`",
            args.name
        )));
    }
    if !valid(&args.namespace) {
        return Err(Error::Usage(format!(
            "`{}` is not a namespace name",
            args.namespace
        )));
    }
    let steps: Vec<String> = if args.steps.is_empty() {
        vec!["fetch".into(), "process".into(), "report".into()]
    } else {
        args.steps.iter().map(|s| s.trim().to_owned()).collect()
    };
    if let Some(bad) = steps.iter().find(|s| !valid(s)) {
        return Err(Error::Usage(format!(
            "`{bad}` is not a step name: use letters, digits, `_`, `.` and `-`"
        )));
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = steps.iter().find(|s| !seen.insert(*s)) {
        return Err(Error::Usage(format!("step `{dup}` is named twice")));
    }

    let template = args.dir.join(format!("{}.yml", args.name));
    let plugin = args.dir.join("plugins").join(&args.name);
    for p in [&template, &plugin] {
        if p.exists() {
            return Err(Error::Refused(format!(
                "`{}` exists; tasker new does not overwrite",
                p.display()
            )));
        }
    }
    std::fs::create_dir_all(args.dir.join("plugins"))
        .map_err(|e| Error::Io(format!("cannot create `{}`: {e}", args.dir.display())))?;

    let mut yaml = format!(
        "# {name}: made by `tasker new`. Every key is described in docs/templates.md.\n\
         #   tasker validate {file}\n\
         #   tasker run {file} --set greeting=hi\n\
         name: {name}\n\
         namespace_name: {ns}\n\
         version: 0.1.0\n\
         description: A starting point — edit the steps\n\
         schema:\n\
         \x20 type: object\n\
         \x20 properties:\n\
         \x20   greeting: {{ type: string, default: hello }}\n\
         defaults:\n\
         \x20 timeout: 5m\n\
         \x20 retry: {{ limit: 3, backoff: {{ base: 1s, max: 30s }} }}\n\
         step_templates:\n",
        name = args.name,
        ns = args.namespace,
        file = template.display(),
    );
    for (i, step) in steps.iter().enumerate() {
        let _ = writeln!(yaml, "  - name: {step}");
        if i > 0 {
            let _ = writeln!(yaml, "    depends_on: [{}]", steps[i - 1]);
        }
        if i == 1 {
            let _ = writeln!(
                yaml,
                "    # A plugin reads the input JSON on stdin and prints {{\"result\": ...}}."
            );
            let _ = writeln!(yaml, "    plugin: {{ command: [./plugins/{}] }}", args.name);
            let _ = writeln!(yaml, "    handler_config: {{ mode: example }}");
        } else if i == 0 {
            let _ = writeln!(
                yaml,
                "    # A shell command; write JSON to $TASKER_OUTPUT to give the step a result."
            );
            let _ = writeln!(yaml, "    command: |");
            let _ = writeln!(
                yaml,
                "      echo {{{{ context.greeting }}}} from $TASKER_STEP_NAME"
            );
            let _ = writeln!(yaml, "      echo '{{\"items\": 3}}' > \"$TASKER_OUTPUT\"");
        } else {
            let _ = writeln!(
                yaml,
                "    command: echo {step} after {} with {{{{ steps.{}.results }}}}",
                steps[i - 1],
                steps[i - 1]
            );
        }
    }
    write_new(&template, &yaml)?;

    let script = format!(
        "#!/bin/sh\n\
         # An example tasker plugin for `{name}`: the step's input JSON arrives on stdin;\n\
         # print one JSON object: {{\"result\": ...}} or {{\"error\": {{\"message\": ..., \"retryable\": true}}}}.\n\
         input=$(cat)\n\
         printf '{{\"result\": {{\"step\": \"%s\", \"attempt\": %s, \"input_bytes\": %s}}}}\\n' \\\n\
         \x20   \"$TASKER_STEP_NAME\" \"$TASKER_ATTEMPT\" \"$(printf '%s' \"$input\" | wc -c | tr -d ' ')\"\n",
        name = args.name
    );
    // Both files or neither.
    if let Err(e) = write_new(&plugin, &script) {
        let _ = std::fs::remove_file(&template);
        return Err(e);
    }
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755));

    super::say!(
        "wrote {} and {}\nnext: tasker run {}",
        template.display(),
        plugin.display(),
        template.display()
    );
    Ok(exit::OK)
}
