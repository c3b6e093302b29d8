//! Integration tests: the built binary as users run it, the fault profiles, and the real MedCom
//! corpus.

mod certification;
mod cli;
mod corpus;
mod evidence;
mod faults;
mod folders;
mod http;
mod layering;
mod partition;
mod profile;
mod registry;
mod rules;
mod secrets;
mod sources;
mod support;
mod testscripts;
mod trust;
