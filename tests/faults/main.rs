//! Fault injection through the `mer` binary, as a crash, a hostile file or a broken machine
//! would meet it, on small generated data. Each module owns one class of fault (see its doc);
//! every test injects the fault and asserts what a user relies on afterwards: nothing
//! half-written is trusted, nothing panics, and the message says what happened and what to do.

#[path = "../util/mod.rs"]
mod util;

mod cache;
mod compare;
mod inputs;
mod labels;
mod project;
mod report;
