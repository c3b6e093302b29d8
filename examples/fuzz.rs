//! A mutation fuzzer of every parser the harness points at vendor bytes, on stable Rust: run as a
//! tool for a set time, never in CI.
//!
//! Usage:
//!
//! ```text
//! MEDCOM_CORPUS=../shared/medcom cargo run --release --example fuzz -- --seconds 600 --target all
//! cargo run --release --example fuzz -- --target fhir-xml --minimize fuzz-crashes/fhir-xml-….bin
//! ```
//!
//! Targets (`--target`, comma-separated, or `all`):
//!
//! | target | what is called |
//! |---|---|
//! | `fhir-json` | `Message::parse`, `json_to_xml` of what it read and back, `validate::message` |
//! | `fhir-xml` | `fhir::xml_to_json`, `Message::parse`, `json_to_xml` and back, `validate::message` |
//! | `validate` | the whole `validate::bytes` (envelope XSDs, IG profiles, MedCom rules, `--payload`) |
//! | `oioxml` | `oioxml::parse`, `structure::check`, `write` (both encodings) and parse again |
//! | `vans` | `envelope::detect`, `unwrap_vans`, the envelope checks, `Arrival::read` and its envelope checks, `wrap_vans` and back |
//! | `sbdh` | `unwrap_sbdh`, `check_sbdh`, `read_signal`, `wrap_sbdh` and back |
//! | `scenario` | `scenario::load_file` of a TOML scenario |
//! | `golden` | `golden::compare` of two documents (and `render_normalized`) |
//!
//! Seeds are every file of the MedCom corpus (`MEDCOM_CORPUS`, read at run time, never copied)
//! and the project's `scenarios/`, `golden/` and `tests/fixtures/`. Mutations: bit flips,
//! interesting bytes, insert / delete / duplicate / truncate ranges, splices of two seeds,
//! dictionary tokens (`<`, `</`, `"`, `{`, `&#`, `<!ENTITY`, CDATA, deep nesting, huge numbers,
//! ISO-8859-1 and UTF-16 declarations, byte order marks, base64 garbage), and structure-aware
//! mutation: of FHIR JSON as a `serde_json::Value` (drop, duplicate and move members, swap types,
//! deep arrays, odd strings and numbers), of FHIR XML through the same Value, and of an
//! envelope's payload re-wrapped by the harness's own writers. The random numbers come from a
//! seeded xorshift, so `--seed` repeats a run.
//!
//! Every input runs under `catch_unwind` on a thread with a 2 MiB stack (as tokio's workers).
//! A panic, an input slower than `--budget` seconds (default 2) and a hang (`--hang`, default 20
//! seconds, after which the worker is stopped) are findings; so is a worker that dies (stack
//! overflow, abort): the fuzzer runs each target in a child process and restarts it. Each
//! finding is saved as `fuzz-crashes/<target>-<sha256>.bin` with a `.txt` beside it saying what
//! happened; the first few inputs per panic location are kept, the rest counted.
//!
//! At the end a table gives per target the inputs tried, inputs per second, crashes, slow inputs
//! and hangs. The exit code is 0 when nothing was found, 1 otherwise.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use medcom_harness::message::{Format, Message};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The parsers under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Target {
    FhirJson,
    FhirXml,
    Validate,
    Oioxml,
    Vans,
    Sbdh,
    Scenario,
    Golden,
    /// Not a parser: panics, overflows its stack, is slow or hangs on some inputs, to show that
    /// the fuzzer catches each (`--target self-test`; not part of `all`).
    SelfTest,
}

const TARGETS: [Target; 8] = [
    Target::FhirJson,
    Target::FhirXml,
    Target::Validate,
    Target::Oioxml,
    Target::Vans,
    Target::Sbdh,
    Target::Scenario,
    Target::Golden,
];

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::FhirJson => "fhir-json",
            Target::FhirXml => "fhir-xml",
            Target::Validate => "validate",
            Target::Oioxml => "oioxml",
            Target::Vans => "vans",
            Target::Sbdh => "sbdh",
            Target::Scenario => "scenario",
            Target::Golden => "golden",
            Target::SelfTest => "self-test",
        }
    }

    fn from_name(name: &str) -> Option<Target> {
        TARGETS
            .into_iter()
            .chain([Target::SelfTest])
            .find(|t| t.name() == name)
    }
}

/// The separator of the two documents of a `golden` input: golden first, actual second.
const GOLDEN_SEPARATOR: &[u8] = b"\n\x00--actual--\x00\n";

/// The largest input the mutators build, in bytes; the largest corpus file is about 3 MB.
const MAX_INPUT: usize = 6 * 1024 * 1024;

/// How many inputs are saved per (target, panic location); the rest are counted.
const KEEP_PER_LOCATION: usize = 3;

// ---------------------------------------------------------------------------------------------
// Random numbers

/// xorshift64*: small, seeded, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    /// True once in `n` times.
    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

// ---------------------------------------------------------------------------------------------
// Seeds

struct Seed {
    path: PathBuf,
    bytes: Vec<u8>,
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut items: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    items.sort();
    for p in items {
        if p.is_dir() {
            collect_files(&p, out);
        } else if p.is_file() {
            out.push(p);
        }
    }
}

fn load_seeds(corpus: &Path) -> Vec<Seed> {
    let project = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    collect_files(corpus, &mut files);
    for dir in ["scenarios", "golden", "tests/fixtures"] {
        collect_files(&project.join(dir), &mut files);
    }
    files
        .into_iter()
        .filter_map(|path| {
            let bytes = std::fs::read(&path).ok()?;
            (bytes.len() <= MAX_INPUT / 2).then_some(Seed { path, bytes })
        })
        .collect()
}

