//! The `lrsde` command-line tool.
fn main() {}
