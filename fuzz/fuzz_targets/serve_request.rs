//! `nabla serve`'s request inputs, as the handlers read them: the first byte picks which, the
//! rest is the input. 0: a `POST /api/train` body (a playground spec, then checked whole and
//! turned into its command line); 1: an `/api/explain` query (activation, loss, from, targets
//! on lines); 2: a Host header; 3: the headers of the cross-site check (lines); 4: a run name
//! under an empty runs folder. Errors are fine, panics are findings.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nabla::explain::{Question, derive_for};
use nabla::serve::{cross_site, host_is_allowed};
use nabla::workflow::{PlaygroundSpec, read_run};

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let mut lines = text.split('\n');
    let mut line = || lines.next().filter(|l| !l.is_empty());
    match which % 5 {
        0 => {
            if let Ok(spec) = PlaygroundSpec::from_json(rest) {
                if spec.train_run().is_ok() {
                    let _ = spec.command_line();
                }
            }
        }
        1 => {
            let activation = line().unwrap_or("");
            let (loss, from) = (line(), line());
            let targets = line().unwrap_or("hard");
            if let Ok(question) = Question::named(activation, loss, from, targets) {
                let _ = derive_for(&question);
            }
        }
        2 => {
            let _ = host_is_allowed(&text, 8080);
        }
        3 => {
            let (method, host, origin, site, kind) = (line(), line(), line(), line(), line());
            let _ = cross_site(method.unwrap_or("POST"), host, origin, site, kind, true);
        }
        _ => {
            thread_local! {
                static RUNS: tempfile::TempDir = tempfile::tempdir().unwrap();
            }
            RUNS.with(|runs| {
                let _ = read_run(runs.path(), &text, 0);
            });
        }
    }
});