fn trimmed(bytes: &[u8]) -> &[u8] {
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    &b[start..]
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle, 0).is_some()
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from >= haystack.len() {
        return None;
    }
    haystack[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

fn is_json(seed: &Seed) -> bool {
    trimmed(&seed.bytes).starts_with(b"{")
}

fn is_fhir_xml(seed: &Seed) -> bool {
    trimmed(&seed.bytes).starts_with(b"<") && contains(&seed.bytes, b"http://hl7.org/fhir")
}

fn is_xsd(seed: &Seed) -> bool {
    seed.path.extension().is_some_and(|e| e == "xsd")
}

/// The seeds a target prefers (nine inputs in ten start from one of them).
fn preferred(target: Target, seed: &Seed) -> bool {
    if is_xsd(seed) {
        return false;
    }
    let message = contains(&seed.bytes, b"MessageHeader");
    match target {
        Target::FhirJson => is_json(seed) && message,
        Target::FhirXml => is_fhir_xml(seed),
        Target::Validate | Target::Golden => {
            message || contains(&seed.bytes, b"Emessage") || contains(&seed.bytes, b"Envelope")
        }
        Target::Oioxml => contains(&seed.bytes, b"Emessage"),
        Target::Vans => contains(&seed.bytes, b"VANSEnvelope"),
        Target::Sbdh => contains(&seed.bytes, b"StandardBusinessDocument"),
        Target::Scenario => seed.path.extension().is_some_and(|e| e == "toml"),
        Target::SelfTest => true,
    }
}

// ---------------------------------------------------------------------------------------------
// Mutation

const TOKENS: &[&str] = &[
    "<",
    "</",
    ">",
    "/>",
    "\"",
    "'",
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "&#",
    "&#x",
    "&#0;",
    "&#xD800;",
    "&#x110000;",
    "&#1114111;",
    "&amp;",
    "&lt;",
    "&unknown;",
    "&",
    ";",
    "<!ENTITY x \"xxxxxxxxxxxxxxxx\">",
    "<!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>",
    "<![CDATA[",
    "]]>",
    "<!--",
    "-->",
    "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>",
    "<?xml version=\"1.0\" encoding=\"UTF-16\"?>",
    "<?xml version=\"1.0\" encoding=\"ebcdic\"?>",
    "<?xml version=\"1.1\"?>",
    "<?pi x?>",
    "xmlns=\"\"",
    "xmlns=\"http://hl7.org/fhir\"",
    "xmlns:a=\"urn:x\"",
    "a:",
    "xml:",
    "xmlns:",
    "value=\"\"",
    "value=",
    "\\u0000",
    "\\ud800",
    "\\uDFFF",
    "\\",
    "\u{0}",
    "\u{FEFF}",
    "\u{FFFD}",
    "\u{10FFFF}",
    "æøå",
    "😀",
    "\r\n",
    "\t",
    "null",
    "true",
    "false",
    "-0",
    "1e999999",
    "-1e-999999",
    "18446744073709551616",
    "-9223372036854775809",
    "340282366920938463463374607431768211456",
    "0.0000000000000000000000000000001",
    "NaN",
    "Infinity",
    "\"resourceType\":",
    "\"resourceType\":\"Bundle\"",
    "\"entry\":[",
    "\"extension\":[",
    "\"_value\":",
    "\"id\":",
    "\"reference\":\"#\"",
    "\"reference\":\"urn:uuid:\"",
    "\"fullUrl\":",
    "<Bundle>",
    "<entry>",
    "<resource>",
    "<extension url=\"\">",
    "<div xmlns=\"http://www.w3.org/1999/xhtml\">",
    "</div>",
    "urn:uuid:",
    "T24:00:00+25:00",
    "2026-02-30",
    "====",
    "AAAA",
    "=A=",
    "%%%%",
    "\u{0}\u{0}",
    "[[step]]",
    "send = {",
    "expect-ack = {",
    "expect-message = {",
    "as = \"first\"",
    "for = \"first\"",
    "follows = \"first\"",
    "message = \"x.json\"",
    "within = \"99999999999999999s\"",
    "\"\"\"",
    "'''",
    "= ",
    "[",
    "{{",
    "}}",
    "{{any}}",
    "{{uuid}}",
    "{{id}}",
    "{{datetime}}",
    "{{capture:first.letter-id}}",
    "{{capture:",
    "{{#if}}",
    "SizeInBytes",
    "<Data>",
    "</Data>",
    "BinaryContent",
];

const INTERESTING_BYTES: &[u8] = &[
    0, 0x7F, 0x80, 0xC0, 0xC3, 0xE2, 0xED, 0xEF, 0xF0, 0xF4, 0xFE, 0xFF, b'<', b'>', b'&', b'"',
    b'\'', b'{', b'}', b'[', b']', b'=', b'/', b'\\', b'\n', b'-', b'+', b'.', b'0', b'9',
];

const STRINGS: &[&str] = &[
    "",
    " ",
    "\u{0}",
    "\u{FEFF}",
    "æøå ÆØÅ",
    "😀",
    "\u{10FFFF}",
    "<&>\"'",
    "urn:uuid:",
    "urn:uuid:0c8dddf2-c882-4b00-8870-5035279e7d01",
    "urn:uuid:0C8DDDF2-C882-4B00-8870-5035279E7D01",
    "#",
    "#x",
    "Patient/",
    "MessageHeader/1",
    "http://",
    "2026-12-07T11:00:00+01:00",
    "2026-12-07T11:00:00",
    "2026-13-45T25:61:61+99:99",
    "-0001-01-01",
    "0101010101",
    "250947-1234",
    "5790000121526",
    "00000000000000000000000000000000000000",
    "application/pdf",
    "application/fhir+xml",
    "{{any}}",
    "{{uuid}}",
    "{{capture:first.letter-id}}",
    "{{capture:nope}}",
    "{{unknown}}",
    "%%%%",
    "====",
    "AAAA====AAAA",
    "JVBERi0xLjQK",
];

const RESOURCE_TYPES: &[&str] = &[
    "Bundle",
    "MessageHeader",
    "Provenance",
    "Communication",
    "Patient",
    "Organization",
    "Practitioner",
    "PractitionerRole",
    "Encounter",
    "Binary",
    "DocumentReference",
    "OperationOutcome",
    "TestScript",
    "Nope",
    "",
];

/// Characters of two, three and four bytes in UTF-8, and a combining mark.
const MULTIBYTE: &[&str] = &["æ", "ø", "Å", "€", "😀", "\u{300}", "æøå", "\u{FFFD}"];

/// A number written as it is: the writer below emits a string with this prefix raw.
const RAW: &str = "\u{1}raw:";

const RAW_NUMBERS: &[&str] = &[
    "1e999999",
    "-1e-999999",
    "18446744073709551616",
    "-9223372036854775809",
    "123456789012345678901234567890",
    "0.1000000000000000055511151231257827021181583404541015625",
    "-0",
    "0",
    "1.0",
    "4294967296",
];

struct Mutator<'a> {
    rng: Rng,
    seeds: &'a [Seed],
    preferred: Vec<usize>,
    fhir_seeds: Vec<usize>,
    /// Whether the input being built had a structural mutation.
    structured: bool,
}

impl<'a> Mutator<'a> {
    fn new(target: Target, seeds: &'a [Seed], seed: u64) -> Mutator<'a> {
        let preferred: Vec<usize> = (0..seeds.len())
            .filter(|&i| preferred(target, &seeds[i]))
            .collect();
        let fhir_seeds = (0..seeds.len())
            .filter(|&i| is_json(&seeds[i]) || is_fhir_xml(&seeds[i]))
            .collect();
        Mutator {
            rng: Rng::new(seed),
            seeds,
            preferred,
            fhir_seeds,
            structured: false,
        }
    }

    fn seed(&mut self) -> &'a [u8] {
        let seeds = self.seeds;
        if !self.preferred.is_empty() && !self.rng.one_in(10) {
            let i = *self.rng.pick(&self.preferred);
            &seeds[i].bytes
        } else {
            &seeds[self.rng.below(seeds.len())].bytes
        }
    }

