
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'tasker' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'tasker'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'tasker' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run a template: create a task, run its steps with retries, keep every state change')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check templates without running them; print each graph''s summary or every problem')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show a task''s state, its steps and Tasker''s execution summary')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Continue a task from the store, with the template snapshot it was created from')
            [CompletionResult]::new('retry', 'retry', [CompletionResultType]::ParameterValue, 'Run failed steps again with fresh attempts (or the steps named), then continue the task')
            [CompletionResult]::new('cancel', 'cancel', [CompletionResultType]::ParameterValue, 'Cancel a task, or some of its steps; a running task''s runner stops them within a second')
            [CompletionResult]::new('resolve', 'resolve', [CompletionResultType]::ParameterValue, 'Mark a step resolved by hand (its results feed its dependents), or a failed task')
            [CompletionResult]::new('annotate', 'annotate', [CompletionResultType]::ParameterValue, 'Attach a note to a task: a ticket number, an incident link, a reason')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Print what a step wrote on stdout (or stderr) in one of its attempts')
            [CompletionResult]::new('worker', 'worker', [CompletionResultType]::ParameterValue, 'Run the ready steps of any task in a shared (PostgreSQL) store, on this machine')
            [CompletionResult]::new('wait', 'wait', [CompletionResultType]::ParameterValue, 'Follow a task to its end (run by workers, or by another terminal); exit as `run` would')
            [CompletionResult]::new('events', 'events', [CompletionResultType]::ParameterValue, 'The event catalog (`events list`), and a task''s event history (`events log ID`)')
            [CompletionResult]::new('diagram', 'diagram', [CompletionResultType]::ParameterValue, 'Draw a task (state, attempts, duration per step; the critical path marked) or a template')
            [CompletionResult]::new('analytics', 'analytics', [CompletionResultType]::ParameterValue, 'Slowest steps and tasks, rates, and duration percentiles per step and per template')
            [CompletionResult]::new('health', 'health', [CompletionResultType]::ParameterValue, 'Tasks and steps by state, errors, backoffs and orphans; exit 1 when unhealthy')
            [CompletionResult]::new('metrics', 'metrics', [CompletionResultType]::ParameterValue, 'Task and step counts and duration histograms from the store, for Prometheus and others')
            [CompletionResult]::new('tasks', 'tasks', [CompletionResultType]::ParameterValue, 'The tasks in the store (`tasks list`), newest first, filtered by state, name, annotation')
            [CompletionResult]::new('templates', 'templates', [CompletionResultType]::ParameterValue, 'The templates in the template directories, by name and version (`templates list|show`)')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'The configuration in effect and where each value came from (`config show`)')
            [CompletionResult]::new('db', 'db', [CompletionResultType]::ParameterValue, 'Find, upgrade, check, trim and compact the store (`db path|migrate|check|prune|vacuum`)')
            [CompletionResult]::new('new', 'new', [CompletionResultType]::ParameterValue, 'Write a new template, ready to run, and an example plugin beside it')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the completion script for a shell')
            [CompletionResult]::new('generate-docs', 'generate-docs', [CompletionResultType]::ParameterValue, 'Write the completion scripts and man pages (for packaging and the repository)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tasker;run' {
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The task context: a JSON object, or @FILE holding one')
            [CompletionResult]::new('--set', '--set', [CompletionResultType]::ParameterName, 'Set one context value (KEY.PATH=VALUE; VALUE is JSON when it parses, else text); repeatable')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Merge the template''s `environments.ENV` overrides into its steps [env: TASKER_ENV; config: env]')
            [CompletionResult]::new('--templates', '--templates', [CompletionResultType]::ParameterName, 'Directories holding templates by name [env: TASKER_TEMPLATES, `:`-separated; default: ./workflows]')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Steps running at once [default: the template''s max_parallel, else the CPU count]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Steps running at once [default: the template''s max_parallel, else the CPU count]')
            [CompletionResult]::new('--kill-grace', '--kill-grace', [CompletionResultType]::ParameterName, 'Time between SIGTERM and SIGKILL when a step is stopped [default: 10s]')
            [CompletionResult]::new('--trace', '--trace', [CompletionResultType]::ParameterName, 'Export spans and metrics [default: OTEL_TRACES_EXPORTER, else none]')
            [CompletionResult]::new('--summary-json', '--summary-json', [CompletionResultType]::ParameterName, 'Write the summary as JSON to FILE')
            [CompletionResult]::new('--events-out', '--events-out', [CompletionResultType]::ParameterName, 'Write every event of the run to FILE, one JSON object a line')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'A second run with the same template and key returns the first task instead')
            [CompletionResult]::new('--dedup', '--dedup', [CompletionResultType]::ParameterName, 'Derive the idempotency key: `hash` = the template identity and the context')
            [CompletionResult]::new('--bypass-steps', '--bypass-steps', [CompletionResultType]::ParameterName, 'Skippable steps to mark resolved without running (comma-separated)')
            [CompletionResult]::new('--initiator', '--initiator', [CompletionResultType]::ParameterName, 'Who or what started the task (stored and shown by `status`)')
            [CompletionResult]::new('--source-system', '--source-system', [CompletionResultType]::ParameterName, 'The system the task came from (stored and shown by `status`)')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why the task runs (stored and shown by `status`)')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'A tag for the task (repeatable)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('--fail-fast', '--fail-fast', [CompletionResultType]::ParameterName, 'Stop starting steps once one has failed for good')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the final status document as JSON on stdout')
            [CompletionResult]::new('--follow-output', '--follow-output', [CompletionResultType]::ParameterName, 'Stream each step''s output as it comes, each line prefixed `[step]`')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check everything and print the plan by level; run nothing, write nothing')
            [CompletionResult]::new('--detach', '--detach', [CompletionResultType]::ParameterName, 'Run in the background: print `task <id>` and return at once')
            [CompletionResult]::new('--submit', '--submit', [CompletionResultType]::ParameterName, 'Only create the task, for `tasker worker`s to run (a PostgreSQL store): print `task <id>` and exit 0; `tasker wait ID` follows it')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tasker;validate' {
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Check the templates with `environments.ENV` merged in [env: TASKER_ENV; config: env]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the summaries as JSON')
            [CompletionResult]::new('--graph', '--graph', [CompletionResultType]::ParameterName, 'Also print the levels and the steps that block the most dependents')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Make every warning an error (for CI) [config: strict = true]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tasker;status' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the status document as JSON')
            [CompletionResult]::new('--graph', '--graph', [CompletionResultType]::ParameterName, 'Also show the graph: levels, what blocks the most, the critical path by duration')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'Keep showing the status as it changes, until the task ends')
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'Keep showing the status as it changes, until the task ends')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tasker;resume' {
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Steps running at once [default: the template''s max_parallel, else the CPU count]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Steps running at once [default: the template''s max_parallel, else the CPU count]')
            [CompletionResult]::new('--kill-grace', '--kill-grace', [CompletionResultType]::ParameterName, 'Time between SIGTERM and SIGKILL when a step is stopped [default: 10s]')
            [CompletionResult]::new('--trace', '--trace', [CompletionResultType]::ParameterName, 'Export spans and metrics [default: OTEL_TRACES_EXPORTER, else none]')
            [CompletionResult]::new('--summary-json', '--summary-json', [CompletionResultType]::ParameterName, 'Write the summary as JSON to FILE')
            [CompletionResult]::new('--events-out', '--events-out', [CompletionResultType]::ParameterName, 'Write every event of the run to FILE, one JSON object a line')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('--fail-fast', '--fail-fast', [CompletionResultType]::ParameterName, 'Stop starting steps once one has failed for good')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the final status document as JSON on stdout')
            [CompletionResult]::new('--follow-output', '--follow-output', [CompletionResultType]::ParameterName, 'Stream each step''s output as it comes, each line prefixed `[step]`')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tasker;retry' {
            [CompletionResult]::new('--step', '--step', [CompletionResultType]::ParameterName, 'A step to run again, even if complete (repeatable); default: every step in error')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (kept in the transitions'' metadata)')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who [default: $USER]')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Steps running at once [default: the template''s max_parallel, else the CPU count]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Steps running at once [default: the template''s max_parallel, else the CPU count]')
            [CompletionResult]::new('--kill-grace', '--kill-grace', [CompletionResultType]::ParameterName, 'Time between SIGTERM and SIGKILL when a step is stopped [default: 10s]')
            [CompletionResult]::new('--trace', '--trace', [CompletionResultType]::ParameterName, 'Export spans and metrics [default: OTEL_TRACES_EXPORTER, else none]')
            [CompletionResult]::new('--summary-json', '--summary-json', [CompletionResultType]::ParameterName, 'Write the summary as JSON to FILE')
            [CompletionResult]::new('--events-out', '--events-out', [CompletionResultType]::ParameterName, 'Write every event of the run to FILE, one JSON object a line')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('--downstream', '--downstream', [CompletionResultType]::ParameterName, 'Also run again every step that depends on them')
            [CompletionResult]::new('--fail-fast', '--fail-fast', [CompletionResultType]::ParameterName, 'Stop starting steps once one has failed for good')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the final status document as JSON on stdout')
            [CompletionResult]::new('--follow-output', '--follow-output', [CompletionResultType]::ParameterName, 'Stream each step''s output as it comes, each line prefixed `[step]`')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tasker;cancel' {
            [CompletionResult]::new('--step', '--step', [CompletionResultType]::ParameterName, 'Cancel only this step (repeatable)')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (kept in the transitions'' metadata)')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who [default: $USER]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tasker;resolve' {
            [CompletionResult]::new('--step', '--step', [CompletionResultType]::ParameterName, 'The step to resolve; without it, the task (which must be in error)')
            [CompletionResult]::new('--results', '--results', [CompletionResultType]::ParameterName, 'The step''s results: JSON, or @FILE holding JSON [default: {}]')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (required; kept in the transition''s metadata)')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who [default: $USER]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tasker;annotate' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tasker;logs' {
            [CompletionResult]::new('--attempt', '--attempt', [CompletionResultType]::ParameterName, 'The attempt (1-based) [default: the latest]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('--stderr', '--stderr', [CompletionResultType]::ParameterName, 'Print stderr instead of stdout')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Keep printing while the attempt runs')
            [CompletionResult]::new('--follow', '--follow', [CompletionResultType]::ParameterName, 'Keep printing while the attempt runs')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the attempt''s output and details as JSON')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tasker;worker' {
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Steps running at once [default: the number of CPUs]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Steps running at once [default: the number of CPUs]')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Only steps of tasks in this namespace (repeatable)')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Only steps of tasks of this template name (repeatable)')
            [CompletionResult]::new('--id', '--id', [CompletionResultType]::ParameterName, 'How this worker is known in the store [default: HOST:PID]')
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'A worker silent this long is taken for dead and its steps are run again')
            [CompletionResult]::new('--kill-grace', '--kill-grace', [CompletionResultType]::ParameterName, 'Between SIGTERM and SIGKILL when a step is stopped')
            [CompletionResult]::new('--trace', '--trace', [CompletionResultType]::ParameterName, 'Export the spans and metrics of the tasks this worker ends [default: OTEL_TRACES_EXPORTER, else none]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('--drain', '--drain', [CompletionResultType]::ParameterName, 'Finish what this worker holds, claim nothing, and exit 0')
            [CompletionResult]::new('--once', '--once', [CompletionResultType]::ParameterName, 'Run until nothing is ready, then exit 0')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tasker;wait' {
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up after this long (exit 7) [default: wait as long as it takes]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tasker;events' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'The catalog: every event tasker emits, with its payload fields and an example')
            [CompletionResult]::new('log', 'log', [CompletionResultType]::ParameterValue, 'A task''s event history, in order')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tasker;events;list' {
            [CompletionResult]::new('--category', '--category', [CompletionResultType]::ParameterName, 'Only this category')
            [CompletionResult]::new('--search', '--search', [CompletionResultType]::ParameterName, 'Only events whose name or description contains this text')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print as JSON')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tasker;events;log' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Keep printing events as they come, until the task''s runner stops')
            [CompletionResult]::new('--follow', '--follow', [CompletionResultType]::ParameterName, 'Keep printing events as they come, until the task''s runner stops')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'One JSON object a line')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tasker;events;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'The catalog: every event tasker emits, with its payload fields and an example')
            [CompletionResult]::new('log', 'log', [CompletionResultType]::ParameterValue, 'A task''s event history, in order')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tasker;events;help;list' {
            break
        }
        'tasker;events;help;log' {
            break
        }
        'tasker;events;help;help' {
            break
        }
        'tasker;diagram' {
            [CompletionResult]::new('--template', '--template', [CompletionResultType]::ParameterName, 'Draw a template file instead of a task')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'mermaid, dot (Graphviz) or json')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Draw the template with `environments.ENV` merged in')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tasker;analytics' {
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only tasks created within this duration (e.g. `24h`, `7d`)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Only tasks of this namespace')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Only tasks of this template name')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print as JSON')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tasker;health' {
            [CompletionResult]::new('--max-orphaned', '--max-orphaned', [CompletionResultType]::ParameterName, 'Orphaned tasks allowed')
            [CompletionResult]::new('--max-failed', '--max-failed', [CompletionResultType]::ParameterName, 'Tasks allowed to have failed within --window')
            [CompletionResult]::new('--max-backoff', '--max-backoff', [CompletionResultType]::ParameterName, 'Steps allowed to wait out a backoff at once [default: no limit]')
            [CompletionResult]::new('--window', '--window', [CompletionResultType]::ParameterName, 'How far back failures count')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print as JSON')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tasker;metrics' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'prometheus (text exposition), json or csv')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only tasks created within this duration (e.g. `24h`, `7d`)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Only tasks of this namespace')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Only tasks of this template name')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tasker;tasks' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List tasks, newest first')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tasker;tasks;list' {
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'Only tasks in this state')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Only tasks of this namespace')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Only tasks of this template name')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only tasks created within this duration (e.g. `1h`, `7d`)')
            [CompletionResult]::new('--annotation', '--annotation', [CompletionResultType]::ParameterName, 'Only tasks annotated with TYPE (with this VALUE: JSON when it parses, else text)')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'At most this many tasks')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print as JSON')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tasker;tasks;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List tasks, newest first')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tasker;tasks;help;list' {
            break
        }
        'tasker;tasks;help;help' {
            break
        }
        'tasker;templates' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the templates found in the template directories')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print a template''s source')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tasker;templates;list' {
            [CompletionResult]::new('--templates', '--templates', [CompletionResultType]::ParameterName, 'Directories holding templates by name [env: TASKER_TEMPLATES, `:`-separated; default: ./workflows]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print as JSON')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tasker;templates;show' {
            [CompletionResult]::new('--templates', '--templates', [CompletionResultType]::ParameterName, 'Directories holding templates by name [env: TASKER_TEMPLATES, `:`-separated; default: ./workflows]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print its identity, file and source as JSON')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tasker;templates;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the templates found in the template directories')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print a template''s source')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tasker;templates;help;list' {
            break
        }
        'tasker;templates;help;show' {
            break
        }
        'tasker;templates;help;help' {
            break
        }
        'tasker;config' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print the effective configuration and the source of each value')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tasker;config;show' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print as JSON')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tasker;config;help' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print the effective configuration and the source of each value')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tasker;config;help;show' {
            break
        }
        'tasker;config;help;help' {
            break
        }
        'tasker;db' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the store''s path')
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Create the store or bring its schema up to date')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check the store: PRAGMA integrity_check, foreign_key_check and every step''s parents (exit 6 on problems)')
            [CompletionResult]::new('prune', 'prune', [CompletionResultType]::ParameterValue, 'Delete old finished tasks and everything that belongs to them')
            [CompletionResult]::new('vacuum', 'vacuum', [CompletionResultType]::ParameterValue, 'Rebuild the file to give freed space back to the system')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tasker;db;path' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tasker;db;migrate' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tasker;db;check' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print as JSON')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tasker;db;prune' {
            [CompletionResult]::new('--older-than', '--older-than', [CompletionResultType]::ParameterName, 'Only tasks created longer ago than this (e.g. `30d`)')
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'Only tasks in this state (repeatable) [default: complete, cancelled, resolved_manually]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Count what would be removed; remove nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print as JSON')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tasker;db;vacuum' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tasker;db;help' {
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the store''s path')
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Create the store or bring its schema up to date')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check the store: PRAGMA integrity_check, foreign_key_check and every step''s parents (exit 6 on problems)')
            [CompletionResult]::new('prune', 'prune', [CompletionResultType]::ParameterValue, 'Delete old finished tasks and everything that belongs to them')
            [CompletionResult]::new('vacuum', 'vacuum', [CompletionResultType]::ParameterValue, 'Rebuild the file to give freed space back to the system')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tasker;db;help;path' {
            break
        }
        'tasker;db;help;migrate' {
            break
        }
        'tasker;db;help;check' {
            break
        }
        'tasker;db;help;prune' {
            break
        }
        'tasker;db;help;vacuum' {
            break
        }
        'tasker;db;help;help' {
            break
        }
        'tasker;new' {
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Its namespace')
            [CompletionResult]::new('--steps', '--steps', [CompletionResultType]::ParameterName, 'Its steps, in order (each depends on the one before) [default: fetch,process,report]')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Where to write it')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tasker;completions' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tasker;generate-docs' {
            [CompletionResult]::new('--completions', '--completions', [CompletionResultType]::ParameterName, 'Where the completion scripts go')
            [CompletionResult]::new('--man', '--man', [CompletionResultType]::ParameterName, 'Where the man pages go')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more: every step start and completion')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tasker;help' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run a template: create a task, run its steps with retries, keep every state change')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check templates without running them; print each graph''s summary or every problem')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show a task''s state, its steps and Tasker''s execution summary')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Continue a task from the store, with the template snapshot it was created from')
            [CompletionResult]::new('retry', 'retry', [CompletionResultType]::ParameterValue, 'Run failed steps again with fresh attempts (or the steps named), then continue the task')
            [CompletionResult]::new('cancel', 'cancel', [CompletionResultType]::ParameterValue, 'Cancel a task, or some of its steps; a running task''s runner stops them within a second')
            [CompletionResult]::new('resolve', 'resolve', [CompletionResultType]::ParameterValue, 'Mark a step resolved by hand (its results feed its dependents), or a failed task')
            [CompletionResult]::new('annotate', 'annotate', [CompletionResultType]::ParameterValue, 'Attach a note to a task: a ticket number, an incident link, a reason')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Print what a step wrote on stdout (or stderr) in one of its attempts')
            [CompletionResult]::new('worker', 'worker', [CompletionResultType]::ParameterValue, 'Run the ready steps of any task in a shared (PostgreSQL) store, on this machine')
            [CompletionResult]::new('wait', 'wait', [CompletionResultType]::ParameterValue, 'Follow a task to its end (run by workers, or by another terminal); exit as `run` would')
            [CompletionResult]::new('events', 'events', [CompletionResultType]::ParameterValue, 'The event catalog (`events list`), and a task''s event history (`events log ID`)')
            [CompletionResult]::new('diagram', 'diagram', [CompletionResultType]::ParameterValue, 'Draw a task (state, attempts, duration per step; the critical path marked) or a template')
            [CompletionResult]::new('analytics', 'analytics', [CompletionResultType]::ParameterValue, 'Slowest steps and tasks, rates, and duration percentiles per step and per template')
            [CompletionResult]::new('health', 'health', [CompletionResultType]::ParameterValue, 'Tasks and steps by state, errors, backoffs and orphans; exit 1 when unhealthy')
            [CompletionResult]::new('metrics', 'metrics', [CompletionResultType]::ParameterValue, 'Task and step counts and duration histograms from the store, for Prometheus and others')
            [CompletionResult]::new('tasks', 'tasks', [CompletionResultType]::ParameterValue, 'The tasks in the store (`tasks list`), newest first, filtered by state, name, annotation')
            [CompletionResult]::new('templates', 'templates', [CompletionResultType]::ParameterValue, 'The templates in the template directories, by name and version (`templates list|show`)')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'The configuration in effect and where each value came from (`config show`)')
            [CompletionResult]::new('db', 'db', [CompletionResultType]::ParameterValue, 'Find, upgrade, check, trim and compact the store (`db path|migrate|check|prune|vacuum`)')
            [CompletionResult]::new('new', 'new', [CompletionResultType]::ParameterValue, 'Write a new template, ready to run, and an example plugin beside it')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the completion script for a shell')
            [CompletionResult]::new('generate-docs', 'generate-docs', [CompletionResultType]::ParameterValue, 'Write the completion scripts and man pages (for packaging and the repository)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tasker;help;run' {
            break
        }
        'tasker;help;validate' {
            break
        }
        'tasker;help;status' {
            break
        }
        'tasker;help;resume' {
            break
        }
        'tasker;help;retry' {
            break
        }
        'tasker;help;cancel' {
            break
        }
        'tasker;help;resolve' {
            break
        }
        'tasker;help;annotate' {
            break
        }
        'tasker;help;logs' {
            break
        }
        'tasker;help;worker' {
            break
        }
        'tasker;help;wait' {
            break
        }
        'tasker;help;events' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'The catalog: every event tasker emits, with its payload fields and an example')
            [CompletionResult]::new('log', 'log', [CompletionResultType]::ParameterValue, 'A task''s event history, in order')
            break
        }
        'tasker;help;events;list' {
            break
        }
        'tasker;help;events;log' {
            break
        }
        'tasker;help;diagram' {
            break
        }
        'tasker;help;analytics' {
            break
        }
        'tasker;help;health' {
            break
        }
        'tasker;help;metrics' {
            break
        }
        'tasker;help;tasks' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List tasks, newest first')
            break
        }
        'tasker;help;tasks;list' {
            break
        }
        'tasker;help;templates' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the templates found in the template directories')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print a template''s source')
            break
        }
        'tasker;help;templates;list' {
            break
        }
        'tasker;help;templates;show' {
            break
        }
        'tasker;help;config' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print the effective configuration and the source of each value')
            break
        }
        'tasker;help;config;show' {
            break
        }
        'tasker;help;db' {
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the store''s path')
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Create the store or bring its schema up to date')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check the store: PRAGMA integrity_check, foreign_key_check and every step''s parents (exit 6 on problems)')
            [CompletionResult]::new('prune', 'prune', [CompletionResultType]::ParameterValue, 'Delete old finished tasks and everything that belongs to them')
            [CompletionResult]::new('vacuum', 'vacuum', [CompletionResultType]::ParameterValue, 'Rebuild the file to give freed space back to the system')
            break
        }
        'tasker;help;db;path' {
            break
        }
        'tasker;help;db;migrate' {
            break
        }
        'tasker;help;db;check' {
            break
        }
        'tasker;help;db;prune' {
            break
        }
        'tasker;help;db;vacuum' {
            break
        }
        'tasker;help;new' {
            break
        }
        'tasker;help;completions' {
            break
        }
        'tasker;help;generate-docs' {
            break
        }
        'tasker;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
