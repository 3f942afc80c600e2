//! A value never becomes code: every quoting context of a shell line × hostile values ×
//! every site a template interpolates.

use crate::server::{Reply, Server};
use crate::support::{Sandbox, stderr, stdout};

/// Values that would run `touch PWNED` if any site read them as code.
const HOSTILE: &[&str] = &[
    "$(touch PWNED)",
    "`touch PWNED`",
    "x; touch PWNED",
    "'; touch PWNED; '",
    "\"; touch PWNED; \"",
    "a\nb; touch PWNED\nc",
    "\\\"$(touch PWNED)\\",
    "${IFS}touch${IFS}PWNED",
    "* && touch PWNED || x",
    "$'\\x41'; touch PWNED",
];

/// Steps that write what they were given to `NAME.out`, one per quoting context and site.
const SHELL_SITES: &[(&str, &str)] = &[
    (
        "unquoted",
        "command: printf '%s' {{ context.v }} > unquoted.out",
    ),
    (
        "double",
        r#"command: printf '%s' "<{{ context.v }}>" > double.out"#,
    ),
    (
        "subst",
        r#"command: x=$(printf '%s' {{ context.v }}); printf '%s' "$x" > subst.out"#,
    ),
    (
        "subst_in_double",
        r#"command: printf '%s' "$(printf '%s' "{{ context.v }}")" > subst_in_double.out"#,
    ),
    (
        "default",
        r#"command: printf '%s' "${UNSET_TASKER_TEST:-{{ context.v }}}" > default.out"#,
    ),
    (
        "default_unquoted",
        "command: printf '%s' ${UNSET_TASKER_TEST:-{{ context.v }}} > default_unquoted.out",
    ),
    (
        "multiline",
        "command: |\n      echo start > /dev/null\n      printf '%s' \"{{ context.v }}\" > multiline.out",
    ),
    (
        "from_results",
        "depends_on: [produce]\n    command: printf '%s' {{ steps.produce.results.v }} > from_results.out",
    ),
    (
        "argv_positional",
        r#"command: [sh, -c, 'printf "%s" "$1" > argv_positional.out', sh, '{{ context.v }}']"#,
    ),
    (
        "argv_script",
        r#"command: [sh, -c, 'printf "%s" "{{ context.v }}" > argv_script.out']"#,
    ),
    (
        "argv_plain",
        r#"command: [python3, -c, 'import sys; open("argv_plain.out", "w").write(sys.argv[1])', '{{ context.v }}']"#,
    ),
    (
        "env",
        "env: { V: '{{ context.v }}' }\n    command: printf '%s' \"$V\" > env.out",
    ),
];

fn template(url: &str) -> String {
    let mut t = String::from(
        "name: inject\nsteps:\n  - name: produce\n    command: |\n      python3 -c 'import json,os; print(json.dumps({\"v\": os.environ[\"TASKER_CONTEXT_V\"]}))' > \"$TASKER_OUTPUT\"\n",
    );
    for (name, body) in SHELL_SITES {
        t.push_str(&format!("  - name: {name}\n    {body}\n"));
    }
    t.push_str(&format!(
        r#"  - name: plugin
    plugin: {{ command: [python3, plugin.py, '{{{{ context.v }}}}'] }}
  - name: body_json
    retry: {{ limit: 1 }}
    http: {{ url: '{url}/json', method: POST, json: {{ v: '{{{{ context.v }}}}', pre: 'pre {{{{ context.v }}}}' }} }}
  - name: body_text
    retry: {{ limit: 1 }}
    http: {{ url: '{url}/text', method: POST, body: '<{{{{ context.v }}}}>' }}
  - name: header
    retry: {{ limit: 1 }}
    http: {{ url: '{url}/header', headers: {{ X-V: '{{{{ context.v }}}}' }} }}
  - name: url
    retry: {{ limit: 1 }}
    http: {{ url: '{url}/path/{{{{ context.v }}}}?q={{{{ context.v }}}}' }}
"#
    ));
    t
}

