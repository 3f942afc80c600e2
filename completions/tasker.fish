# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_tasker_global_optspecs
    string join \n config= db= color= v/verbose q/quiet log-format= h/help V/version
end

function __fish_tasker_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_tasker_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_tasker_using_subcommand
    set -l cmd (__fish_tasker_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c tasker -n "__fish_tasker_needs_command" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_needs_command" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_needs_command" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_needs_command" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_needs_command" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_needs_command" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_needs_command" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_needs_command" -s V -l version -d 'Print version'
complete -c tasker -n "__fish_tasker_needs_command" -f -a "run" -d 'Run a template: create a task, run its steps with retries, keep every state change'
complete -c tasker -n "__fish_tasker_needs_command" -f -a "validate" -d 'Check templates without running them; print each graph\'s summary or every problem'
complete -c tasker -n "__fish_tasker_needs_command" -f -a "status" -d 'Show a task\'s state, its steps and Tasker\'s execution summary'
complete -c tasker -n "__fish_tasker_needs_command" -f -a "resume" -d 'Continue a task from the store, with the template snapshot it was created from'
complete -c tasker -n "__fish_tasker_needs_command" -f -a "retry" -d 'Run failed steps again with fresh attempts (or the steps named), then continue the task'
complete -c tasker -n "__fish_tasker_needs_command" -f -a "cancel" -d 'Cancel a task, or some of its steps; a running task\'s runner stops them within a second'
complete -c tasker -n "__fish_tasker_needs_command" -f -a "resolve" -d 'Mark a step resolved by hand (its results feed its dependents), or a failed task'
complete -c tasker -n "__fish_tasker_needs_command" -f -a "annotate" -d 'Attach a note to a task: a ticket number, an incident link, a reason'
complete -c tasker -n "__fish_tasker_needs_command" -f -a "logs" -d 'Print what a step wrote on stdout (or stderr) in one of its attempts'
complete -c tasker -n "__fish_tasker_needs_command" -f -a "worker" -d 'Run the ready steps of any task in a shared (PostgreSQL) store, on this machine'
complete -c tasker -n "__fish_tasker_needs_command" -f -a "wait" -d 'Follow a task to its end (run by workers, or by another terminal); exit as `run` would'
complete -c tasker -n "__fish_tasker_needs_command" -f -a "events" -d 'The event catalog (`events list`), and a task\'s event history (`events log ID`)'
complete -c tasker -n "__fish_tasker_needs_command" -f -a "diagram" -d 'Draw a task (state, attempts, duration per step; the critical path marked) or a template'
complete -c tasker -n "__fish_tasker_needs_command" -f -a "analytics" -d 'Slowest steps and tasks, rates, and duration percentiles per step and per template'
complete -c tasker -n "__fish_tasker_needs_command" -f -a "health" -d 'Tasks and steps by state, errors, backoffs and orphans; exit 1 when unhealthy'
complete -c tasker -n "__fish_tasker_needs_command" -f -a "metrics" -d 'Task and step counts and duration histograms from the store, for Prometheus and others'
complete -c tasker -n "__fish_tasker_needs_command" -f -a "tasks" -d 'The tasks in the store (`tasks list`), newest first, filtered by state, name, annotation'
complete -c tasker -n "__fish_tasker_needs_command" -f -a "templates" -d 'The templates in the template directories, by name and version (`templates list|show`)'
complete -c tasker -n "__fish_tasker_needs_command" -f -a "config" -d 'The configuration in effect and where each value came from (`config show`)'
complete -c tasker -n "__fish_tasker_needs_command" -f -a "db" -d 'Find, upgrade, check, trim and compact the store (`db path|migrate|check|prune|vacuum`)'
complete -c tasker -n "__fish_tasker_needs_command" -f -a "new" -d 'Write a new template, ready to run, and an example plugin beside it'
complete -c tasker -n "__fish_tasker_needs_command" -f -a "completions" -d 'Print the completion script for a shell'
complete -c tasker -n "__fish_tasker_needs_command" -f -a "generate-docs" -d 'Write the completion scripts and man pages (for packaging and the repository)'
complete -c tasker -n "__fish_tasker_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tasker -n "__fish_tasker_using_subcommand run" -l context -d 'The task context: a JSON object, or @FILE holding one' -r
complete -c tasker -n "__fish_tasker_using_subcommand run" -l set -d 'Set one context value (KEY.PATH=VALUE; VALUE is JSON when it parses, else text); repeatable' -r
complete -c tasker -n "__fish_tasker_using_subcommand run" -l env -d 'Merge the template\'s `environments.ENV` overrides into its steps [env: TASKER_ENV; config: env]' -r
complete -c tasker -n "__fish_tasker_using_subcommand run" -l templates -d 'Directories holding templates by name [env: TASKER_TEMPLATES, `:`-separated; default: ./workflows]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand run" -s j -l concurrency -d 'Steps running at once [default: the template\'s max_parallel, else the CPU count]' -r
complete -c tasker -n "__fish_tasker_using_subcommand run" -l kill-grace -d 'Time between SIGTERM and SIGKILL when a step is stopped [default: 10s]' -r
complete -c tasker -n "__fish_tasker_using_subcommand run" -l trace -d 'Export spans and metrics [default: OTEL_TRACES_EXPORTER, else none]' -r -f -a "none\t''
stdout\t''
otlp\t''"
complete -c tasker -n "__fish_tasker_using_subcommand run" -l summary-json -d 'Write the summary as JSON to FILE' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand run" -l events-out -d 'Write every event of the run to FILE, one JSON object a line' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand run" -l idempotency-key -d 'A second run with the same template and key returns the first task instead' -r
complete -c tasker -n "__fish_tasker_using_subcommand run" -l dedup -d 'Derive the idempotency key: `hash` = the template identity and the context' -r -f -a "hash\t''"
complete -c tasker -n "__fish_tasker_using_subcommand run" -l bypass-steps -d 'Skippable steps to mark resolved without running (comma-separated)' -r
complete -c tasker -n "__fish_tasker_using_subcommand run" -l initiator -d 'Who or what started the task (stored and shown by `status`)' -r
complete -c tasker -n "__fish_tasker_using_subcommand run" -l source-system -d 'The system the task came from (stored and shown by `status`)' -r
complete -c tasker -n "__fish_tasker_using_subcommand run" -l reason -d 'Why the task runs (stored and shown by `status`)' -r
complete -c tasker -n "__fish_tasker_using_subcommand run" -l tag -d 'A tag for the task (repeatable)' -r
complete -c tasker -n "__fish_tasker_using_subcommand run" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand run" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand run" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand run" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand run" -l fail-fast -d 'Stop starting steps once one has failed for good'
complete -c tasker -n "__fish_tasker_using_subcommand run" -l json -d 'Print the final status document as JSON on stdout'
complete -c tasker -n "__fish_tasker_using_subcommand run" -l follow-output -d 'Stream each step\'s output as it comes, each line prefixed `[step]`'
complete -c tasker -n "__fish_tasker_using_subcommand run" -l dry-run -d 'Check everything and print the plan by level; run nothing, write nothing'
complete -c tasker -n "__fish_tasker_using_subcommand run" -l detach -d 'Run in the background: print `task <id>` and return at once'
complete -c tasker -n "__fish_tasker_using_subcommand run" -l submit -d 'Only create the task, for `tasker worker`s to run (a PostgreSQL store): print `task <id>` and exit 0; `tasker wait ID` follows it'
complete -c tasker -n "__fish_tasker_using_subcommand run" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand run" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand run" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand validate" -l env -d 'Check the templates with `environments.ENV` merged in [env: TASKER_ENV; config: env]' -r
complete -c tasker -n "__fish_tasker_using_subcommand validate" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand validate" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand validate" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand validate" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand validate" -l json -d 'Print the summaries as JSON'
complete -c tasker -n "__fish_tasker_using_subcommand validate" -l graph -d 'Also print the levels and the steps that block the most dependents'
complete -c tasker -n "__fish_tasker_using_subcommand validate" -l strict -d 'Make every warning an error (for CI) [config: strict = true]'
complete -c tasker -n "__fish_tasker_using_subcommand validate" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand validate" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand validate" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand status" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand status" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand status" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand status" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand status" -l json -d 'Print the status document as JSON'
complete -c tasker -n "__fish_tasker_using_subcommand status" -l graph -d 'Also show the graph: levels, what blocks the most, the critical path by duration'
complete -c tasker -n "__fish_tasker_using_subcommand status" -s w -l watch -d 'Keep showing the status as it changes, until the task ends'
complete -c tasker -n "__fish_tasker_using_subcommand status" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand status" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand status" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand resume" -s j -l concurrency -d 'Steps running at once [default: the template\'s max_parallel, else the CPU count]' -r
complete -c tasker -n "__fish_tasker_using_subcommand resume" -l kill-grace -d 'Time between SIGTERM and SIGKILL when a step is stopped [default: 10s]' -r
complete -c tasker -n "__fish_tasker_using_subcommand resume" -l trace -d 'Export spans and metrics [default: OTEL_TRACES_EXPORTER, else none]' -r -f -a "none\t''
stdout\t''
otlp\t''"
complete -c tasker -n "__fish_tasker_using_subcommand resume" -l summary-json -d 'Write the summary as JSON to FILE' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand resume" -l events-out -d 'Write every event of the run to FILE, one JSON object a line' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand resume" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand resume" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand resume" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand resume" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand resume" -l fail-fast -d 'Stop starting steps once one has failed for good'
complete -c tasker -n "__fish_tasker_using_subcommand resume" -l json -d 'Print the final status document as JSON on stdout'
complete -c tasker -n "__fish_tasker_using_subcommand resume" -l follow-output -d 'Stream each step\'s output as it comes, each line prefixed `[step]`'
complete -c tasker -n "__fish_tasker_using_subcommand resume" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand resume" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand resume" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand retry" -l step -d 'A step to run again, even if complete (repeatable); default: every step in error' -r
complete -c tasker -n "__fish_tasker_using_subcommand retry" -l reason -d 'Why (kept in the transitions\' metadata)' -r
complete -c tasker -n "__fish_tasker_using_subcommand retry" -l actor -d 'Who [default: $USER]' -r
complete -c tasker -n "__fish_tasker_using_subcommand retry" -s j -l concurrency -d 'Steps running at once [default: the template\'s max_parallel, else the CPU count]' -r
complete -c tasker -n "__fish_tasker_using_subcommand retry" -l kill-grace -d 'Time between SIGTERM and SIGKILL when a step is stopped [default: 10s]' -r
complete -c tasker -n "__fish_tasker_using_subcommand retry" -l trace -d 'Export spans and metrics [default: OTEL_TRACES_EXPORTER, else none]' -r -f -a "none\t''
stdout\t''
otlp\t''"
complete -c tasker -n "__fish_tasker_using_subcommand retry" -l summary-json -d 'Write the summary as JSON to FILE' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand retry" -l events-out -d 'Write every event of the run to FILE, one JSON object a line' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand retry" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand retry" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand retry" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand retry" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand retry" -l downstream -d 'Also run again every step that depends on them'
complete -c tasker -n "__fish_tasker_using_subcommand retry" -l fail-fast -d 'Stop starting steps once one has failed for good'
complete -c tasker -n "__fish_tasker_using_subcommand retry" -l json -d 'Print the final status document as JSON on stdout'
complete -c tasker -n "__fish_tasker_using_subcommand retry" -l follow-output -d 'Stream each step\'s output as it comes, each line prefixed `[step]`'
complete -c tasker -n "__fish_tasker_using_subcommand retry" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand retry" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand retry" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand cancel" -l step -d 'Cancel only this step (repeatable)' -r
complete -c tasker -n "__fish_tasker_using_subcommand cancel" -l reason -d 'Why (kept in the transitions\' metadata)' -r
complete -c tasker -n "__fish_tasker_using_subcommand cancel" -l actor -d 'Who [default: $USER]' -r
complete -c tasker -n "__fish_tasker_using_subcommand cancel" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand cancel" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand cancel" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand cancel" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand cancel" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand cancel" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand cancel" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand resolve" -l step -d 'The step to resolve; without it, the task (which must be in error)' -r
complete -c tasker -n "__fish_tasker_using_subcommand resolve" -l results -d 'The step\'s results: JSON, or @FILE holding JSON [default: {}]' -r
complete -c tasker -n "__fish_tasker_using_subcommand resolve" -l reason -d 'Why (required; kept in the transition\'s metadata)' -r
complete -c tasker -n "__fish_tasker_using_subcommand resolve" -l actor -d 'Who [default: $USER]' -r
complete -c tasker -n "__fish_tasker_using_subcommand resolve" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand resolve" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand resolve" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand resolve" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand resolve" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand resolve" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand resolve" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand annotate" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand annotate" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand annotate" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand annotate" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand annotate" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand annotate" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand annotate" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand logs" -l attempt -d 'The attempt (1-based) [default: the latest]' -r
complete -c tasker -n "__fish_tasker_using_subcommand logs" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand logs" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand logs" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand logs" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand logs" -l stderr -d 'Print stderr instead of stdout'
complete -c tasker -n "__fish_tasker_using_subcommand logs" -s f -l follow -d 'Keep printing while the attempt runs'
complete -c tasker -n "__fish_tasker_using_subcommand logs" -l json -d 'Print the attempt\'s output and details as JSON'
complete -c tasker -n "__fish_tasker_using_subcommand logs" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand logs" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand logs" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand worker" -s j -l concurrency -d 'Steps running at once [default: the number of CPUs]' -r
complete -c tasker -n "__fish_tasker_using_subcommand worker" -l namespace -d 'Only steps of tasks in this namespace (repeatable)' -r
complete -c tasker -n "__fish_tasker_using_subcommand worker" -l name -d 'Only steps of tasks of this template name (repeatable)' -r
complete -c tasker -n "__fish_tasker_using_subcommand worker" -l id -d 'How this worker is known in the store [default: HOST:PID]' -r
complete -c tasker -n "__fish_tasker_using_subcommand worker" -l grace -d 'A worker silent this long is taken for dead and its steps are run again' -r
complete -c tasker -n "__fish_tasker_using_subcommand worker" -l kill-grace -d 'Between SIGTERM and SIGKILL when a step is stopped' -r
complete -c tasker -n "__fish_tasker_using_subcommand worker" -l trace -d 'Export the spans and metrics of the tasks this worker ends [default: OTEL_TRACES_EXPORTER, else none]' -r -f -a "none\t''
stdout\t''
otlp\t''"
complete -c tasker -n "__fish_tasker_using_subcommand worker" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand worker" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand worker" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand worker" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand worker" -l drain -d 'Finish what this worker holds, claim nothing, and exit 0'
complete -c tasker -n "__fish_tasker_using_subcommand worker" -l once -d 'Run until nothing is ready, then exit 0'
complete -c tasker -n "__fish_tasker_using_subcommand worker" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand worker" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand worker" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand wait" -l timeout -d 'Give up after this long (exit 7) [default: wait as long as it takes]' -r
complete -c tasker -n "__fish_tasker_using_subcommand wait" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand wait" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand wait" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand wait" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand wait" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand wait" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand wait" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand events; and not __fish_seen_subcommand_from list log help" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand events; and not __fish_seen_subcommand_from list log help" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand events; and not __fish_seen_subcommand_from list log help" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand events; and not __fish_seen_subcommand_from list log help" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand events; and not __fish_seen_subcommand_from list log help" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand events; and not __fish_seen_subcommand_from list log help" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand events; and not __fish_seen_subcommand_from list log help" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand events; and not __fish_seen_subcommand_from list log help" -f -a "list" -d 'The catalog: every event tasker emits, with its payload fields and an example'
complete -c tasker -n "__fish_tasker_using_subcommand events; and not __fish_seen_subcommand_from list log help" -f -a "log" -d 'A task\'s event history, in order'
complete -c tasker -n "__fish_tasker_using_subcommand events; and not __fish_seen_subcommand_from list log help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tasker -n "__fish_tasker_using_subcommand events; and __fish_seen_subcommand_from list" -l category -d 'Only this category' -r -f -a "task\t''
step\t''
workflow\t''
observability\t''
custom\t''"
complete -c tasker -n "__fish_tasker_using_subcommand events; and __fish_seen_subcommand_from list" -l search -d 'Only events whose name or description contains this text' -r
complete -c tasker -n "__fish_tasker_using_subcommand events; and __fish_seen_subcommand_from list" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand events; and __fish_seen_subcommand_from list" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand events; and __fish_seen_subcommand_from list" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand events; and __fish_seen_subcommand_from list" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand events; and __fish_seen_subcommand_from list" -l json -d 'Print as JSON'
complete -c tasker -n "__fish_tasker_using_subcommand events; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand events; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand events; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand events; and __fish_seen_subcommand_from log" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand events; and __fish_seen_subcommand_from log" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand events; and __fish_seen_subcommand_from log" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand events; and __fish_seen_subcommand_from log" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand events; and __fish_seen_subcommand_from log" -s f -l follow -d 'Keep printing events as they come, until the task\'s runner stops'
complete -c tasker -n "__fish_tasker_using_subcommand events; and __fish_seen_subcommand_from log" -l json -d 'One JSON object a line'
complete -c tasker -n "__fish_tasker_using_subcommand events; and __fish_seen_subcommand_from log" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand events; and __fish_seen_subcommand_from log" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand events; and __fish_seen_subcommand_from log" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand events; and __fish_seen_subcommand_from help" -f -a "list" -d 'The catalog: every event tasker emits, with its payload fields and an example'
complete -c tasker -n "__fish_tasker_using_subcommand events; and __fish_seen_subcommand_from help" -f -a "log" -d 'A task\'s event history, in order'
complete -c tasker -n "__fish_tasker_using_subcommand events; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tasker -n "__fish_tasker_using_subcommand diagram" -l template -d 'Draw a template file instead of a task' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand diagram" -l format -d 'mermaid, dot (Graphviz) or json' -r -f -a "mermaid\t''
dot\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand diagram" -l env -d 'Draw the template with `environments.ENV` merged in' -r
complete -c tasker -n "__fish_tasker_using_subcommand diagram" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand diagram" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand diagram" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand diagram" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand diagram" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand diagram" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand diagram" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand analytics" -l since -d 'Only tasks created within this duration (e.g. `24h`, `7d`)' -r
complete -c tasker -n "__fish_tasker_using_subcommand analytics" -l namespace -d 'Only tasks of this namespace' -r
complete -c tasker -n "__fish_tasker_using_subcommand analytics" -l name -d 'Only tasks of this template name' -r
complete -c tasker -n "__fish_tasker_using_subcommand analytics" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand analytics" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand analytics" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand analytics" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand analytics" -l json -d 'Print as JSON'
complete -c tasker -n "__fish_tasker_using_subcommand analytics" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand analytics" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand analytics" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand health" -l max-orphaned -d 'Orphaned tasks allowed' -r
complete -c tasker -n "__fish_tasker_using_subcommand health" -l max-failed -d 'Tasks allowed to have failed within --window' -r
complete -c tasker -n "__fish_tasker_using_subcommand health" -l max-backoff -d 'Steps allowed to wait out a backoff at once [default: no limit]' -r
complete -c tasker -n "__fish_tasker_using_subcommand health" -l window -d 'How far back failures count' -r
complete -c tasker -n "__fish_tasker_using_subcommand health" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand health" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand health" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand health" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand health" -l json -d 'Print as JSON'
complete -c tasker -n "__fish_tasker_using_subcommand health" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand health" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand health" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand metrics" -l format -d 'prometheus (text exposition), json or csv' -r -f -a "prometheus\t''
json\t''
csv\t''"
complete -c tasker -n "__fish_tasker_using_subcommand metrics" -l since -d 'Only tasks created within this duration (e.g. `24h`, `7d`)' -r
complete -c tasker -n "__fish_tasker_using_subcommand metrics" -l namespace -d 'Only tasks of this namespace' -r
complete -c tasker -n "__fish_tasker_using_subcommand metrics" -l name -d 'Only tasks of this template name' -r
complete -c tasker -n "__fish_tasker_using_subcommand metrics" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand metrics" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand metrics" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand metrics" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand metrics" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand metrics" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand metrics" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand tasks; and not __fish_seen_subcommand_from list help" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand tasks; and not __fish_seen_subcommand_from list help" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand tasks; and not __fish_seen_subcommand_from list help" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand tasks; and not __fish_seen_subcommand_from list help" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand tasks; and not __fish_seen_subcommand_from list help" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand tasks; and not __fish_seen_subcommand_from list help" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand tasks; and not __fish_seen_subcommand_from list help" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand tasks; and not __fish_seen_subcommand_from list help" -f -a "list" -d 'List tasks, newest first'
complete -c tasker -n "__fish_tasker_using_subcommand tasks; and not __fish_seen_subcommand_from list help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tasker -n "__fish_tasker_using_subcommand tasks; and __fish_seen_subcommand_from list" -l status -d 'Only tasks in this state' -r
complete -c tasker -n "__fish_tasker_using_subcommand tasks; and __fish_seen_subcommand_from list" -l namespace -d 'Only tasks of this namespace' -r
complete -c tasker -n "__fish_tasker_using_subcommand tasks; and __fish_seen_subcommand_from list" -l name -d 'Only tasks of this template name' -r
complete -c tasker -n "__fish_tasker_using_subcommand tasks; and __fish_seen_subcommand_from list" -l since -d 'Only tasks created within this duration (e.g. `1h`, `7d`)' -r
complete -c tasker -n "__fish_tasker_using_subcommand tasks; and __fish_seen_subcommand_from list" -l annotation -d 'Only tasks annotated with TYPE (with this VALUE: JSON when it parses, else text)' -r
complete -c tasker -n "__fish_tasker_using_subcommand tasks; and __fish_seen_subcommand_from list" -l limit -d 'At most this many tasks' -r
complete -c tasker -n "__fish_tasker_using_subcommand tasks; and __fish_seen_subcommand_from list" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand tasks; and __fish_seen_subcommand_from list" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand tasks; and __fish_seen_subcommand_from list" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand tasks; and __fish_seen_subcommand_from list" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand tasks; and __fish_seen_subcommand_from list" -l json -d 'Print as JSON'
complete -c tasker -n "__fish_tasker_using_subcommand tasks; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand tasks; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand tasks; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand tasks; and __fish_seen_subcommand_from help" -f -a "list" -d 'List tasks, newest first'
complete -c tasker -n "__fish_tasker_using_subcommand tasks; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tasker -n "__fish_tasker_using_subcommand templates; and not __fish_seen_subcommand_from list show help" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand templates; and not __fish_seen_subcommand_from list show help" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand templates; and not __fish_seen_subcommand_from list show help" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand templates; and not __fish_seen_subcommand_from list show help" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand templates; and not __fish_seen_subcommand_from list show help" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand templates; and not __fish_seen_subcommand_from list show help" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand templates; and not __fish_seen_subcommand_from list show help" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand templates; and not __fish_seen_subcommand_from list show help" -f -a "list" -d 'List the templates found in the template directories'
complete -c tasker -n "__fish_tasker_using_subcommand templates; and not __fish_seen_subcommand_from list show help" -f -a "show" -d 'Print a template\'s source'
complete -c tasker -n "__fish_tasker_using_subcommand templates; and not __fish_seen_subcommand_from list show help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tasker -n "__fish_tasker_using_subcommand templates; and __fish_seen_subcommand_from list" -l templates -d 'Directories holding templates by name [env: TASKER_TEMPLATES, `:`-separated; default: ./workflows]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand templates; and __fish_seen_subcommand_from list" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand templates; and __fish_seen_subcommand_from list" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand templates; and __fish_seen_subcommand_from list" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand templates; and __fish_seen_subcommand_from list" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand templates; and __fish_seen_subcommand_from list" -l json -d 'Print as JSON'
complete -c tasker -n "__fish_tasker_using_subcommand templates; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand templates; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand templates; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand templates; and __fish_seen_subcommand_from show" -l templates -d 'Directories holding templates by name [env: TASKER_TEMPLATES, `:`-separated; default: ./workflows]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand templates; and __fish_seen_subcommand_from show" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand templates; and __fish_seen_subcommand_from show" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand templates; and __fish_seen_subcommand_from show" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand templates; and __fish_seen_subcommand_from show" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand templates; and __fish_seen_subcommand_from show" -l json -d 'Print its identity, file and source as JSON'
complete -c tasker -n "__fish_tasker_using_subcommand templates; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand templates; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand templates; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand templates; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the templates found in the template directories'
complete -c tasker -n "__fish_tasker_using_subcommand templates; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print a template\'s source'
complete -c tasker -n "__fish_tasker_using_subcommand templates; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tasker -n "__fish_tasker_using_subcommand config; and not __fish_seen_subcommand_from show help" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand config; and not __fish_seen_subcommand_from show help" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand config; and not __fish_seen_subcommand_from show help" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand config; and not __fish_seen_subcommand_from show help" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand config; and not __fish_seen_subcommand_from show help" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand config; and not __fish_seen_subcommand_from show help" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand config; and not __fish_seen_subcommand_from show help" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand config; and not __fish_seen_subcommand_from show help" -f -a "show" -d 'Print the effective configuration and the source of each value'
complete -c tasker -n "__fish_tasker_using_subcommand config; and not __fish_seen_subcommand_from show help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tasker -n "__fish_tasker_using_subcommand config; and __fish_seen_subcommand_from show" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand config; and __fish_seen_subcommand_from show" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand config; and __fish_seen_subcommand_from show" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand config; and __fish_seen_subcommand_from show" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand config; and __fish_seen_subcommand_from show" -l json -d 'Print as JSON'
complete -c tasker -n "__fish_tasker_using_subcommand config; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand config; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand config; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print the effective configuration and the source of each value'
complete -c tasker -n "__fish_tasker_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tasker -n "__fish_tasker_using_subcommand db; and not __fish_seen_subcommand_from path migrate check prune vacuum help" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand db; and not __fish_seen_subcommand_from path migrate check prune vacuum help" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand db; and not __fish_seen_subcommand_from path migrate check prune vacuum help" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand db; and not __fish_seen_subcommand_from path migrate check prune vacuum help" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand db; and not __fish_seen_subcommand_from path migrate check prune vacuum help" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand db; and not __fish_seen_subcommand_from path migrate check prune vacuum help" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand db; and not __fish_seen_subcommand_from path migrate check prune vacuum help" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand db; and not __fish_seen_subcommand_from path migrate check prune vacuum help" -f -a "path" -d 'Print the store\'s path'
complete -c tasker -n "__fish_tasker_using_subcommand db; and not __fish_seen_subcommand_from path migrate check prune vacuum help" -f -a "migrate" -d 'Create the store or bring its schema up to date'
complete -c tasker -n "__fish_tasker_using_subcommand db; and not __fish_seen_subcommand_from path migrate check prune vacuum help" -f -a "check" -d 'Check the store: PRAGMA integrity_check, foreign_key_check and every step\'s parents (exit 6 on problems)'
complete -c tasker -n "__fish_tasker_using_subcommand db; and not __fish_seen_subcommand_from path migrate check prune vacuum help" -f -a "prune" -d 'Delete old finished tasks and everything that belongs to them'
complete -c tasker -n "__fish_tasker_using_subcommand db; and not __fish_seen_subcommand_from path migrate check prune vacuum help" -f -a "vacuum" -d 'Rebuild the file to give freed space back to the system'
complete -c tasker -n "__fish_tasker_using_subcommand db; and not __fish_seen_subcommand_from path migrate check prune vacuum help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from path" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from path" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from path" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from path" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from path" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from path" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from path" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from migrate" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from migrate" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from migrate" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from migrate" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from migrate" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from migrate" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from migrate" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from check" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from check" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from check" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from check" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from check" -l json -d 'Print as JSON'
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from check" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from check" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from prune" -l older-than -d 'Only tasks created longer ago than this (e.g. `30d`)' -r
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from prune" -l status -d 'Only tasks in this state (repeatable) [default: complete, cancelled, resolved_manually]' -r
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from prune" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from prune" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from prune" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from prune" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from prune" -l dry-run -d 'Count what would be removed; remove nothing'
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from prune" -l json -d 'Print as JSON'
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from prune" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from prune" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from prune" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from vacuum" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from vacuum" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from vacuum" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from vacuum" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from vacuum" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from vacuum" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from vacuum" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "path" -d 'Print the store\'s path'
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "migrate" -d 'Create the store or bring its schema up to date'
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "check" -d 'Check the store: PRAGMA integrity_check, foreign_key_check and every step\'s parents (exit 6 on problems)'
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "prune" -d 'Delete old finished tasks and everything that belongs to them'
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "vacuum" -d 'Rebuild the file to give freed space back to the system'
complete -c tasker -n "__fish_tasker_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tasker -n "__fish_tasker_using_subcommand new" -l namespace -d 'Its namespace' -r
complete -c tasker -n "__fish_tasker_using_subcommand new" -l steps -d 'Its steps, in order (each depends on the one before) [default: fetch,process,report]' -r
complete -c tasker -n "__fish_tasker_using_subcommand new" -l dir -d 'Where to write it' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand new" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand new" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand new" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand new" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand new" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand new" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand new" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand completions" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand completions" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand completions" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand completions" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand completions" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand completions" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand completions" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand generate-docs" -l completions -d 'Where the completion scripts go' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand generate-docs" -l man -d 'Where the man pages go' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand generate-docs" -l config -d 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand generate-docs" -l db -d 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]' -r -F
complete -c tasker -n "__fish_tasker_using_subcommand generate-docs" -l color -d 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tasker -n "__fish_tasker_using_subcommand generate-docs" -l log-format -d 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]' -r -f -a "text\t''
json\t''"
complete -c tasker -n "__fish_tasker_using_subcommand generate-docs" -s v -l verbose -d 'Print more: every step start and completion'
complete -c tasker -n "__fish_tasker_using_subcommand generate-docs" -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c tasker -n "__fish_tasker_using_subcommand generate-docs" -s h -l help -d 'Print help'
complete -c tasker -n "__fish_tasker_using_subcommand help; and not __fish_seen_subcommand_from run validate status resume retry cancel resolve annotate logs worker wait events diagram analytics health metrics tasks templates config db new completions generate-docs help" -f -a "run" -d 'Run a template: create a task, run its steps with retries, keep every state change'
complete -c tasker -n "__fish_tasker_using_subcommand help; and not __fish_seen_subcommand_from run validate status resume retry cancel resolve annotate logs worker wait events diagram analytics health metrics tasks templates config db new completions generate-docs help" -f -a "validate" -d 'Check templates without running them; print each graph\'s summary or every problem'
complete -c tasker -n "__fish_tasker_using_subcommand help; and not __fish_seen_subcommand_from run validate status resume retry cancel resolve annotate logs worker wait events diagram analytics health metrics tasks templates config db new completions generate-docs help" -f -a "status" -d 'Show a task\'s state, its steps and Tasker\'s execution summary'
complete -c tasker -n "__fish_tasker_using_subcommand help; and not __fish_seen_subcommand_from run validate status resume retry cancel resolve annotate logs worker wait events diagram analytics health metrics tasks templates config db new completions generate-docs help" -f -a "resume" -d 'Continue a task from the store, with the template snapshot it was created from'
complete -c tasker -n "__fish_tasker_using_subcommand help; and not __fish_seen_subcommand_from run validate status resume retry cancel resolve annotate logs worker wait events diagram analytics health metrics tasks templates config db new completions generate-docs help" -f -a "retry" -d 'Run failed steps again with fresh attempts (or the steps named), then continue the task'
complete -c tasker -n "__fish_tasker_using_subcommand help; and not __fish_seen_subcommand_from run validate status resume retry cancel resolve annotate logs worker wait events diagram analytics health metrics tasks templates config db new completions generate-docs help" -f -a "cancel" -d 'Cancel a task, or some of its steps; a running task\'s runner stops them within a second'
complete -c tasker -n "__fish_tasker_using_subcommand help; and not __fish_seen_subcommand_from run validate status resume retry cancel resolve annotate logs worker wait events diagram analytics health metrics tasks templates config db new completions generate-docs help" -f -a "resolve" -d 'Mark a step resolved by hand (its results feed its dependents), or a failed task'
complete -c tasker -n "__fish_tasker_using_subcommand help; and not __fish_seen_subcommand_from run validate status resume retry cancel resolve annotate logs worker wait events diagram analytics health metrics tasks templates config db new completions generate-docs help" -f -a "annotate" -d 'Attach a note to a task: a ticket number, an incident link, a reason'
complete -c tasker -n "__fish_tasker_using_subcommand help; and not __fish_seen_subcommand_from run validate status resume retry cancel resolve annotate logs worker wait events diagram analytics health metrics tasks templates config db new completions generate-docs help" -f -a "logs" -d 'Print what a step wrote on stdout (or stderr) in one of its attempts'
complete -c tasker -n "__fish_tasker_using_subcommand help; and not __fish_seen_subcommand_from run validate status resume retry cancel resolve annotate logs worker wait events diagram analytics health metrics tasks templates config db new completions generate-docs help" -f -a "worker" -d 'Run the ready steps of any task in a shared (PostgreSQL) store, on this machine'
complete -c tasker -n "__fish_tasker_using_subcommand help; and not __fish_seen_subcommand_from run validate status resume retry cancel resolve annotate logs worker wait events diagram analytics health metrics tasks templates config db new completions generate-docs help" -f -a "wait" -d 'Follow a task to its end (run by workers, or by another terminal); exit as `run` would'
complete -c tasker -n "__fish_tasker_using_subcommand help; and not __fish_seen_subcommand_from run validate status resume retry cancel resolve annotate logs worker wait events diagram analytics health metrics tasks templates config db new completions generate-docs help" -f -a "events" -d 'The event catalog (`events list`), and a task\'s event history (`events log ID`)'
complete -c tasker -n "__fish_tasker_using_subcommand help; and not __fish_seen_subcommand_from run validate status resume retry cancel resolve annotate logs worker wait events diagram analytics health metrics tasks templates config db new completions generate-docs help" -f -a "diagram" -d 'Draw a task (state, attempts, duration per step; the critical path marked) or a template'
complete -c tasker -n "__fish_tasker_using_subcommand help; and not __fish_seen_subcommand_from run validate status resume retry cancel resolve annotate logs worker wait events diagram analytics health metrics tasks templates config db new completions generate-docs help" -f -a "analytics" -d 'Slowest steps and tasks, rates, and duration percentiles per step and per template'
complete -c tasker -n "__fish_tasker_using_subcommand help; and not __fish_seen_subcommand_from run validate status resume retry cancel resolve annotate logs worker wait events diagram analytics health metrics tasks templates config db new completions generate-docs help" -f -a "health" -d 'Tasks and steps by state, errors, backoffs and orphans; exit 1 when unhealthy'
complete -c tasker -n "__fish_tasker_using_subcommand help; and not __fish_seen_subcommand_from run validate status resume retry cancel resolve annotate logs worker wait events diagram analytics health metrics tasks templates config db new completions generate-docs help" -f -a "metrics" -d 'Task and step counts and duration histograms from the store, for Prometheus and others'
complete -c tasker -n "__fish_tasker_using_subcommand help; and not __fish_seen_subcommand_from run validate status resume retry cancel resolve annotate logs worker wait events diagram analytics health metrics tasks templates config db new completions generate-docs help" -f -a "tasks" -d 'The tasks in the store (`tasks list`), newest first, filtered by state, name, annotation'
complete -c tasker -n "__fish_tasker_using_subcommand help; and not __fish_seen_subcommand_from run validate status resume retry cancel resolve annotate logs worker wait events diagram analytics health metrics tasks templates config db new completions generate-docs help" -f -a "templates" -d 'The templates in the template directories, by name and version (`templates list|show`)'
complete -c tasker -n "__fish_tasker_using_subcommand help; and not __fish_seen_subcommand_from run validate status resume retry cancel resolve annotate logs worker wait events diagram analytics health metrics tasks templates config db new completions generate-docs help" -f -a "config" -d 'The configuration in effect and where each value came from (`config show`)'
complete -c tasker -n "__fish_tasker_using_subcommand help; and not __fish_seen_subcommand_from run validate status resume retry cancel resolve annotate logs worker wait events diagram analytics health metrics tasks templates config db new completions generate-docs help" -f -a "db" -d 'Find, upgrade, check, trim and compact the store (`db path|migrate|check|prune|vacuum`)'
complete -c tasker -n "__fish_tasker_using_subcommand help; and not __fish_seen_subcommand_from run validate status resume retry cancel resolve annotate logs worker wait events diagram analytics health metrics tasks templates config db new completions generate-docs help" -f -a "new" -d 'Write a new template, ready to run, and an example plugin beside it'
complete -c tasker -n "__fish_tasker_using_subcommand help; and not __fish_seen_subcommand_from run validate status resume retry cancel resolve annotate logs worker wait events diagram analytics health metrics tasks templates config db new completions generate-docs help" -f -a "completions" -d 'Print the completion script for a shell'
complete -c tasker -n "__fish_tasker_using_subcommand help; and not __fish_seen_subcommand_from run validate status resume retry cancel resolve annotate logs worker wait events diagram analytics health metrics tasks templates config db new completions generate-docs help" -f -a "generate-docs" -d 'Write the completion scripts and man pages (for packaging and the repository)'
complete -c tasker -n "__fish_tasker_using_subcommand help; and not __fish_seen_subcommand_from run validate status resume retry cancel resolve annotate logs worker wait events diagram analytics health metrics tasks templates config db new completions generate-docs help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tasker -n "__fish_tasker_using_subcommand help; and __fish_seen_subcommand_from events" -f -a "list" -d 'The catalog: every event tasker emits, with its payload fields and an example'
complete -c tasker -n "__fish_tasker_using_subcommand help; and __fish_seen_subcommand_from events" -f -a "log" -d 'A task\'s event history, in order'
complete -c tasker -n "__fish_tasker_using_subcommand help; and __fish_seen_subcommand_from tasks" -f -a "list" -d 'List tasks, newest first'
complete -c tasker -n "__fish_tasker_using_subcommand help; and __fish_seen_subcommand_from templates" -f -a "list" -d 'List the templates found in the template directories'
complete -c tasker -n "__fish_tasker_using_subcommand help; and __fish_seen_subcommand_from templates" -f -a "show" -d 'Print a template\'s source'
complete -c tasker -n "__fish_tasker_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "show" -d 'Print the effective configuration and the source of each value'
complete -c tasker -n "__fish_tasker_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "path" -d 'Print the store\'s path'
complete -c tasker -n "__fish_tasker_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "migrate" -d 'Create the store or bring its schema up to date'
complete -c tasker -n "__fish_tasker_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "check" -d 'Check the store: PRAGMA integrity_check, foreign_key_check and every step\'s parents (exit 6 on problems)'
complete -c tasker -n "__fish_tasker_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "prune" -d 'Delete old finished tasks and everything that belongs to them'
complete -c tasker -n "__fish_tasker_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "vacuum" -d 'Rebuild the file to give freed space back to the system'