    fn any_seed(&mut self) -> &'a [u8] {
        &self.seeds[self.rng.below(self.seeds.len())].bytes
    }

    fn seed_of(&mut self, list: &[usize]) -> &'a [u8] {
        if list.is_empty() {
            return self.any_seed();
        }
        let i = *self.rng.pick(list);
        &self.seeds[i].bytes
    }

    /// One input for `target`.
    fn input(&mut self, target: Target) -> Vec<u8> {
        let mut out = match target {
            Target::FhirJson => {
                let base = self.seed().to_vec();
                if self.rng.one_in(2) {
                    self.json_structure(&base).unwrap_or(base)
                } else {
                    base
                }
            }
            Target::FhirXml => {
                let base = self.seed().to_vec();
                if self.rng.one_in(3) {
                    self.xml_structure(&base).unwrap_or(base)
                } else {
                    base
                }
            }
            Target::Validate => {
                let base = self.seed().to_vec();
                match self.rng.below(4) {
                    0 => self.json_structure(&base).unwrap_or(base),
                    1 => self.rewrap(&base).unwrap_or(base),
                    _ => base,
                }
            }
            Target::Vans | Target::Sbdh => {
                let base = self.seed().to_vec();
                if self.rng.one_in(2) {
                    self.rewrap(&base).unwrap_or(base)
                } else {
                    base
                }
            }
            Target::Golden => {
                let golden = self.seed().to_vec();
                let actual = match self.rng.below(3) {
                    0 => golden.clone(),
                    1 => self
                        .json_structure(&golden)
                        .unwrap_or_else(|| golden.clone()),
                    _ => self.seed().to_vec(),
                };
                let mut v = golden;
                v.extend_from_slice(GOLDEN_SEPARATOR);
                v.extend_from_slice(&actual);
                v
            }
            Target::Oioxml | Target::Scenario | Target::SelfTest => self.seed().to_vec(),
        };
        // Few byte mutations, often none after a structural one, so inputs get past the parser.
        let rounds = match self.rng.below(10) {
            0..=3 if self.structured => 0,
            0..=6 => 1,
            7 | 8 => 2,
            _ => 3 + self.rng.below(4),
        };
        self.structured = false;
        for _ in 0..rounds {
            self.bytes(&mut out);
        }
        out.truncate(MAX_INPUT);
        out
    }

    /// A position in `buf`, often next to a markup character.
    fn position(&mut self, buf: &[u8]) -> usize {
        if buf.is_empty() {
            return 0;
        }
        let at = self.rng.below(buf.len() + 1);
        if self.rng.one_in(2) {
            let marks: &[u8] = b"<>\"{}[],:=&";
            if let Some(off) = buf[at..].iter().position(|c| marks.contains(c)) {
                return at + off + usize::from(self.rng.one_in(2));
            }
        }
        at
    }

    fn range(&mut self, buf: &[u8]) -> (usize, usize) {
        let start = self.position(buf).min(buf.len());
        let max = (buf.len() - start).min(if self.rng.one_in(4) { 1 << 16 } else { 64 });
        let len = self.rng.below(max + 1);
        (start, start + len)
    }

    /// One byte-level mutation of `buf` in place.
    fn bytes(&mut self, buf: &mut Vec<u8>) {
        match self.rng.below(17) {
            16 => {
                // A character of several bytes at the end of a value: before a quote or a tag.
                // Or a few bytes before that end, or after the value's start, where
                // fixed-width fields (dates, zones, EANs) are cut.
                let from = self.rng.below(buf.len() + 1);
                let end = buf[from..]
                    .iter()
                    .position(|c| *c == b'"' || *c == b'<')
                    .map_or(buf.len(), |i| from + i);
                let at = match self.rng.below(3) {
                    0 => end,
                    1 => end.saturating_sub(self.rng.below(8)),
                    _ => buf[..end]
                        .iter()
                        .rposition(|c| *c == b'"' || *c == b'>')
                        .map_or(end, |i| (i + 1 + self.rng.below(12)).min(end)),
                };
                let c = self.rng.pick(MULTIBYTE).as_bytes();
                buf.splice(at..at, c.iter().copied());
            }
            0 if !buf.is_empty() => {
                let i = self.rng.below(buf.len());
                buf[i] ^= 1 << self.rng.below(8);
            }
            1 if !buf.is_empty() => {
                let i = self.rng.below(buf.len());
                buf[i] = *self.rng.pick(INTERESTING_BYTES);
            }
            2 | 3 => {
                let at = self.position(buf).min(buf.len());
                let token = self.rng.pick(TOKENS).as_bytes();
                buf.splice(at..at, token.iter().copied());
            }
            4 => {
                let (a, b) = self.range(buf);
                buf.drain(a..b);
            }
            5 => {
                let (a, b) = self.range(buf);
                let chunk = buf[a..b].to_vec();
                let at = self.position(buf).min(buf.len());
                let times = if self.rng.one_in(8) { 50 } else { 1 };
                for _ in 0..times {
                    if buf.len() + chunk.len() > MAX_INPUT {
                        break;
                    }
                    buf.splice(at..at, chunk.iter().copied());
                }
            }
            6 => {
                let other = self.any_seed();
                let cut = self.rng.below(buf.len() + 1);
                let from = self.rng.below(other.len() + 1);
                buf.truncate(cut);
                buf.extend_from_slice(&other[from..]);
            }
            7 => {
                let (a, b) = self.range(buf);
                let token = self.rng.pick(TOKENS).as_bytes();
                buf.splice(a..b, token.iter().copied());
            }
            8 => self.nesting(buf),
            9 => self.number(buf),
            10 => self.encoding(buf),
            11 => self.base64(buf),
            12 => self.element(buf),
            13 => {
                let cut = self.rng.below(buf.len() + 1);
                buf.truncate(cut);
            }
            14 => {
                // The same markup character everywhere in a range: a quote becomes an apostrophe.
                let (a, b) = self.range(buf);
                let from = *self.rng.pick(b"<>\"'{}[]=&/");
                let to = *self.rng.pick(b"<>\"'{}[]=&/ \0");
                for c in &mut buf[a..b] {
                    if *c == from {
                        *c = to;
                    }
                }
            }
            _ => {
                let at = self.position(buf).min(buf.len());
                let s = format!("\"{}\"", self.rng.pick(STRINGS));
                buf.splice(at..at, s.into_bytes());
            }
        }
    }

    fn nesting(&mut self, buf: &mut Vec<u8>) {
        let depth = *self
            .rng
            .pick(&[100usize, 127, 128, 129, 255, 256, 257, 600, 5000, 100_000]);
        let (open, close): (&[u8], &[u8]) = match self.rng.below(5) {
            0 => (b"<a>", b"</a>"),
            1 => (b"[", b"]"),
            2 => (b"{\"a\":", b"}"),
            3 => (b"<extension url=\"x\">", b"</extension>"),
            _ => (b"<f:a xmlns:f=\"urn:x\">", b"</f:a>"),
        };
        let at = self.position(buf).min(buf.len());
        let mut chunk = open.repeat(depth);
        if self.rng.one_in(2) {
            chunk.extend(close.repeat(depth));
        }
        if buf.len() + chunk.len() <= MAX_INPUT {
            buf.splice(at..at, chunk);
        }
    }

    fn number(&mut self, buf: &mut Vec<u8>) {
        let huge = self.rng.pick(RAW_NUMBERS).as_bytes();
        let start = self.rng.below(buf.len() + 1);
        let Some(off) = buf[start..].iter().position(u8::is_ascii_digit) else {
            buf.extend_from_slice(huge);
            return;
        };
        let a = start + off;
        let len = buf[a..]
            .iter()
            .take_while(|c| c.is_ascii_digit() || **c == b'.')
            .count();
        buf.splice(a..a + len, huge.iter().copied());
    }

    fn encoding(&mut self, buf: &mut Vec<u8>) {
        match self.rng.below(7) {
            0 => buf
                .splice(0..0, b"\xEF\xBB\xBF".iter().copied())
                .for_each(drop),
            1 => buf.splice(0..0, b"\xFF\xFE".iter().copied()).for_each(drop),
            2 | 3 => {
                // The whole document in UTF-16 (the text is read as Latin-1 when it is no UTF-8).
                let text = String::from_utf8_lossy(buf).into_owned();
                let little = self.rng.one_in(2);
                let mut out: Vec<u8> = if little {
                    vec![0xFF, 0xFE]
                } else {
                    vec![0xFE, 0xFF]
                };
                if self.rng.one_in(4) {
                    out.clear();
                }
                for unit in text.encode_utf16() {
                    let b = if little {
                        unit.to_le_bytes()
                    } else {
                        unit.to_be_bytes()
                    };
                    out.extend_from_slice(&b);
                }
                *buf = out;
            }
            4 => {
                // Latin-1 bytes, declared or not.
                let text = String::from_utf8_lossy(buf).into_owned();
                *buf = text
                    .chars()
                    .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
                    .collect();
            }
            _ => {
                let decl: &[u8] = match self.rng.below(5) {
                    0 => b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>",
                    1 => b"<?xml version=\"1.0\" encoding=\"UTF-16\"?>",
                    2 => b"<?xml version=\"1.0\" encoding=\"windows-1252\"?>",
                    3 => b"<?xml version=\"1.0\" encoding=\"x-nope\"?>",
                    _ => b"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>",
                };
                if let Some(end) = find(buf, b"?>", 0).filter(|_| buf.starts_with(b"<?xml")) {
                    buf.splice(0..end + 2, decl.iter().copied());
                } else {
                    buf.splice(0..0, decl.iter().copied());
                }
            }
        }
    }

    fn base64(&mut self, buf: &mut Vec<u8>) {
        // The longest run of base64 characters after a random point, corrupted.
        let start = self.rng.below(buf.len() + 1);
        let is_b64 = |c: &u8| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/' || *c == b'=';
        let mut i = start;
        while i < buf.len() {
            let len = buf[i..].iter().take_while(|c| is_b64(c)).count();
            if len >= 16 {
                let a = i + self.rng.below(len);
                let choices: [&[u8]; 8] = [
                    b"=",
                    b"==",
                    b"*",
                    b" \n ",
                    b"&#65;",
                    b"\xC3\xA6",
                    b"A",
                    b"-_",
                ];
                let garbage = *self.rng.pick(&choices);
                if self.rng.one_in(3) {
                    buf.drain(a..i + len);
                } else {
                    buf.splice(a..a, garbage.iter().copied());
                }
                return;
            }
            i += len.max(1);
        }
        let at = self.position(buf).min(buf.len());
        buf.splice(at..at, b"AAAA====%%%%".iter().copied());
    }

    /// Duplicates, deletes or moves the text between two `<` (roughly an element).
    fn element(&mut self, buf: &mut Vec<u8>) {
        let lts: Vec<usize> = buf
            .iter()
            .enumerate()
            .filter(|(_, c)| **c == b'<')
            .map(|(i, _)| i)
            .collect();
        if lts.len() < 2 {
            return;
        }
        let i = self.rng.below(lts.len() - 1);
        let j = (i + 1 + self.rng.below((lts.len() - i - 1).min(8))).min(lts.len() - 1);
        let (a, b) = (lts[i], lts[j]);
        match self.rng.below(3) {
            0 => {
                buf.drain(a..b);
            }
            1 => {
                let chunk = buf[a..b].to_vec();
                buf.splice(a..a, chunk);
            }
            _ => {
                let chunk = buf[a..b].to_vec();
                let k = *self.rng.pick(&lts);
                buf.splice(k..k, chunk);
            }
        }
    }

    /// The seed read as JSON, mutated as a Value and written back (with duplicate members and raw
    /// numbers the writer can make); `None` when the seed is not JSON.
    fn json_structure(&mut self, base: &[u8]) -> Option<Vec<u8>> {
        let mut value: Value = serde_json::from_slice(trimmed(base)).ok()?;
        let rounds = 1 + self.rng.below(4);
        for _ in 0..rounds {
            self.mutate_value(&mut value);
        }
        let mut out = String::new();
        self.write_json(&value, &mut out);
        self.structured = true;
        Some(out.into_bytes())
    }

    /// FHIR XML read into JSON, mutated and written back as XML by the harness's own writer.
    fn xml_structure(&mut self, base: &[u8]) -> Option<Vec<u8>> {
        let mut value = medcom_harness::fhir::xml_to_json(base).ok()?;
        let rounds = 1 + self.rng.below(3);
        for _ in 0..rounds {
            self.mutate_value(&mut value);
        }
        strip_raw(&mut value);
        let xml = medcom_harness::fhir::json_to_xml(&value).ok()?;
        self.structured = true;
        Some(xml.into_bytes())
    }

    /// An envelope seed with its payload replaced by a mutated FHIR message, or a FHIR message
    /// wrapped in a VANSEnvelope.
    fn rewrap(&mut self, base: &[u8]) -> Option<Vec<u8>> {
        use medcom_harness::envelope;
        let payload = self.seed_of(&self.fhir_seeds.clone()).to_vec();
        let payload = if self.rng.one_in(2) {
            self.json_structure(&payload).unwrap_or(payload)
        } else {
            let mut p = payload;
            self.bytes(&mut p);
            p
        };
        if let Ok(mut sbdh) = envelope::unwrap_sbdh(base) {
            sbdh.binary_content.payload = payload;
            self.structured = true;
            return Some(envelope::wrap_sbdh(&sbdh).into_bytes());
        }
        if let Ok(mut vans) = envelope::unwrap_vans(base)
            && let envelope::VansBody::Message(m) = &mut vans.body
        {
            m.payload = payload;
            if self.rng.one_in(2) {
                m.meta.document.size_in_bytes = i64::try_from(m.payload.len()).unwrap_or(0);
            }
            self.structured = true;
            return Some(envelope::wrap_vans(&vans).into_bytes());
        }
        let message = Message::parse(payload, None).ok()?;
        let wrapped = envelope::carry::wrap_fhir(&message, None).ok()?;
        self.structured = true;
        Some(wrapped)
    }

    /// The positions of a random node below `root`: member or item indices, outermost first.
    fn random_path(&mut self, root: &Value) -> Vec<usize> {
        let mut path = Vec::new();
        let mut node = root;
        for _ in 0..self.rng.below(12) {
            let next = match node {
                Value::Object(m) if !m.is_empty() => {
                    let i = self.rng.below(m.len());
                    path.push(i);
                    m.values().nth(i)
                }
                Value::Array(a) if !a.is_empty() => {
                    let i = self.rng.below(a.len());
                    path.push(i);
                    a.get(i)
                }
                _ => None,
            };
            match next {
                Some(n) => node = n,
                None => break,
            }
        }
        path
    }

    fn mutate_value(&mut self, root: &mut Value) {
        let path = self.random_path(root);
        let node = node_at(root, &path);
        match self.rng.below(12) {
            0 => {
                if let Value::Object(m) = node
                    && !m.is_empty()
                {
                    let i = self.rng.below(m.len());
                    if let Some(k) = m.keys().nth(i).cloned() {
                        m.remove(&k);
                    }
                }
            }
            1 => {
                // A member copied under another name (a FHIR choice type twice, `_value` …).
                if let Value::Object(m) = node
                    && !m.is_empty()
                {
                    let i = self.rng.below(m.len());
                    if let Some((k, v)) = m.iter().nth(i).map(|(k, v)| (k.clone(), v.clone())) {
                        let name = match self.rng.below(4) {
                            0 => format!("_{k}"),
                            1 => format!("{k}String"),
                            2 => "resourceType".to_string(),
                            _ => format!("{k}x"),
                        };
                        m.insert(name, v);
                    }
                }
            }
            2 => {
                *node = match node {
                    Value::String(_) => serde_json::json!(self.rng.next() as i64),
                    Value::Number(_) => Value::Bool(self.rng.one_in(2)),
                    Value::Bool(_) => Value::Null,
                    Value::Null => serde_json::json!({}),
                    Value::Object(_) => Value::Array(vec![node.take()]),
                    Value::Array(a) => a.first().cloned().unwrap_or(Value::Null),
                };
            }
            3 => {
                let depth = *self.rng.pick(&[2usize, 10, 100, 127, 128, 200]);
                let mut v = node.take();
                for _ in 0..depth {
                    v = Value::Array(vec![v]);
                }
                *node = v;
            }
            4 => *node = Value::String(self.rng.pick(STRINGS).to_string()),
            5 => *node = Value::String(format!("{RAW}{}", self.rng.pick(RAW_NUMBERS))),
            6 => {
                if let Value::Array(a) = node
                    && !a.is_empty()
                {
                    let i = self.rng.below(a.len());
                    let v = a[i].clone();
                    let times = if self.rng.one_in(8) { 200 } else { 1 };
                    for _ in 0..times {
                        a.push(v.clone());
                    }
                } else if let Value::Array(a) = node {
                    a.push(Value::Null);
                }
            }
            7 => {
                if let Value::Array(a) = node
                    && !a.is_empty()
                {
                    let i = self.rng.below(a.len());
                    a.remove(i);
                    if !a.is_empty() && self.rng.one_in(2) {
                        let j = self.rng.below(a.len());
                        a.swap(0, j);
                    }
                }
            }
            8 => {
                if let Value::Object(m) = node {
                    m.insert(
                        "resourceType".into(),
                        Value::String(self.rng.pick(RESOURCE_TYPES).to_string()),
                    );
                }
            }
            9 => {
                // A string made longer, or cut inside a character.
                if let Value::String(s) = node {
                    if self.rng.one_in(3) {
                        *s = s.repeat(1 + self.rng.below(1000));
                    } else if self.rng.one_in(2) {
                        // A character of several bytes inside or at the end of the text.
                        // Near the start or the end, where fixed-width fields are cut.
                        let at = match self.rng.below(3) {
                            0 => self.rng.below(s.len().min(12) + 1),
                            1 => s.len() - self.rng.below(s.len().min(8) + 1),
                            _ => self.rng.below(s.len() + 1),
                        };
                        let at = (0..=at).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
                        let c = self.rng.pick::<&str>(MULTIBYTE).to_string();
                        s.insert_str(at, &c);
                    } else {
                        let cut = self.rng.below(s.len() + 1);
                        let cut = (0..=cut)
                            .rev()
                            .find(|&i| s.is_char_boundary(i))
                            .unwrap_or(0);
                        s.truncate(cut);
                    }
                }
            }
            10 => {
                if let Value::Object(m) = node {
                    m.insert(
                        self.rng.pick(STRINGS).to_string(),
                        Value::String(self.rng.pick(STRINGS).to_string()),
                    );
                }
            }
            _ => {
                if let Value::Object(m) = node {
                    m.insert("extension".into(), serde_json::json!([{ "url": self.rng.pick(STRINGS), "valueString": self.rng.pick(STRINGS) }]));
                }
            }
        }
    }

    fn write_json(&mut self, value: &Value, out: &mut String) {
        match value {
            Value::String(s) if s.starts_with(RAW) => out.push_str(&s[RAW.len()..]),
            Value::Object(m) => {
                out.push('{');
                let mut first = true;
                for (k, v) in m {
                    let times = if self.rng.one_in(200) { 2 } else { 1 };
                    for _ in 0..times {
                        if !first {
                            out.push(',');
                        }
                        first = false;
                        out.push_str(&Value::String(k.clone()).to_string());
                        out.push(':');
                        self.write_json(v, out);
                    }
                }
                out.push('}');
            }
            Value::Array(a) => {
                out.push('[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    self.write_json(v, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
}

/// The node at `path` (from [`Mutator::random_path`] on the same value).
fn node_at<'v>(node: &'v mut Value, path: &[usize]) -> &'v mut Value {
    match path.split_first() {
        None => node,
        Some((&i, rest)) => match node {
            Value::Object(m) => match m.values_mut().nth(i) {
                Some(n) => node_at(n, rest),
                None => unreachable!("a path from random_path"),
            },
            Value::Array(a) => node_at(&mut a[i], rest),
            other => other,
        },
    }
}

/// Raw numbers only survive the JSON writer; for XML they become text.
fn strip_raw(value: &mut Value) {
    match value {
        Value::String(s) => {
            if let Some(r) = s.strip_prefix(RAW) {
                *s = r.to_string();
            }
        }
        Value::Array(a) => a.iter_mut().for_each(strip_raw),
        Value::Object(m) => m.values_mut().for_each(strip_raw),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Targets

/// What the targets share: settings, the envelope schemas, the IG, a folder for scenario files.
struct Context {
    settings: medcom_harness::validate::Settings,
    payload_settings: medcom_harness::validate::Settings,
    schemas: Option<medcom_harness::envelope::SchemaFiles>,
    ig: Option<medcom_harness::validate::profile::Ig>,
    scenario_dir: tempfile::TempDir,
    captures: BTreeMap<String, String>,
}

impl Context {
    fn new(target: Target, corpus: &Path) -> Context {
        let settings = medcom_harness::validate::Settings::default();
        let mut payload_settings = settings.clone();
        payload_settings.payload = true;
        let (schemas, ig) = if target == Target::Validate {
            let ig =
                medcom_harness::validate::profile::Ig::load(&corpus.join("medcomfhir-website/ig"))
                    .map_err(|e| {
                        eprintln!("note: the IG did not load, profiles are not fuzzed: {e}")
                    })
                    .ok();
            (
                Some(medcom_harness::envelope::SchemaFiles::in_corpus(corpus)),
                ig,
            )
        } else {
            (None, None)
        };
        let scenario_dir = tempfile::tempdir().expect("a temporary folder for scenario files");
        // Scenario files name attachments relative to themselves; the bundled ones are reachable.
        let attachments =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/carecommunication/attachments");
        let _ = std::os::unix::fs::symlink(attachments, scenario_dir.path().join("attachments"));
        let captures = ["first", "broken", "letter", "reply"]
            .iter()
            .flat_map(|c| {
                [
                    ("letter-id", "0c8dddf2-c882-4b00-8870-5035279e7d01"),
                    ("envelope-id", "5b6b4b2e-0000-4000-8000-000000000000"),
                    ("sender-ean", "5790000121526"),
                    ("receiver-ean", "5790001382445"),
                    ("sender-sor-id", "953741000016009"),
                    ("receiver-sor-id", "1144561000016002"),
                ]
                .map(|(k, v)| (format!("{c}.{k}"), v.to_string()))
            })
            .collect();
        Context {
            settings,
            payload_settings,
            schemas,
            ig,
            scenario_dir,
            captures,
        }
    }
}

/// Calls the parsers of `target` on `input`; results are dropped, only panics and time count.
/// Returns whether the target's first parser accepted the input (how deep the input got).
fn run(target: Target, ctx: &Context, input: &[u8]) -> bool {
    use medcom_harness::{envelope, fhir, golden, oioxml, validate};
    match target {
        Target::SelfTest => {
            match sha256_hex(input).as_bytes()[..2] {
                [b'0', b'0'] => panic!("self-test: a panic"),
                [b'0', b'1'] => {
                    std::hint::black_box(deep(u64::MAX));
                }
                [b'0', b'2'] => std::thread::sleep(Duration::from_millis(2100)),
                [b'0', b'3'] => std::thread::sleep(Duration::from_secs(3600)),
                _ => {}
            }
            true
        }
        Target::FhirJson | Target::FhirXml => {
            if target == Target::FhirXml
                && let Ok(v) = fhir::xml_to_json(input)
                && let Ok(x) = fhir::json_to_xml(&v)
            {
                let _ = fhir::xml_to_json(x.as_bytes());
            }
            if target == Target::FhirJson
                && let Ok(v) = serde_json::from_slice::<Value>(trimmed(input))
                && let Ok(x) = fhir::json_to_xml(&v)
            {
                let _ = fhir::xml_to_json(x.as_bytes());
            }
            let parsed = Message::parse(input.to_vec(), None);
            let accepted = parsed.is_ok();
            if let Ok(m) = parsed {
                let _ = m.label();
                let _ = validate::message(&m);
                if m.is_acknowledgement() {
                    let _ = medcom_harness::check::acknowledgement_alone(&m);
                }
                let other = match m.format {
                    Format::Json => Format::Xml,
                    Format::Xml => Format::Json,
                };
                let _ = Message::encode(&m.resource, other);
                let _ = envelope::carry::wrap_fhir(&m, None);
            }
            accepted
        }
        Target::Validate => {
            let _ = validate::bytes(
                input.to_vec(),
                &ctx.settings,
                ctx.schemas.as_ref(),
                ctx.ig.as_ref(),
            );
            let _ = validate::bytes(input.to_vec(), &ctx.payload_settings, None, ctx.ig.as_ref());
            envelope::detect(input).is_ok()
                || oioxml::parse(input).is_ok()
                || Message::parse(input.to_vec(), None).is_ok()
        }
        Target::Oioxml => {
            if let Ok(letter) = oioxml::parse(input) {
                let _ = oioxml::structure::check(&letter);
                for encoding in [oioxml::Encoding::Utf8, oioxml::Encoding::Iso88591] {
                    let written = oioxml::write(&letter, encoding);
                    let _ = oioxml::parse(&written);
                }
                let _ = envelope::carry::wrap_oioxml(input, &letter.envelope_facts());
                true
            } else {
                false
            }
        }
        Target::Vans => {
            let _ = envelope::detect(input);
            let parsed = envelope::unwrap_vans(input);
            let accepted = parsed.is_ok();
            if let Ok(vans) = parsed {
                let _ = envelope::check_vans_size(&vans);
                let _ = envelope::check_vans_receipt(&vans, &vans);
                let _ = envelope::Envelope::Vans(vans.clone()).duplicate_key();
                let _ = envelope::unwrap_vans(envelope::wrap_vans(&vans).as_bytes());
            }
            let arrival = medcom_harness::arrival::Arrival::read(input);
            let _ = arrival.envelope_problems();
            accepted
        }
        Target::Sbdh => {
            let _ = envelope::detect(input);
            let parsed = envelope::unwrap_sbdh(input);
            let accepted = parsed.is_ok();
            if let Ok(sbdh) = parsed {
                let _ = envelope::check_sbdh(&sbdh, Some(sbdh.binary_content.mime_type.as_str()));
                let _ = envelope::unwrap_sbdh(envelope::wrap_sbdh(&sbdh).as_bytes());
                if let Ok(signal) = envelope::read_signal(&sbdh.binary_content.payload) {
                    let _ = envelope::check_sbdh_receipt(&sbdh, &signal, &sbdh);
                    let _ = envelope::write_signal(&signal);
                }
            }
            if let Ok(signal) = envelope::read_signal(input) {
                let _ = envelope::write_signal(&signal);
            }
            accepted
        }
        Target::Scenario => {
            let path = ctx.scenario_dir.path().join("fuzz.toml");
            std::fs::write(&path, input).is_ok()
                && medcom_harness::scenario::load_file(&path).is_ok()
        }
        Target::Golden => {
            let (expected, actual) = match find(input, GOLDEN_SEPARATOR, 0) {
                Some(i) => (&input[..i], &input[i + GOLDEN_SEPARATOR.len()..]),
                None => (input, input),
            };
            let _ = golden::render_normalized(expected);
            let mut opts = golden::CompareOptions {
                captures: ctx.captures.clone(),
                ..Default::default()
            };
            let accepted = golden::compare(expected, actual, &opts).is_ok();
            if trimmed(expected).starts_with(b"<") {
                opts.ignore = vec![
                    "/*/entry[*]/resource/*/meta".into(),
                    "/Bundle/id/@value".into(),
                ];
                opts.unordered = vec!["/Bundle".into(), "/*/entry/resource/*".into()];
            } else {
                opts.ignore = vec!["entry[*].resource.meta".into(), "id".into()];
                opts.unordered = vec!["entry".into(), "entry[*].resource.extension".into()];
            }
            let _ = golden::compare(expected, actual, &opts);
            accepted
        }
    }
}

/// Recursion without end, for the self-test's stack overflow.
fn deep(n: u64) -> u64 {
    let frame = std::hint::black_box([n; 64]);
    if n == 0 {
        0
    } else {
        deep(n - 1).wrapping_add(frame[(n % 64) as usize])
    }
}

// ---------------------------------------------------------------------------------------------
// Findings

/// The message and location of the last panic on this process, set by the panic hook.
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(a panic without a message)".to_string());
        let location = info.location().map_or_else(
            || "unknown".to_string(),
            |l| format!("{}:{}", l.file(), l.line()),
        );
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = Some(format!("{location}\t{message}"));
        }
    }));
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Saves a finding; returns the path of the input.
fn save(dir: &Path, target: Target, input: &[u8], what: &str) -> PathBuf {
    let _ = std::fs::create_dir_all(dir);
    let path = dir.join(format!("{}-{}.bin", target.name(), sha256_hex(input)));
    let _ = std::fs::write(&path, input);
    let _ = std::fs::write(path.with_extension("txt"), format!("{what}\n"));
    path
}

