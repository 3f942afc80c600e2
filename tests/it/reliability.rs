//! Hostile conditions: floods of output, store faults, many tasks.

use crate::support::{Sandbox, stderr, stdout, wait_with_peak_rss};

/// A step that writes 1 GiB on stdout and 1 GiB on stderr at once: tasker's memory stays
/// bounded (the kept tail, the reads in flight) and the kept tails are the streams' ends.
#[test]
fn a_flood_of_output_keeps_memory_bounded_and_the_tail_right() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: flood
steps:
  - name: flood
    command: |
      { head -c 1073741824 /dev/zero | tr '\\0' o; echo STDOUT-END; } &
      { head -c 1073741824 /dev/zero | tr '\\0' e; echo STDERR-END; } >&2
      wait
",
    );
    let mut child = sb.spawn(&["run", "t.yml"]);
    // Nothing reads tasker's own pipes here: the run must not depend on it.
    drop(child.stdout.take());
    drop(child.stderr.take());
    let (code, peak) = wait_with_peak_rss(child);
    assert_eq!(code, Some(0));
    eprintln!("flood: tasker's peak RSS {peak:.1} MiB");
    assert!(peak < 100.0, "peak RSS {peak:.1} MiB");

    let limit = 1024 * 1024;
    for (stream, fill, end) in [
        (&[][..], 'o', "STDOUT-END\n"),
        (&["--stderr"][..], 'e', "STDERR-END\n"),
    ] {
        let out = sb.run(&[&["logs", "1", "flood"][..], stream].concat());
        let text = stdout(&out);
        assert_eq!(text.len(), limit, "the kept tail is the output limit");
        assert!(text.ends_with(end), "{}", &text[text.len() - 40..]);
        assert!(text[..limit - end.len()].chars().all(|c| c == fill));
        let dropped = (1u64 << 30) + end.len() as u64 - limit as u64;
        assert!(
            stderr(&out).contains(&format!("the first {dropped} bytes were not kept")),
            "{}",
            stderr(&out)
        );
    }
}

/// Whoever reads tasker's output may go away (`tasker run … | head -1`): the run goes on
/// to its end, and the task completes.
#[test]
fn a_broken_stdout_and_stderr_do_not_stop_a_run() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: quiet\nsteps:\n  - { name: a, command: 'echo hi; echo oops >&2' }\n  - { name: b, command: 'true', depends_on: [a] }\n",
    );
    let mut child = sb.spawn(&["-v", "run", "t.yml", "--follow-output"]);
    drop(child.stdout.take());
    drop(child.stderr.take());
    let (code, _) = wait_with_peak_rss(child);
    assert_eq!(code, Some(0));
    assert_eq!(sb.status(1)["status"], "complete");
}
