
use builtin;
use str;

set edit:completion:arg-completer[tasker] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'tasker'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'tasker'= {
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand run 'Run a template: create a task, run its steps with retries, keep every state change'
            cand validate 'Check templates without running them; print each graph''s summary or every problem'
            cand status 'Show a task''s state, its steps and Tasker''s execution summary'
            cand resume 'Continue a task from the store, with the template snapshot it was created from'
            cand retry 'Run failed steps again with fresh attempts (or the steps named), then continue the task'
            cand cancel 'Cancel a task, or some of its steps; a running task''s runner stops them within a second'
            cand resolve 'Mark a step resolved by hand (its results feed its dependents), or a failed task'
            cand annotate 'Attach a note to a task: a ticket number, an incident link, a reason'
            cand logs 'Print what a step wrote on stdout (or stderr) in one of its attempts'
            cand worker 'Run the ready steps of any task in a shared (PostgreSQL) store, on this machine'
            cand wait 'Follow a task to its end (run by workers, or by another terminal); exit as `run` would'
            cand events 'The event catalog (`events list`), and a task''s event history (`events log ID`)'
            cand diagram 'Draw a task (state, attempts, duration per step; the critical path marked) or a template'
            cand analytics 'Slowest steps and tasks, rates, and duration percentiles per step and per template'
            cand health 'Tasks and steps by state, errors, backoffs and orphans; exit 1 when unhealthy'
            cand metrics 'Task and step counts and duration histograms from the store, for Prometheus and others'
            cand tasks 'The tasks in the store (`tasks list`), newest first, filtered by state, name, annotation'
            cand templates 'The templates in the template directories, by name and version (`templates list|show`)'
            cand config 'The configuration in effect and where each value came from (`config show`)'
            cand db 'Find, upgrade, check, trim and compact the store (`db path|migrate|check|prune|vacuum`)'
            cand new 'Write a new template, ready to run, and an example plugin beside it'
            cand completions 'Print the completion script for a shell'
            cand generate-docs 'Write the completion scripts and man pages (for packaging and the repository)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tasker;run'= {
            cand --context 'The task context: a JSON object, or @FILE holding one'
            cand --set 'Set one context value (KEY.PATH=VALUE; VALUE is JSON when it parses, else text); repeatable'
            cand --env 'Merge the template''s `environments.ENV` overrides into its steps [env: TASKER_ENV; config: env]'
            cand --templates 'Directories holding templates by name [env: TASKER_TEMPLATES, `:`-separated; default: ./workflows]'
            cand -j 'Steps running at once [default: the template''s max_parallel, else the CPU count]'
            cand --concurrency 'Steps running at once [default: the template''s max_parallel, else the CPU count]'
            cand --kill-grace 'Time between SIGTERM and SIGKILL when a step is stopped [default: 10s]'
            cand --trace 'Export spans and metrics [default: OTEL_TRACES_EXPORTER, else none]'
            cand --summary-json 'Write the summary as JSON to FILE'
            cand --events-out 'Write every event of the run to FILE, one JSON object a line'
            cand --idempotency-key 'A second run with the same template and key returns the first task instead'
            cand --dedup 'Derive the idempotency key: `hash` = the template identity and the context'
            cand --bypass-steps 'Skippable steps to mark resolved without running (comma-separated)'
            cand --initiator 'Who or what started the task (stored and shown by `status`)'
            cand --source-system 'The system the task came from (stored and shown by `status`)'
            cand --reason 'Why the task runs (stored and shown by `status`)'
            cand --tag 'A tag for the task (repeatable)'
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand --fail-fast 'Stop starting steps once one has failed for good'
            cand --json 'Print the final status document as JSON on stdout'
            cand --follow-output 'Stream each step''s output as it comes, each line prefixed `[step]`'
            cand --dry-run 'Check everything and print the plan by level; run nothing, write nothing'
            cand --detach 'Run in the background: print `task <id>` and return at once'
            cand --submit 'Only create the task, for `tasker worker`s to run (a PostgreSQL store): print `task <id>` and exit 0; `tasker wait ID` follows it'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tasker;validate'= {
            cand --env 'Check the templates with `environments.ENV` merged in [env: TASKER_ENV; config: env]'
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand --json 'Print the summaries as JSON'
            cand --graph 'Also print the levels and the steps that block the most dependents'
            cand --strict 'Make every warning an error (for CI) [config: strict = true]'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tasker;status'= {
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand --json 'Print the status document as JSON'
            cand --graph 'Also show the graph: levels, what blocks the most, the critical path by duration'
            cand -w 'Keep showing the status as it changes, until the task ends'
            cand --watch 'Keep showing the status as it changes, until the task ends'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tasker;resume'= {
            cand -j 'Steps running at once [default: the template''s max_parallel, else the CPU count]'
            cand --concurrency 'Steps running at once [default: the template''s max_parallel, else the CPU count]'
            cand --kill-grace 'Time between SIGTERM and SIGKILL when a step is stopped [default: 10s]'
            cand --trace 'Export spans and metrics [default: OTEL_TRACES_EXPORTER, else none]'
            cand --summary-json 'Write the summary as JSON to FILE'
            cand --events-out 'Write every event of the run to FILE, one JSON object a line'
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand --fail-fast 'Stop starting steps once one has failed for good'
            cand --json 'Print the final status document as JSON on stdout'
            cand --follow-output 'Stream each step''s output as it comes, each line prefixed `[step]`'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tasker;retry'= {
            cand --step 'A step to run again, even if complete (repeatable); default: every step in error'
            cand --reason 'Why (kept in the transitions'' metadata)'
            cand --actor 'Who [default: $USER]'
            cand -j 'Steps running at once [default: the template''s max_parallel, else the CPU count]'
            cand --concurrency 'Steps running at once [default: the template''s max_parallel, else the CPU count]'
            cand --kill-grace 'Time between SIGTERM and SIGKILL when a step is stopped [default: 10s]'
            cand --trace 'Export spans and metrics [default: OTEL_TRACES_EXPORTER, else none]'
            cand --summary-json 'Write the summary as JSON to FILE'
            cand --events-out 'Write every event of the run to FILE, one JSON object a line'
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand --downstream 'Also run again every step that depends on them'
            cand --fail-fast 'Stop starting steps once one has failed for good'
            cand --json 'Print the final status document as JSON on stdout'
            cand --follow-output 'Stream each step''s output as it comes, each line prefixed `[step]`'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tasker;cancel'= {
            cand --step 'Cancel only this step (repeatable)'
            cand --reason 'Why (kept in the transitions'' metadata)'
            cand --actor 'Who [default: $USER]'
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tasker;resolve'= {
            cand --step 'The step to resolve; without it, the task (which must be in error)'
            cand --results 'The step''s results: JSON, or @FILE holding JSON [default: {}]'
            cand --reason 'Why (required; kept in the transition''s metadata)'
            cand --actor 'Who [default: $USER]'
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tasker;annotate'= {
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tasker;logs'= {
            cand --attempt 'The attempt (1-based) [default: the latest]'
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand --stderr 'Print stderr instead of stdout'
            cand -f 'Keep printing while the attempt runs'
            cand --follow 'Keep printing while the attempt runs'
            cand --json 'Print the attempt''s output and details as JSON'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tasker;worker'= {
            cand -j 'Steps running at once [default: the number of CPUs]'
            cand --concurrency 'Steps running at once [default: the number of CPUs]'
            cand --namespace 'Only steps of tasks in this namespace (repeatable)'
            cand --name 'Only steps of tasks of this template name (repeatable)'
            cand --id 'How this worker is known in the store [default: HOST:PID]'
            cand --grace 'A worker silent this long is taken for dead and its steps are run again'
            cand --kill-grace 'Between SIGTERM and SIGKILL when a step is stopped'
            cand --trace 'Export the spans and metrics of the tasks this worker ends [default: OTEL_TRACES_EXPORTER, else none]'
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand --drain 'Finish what this worker holds, claim nothing, and exit 0'
            cand --once 'Run until nothing is ready, then exit 0'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tasker;wait'= {
            cand --timeout 'Give up after this long (exit 7) [default: wait as long as it takes]'
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tasker;events'= {
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand list 'The catalog: every event tasker emits, with its payload fields and an example'
            cand log 'A task''s event history, in order'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tasker;events;list'= {
            cand --category 'Only this category'
            cand --search 'Only events whose name or description contains this text'
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand --json 'Print as JSON'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tasker;events;log'= {
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand -f 'Keep printing events as they come, until the task''s runner stops'
            cand --follow 'Keep printing events as they come, until the task''s runner stops'
            cand --json 'One JSON object a line'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tasker;events;help'= {
            cand list 'The catalog: every event tasker emits, with its payload fields and an example'
            cand log 'A task''s event history, in order'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tasker;events;help;list'= {
        }
        &'tasker;events;help;log'= {
        }
        &'tasker;events;help;help'= {
        }
        &'tasker;diagram'= {
            cand --template 'Draw a template file instead of a task'
            cand --format 'mermaid, dot (Graphviz) or json'
            cand --env 'Draw the template with `environments.ENV` merged in'
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tasker;analytics'= {
            cand --since 'Only tasks created within this duration (e.g. `24h`, `7d`)'
            cand --namespace 'Only tasks of this namespace'
            cand --name 'Only tasks of this template name'
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand --json 'Print as JSON'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tasker;health'= {
            cand --max-orphaned 'Orphaned tasks allowed'
            cand --max-failed 'Tasks allowed to have failed within --window'
            cand --max-backoff 'Steps allowed to wait out a backoff at once [default: no limit]'
            cand --window 'How far back failures count'
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand --json 'Print as JSON'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tasker;metrics'= {
            cand --format 'prometheus (text exposition), json or csv'
            cand --since 'Only tasks created within this duration (e.g. `24h`, `7d`)'
            cand --namespace 'Only tasks of this namespace'
            cand --name 'Only tasks of this template name'
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tasker;tasks'= {
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand list 'List tasks, newest first'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tasker;tasks;list'= {
            cand --status 'Only tasks in this state'
            cand --namespace 'Only tasks of this namespace'
            cand --name 'Only tasks of this template name'
            cand --since 'Only tasks created within this duration (e.g. `1h`, `7d`)'
            cand --annotation 'Only tasks annotated with TYPE (with this VALUE: JSON when it parses, else text)'
            cand --limit 'At most this many tasks'
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand --json 'Print as JSON'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tasker;tasks;help'= {
            cand list 'List tasks, newest first'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tasker;tasks;help;list'= {
        }
        &'tasker;tasks;help;help'= {
        }
        &'tasker;templates'= {
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand list 'List the templates found in the template directories'
            cand show 'Print a template''s source'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tasker;templates;list'= {
            cand --templates 'Directories holding templates by name [env: TASKER_TEMPLATES, `:`-separated; default: ./workflows]'
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand --json 'Print as JSON'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tasker;templates;show'= {
            cand --templates 'Directories holding templates by name [env: TASKER_TEMPLATES, `:`-separated; default: ./workflows]'
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand --json 'Print its identity, file and source as JSON'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tasker;templates;help'= {
            cand list 'List the templates found in the template directories'
            cand show 'Print a template''s source'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tasker;templates;help;list'= {
        }
        &'tasker;templates;help;show'= {
        }
        &'tasker;templates;help;help'= {
        }
        &'tasker;config'= {
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand show 'Print the effective configuration and the source of each value'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tasker;config;show'= {
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand --json 'Print as JSON'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tasker;config;help'= {
            cand show 'Print the effective configuration and the source of each value'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tasker;config;help;show'= {
        }
        &'tasker;config;help;help'= {
        }
        &'tasker;db'= {
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand path 'Print the store''s path'
            cand migrate 'Create the store or bring its schema up to date'
            cand check 'Check the store: PRAGMA integrity_check, foreign_key_check and every step''s parents (exit 6 on problems)'
            cand prune 'Delete old finished tasks and everything that belongs to them'
            cand vacuum 'Rebuild the file to give freed space back to the system'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tasker;db;path'= {
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tasker;db;migrate'= {
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tasker;db;check'= {
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand --json 'Print as JSON'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tasker;db;prune'= {
            cand --older-than 'Only tasks created longer ago than this (e.g. `30d`)'
            cand --status 'Only tasks in this state (repeatable) [default: complete, cancelled, resolved_manually]'
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand --dry-run 'Count what would be removed; remove nothing'
            cand --json 'Print as JSON'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tasker;db;vacuum'= {
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tasker;db;help'= {
            cand path 'Print the store''s path'
            cand migrate 'Create the store or bring its schema up to date'
            cand check 'Check the store: PRAGMA integrity_check, foreign_key_check and every step''s parents (exit 6 on problems)'
            cand prune 'Delete old finished tasks and everything that belongs to them'
            cand vacuum 'Rebuild the file to give freed space back to the system'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tasker;db;help;path'= {
        }
        &'tasker;db;help;migrate'= {
        }
        &'tasker;db;help;check'= {
        }
        &'tasker;db;help;prune'= {
        }
        &'tasker;db;help;vacuum'= {
        }
        &'tasker;db;help;help'= {
        }
        &'tasker;new'= {
            cand --namespace 'Its namespace'
            cand --steps 'Its steps, in order (each depends on the one before) [default: fetch,process,report]'
            cand --dir 'Where to write it'
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tasker;completions'= {
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tasker;generate-docs'= {
            cand --completions 'Where the completion scripts go'
            cand --man 'Where the man pages go'
            cand --config 'The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]'
            cand --db 'The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]'
            cand --color 'Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]'
            cand --log-format 'Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]'
            cand -v 'Print more: every step start and completion'
            cand --verbose 'Print more: every step start and completion'
            cand -q 'Print nothing on stderr but errors'
            cand --quiet 'Print nothing on stderr but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tasker;help'= {
            cand run 'Run a template: create a task, run its steps with retries, keep every state change'
            cand validate 'Check templates without running them; print each graph''s summary or every problem'
            cand status 'Show a task''s state, its steps and Tasker''s execution summary'
            cand resume 'Continue a task from the store, with the template snapshot it was created from'
            cand retry 'Run failed steps again with fresh attempts (or the steps named), then continue the task'
            cand cancel 'Cancel a task, or some of its steps; a running task''s runner stops them within a second'
            cand resolve 'Mark a step resolved by hand (its results feed its dependents), or a failed task'
            cand annotate 'Attach a note to a task: a ticket number, an incident link, a reason'
            cand logs 'Print what a step wrote on stdout (or stderr) in one of its attempts'
            cand worker 'Run the ready steps of any task in a shared (PostgreSQL) store, on this machine'
            cand wait 'Follow a task to its end (run by workers, or by another terminal); exit as `run` would'
            cand events 'The event catalog (`events list`), and a task''s event history (`events log ID`)'
            cand diagram 'Draw a task (state, attempts, duration per step; the critical path marked) or a template'
            cand analytics 'Slowest steps and tasks, rates, and duration percentiles per step and per template'
            cand health 'Tasks and steps by state, errors, backoffs and orphans; exit 1 when unhealthy'
            cand metrics 'Task and step counts and duration histograms from the store, for Prometheus and others'
            cand tasks 'The tasks in the store (`tasks list`), newest first, filtered by state, name, annotation'
            cand templates 'The templates in the template directories, by name and version (`templates list|show`)'
            cand config 'The configuration in effect and where each value came from (`config show`)'
            cand db 'Find, upgrade, check, trim and compact the store (`db path|migrate|check|prune|vacuum`)'
            cand new 'Write a new template, ready to run, and an example plugin beside it'
            cand completions 'Print the completion script for a shell'
            cand generate-docs 'Write the completion scripts and man pages (for packaging and the repository)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tasker;help;run'= {
        }
        &'tasker;help;validate'= {
        }
        &'tasker;help;status'= {
        }
        &'tasker;help;resume'= {
        }
        &'tasker;help;retry'= {
        }
        &'tasker;help;cancel'= {
        }
        &'tasker;help;resolve'= {
        }
        &'tasker;help;annotate'= {
        }
        &'tasker;help;logs'= {
        }
        &'tasker;help;worker'= {
        }
        &'tasker;help;wait'= {
        }
        &'tasker;help;events'= {
            cand list 'The catalog: every event tasker emits, with its payload fields and an example'
            cand log 'A task''s event history, in order'
        }
        &'tasker;help;events;list'= {
        }
        &'tasker;help;events;log'= {
        }
        &'tasker;help;diagram'= {
        }
        &'tasker;help;analytics'= {
        }
        &'tasker;help;health'= {
        }
        &'tasker;help;metrics'= {
        }
        &'tasker;help;tasks'= {
            cand list 'List tasks, newest first'
        }
        &'tasker;help;tasks;list'= {
        }
        &'tasker;help;templates'= {
            cand list 'List the templates found in the template directories'
            cand show 'Print a template''s source'
        }
        &'tasker;help;templates;list'= {
        }
        &'tasker;help;templates;show'= {
        }
        &'tasker;help;config'= {
            cand show 'Print the effective configuration and the source of each value'
        }
        &'tasker;help;config;show'= {
        }
        &'tasker;help;db'= {
            cand path 'Print the store''s path'
            cand migrate 'Create the store or bring its schema up to date'
            cand check 'Check the store: PRAGMA integrity_check, foreign_key_check and every step''s parents (exit 6 on problems)'
            cand prune 'Delete old finished tasks and everything that belongs to them'
            cand vacuum 'Rebuild the file to give freed space back to the system'
        }
        &'tasker;help;db;path'= {
        }
        &'tasker;help;db;migrate'= {
        }
        &'tasker;help;db;check'= {
        }
        &'tasker;help;db;prune'= {
        }
        &'tasker;help;db;vacuum'= {
        }
        &'tasker;help;new'= {
        }
        &'tasker;help;completions'= {
        }
        &'tasker;help;generate-docs'= {
        }
        &'tasker;help;help'= {
        }
    ]
    $completions[$command]
}