// ---------------------------------------------------------------------------------------------
// The worker: one target, in a child process

struct WorkerArgs {
    target: Target,
    seconds: f64,
    seed: u64,
    budget: Duration,
    hang: Duration,
    crashes: PathBuf,
    corpus: PathBuf,
}

/// The input running now and since when, for the watchdog.
struct InFlight {
    started: Option<Instant>,
}

fn worker(args: WorkerArgs) -> ExitCode {
    install_panic_hook();
    let seeds = load_seeds(&args.corpus);
    let ctx = Context::new(args.target, &args.corpus);
    let inflight_path = args
        .crashes
        .join(format!(".inflight-{}", args.target.name()));
    let _ = std::fs::create_dir_all(&args.crashes);
    let state = Arc::new(Mutex::new(InFlight { started: None }));
    let deadline = Instant::now() + Duration::from_secs_f64(args.seconds);

    let watch = Arc::clone(&state);
    let hang = args.hang;
    let hang_path = inflight_path.clone();
    let crash_dir = args.crashes.clone();
    let target = args.target;
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_millis(200));
            let started = watch.lock().ok().and_then(|s| s.started);
            if let Some(t) = started
                && t.elapsed() > hang
            {
                let input = std::fs::read(&hang_path).unwrap_or_default();
                let path = save(
                    &crash_dir,
                    target,
                    &input,
                    &format!("hang: still running after {} s", hang.as_secs()),
                );
                println!("found hang {}", path.display());
                let _ = std::io::stdout().flush();
                std::process::exit(3);
            }
        }
    });

    let stdout = Arc::new(Mutex::new(()));
    let run_state = Arc::clone(&state);
    let handle = std::thread::Builder::new()
        .name("fuzz".into())
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            let mut mutator = Mutator::new(args.target, &seeds, args.seed);
            let mut tried: u64 = 0;
            let mut accepted: u64 = 0;
            let mut per_location: HashMap<String, usize> = HashMap::new();
            let mut last_report = Instant::now();
            while Instant::now() < deadline {
                let input = mutator.input(args.target);
                // The input is on disk before it runs, so a crash that kills the process is saved.
                let _ = std::fs::write(&inflight_path, &input);
                if let Ok(mut last) = LAST_PANIC.lock() {
                    *last = None;
                }
                let start = Instant::now();
                if let Ok(mut s) = run_state.lock() {
                    s.started = Some(start);
                }
                let result = catch_unwind(AssertUnwindSafe(|| run(args.target, &ctx, &input)));
                let took = start.elapsed();
                if let Ok(mut s) = run_state.lock() {
                    s.started = None;
                }
                tried += 1;
                accepted += u64::from(matches!(result, Ok(true)));
                let _guard = stdout.lock();
                if result.is_err() {
                    let what = LAST_PANIC
                        .lock()
                        .ok()
                        .and_then(|mut l| l.take())
                        .unwrap_or_else(|| "unknown\t(no message)".into());
                    let location = what.split('\t').next().unwrap_or("unknown").to_string();
                    let seen = per_location.entry(location.clone()).or_insert(0);
                    *seen += 1;
                    if *seen <= KEEP_PER_LOCATION {
                        let path = save(
                            &args.crashes,
                            args.target,
                            &input,
                            &format!("panic at {what}"),
                        );
                        println!("found crash {} {}", path.display(), what.replace('\n', " "));
                    } else {
                        println!("found crash - {location}");
                    }
                } else if took > args.budget && {
                    // On a machine shared with builds one run can be starved of CPU: an input
                    // is slow when it is slow twice.
                    if let Ok(mut s) = run_state.lock() {
                        s.started = Some(Instant::now());
                    }
                    let again = Instant::now();
                    let _ = catch_unwind(AssertUnwindSafe(|| run(args.target, &ctx, &input)));
                    let took_again = again.elapsed();
                    if let Ok(mut s) = run_state.lock() {
                        s.started = None;
                    }
                    took_again > args.budget
                } {
                    let path = save(
                        &args.crashes,
                        args.target,
                        &input,
                        &format!(
                            "slow: {:.2} s (budget {} s)",
                            took.as_secs_f64(),
                            args.budget.as_secs_f64()
                        ),
                    );
                    println!("found slow {} {:.2}", path.display(), took.as_secs_f64());
                }
                if last_report.elapsed() > Duration::from_secs(1) {
                    println!("tried {tried} {accepted}");
                    let _ = std::io::stdout().flush();
                    last_report = Instant::now();
                }
            }
            println!("tried {tried} {accepted}");
            let _ = std::io::stdout().flush();
            let _ = std::fs::remove_file(&inflight_path);
        })
        .expect("spawn the fuzzing thread");
    match handle.join() {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(4),
    }
}