const PLUGIN: &str = r#"import json, sys
doc = json.load(sys.stdin)
print(json.dumps({"result": {"arg": sys.argv[1], "context": doc["context"]["v"]}}))
"#;

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).expect("utf-8")
}

#[test]
fn hostile_values_are_data_in_every_quoting_context_and_site() {
    let server = Server::start(vec![Reply::new(200, "{}")]);
    let sb = Sandbox::new();
    sb.write("t.yml", &template(&server.url("")));
    sb.write("plugin.py", PLUGIN);
    let out = sb.run(&["validate", "t.yml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    for (n, value) in HOSTILE.iter().enumerate() {
        let id = (n + 1) as i64;
        let context = serde_json::json!({ "v": value }).to_string();
        // The dry run shows the values, and runs nothing.
        let dry = sb.run(&["run", "t.yml", "--dry-run", "--context", &context]);
        assert_eq!(dry.status.code(), Some(0), "{}", stderr(&dry));
        assert!(
            stdout(&dry).contains("\"${TASKER_REF_1}\""),
            "{}",
            stdout(&dry)
        );
        let before = server.requests().len();

        let out = sb.run(&["run", "t.yml", "--context", &context]);
        let err = stderr(&out);
        assert!(
            !sb.path().join("PWNED").exists(),
            "{value:?} ran as code:\n{err}"
        );
        let doc = sb.status(id);
        let read = |f: &str| {
            std::fs::read_to_string(sb.path().join(format!("{f}.out")))
                .unwrap_or_else(|e| panic!("{value:?}: {f}.out: {e}\n{err}"))
        };
        for (site, _) in SHELL_SITES {
            let got = read(site);
            let want = match *site {
                "double" => format!("<{value}>"),
                _ => value.to_string(),
            };
            assert_eq!(got, want, "{value:?} at {site}");
            let _ = std::fs::remove_file(sb.path().join(format!("{site}.out")));
        }
        let plugin = &Sandbox::step(&doc, "plugin")["results"];
        assert_eq!(plugin["arg"], *value, "{doc:#}");
        assert_eq!(plugin["context"], *value);

        let seen: Vec<_> = server.requests().into_iter().skip(before).collect();
        let find = |prefix: &str| seen.iter().find(|s| s.path.starts_with(prefix));
        let json = find("/json").expect("the JSON body was sent");
        let body: serde_json::Value = serde_json::from_str(&json.body).expect("JSON");
        assert_eq!(
            body,
            serde_json::json!({"v": value, "pre": format!("pre {value}")})
        );
        assert_eq!(find("/text").expect("text body").body, format!("<{value}>"));
        let url = find("/path/").expect("the URL was called");
        let (path, query) = url.path.split_once('?').expect("a query");
        assert_eq!(percent_decode(&path["/path/".len()..]), *value);
        assert_eq!(percent_decode(&query["q=".len()..]), *value);
        assert!(!path["/path/".len()..].contains(['/', '?', ' ']));
        let header = Sandbox::step(&doc, "header");
        if value.contains('\n') {
            // A line break cannot be sent in a header: refused before anything is sent.
            assert_eq!(header["status"], "error", "{header}");
            assert!(find("/header").is_none());
            assert_eq!(out.status.code(), Some(1), "{err}");
        } else {
            assert_eq!(find("/header").expect("header").header("X-V"), Some(*value));
            assert_eq!(out.status.code(), Some(0), "{value:?}: {err}");
        }
    }
}

/// Where the shell would not expand a variable, or another program reads the text as
/// code, a reference is refused by `validate`, by `run` and by the dry run, naming the step
/// and the column — and nothing runs.
#[test]
fn references_where_a_value_could_become_code_are_refused() {
    let sb = Sandbox::new();
    let cases: &[(&str, &str, &str)] = &[
        (
            "single",
            "echo '{{ context.v }}'",
            "column 7 is inside single quotes",
        ),
        (
            "ansi_c",
            "echo $'{{ context.v }}'",
            "column 8 is inside `$'…'`",
        ),
        (
            "backticks",
            "echo `echo {{ context.v }}`",
            "column 12 is inside backticks",
        ),
        (
            "arith",
            "echo $(( {{ context.v }} + 1 ))",
            "column 10 is in an arithmetic expression",
        ),
        (
            "bash_test",
            "[[ {{ context.v }} -eq 1 ]]",
            "column 4 is inside a `[[ … ]]` that compares numbers",
        ),
        (
            "trap",
            "trap \"rm -f {{ context.v }}\" EXIT",
            "is in the code given to `trap`",
        ),
        (
            "piped",
            "echo \"{{ context.v }}\" | sh",
            "reaches `sh` on its standard input",
        ),
        (
            "in_case",
            "out=\"$(case a in a) eval {{ context.v }};; esac)\"",
            "is in the code given to `eval`",
        ),
        (
            "continued_heredoc",
            "sh <<EOF\n      echo start \\\n      EOF\n      {{ context.v }}\n      EOF",
            "line 4, column 1 is inside a here-document",
        ),
        (
            "heredoc",
            "cat <<EOF\n      hello {{ context.v }}\n      EOF",
            "line 2, column 7 is inside a here-document",
        ),
        (
            "quoted_heredoc",
            "cat <<'EOF'\n      hello {{ context.v }}\n      EOF",
            "line 2, column 7 is inside a here-document",
        ),
        (
            "escaped",
            "echo \\{{ context.v }}",
            "column 7 follows a `\\`",
        ),
        (
            "sh_c",
            "sh -c \"echo {{ context.v }}\"",
            "is in the code given to `sh`",
        ),
        (
            "bash_c",
            "bash -ec \"echo {{ context.v }}\"",
            "is in the code given to `bash`",
        ),
        (
            "eval",
            "eval \"echo {{ context.v }}\"",
            "is in the code given to `eval`",
        ),
        (
            "python",
            "python3 -c \"print('{{ context.v }}')\"",
            "is in the code given to `python3`",
        ),
        (
            "ssh",
            "ssh host \"ls {{ context.v }}\"",
            "is in the code given to `ssh`",
        ),
    ];
    for (name, command, why) in cases {
        let text = if command.contains('\n') {
            format!("name: bad\nsteps:\n  - name: {name}\n    command: |\n      {command}\n")
        } else {
            format!(
                "name: bad\nsteps:\n  - name: {name}\n    command: {}\n",
                serde_json::to_string(command).expect("json")
            )
        };
        sb.write("bad.yml", &text);
        for args in [
            vec!["validate", "bad.yml"],
            vec!["run", "bad.yml", "--set", "v=$(touch PWNED)"],
            vec!["run", "bad.yml", "--dry-run", "--set", "v=x"],
        ] {
            let out = sb.run(&args);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{name} {args:?}: {err}");
            assert!(
                err.contains(&format!("step `{name}`")) && err.contains(why),
                "{name} {args:?}: want {why:?} in\n{err}"
            );
            assert!(err.contains("hint: "), "{err}");
        }
        assert!(!sb.db().exists(), "{name}: nothing written");
        assert!(!sb.path().join("PWNED").exists());
    }

    // An argv shell behind a program that clears the environment would get no value.
    sb.write(
        "argv_env.yml",
        "name: bad\nsteps:\n  - name: a\n    command: [env, -i, sh, -c, 'rm -rf /srv/data/{{ context.v }}']\n",
    );
    let err = stderr(&sb.run(&["validate", "argv_env.yml"]));
    assert!(
        err.contains("argument 5: `{{ context.v }}` at column 18 is in the script of `sh`, which runs behind another program that may not pass tasker's environment on"),
        "{err}"
    );

    // In an argv program: a shell script taking a value in single quotes, and code for
    // another interpreter.
    sb.write(
        "argv.yml",
        "name: bad\nsteps:\n  - name: a\n    command: [bash, -c, \"echo '{{ context.v }}'\"]\n  - name: b\n    plugin: { command: [perl, -e, 'print \"{{ context.v }}\"'] }\n",
    );
    let out = sb.run(&["validate", "argv.yml"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "step `a`: `command`: argument 3: `{{ context.v }}` at column 7 is inside single quotes"
        ),
        "{err}"
    );
    assert!(
        err.contains("step `b`: `plugin`")
            && err.contains(
                "argument 3: `{{ context.v }}` at column 8 is in the code given to `perl`"
            ),
        "{err}"
    );
}

/// What a dry run shows is what the run gives `sh -c`; a value too big to pass is named
/// before anything runs; the shell line runs without the value in it.
#[test]
fn the_dry_run_shows_the_variables_and_big_values_are_refused_clearly() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: big\nsteps:\n  - name: a\n    command: printf '%s' \"{{ context.v }}\" | wc -c > n.out\n",
    );
    let out = sb.run(&["run", "t.yml", "--dry-run", "--set", "v=hello"]);
    assert_eq!(
        stdout(&out),
        "plan of default/big@0.1.0 (1 step, 1 level); nothing was run or written\nlevel 1\n  a: command printf '%s' \"${TASKER_REF_1}\" | wc -c > n.out\n      TASKER_REF_1=hello\n"
    );
    let big = "x".repeat(200 * 1024);
    sb.write("big.json", &serde_json::json!({ "v": big }).to_string());
    let out = sb.run(&["run", "t.yml", "--dry-run", "--context", "@big.json"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("step `a`: `{{ context.v }}` is 204800 bytes, more than the 128 KiB an argument or environment variable can hold; read it from $TASKER_INPUT"),
        "{err}"
    );
    assert!(
        err.contains("warning: context value `v` (204800 bytes) is too big for the environment"),
        "{err}"
    );
    let out = sb.run(&["run", "t.yml", "--context", "@big.json"]);
    let doc = sb.status(1);
    let a = Sandbox::step(&doc, "a");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(a["error"]["class"], "interpolation", "{a}");
    assert_eq!(a["attempts"], 1, "not retried: {a}");
}

