//! The shell reader against the contexts it must accept and refuse.

use super::*;

fn ok(text: &str) -> String {
    compile(text).expect(text).line
}

fn refused(text: &str) -> String {
    let r = compile(text).expect_err(text);
    r[0].message(false)
}

#[test]
fn values_become_variables_in_every_expanding_context() {
    assert_eq!(ok("echo {{ context.a }}"), r#"echo "${TASKER_REF_1}""#);
    assert_eq!(
        ok(r#"echo "Hello {{ context.a }}!" {{ context.a }}"#),
        r#"echo "Hello ${TASKER_REF_1}!" "${TASKER_REF_1}""#
    );
    assert_eq!(
        ok("x=$(echo {{ context.a }}) y=\"$(printf '%s' \"{{ task.id }}\")\""),
        "x=$(echo \"${TASKER_REF_1}\") y=\"$(printf '%s' \"${TASKER_REF_2}\")\""
    );
    // In `${…}` the value is quoted too, so it is never a pattern.
    assert_eq!(
        ok("echo ${X:-{{ context.a }}} \"${X:-{{ context.a }}}\" \"${f%.{{ context.a }}}\""),
        "echo ${X:-\"${TASKER_REF_1}\"} \"${X:-\"${TASKER_REF_1}\"}\" \"${f%.\"${TASKER_REF_1}\"}\""
    );
    assert_eq!(
        ok("echo its # it's a comment {{ context.a }}\necho {{ context.b }}"),
        "echo its # it's a comment {{ context.a }}\necho \"${TASKER_REF_1}\""
    );
    assert_eq!(
        ok("cat <<'EOF'\n$(not code)\nEOF\necho {{ context.a }}"),
        "cat <<'EOF'\n$(not code)\nEOF\necho \"${TASKER_REF_1}\""
    );
    // Positional arguments of `sh -c` are data.
    assert_eq!(
        ok("sh -c 'echo \"$1\"' sh {{ context.a }}"),
        "sh -c 'echo \"$1\"' sh \"${TASKER_REF_1}\""
    );
    // Line continuations are joined, as the shell joins them.
    assert_eq!(
        ok("./deploy \\\n  --id {{ context.a }}"),
        "./deploy   --id \"${TASKER_REF_1}\""
    );
    // Here-strings are data.
    assert_eq!(ok("cat <<< {{ context.a }}"), "cat <<< \"${TASKER_REF_1}\"");
    assert_eq!(
        ok("cat <<< hello\necho {{ context.a }}"),
        "cat <<< hello\necho \"${TASKER_REF_1}\""
    );
    // A `case` pattern's `)` does not end `$(`.
    assert_eq!(
        ok("x=\"$(case a in a) printf %s {{ context.a }};; esac)\""),
        "x=\"$(case a in a) printf %s \"${TASKER_REF_1}\";; esac)\""
    );
}

#[test]
fn contexts_that_cannot_hold_are_refused() {
    for (text, why) in [
        ("echo '{{ context.a }}'", "single quotes"),
        ("echo \"'x'\" '{{ context.a }}'", "single quotes"),
        ("echo $'{{ context.a }}'", "`$'…'`"),
        ("echo `echo {{ context.a }}`", "backticks"),
        ("echo $(( {{ context.a }} + 1 ))", "arithmetic"),
        ("(( {{ context.a }} > 1 )) && echo", "arithmetic"),
        (
            "if (( {{ context.a }} > 1 )); then echo big; fi",
            "arithmetic",
        ),
        (
            "for (( i=0; i<{{ context.a }}; i++ )); do :; done",
            "arithmetic",
        ),
        (
            "echo \"{{ context.a }}\" | . /dev/stdin",
            "reaches `.` on its standard input",
        ),
        ("echo $[ {{ context.a }} + 1 ]", "arithmetic"),
        ("echo $\\\n(( {{ context.a }} + 1 ))", "arithmetic"),
        ("[[ {{ context.a }} -eq 1 ]]", "`[[ … ]]`"),
        ("echo \"${arr[{{ context.a }}]}\"", "subscript"),
        ("arr[{{ context.a }}]=1", "subscript"),
        ("echo \"${s:{{ context.a }}}\"", "offset"),
        ("let n={{ context.a }}+1", "`let`"),
        ("declare -i n={{ context.a }}", "`declare`"),
        ("printf -v {{ context.a }} %s hi", "names a variable"),
        ("read -r {{ context.a }} <<< hi", "`read`"),
        ("[ -v {{ context.a }} ]", "names a variable"),
        ("cat <<EOF\nhi {{ context.a }}\nEOF", "here-document"),
        ("cat <<-'EOF'\n\thi {{ context.a }}\n\tEOF", "here-document"),
        (
            "sh <<EOF\necho start \\\nEOF\n{{ context.a }}\nEOF",
            "here-document",
        ),
        ("sh <\\\n<EOF\n{{ context.a }}\nEOF", "here-document"),
        ("sh <<\\\nEOF\n\n{{ context.a }}\nEOF", "here-document"),
        (
            "echo \\\n# \"\nsh <<EOF\n{{ context.a }}\nEOF\n# \"",
            "here-document",
        ),
        ("echo \\{{ context.a }}", "`\\`"),
        ("echo ${{ context.a }}", "`$`"),
        ("printf '[%s]' \"\\\\${{ context.a }}\"", "`$`"),
        ("printf '[%s]' \"$\\\n{{ context.a }}\"", "`$`"),
        ("sh -c \"echo {{ context.a }}\"", "`sh`"),
        ("bash -ec 'x' && bash -e -c \"{{ context.a }}\"", "`bash`"),
        ("\"sh\" -c \"{{ context.a }}\"", "`sh`"),
        ("'eval' \"{{ context.a }}\"", "`eval`"),
        ("eval echo {{ context.a }}", "`eval`"),
        ("if eval \"{{ context.a }}\"; then :; fi", "`eval`"),
        ("trap \"rm -f {{ context.a }}\" EXIT", "`trap`"),
        ("alias go=\"{{ context.a }}\"", "`alias`"),
        (". ./lib/{{ context.a }}.sh", "`.`"),
        ("ssh host echo \"{{ context.a }}\"", "`ssh`"),
        ("sudo -u app sh -c \"echo {{ context.a }}\"", "`sh`"),
        ("python3 -c \"print('{{ context.a }}')\"", "`python3`"),
        ("python3 -Sc \"print('{{ context.a }}')\"", "`python3`"),
        (
            "python3 -W ignore -c \"print('{{ context.a }}')\"",
            "`python3`",
        ),
        ("perl -pe \"s/hi/{{ context.a }}/\"", "`perl`"),
        ("perl -lne \"print \\\"{{ context.a }}\\\"\"", "`perl`"),
        ("node -pe \"({{ context.a }})\"", "`node`"),
        ("awk -F, \"{print \\\"{{ context.a }}\\\"}\"", "`awk`"),
        ("sed -n -e \"s/x/{{ context.a }}/p\"", "`sed`"),
        ("sed \"s/x/{{ context.a }}/\" file", "`sed`"),
        ("sed --expression=\"s/a/{{ context.a }}/\"", "`sed`"),
        ("sed -e\"s/a/{{ context.a }}/\"", "`sed`"),
        ("flock lock -c \"echo {{ context.a }}\"", "`flock`"),
        ("script -qc \"echo {{ context.a }}\" /dev/null", "`script`"),
        ("env -S \"sh -c {{ context.a }}\"", "`env -S`"),
        ("su - root -c \"echo {{ context.a }}\"", "`su`"),
        (
            "echo \"{{ context.a }}\" | sh",
            "reaches `sh` on its standard input",
        ),
        (
            "echo \"{{ context.a }}\" | bash -s",
            "reaches `bash` on its standard input",
        ),
        (
            "printf '%s\\n' {{ context.a }} | xargs -I{} sh -c 'echo {}'",
            "reaches `xargs` on its standard input",
        ),
        (
            "out=\"$(case a in a) eval {{ context.a }};; esac)\"",
            "`eval`",
        ),
        (
            "r=\"$(case \"$M\" in *) sh -c \"echo {{ context.a }}\" ;; esac)\"",
            "`sh`",
        ),
        // A second review's findings.
        (
            "echo \"$(for f in a; do case $f in a) eval {{ context.a }};; esac; done)\"",
            "`eval`",
        ),
        (
            "echo $(if :; then case a in a) eval {{ context.a }};; esac; fi)",
            "`eval`",
        ),
        (
            "echo \"$(case x in (case) :;; esac)\"; eval {{ context.a }}; : \"\"",
            "`eval`",
        ),
        ("if [[ {{ context.a }} -eq 1 ]]; then :; fi", "`[[ … ]]`"),
        ("while [[ {{ context.a }} -gt 1 ]]; do :; done", "`[[ … ]]`"),
        ("f() { [[ {{ context.a }} -gt 1 ]]; }", "`[[ … ]]`"),
        (
            "[[ \"]]\" == \"]]\" && 1 -eq {{ context.a }} ]]",
            "`[[ … ]]`",
        ),
        ("sh +x -c \"{{ context.a }}\"", "`sh`"),
        ("echo \"{{ context.a }}\" | xargs sh -c", "`xargs`"),
        ("echo \"{{ context.a }}\" | xargs -n1 bash -c", "`xargs`"),
        ("echo \"{{ context.a }}\" | cat | sh", "reaches `sh`"),
        ("{ echo \"{{ context.a }}\"; } | sh", "reaches `sh`"),
        ("(echo \"{{ context.a }}\") | sh", "reaches `sh`"),
        ("echo \"{{ context.a }}\" | sh /dev/stdin", "reaches `sh`"),
        ("echo \"{{ context.a }}\" | python3 -", "reaches `python3`"),
        ("bash <<< \"{{ context.a }}\"", "reaches `bash`"),
        ("eval \"$(printf %s {{ context.a }})\"", "`eval`"),
        ("sh -c \"$(printf %s {{ context.a }})\"", "`sh`"),
        (
            "echo a | sed \"s/a/$(printf %s {{ context.a }})/\"",
            "`sed`",
        ),
        (
            "echo $(( $(: \")\"; echo 1) + {{ context.a }} ))",
            "arithmetic",
        ),
        ("echo ${@:{{ context.a }}}", "offset"),
        ("x=abc; echo ${x:\"{{ context.a }}\"}", "offset"),
        ("b=(1 2); a[b[1]+{{ context.a }}]=1", "subscript"),
        ("echo ${b[ b[0] + {{ context.a }} ]}", "subscript"),
        ("arr=([{{ context.a }}]=1)", "subscript"),
        ("time -p (( {{ context.a }} + 1 ))", "arithmetic"),
        ("declare -i n; n={{ context.a }}", "`declare -i n`"),
        ("declare {{ context.a }}", "`declare`"),
        ("printf -v\"{{ context.a }}\" %s 1", "names a variable"),
        ("env -S\"{{ context.a }}\"", "`env -S`"),
        ("compgen -W \"{{ context.a }}\"", "`compgen`"),
        ("BASH_ENV={{ context.a }} bash -c :", "`BASH_ENV`"),
        ("PS4={{ context.a }}; set -x", "`PS4`"),
        // A third review's findings.
        ("[[ {{ context.a }} -gt 0 && -n \"$HOME\" ]]", "`[[ … ]]`"),
        (
            "if [[ -n \"$HOME\" && {{ context.a }} -gt 0 ]]; then :; fi",
            "`[[ … ]]`",
        ),
        ("[[ ( {{ context.a }} -eq 1 ) ]]", "`[[ … ]]`"),
        ("function f { eval {{ context.a }}; }; f", "`eval`"),
        (
            "function f { [[ {{ context.a }} -eq 1 ]]; }; f",
            "`[[ … ]]`",
        ),
        ("time -p [[ {{ context.a }} -eq 1 ]]", "`[[ … ]]`"),
        ("coproc eval {{ context.a }}; wait", "`eval`"),
        ("{fd}>/dev/null eval {{ context.a }}", "`eval`"),
        ("$'eval' {{ context.a }}", "`eval`"),
        ("$\"eval\" {{ context.a }}", "`eval`"),
        ("$'sh' -c \"echo {{ context.a }}\"", "`sh`"),
        (": $'\\' ; eval \"#'\n{{ context.a }}\"", "read differently"),
        (
            "declare -i n; read -r n <<< \"{{ context.a }}\"",
            "`declare -i n`",
        ),
        (
            "declare -i n; for n in {{ context.a }}; do :; done",
            "`declare -i n`",
        ),
        ("declare -i n; : ${n:={{ context.a }}}", "`declare -i n`"),
        ("export PS4={{ context.a }}; set -x; :", "`PS4`"),
        ("declare PS4={{ context.a }}; set -x; :", "`PS4`"),
        ("env BASH_ENV={{ context.a }} bash -c :", "`BASH_ENV`"),
        ("echo \"{{ context.a }}\" | sh -o errexit", "reaches `sh`"),
        (
            "echo \"{{ context.a }}\" | sh -e -o nounset",
            "reaches `sh`",
        ),
        ("bash -o pipefail <<< \"{{ context.a }}\"", "reaches `bash`"),
        ("eval <(:) {{ context.a }}", "`eval`"),
        ("declare -a a=\"({{ context.a }})\"", "`declare -a`"),
    ] {
        let m = refused(text);
        assert!(m.contains(why), "{text:?}: {m}");
    }
    assert!(refused("echo '{{ context.a }}'").starts_with("`{{ context.a }}` at column 7"));
    let r = compile("echo ok\n  echo '{{ context.a }}'").unwrap_err();
    assert_eq!((r[0].line, r[0].column), (2, 9));
}

#[test]
fn arguments_that_are_not_code_stay_allowed() {
    for text in [
        "awk -F, '{print $1}' {{ context.file }}",
        "sed -e 's/a/b/' {{ context.file }}",
        "python3 script.py --name {{ context.a }}",
        "python3 tool.py -c {{ context.a }}",
        "sh ./script.sh {{ context.a }}",
        "sh ./script.sh -c {{ context.a }}",
        "bash deploy.sh -c {{ context.a }}",
        "grep -e {{ context.a }} file",
        "echo sh; echo {{ context.a }}",
        "npm run watch -- --port {{ context.a }}",
        "rsync -e ssh -av ./dist/ {{ context.a }}:/srv/",
        "grep -rn eval src/ --include {{ context.a }}",
        "apt-get install -y sed {{ context.a }}",
        "ls /usr/bin/gawk {{ context.a }}",
        "git log --grep=awk --author {{ context.a }}",
        "(( n = 1 << 2 )); echo {{ context.a }}",
        "[ {{ context.a }} -eq 1 ]",
        "export NAME={{ context.a }}",
        "perl -le 'print 1' {{ context.a }}",
        "echo {{ context.a }} | python3 script.py",
        "echo {{ context.a }} | sh -c 'cat'",
        "[[ -n \"$X\" ]] && echo {{ context.a }}",
        "[[ -f \"{{ context.a }}\" ]] || exit 1",
        "if [[ \"{{ context.a }}\" == prod ]]; then :; fi",
        "read -r a b <<< \"{{ context.a }}\"",
        "IFS=, read -ra parts <<< \"{{ context.a }}\"",
        "echo \"Value[{{ context.a }}]\"",
        "echo \"tags[{{ context.a }}]\" >> log",
        "grep -c \"{{ context.a }}\" f",
        "jq --arg v \"{{ context.a }}\" '.a = $v'",
        "curl -d \"{{ context.a }}\" https://example.test",
        "docker run img --flag {{ context.a }}",
        "for f in {{ context.a }}; do echo \"$f\"; done",
        "echo \"{{ context.a }}\" | python3 -m json.tool",
        "echo \"{{ context.a }}\" | bash ./script.sh",
        "case \"{{ context.a }}\" in a|b) echo ok;; esac",
        "echo {{ context.a }} 2>&1 | tee log",
        "arr=({{ context.a }} b)",
        "declare -a items=({{ context.a }})",
        "f() { local -a args=(\"{{ context.a }}\"); }",
        "declare -A map=([key]=\"{{ context.a }}\")",
        "[[ -n \"{{ context.a }}\" && $# -gt 0 ]] || exit 1",
        "[[ $# -eq 0 && -n \"{{ context.a }}\" ]]",
        "find . -name \"{{ context.a }}\" -exec sh -c 'echo \"$1\"' sh {} \\;",
        "docker run -e X={{ context.a }} img",
        "printf '%s\\n' {{ context.a }} | while read -r l; do echo \"$l\"; done",
    ] {
        assert!(compile(text).is_ok(), "{text}: {:?}", compile(text));
    }
}

#[test]
fn argv_shells_get_values_only_with_tasker_s_environment() {
    let argv = |words: &[&str]| Program::Argv(words.iter().map(|w| (*w).to_owned()).collect());
    assert!(check(&argv(&["sh", "-c", "echo \"{{ context.a }}\""])).is_empty());
    assert!(
        check(&argv(&[
            "nice",
            "-n",
            "5",
            "bash",
            "-ec",
            "echo {{ context.a }}"
        ]))
        .is_empty()
    );
    for words in [
        &["env", "-i", "sh", "-c", "echo {{ context.a }}"][..],
        &["sudo", "sh", "-c", "echo {{ context.a }}"],
        &["docker", "exec", "c1", "sh", "-c", "echo {{ context.a }}"],
        &["python3", "-Sc", "print('{{ context.a }}')"],
        &["perl", "-we", "print '{{ context.a }}'"],
    ] {
        let r = check(&argv(words));
        assert_eq!(r.len(), 1, "{words:?}");
    }
    // Not a shell script: a script file's own `-c`.
    assert!(check(&argv(&["sh", "script.sh", "-c", "{{ context.a }}"])).is_empty());
}