// ---------------------------------------------------------------------------------------------
// The supervisor: runs a worker per target, restarts it when it dies

#[derive(Default)]
struct Tally {
    tried: u64,
    accepted: u64,
    seconds: f64,
    crashes: u64,
    slow: u64,
    hangs: u64,
    deaths: u64,
    saved: Vec<String>,
}

fn supervise(target: Target, seconds: f64, seed: u64, opts: &Options, exe: &Path) -> Tally {
    let mut tally = Tally::default();
    let start = Instant::now();
    let mut round = 0u64;
    while start.elapsed().as_secs_f64() < seconds - 0.5 {
        round += 1;
        let left = seconds - start.elapsed().as_secs_f64();
        let stderr_path = opts.crashes.join(format!(".stderr-{}", target.name()));
        let _ = std::fs::create_dir_all(&opts.crashes);
        let Ok(stderr) = std::fs::File::create(&stderr_path) else {
            eprintln!("error: cannot write `{}`", stderr_path.display());
            break;
        };
        let child = Command::new(exe)
            .arg("--worker")
            .args(["--target", target.name()])
            .args(["--seconds", &format!("{left:.1}")])
            .args([
                "--seed",
                &(seed.wrapping_add(round.wrapping_mul(0x9E37_79B9_7F4A_7C15))).to_string(),
            ])
            .args(["--budget", &opts.budget.as_secs_f64().to_string()])
            .args(["--hang", &opts.hang.as_secs_f64().to_string()])
            .arg("--crashes")
            .arg(&opts.crashes)
            .env("MEDCOM_CORPUS", &opts.corpus)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn();
        let mut child = match child {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: cannot start the worker: {e}");
                break;
            }
        };
        let mut tried = 0;
        let mut accepted = 0;
        if let Some(out) = child.stdout.take() {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Some(n) = line.strip_prefix("tried ") {
                    let mut counts = n.split(' ').map(|c| c.trim().parse::<u64>());
                    tried = counts.next().and_then(Result::ok).unwrap_or(tried);
                    accepted = counts.next().and_then(Result::ok).unwrap_or(accepted);
                } else if let Some(rest) = line.strip_prefix("found ") {
                    let mut parts = rest.splitn(3, ' ');
                    let kind = parts.next().unwrap_or("");
                    let path = parts.next().unwrap_or("-");
                    match kind {
                        "crash" => tally.crashes += 1,
                        "slow" => tally.slow += 1,
                        "hang" => tally.hangs += 1,
                        _ => {}
                    }
                    if path != "-" {
                        eprintln!(
                            "  {} {kind}: {path} {}",
                            target.name(),
                            parts.next().unwrap_or("")
                        );
                        tally.saved.push(path.to_string());
                    }
                }
            }
        }
        tally.tried += tried;
        tally.accepted += accepted;
        let status = child.wait();
        match status {
            Ok(s) if s.success() => {}
            Ok(s) if s.code() == Some(3) => {}
            other => {
                // The worker died under an input: the one on disk.
                tally.deaths += 1;
                tally.crashes += 1;
                let inflight = opts.crashes.join(format!(".inflight-{}", target.name()));
                let input = std::fs::read(&inflight).unwrap_or_default();
                let log = std::fs::read_to_string(&stderr_path).unwrap_or_default();
                let tail: String = log.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
                let path = save(
                    &opts.crashes,
                    target,
                    &input,
                    &format!("the worker died ({other:?}): {tail}"),
                );
                eprintln!("  {} died: {} ({tail})", target.name(), path.display());
                tally.saved.push(path.display().to_string());
            }
        }
    }
    tally.seconds = start.elapsed().as_secs_f64();
    tally
}

