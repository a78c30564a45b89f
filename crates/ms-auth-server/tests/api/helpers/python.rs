//! Independent client libraries in Python (PyJWT, Authlib): the interpreter of the virtualenv
//! scripts/test.sh makes (`TEST_PYTHON`), failing loudly without it.

use std::{path::PathBuf, process::Command};

/// The repository's root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `python` of the test virtualenv, run in the repository's root.
pub fn python() -> Command {
    let exe = std::env::var("TEST_PYTHON").unwrap_or_else(|_| {
        let venv = repo_root().join("target/pyenv/bin/python");
        assert!(
            venv.is_file(),
            "TEST_PYTHON is not set and target/pyenv does not exist: run the tests with scripts/test.sh, \
             or `source scripts/lib/python.sh && py_env` first (PyJWT and Authlib from PyPI)"
        );
        venv.to_string_lossy().into_owned()
    });
    let mut c = Command::new(exe);
    c.current_dir(repo_root());
    c
}

/// Runs `python args…` and returns its stdout, panicking with its stderr when it fails.
pub fn run_python(args: &[&str]) -> String {
    let out = python()
        .args(args)
        .output()
        .expect("run the test virtualenv's python");
    assert!(
        out.status.success(),
        "python {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}
