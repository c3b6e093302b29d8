//! Throughput of the bundled suite against the embedded reference vendor, with `--jobs 1` and
//! `--jobs 2`: `cargo bench --bench exchanges`.
//!
//! An exchange is one message the harness sent together with the vendor's answer to it (an
//! acknowledgement in the HTTP response); messages the vendor sent on its own (replies, forwards)
//! count as exchanges too. The suite is run `ROUNDS` times per setting after one warm-up round,
//! and the median round is printed.

use medcom_harness::config::Config;
use medcom_harness::run::{self, Direction, Settings, Target, UpdateGolden};
use std::path::Path;
use std::time::Instant;

const ROUNDS: usize = 7;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let all = medcom_harness::scenario::load(&[root]).expect("bundled suite loads");
    // A scenario that watches for resends waits `during` by design; it measures the vendor's
    // resend timer, not the harness, so it is left out.
    let (timed, scenarios): (Vec<_>, Vec<_>) = all.into_iter().partition(|s| {
        s.steps.iter().any(|st| {
            matches!(
                st.get_ref(),
                medcom_harness::scenario::Step::ExpectResends(_)
            )
        })
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "bundled suite: {} scenarios ({} that wait for resends by design left out), {ROUNDS} rounds per setting (median shown)",
        scenarios.len(),
        timed.len()
    );
    for jobs in [1, 2] {
        let mut rounds = Vec::new();
        for round in 0..=ROUNDS {
            let settings = Settings {
                config: Config::load(None).expect("config"),
                target: Target::Embedded(None),
                jobs,
                update_golden: UpdateGolden::Never,
                interactive: false,
                allow_skipped: false,
                ig: None,
                schemas: None,
                recorder: None,
            };
            let t = Instant::now();
            let outcome = rt
                .block_on(run::run(scenarios.clone(), settings, |_| {}))
                .expect("run");
            let secs = t.elapsed().as_secs_f64();
            assert!(outcome.passed(), "the suite must pass to be measured");
            let exchanges: usize = outcome
                .scenarios
                .iter()
                .flat_map(|s| s.evidence.iter())
                .filter(|e| {
                    e.direction == Direction::Sent || !e.label.starts_with("acknowledgement")
                })
                .count();
            if round > 0 {
                rounds.push((secs, exchanges));
            }
        }
        rounds.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (secs, exchanges) = rounds[rounds.len() / 2];
        println!(
            "--jobs {jobs}: {exchanges} exchanges in {:.1} ms = {:.0} exchanges/s ({:.0} scenarios/s)",
            secs * 1000.0,
            exchanges as f64 / secs,
            scenarios.len() as f64 / secs
        );
    }
}