// ---------------------------------------------------------------------------------------------
// Minimizing a finding

/// What an input does: the panic location, or `None`.
fn outcome(target: Target, ctx: &Context, input: &[u8], budget: Duration) -> Option<String> {
    if let Ok(mut last) = LAST_PANIC.lock() {
        *last = None;
    }
    let start = Instant::now();
    let result = catch_unwind(AssertUnwindSafe(|| run(target, ctx, input)));
    if result.is_err() {
        let what = LAST_PANIC.lock().ok().and_then(|mut l| l.take())?;
        return what.split('\t').next().map(str::to_string);
    }
    (start.elapsed() > budget).then(|| "slow".to_string())
}

/// Removes chunks of the input while it still panics at the same place (or stays slow).
fn minimize(target: Target, corpus: &Path, file: &Path, budget: Duration) -> ExitCode {
    install_panic_hook();
    let ctx = Context::new(target, corpus);
    let Ok(mut input) = std::fs::read(file) else {
        eprintln!("error: cannot read `{}`", file.display());
        return ExitCode::from(2);
    };
    let Some(want) = outcome(target, &ctx, &input, budget) else {
        eprintln!(
            "the input neither panics nor is slow for `{}`",
            target.name()
        );
        return ExitCode::from(1);
    };
    eprintln!("minimizing {} bytes: {want}", input.len());
    let stop = Instant::now() + Duration::from_secs(300);
    let mut chunk = input.len().div_ceil(2).max(1);
    while chunk >= 1 && Instant::now() < stop {
        let mut i = 0;
        let mut changed = false;
        while i < input.len() && Instant::now() < stop {
            let mut candidate = input.clone();
            candidate.drain(i..(i + chunk).min(input.len()));
            if outcome(target, &ctx, &candidate, budget).as_deref() == Some(want.as_str()) {
                input = candidate;
                changed = true;
            } else {
                i += chunk;
            }
        }
        if !changed {
            if chunk == 1 {
                break;
            }
            chunk /= 2;
        }
    }
    let out = file.with_extension("min");
    let _ = std::fs::write(&out, &input);
    eprintln!("{} bytes in `{}`:", input.len(), out.display());
    println!("{}", input.escape_ascii());
    ExitCode::SUCCESS
}

