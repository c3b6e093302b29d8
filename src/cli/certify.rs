//! The certification commands: `key new`, `evidence pack|verify` and `review`.

use std::io::{BufRead as _, IsTerminal as _};
use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};

use medcom_harness::evidence::{self, EvidenceError};
use medcom_harness::exit;
use medcom_harness::finding::Grade;
use medcom_harness::report::{self, Lang};
use medcom_harness::review::{self, Entry, Kind, Subject};

use super::{Failure, say};

/// `medcom-harness key …`.
#[derive(Debug, Subcommand)]
pub(super) enum KeyCommand {
    /// Make a minisign key pair to sign evidence packages: `KEY` (the secret key, encrypted
    /// with a password) and `KEY.pub`. The password is read from standard input when it is not
    /// a terminal (one line, or two equal lines), otherwise asked for twice without echo.
    New {
        /// The secret key file to write; the public key goes to the same name plus `.pub`.
        #[arg(long, value_name = "KEY")]
        output: PathBuf,
    },
}

/// `medcom-harness evidence …`.
#[derive(Debug, Subcommand)]
pub(super) enum EvidenceCommand {
    /// Pack a run for MedCom: one zip of every message named by MedCom's convention
    /// (`<Standard>_<step>_<letter>_<S|R>.<ext>`, S = sent by the vendor's system, R = received
    /// by it), the reports, the review log and a manifest of SHA-256 sums signed with the key
    /// (minisign, Ed25519). The key's password is read as for `key new`.
    Pack {
        /// The run's JSON results, or the folder holding `results.json`.
        #[arg(long, value_name = "PATH", default_value = "reports/results.json")]
        results: PathBuf,
        /// The secret key (`key new`).
        #[arg(long, value_name = "KEY")]
        key: PathBuf,
        /// The zip to write.
        #[arg(long, value_name = "FILE", default_value = "reports/evidence.zip")]
        output: PathBuf,
    },
    /// Verify a package: the manifest's signature with the public key, then every file against
    /// the manifest. Exit 0 valid, 1 invalid (every changed, added or missing file and a bad
    /// signature named), 2 the package or key could not be read.
    Verify {
        /// The package.
        #[arg(value_name = "BUNDLE.zip")]
        bundle: PathBuf,
        /// The public key (`KEY.pub`).
        #[arg(long, value_name = "KEY.pub")]
        public_key: PathBuf,
    },
}

/// `medcom-harness review …`.
#[derive(Debug, Subcommand)]
pub(super) enum ReviewCommand {
    /// Attest a manual step: you did it and saw the expected result; attach screenshots or
    /// files with `--file`.
    Attest(ReviewArgs),
    /// Add a comment to a protocol step, a scenario or a scenario step.
    Comment(ReviewArgs),
    /// Mark a protocol step or scenario "Not relevant" (MedCom: "Ikke relevant").
    NotRelevant(ReviewArgs),
    /// Override the grade of a rule's findings in a scenario step; `--comment` is mandatory and
    /// the original grade is kept beside the new one.
    Override(ReviewArgs),
}

/// What every review subcommand takes.
#[derive(Debug, clap::Args)]
pub(super) struct ReviewArgs {
    /// The reviewer's name.
    #[arg(long, value_name = "NAME")]
    name: String,
    /// The step of MedCom's test protocol: its id as scenarios' `protocol-step` name it (`R-A`) or
    /// MedCom's step number (`3.1.1.1`); the steps are listed in data/protocols.toml.
    #[arg(long, value_name = "STEP")]
    protocol_step: Option<String>,
    /// A scenario id of the run.
    #[arg(long, value_name = "ID")]
    scenario: Option<String>,
    /// A step of that scenario (1-based, as the report numbers them).
    #[arg(long, value_name = "N")]
    step: Option<usize>,
    /// The rule whose findings in that step an override regrades.
    #[arg(long, value_name = "RULE")]
    rule: Option<String>,
    /// The reviewer's grade (override).
    #[arg(long, value_name = "GRADE", value_enum)]
    grade: Option<Grade>,
    /// The reviewer's words (mandatory for `comment` and `override`).
    #[arg(long, value_name = "TEXT")]
    comment: Option<String>,
    /// A file to attach (a screenshot, a log); copied beside the review log. Repeatable.
    #[arg(long, value_name = "FILE")]
    file: Vec<PathBuf>,
    /// The run's JSON results; the review log is `review.jsonl` beside them.
    #[arg(long, value_name = "FILE", default_value = "reports/results.json")]
    results: PathBuf,
    /// The HTML report of the run, whose reviews section is written again (in the report's
    /// language); the rest of it stays as the run wrote it.
    #[arg(long, value_name = "FILE", default_value = "reports/report.html")]
    report_html: PathBuf,
}

