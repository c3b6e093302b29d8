//! Integration tests: the built binary as users run it, the fault profiles, and the real MedCom
//! corpus.

mod certification;
mod cli;
mod corpus;
mod faults;
mod folders;
mod http;
mod layering;
mod profile;
mod rules;
mod secrets;
mod support;
mod trust;