/// A context value too big for the environment (the kernel takes at most 128 KiB a
/// string) gets no `TASKER_CONTEXT_*` variable instead of stopping every step: the steps
/// run, and read it from `TASKER_INPUT`; the dry run warns.
#[test]
fn a_context_value_too_big_for_the_environment_is_left_to_the_input_document() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: big\nsteps:\n  - name: a\n    command: |\n      test -z \"${TASKER_CONTEXT_BLOB+set}\" && test \"$TASKER_CONTEXT_SMALL\" = ok\n      python3 -c 'import json,os; print(len(json.load(open(os.environ[\"TASKER_INPUT\"]))[\"context\"][\"blob\"]))' > len.txt\n",
    );
    let blob = "b".repeat(200 * 1024);
    sb.write(
        "ctx.json",
        &serde_json::json!({ "blob": blob, "small": "ok" }).to_string(),
    );
    let dry = sb.run(&["run", "t.yml", "--dry-run", "--context", "@ctx.json"]);
    assert_eq!(dry.status.code(), Some(0), "{}", stderr(&dry));
    assert!(
        stderr(&dry).contains("warning: context value `blob` (204800 bytes) is too big for the environment: steps get no TASKER_CONTEXT_ variable for it and read it from $TASKER_INPUT"),
        "{}",
        stderr(&dry)
    );
    let out = sb.run(&["run", "t.yml", "--context", "@ctx.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(sb.path().join("len.txt")).expect("len"),
        "204800\n"
    );
}