/// `--lang`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(super) enum LangArg {
    /// English.
    En,
    /// Danish, with MedCom's Danish grade names.
    Da,
}

impl From<LangArg> for Lang {
    fn from(l: LangArg) -> Lang {
        match l {
            LangArg::En => Lang::En,
            LangArg::Da => Lang::Da,
        }
    }
}

/// A password: from standard input when it is not a terminal (the first line; a second line,
/// when `confirm` and present, must equal it), otherwise asked at the terminal without echo
/// (twice when `confirm`).
fn password(confirm: bool) -> Result<String, Failure> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        let first = rpassword::prompt_password("Password: ").map_err(Failure::new)?;
        if confirm {
            let again = rpassword::prompt_password("Password (again): ").map_err(Failure::new)?;
            if again != first {
                return Err(Failure::msg("the passwords differ", None));
            }
        }
        return Ok(first);
    }
    let mut lines = stdin.lock().lines();
    let first = lines
        .next()
        .transpose()
        .map_err(Failure::new)?
        .ok_or_else(|| Failure::msg("no password on standard input", None))?;
    if confirm
        && let Some(again) = lines.next().transpose().map_err(Failure::new)?
        && again != first
    {
        return Err(Failure::msg("the passwords on standard input differ", None));
    }
    if first.is_empty() {
        return Err(Failure::msg("the password is empty", None));
    }
    Ok(first)
}

pub(super) fn key_command(command: KeyCommand) -> Result<i32, Failure> {
    match command {
        KeyCommand::New { output } => {
            let password = password(true)?;
            let public = evidence::new_key_pair(&output, password).map_err(Failure::new)?;
            medcom_harness::errln!(
                "wrote secret key `{}` (keep it and its password private) and public key `{}`",
                output.display(),
                public.display()
            );
            Ok(exit::PASSED)
        }
    }
}

pub(super) fn evidence_command(command: EvidenceCommand) -> Result<i32, Failure> {
    match command {
        EvidenceCommand::Pack {
            results,
            key,
            output,
        } => {
            let results = evidence::pack::results_path(&results);
            let password = password(false)?;
            // A public key given where the secret key belongs fails to read; say so.
            let public = std::fs::read_to_string(&key)
                .is_ok_and(|t| t.starts_with("untrusted comment: minisign public key"));
            let pair = evidence::read_secret_key(&key, password).map_err(|e| Failure {
                hint: matches!(e, EvidenceError::Key { .. }).then(|| {
                    if public {
                        format!(
                            "`{}` is a public key: give the secret key (`medcom-harness key new --output KEY` wrote it as `KEY`, the public one as `KEY.pub`)",
                            key.display()
                        )
                    } else {
                        "check the password; a key from `medcom-harness key new` or `minisign -G`"
                            .into()
                    }
                }),
                error: Box::new(e),
            })?;
            let packed = evidence::pack(&results, &pair, &output).map_err(Failure::new)?;
            say!(
                "wrote `{}`: {} files in the signed manifest ({} of them messages named by MedCom's convention), the manifest and its signature; signed: {}",
                output.display(),
                packed.listed,
                packed.messages,
                packed.trusted_comment
            );
            Ok(exit::PASSED)
        }
        EvidenceCommand::Verify { bundle, public_key } => {
            let key = evidence::read_public_key(&public_key).map_err(Failure::new)?;
            let verdict = evidence::verify(&bundle, &key).map_err(Failure::new)?;
            if verdict.valid() {
                say!(
                    "valid: `{}`, {} files, signed by key `{}`: {}",
                    bundle.display(),
                    verdict.files,
                    public_key.display(),
                    verdict.trusted_comment.unwrap_or_default()
                );
                Ok(exit::PASSED)
            } else {
                say!("INVALID: `{}`", bundle.display());
                for problem in &verdict.problems {
                    say!("  {problem}");
                }
                Ok(exit::FAILED)
            }
        }
    }
}