// ---------------------------------------------------------------------------------------------
// Command line

struct Options {
    targets: Vec<Target>,
    seconds: f64,
    seed: u64,
    budget: Duration,
    hang: Duration,
    crashes: PathBuf,
    corpus: PathBuf,
    worker: bool,
    minimize: Option<PathBuf>,
}

const USAGE: &str = "usage: fuzz [--seconds N] [--target all|NAME[,NAME…]] [--seed N] [--budget S] [--hang S] [--crashes DIR] [--minimize FILE]
targets: fhir-json fhir-xml validate oioxml vans sbdh scenario golden (and self-test, which proves the fuzzer catches panics, stack overflows, slow inputs and hangs)";

fn parse_args() -> Result<Options, String> {
    let corpus = std::env::var_os("MEDCOM_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/medcom"),
        PathBuf::from,
    );
    let mut o = Options {
        targets: TARGETS.to_vec(),
        seconds: 60.0,
        seed: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64),
        budget: Duration::from_secs(2),
        hang: Duration::from_secs(20),
        crashes: PathBuf::from("fuzz-crashes"),
        corpus,
        worker: false,
        minimize: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("`{a}` needs a value"));
        match a.as_str() {
            "--seconds" => o.seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?,
            "--seed" => o.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--budget" => {
                o.budget = Duration::from_secs_f64(
                    value()?.parse().map_err(|e| format!("--budget: {e}"))?,
                );
            }
            "--hang" => {
                o.hang =
                    Duration::from_secs_f64(value()?.parse().map_err(|e| format!("--hang: {e}"))?);
            }
            "--crashes" => o.crashes = PathBuf::from(value()?),
            "--minimize" => o.minimize = Some(PathBuf::from(value()?)),
            "--worker" => o.worker = true,
            "--target" => {
                let v = value()?;
                o.targets = if v == "all" {
                    TARGETS.to_vec()
                } else {
                    v.split(',')
                        .map(|n| Target::from_name(n.trim()).ok_or(format!("unknown target `{n}`")))
                        .collect::<Result<_, _>>()?
                };
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if !o.corpus.join("PROVENANCE.tsv").is_file() {
        return Err(format!(
            "the MedCom corpus is missing at `{}` (set MEDCOM_CORPUS)",
            o.corpus.display()
        ));
    }
    Ok(o)
}

fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("error: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    if let Some(file) = &opts.minimize {
        return minimize(opts.targets[0], &opts.corpus, file, opts.budget);
    }
    if opts.worker {
        return worker(WorkerArgs {
            target: opts.targets[0],
            seconds: opts.seconds,
            seed: opts.seed,
            budget: opts.budget,
            hang: opts.hang,
            crashes: opts.crashes.clone(),
            corpus: opts.corpus.clone(),
        });
    }
    let Ok(exe) = std::env::current_exe() else {
        eprintln!("error: cannot find the fuzzer's own executable");
        return ExitCode::from(2);
    };
    let share = opts.seconds / opts.targets.len() as f64;
    eprintln!(
        "fuzzing {} target(s) for {:.0} s each, seed {}, findings in `{}`",
        opts.targets.len(),
        share,
        opts.seed,
        opts.crashes.display()
    );
    let mut rows = Vec::new();
    for (i, &target) in opts.targets.iter().enumerate() {
        let tally = supervise(target, share, opts.seed.wrapping_add(i as u64), &opts, &exe);
        eprintln!(
            "{}: {} inputs in {:.0} s, {} crashes, {} slow, {} hangs",
            target.name(),
            tally.tried,
            tally.seconds,
            tally.crashes,
            tally.slow,
            tally.hangs
        );
        rows.push((target, tally));
    }
    println!(
        "{:<10} {:>8} {:>10} {:>9} {:>9} {:>8} {:>6} {:>6}",
        "target", "seconds", "inputs", "inputs/s", "accepted", "crashes", "slow", "hangs"
    );
    let mut found = false;
    for (target, t) in &rows {
        found |= t.crashes + t.slow + t.hangs > 0;
        println!(
            "{:<10} {:>8.0} {:>10} {:>9.1} {:>8.0}% {:>8} {:>6} {:>6}",
            target.name(),
            t.seconds,
            t.tried,
            t.tried as f64 / t.seconds.max(0.001),
            100.0 * t.accepted as f64 / t.tried.max(1) as f64,
            t.crashes,
            t.slow,
            t.hangs
        );
    }
    for (_, t) in &rows {
        for s in &t.saved {
            println!("saved {s}");
        }
    }
    if found {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