pub(super) fn review_command(command: ReviewCommand) -> Result<i32, Failure> {
    let (kind, args) = match command {
        ReviewCommand::Attest(a) => (Kind::Attest, a),
        ReviewCommand::Comment(a) => (Kind::Comment, a),
        ReviewCommand::NotRelevant(a) => (Kind::NotRelevant, a),
        ReviewCommand::Override(a) => (Kind::Override, a),
    };
    let results = evidence::pack::results_path(&args.results);
    let run = evidence::pack::read_run(&results).map_err(|e| Failure {
        error: Box::new(e),
        hint: Some(
            "review a finished run: `medcom-harness run` writes reports/results.json".into(),
        ),
    })?;
    let entry = Entry {
        seq: 0,
        time: String::new(),
        run_started: String::new(),
        reviewer: args.name,
        kind,
        subject: Subject {
            protocol_step: args.protocol_step,
            scenario: args.scenario,
            step: args.step,
            rule: args.rule,
        },
        original: None,
        grade: args.grade,
        comment: args.comment,
        files: Vec::new(),
    };
    let written = review::append(&results, &run, entry, &args.file).map_err(Failure::new)?;
    let entries = review::read_log(&review::log_path(&results)).map_err(Failure::new)?;
    let html = std::fs::read_to_string(&args.report_html).ok();
    match html.and_then(|h| report::splice_reviews(&h, &run, &entries)) {
        Some(html) => {
            report::write_report_file(&args.report_html, html.as_bytes()).map_err(Failure::new)?
        }
        None => medcom_harness::errln!(
            "note: `{}` is not a report with a reviews section; the next `run` writes one",
            args.report_html.display()
        ),
    }
    say!(
        "recorded review {} ({}) in `{}`; `{}` shows it",
        written.seq,
        kind.as_str(),
        review::log_path(&results).display(),
        args.report_html.display()
    );
    Ok(exit::PASSED)
}

/// The `--lang` of `run`, for the report options.
pub(super) fn lang(arg: LangArg) -> Lang {
    arg.into()
}

/// Records in the review log the answers a person gave at the terminal to the run's `instruct`
/// steps (review::prompt), once `results` is written, and shows them in the HTML report
/// `html`. The reviewer is the config's `tester`, else `user` (`$USER`, read by cli.rs), else
/// `operator`.
pub(super) fn record_operator_answers(
    results: &std::path::Path,
    html: &std::path::Path,
    run: &medcom_harness::run::RunOutcome,
    user: Option<String>,
) {
    let pending = review::prompt::take_pending();
    if pending.is_empty() {
        return;
    }
    let reviewer = run
        .certification
        .as_ref()
        .and_then(|c| c.system.tester.clone())
        .or_else(|| user.filter(|u| !u.is_empty()))
        .unwrap_or_else(|| "operator".to_owned());
    match review::prompt::record(results, run, &pending, &reviewer) {
        Ok(written) => {
            let entries = review::read_log(&review::log_path(results)).unwrap_or_default();
            if let Some(page) = std::fs::read_to_string(html)
                .ok()
                .and_then(|h| report::splice_reviews(&h, run, &entries))
            {
                let _ = report::write_report_file(html, page.as_bytes());
            }
            medcom_harness::errln!(
                "recorded {} operator answer(s) in `{}` as {reviewer}",
                written.len(),
                review::log_path(results).display()
            );
        }
        Err(e) => medcom_harness::errln!("warning: the operator's answers were not recorded: {e}"),
    }
}
