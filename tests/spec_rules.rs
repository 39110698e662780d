//! One rule set for every `name:key=value` grammar: schedules, models, laws and searches treat
//! duplicate keys, key case, unknown keys, empty values and bad numbers the same way (the
//! tokenizer is `lrsde::spec`).

use lrsde::law::AnyLaw;
use lrsde::model::ModelSpec;
use lrsde::rank::SearchSpec;
use lrsde::schedule::ScheduleSpec;

/// Parses `text` as `kind`; `Ok` holds a canonical form, so two spellings of one spec compare
/// equal.
fn parse(kind: &str, text: &str) -> Result<String, String> {
    match kind {
        "schedule" => text
            .parse::<ScheduleSpec>()
            .map(|s| s.to_string())
            .map_err(|e| e.to_string()),
        "model" => text
            .parse::<ModelSpec>()
            .map(|s| s.to_string())
            .map_err(|e| e.to_string()),
        "law" => text
            .parse::<AnyLaw>()
            .map(|l| serde_json::to_string(&l).unwrap())
            .map_err(|e| e.to_string()),
        "search" => text
            .parse::<SearchSpec>()
            .map(|s| format!("{:?} {:?} {}", s.free_keys(), s.choice_keys(), s.steps()))
            .map_err(|e| e.to_string()),
        _ => unreachable!("kinds are the table's"),
    }
}

enum Want {
    /// Parses to the same spec as this (lower-case) spelling.
    Same(&'static str),
    /// Fails with a message containing every one of these.
    Err(&'static [&'static str]),
}

#[test]
fn every_grammar_follows_the_same_rules() {
    use Want::{Err, Same};
    let table: &[(&str, &str, &str, Want)] = &[
        // (kind, rule, input, expected)
        (
            "schedule",
            "case",
            "COSINE:Peak=1,STEPS=10",
            Same("cosine:peak=1,steps=10"),
        ),
        (
            "schedule",
            "duplicate",
            "cosine:peak=1,PEAK=2,steps=10",
            Err(&["duplicate key `peak`"]),
        ),
        (
            "schedule",
            "unknown",
            "cosine:peak=1,steps=10,bogus=1",
            Err(&["unknown key `bogus`", "peak, steps, warmup, final"]),
        ),
        (
            "schedule",
            "empty value",
            "cosine:peak=,steps=10",
            Err(&["`peak=`"]),
        ),
        (
            "schedule",
            "bad number",
            "cosine:peak=abc,steps=10",
            Err(&["`peak=abc`", "not a number"]),
        ),
        (
            "model",
            "case",
            "NQM:Dim=3,Batch=4",
            Same("nqm:dim=3,batch=4"),
        ),
        (
            "model",
            "duplicate",
            "nqm:dim=3,DIM=4",
            Err(&["key `dim` given more than once"]),
        ),
        (
            "model",
            "unknown",
            "nqm:bogus=1",
            Err(&["unknown key `bogus`", "dim, hmax, power, noise, batch, x0"]),
        ),
        (
            "model",
            "empty value",
            "nqm:dim=",
            Err(&["model `nqm`", "`dim=`"]),
        ),
        (
            "model",
            "bad number",
            "nqm:noise=abc",
            Err(&["key `noise` has bad value `abc`"]),
        ),
        (
            "law",
            "case",
            "SDE:Dim=8,LR_REF=0.001",
            Same("sde:dim=8,lr_ref=0.001"),
        ),
        (
            "law",
            "case",
            "Sim:Model=Momentum,MU=0.5",
            Same("sim:model=momentum,mu=0.5"),
        ),
        (
            "law",
            "duplicate",
            "sde:dim=8,Dim=9",
            Err(&["law `sde`", "key `dim` given more than once"]),
        ),
        (
            "law",
            "duplicate",
            "sim:model=nqm,paths=8,PATHS=9",
            Err(&["`paths` given more than once"]),
        ),
        (
            "law",
            "unknown",
            "sde:bogus=1",
            Err(&["law `sde`", "unknown key `bogus`", "dim, exponents, lr_ref"]),
        ),
        (
            "law",
            "unknown",
            "sim:model=nqm,bogus=1",
            Err(&["unknown key `bogus`", "model, dim, paths"]),
        ),
        (
            "law",
            "empty value",
            "momentum:lambda=",
            Err(&["law `momentum`", "key `lambda` has an empty value"]),
        ),
        (
            "law",
            "bad number",
            "sde:lr_ref=abc",
            Err(&["`lr_ref=abc`", "not a number"]),
        ),
        (
            "law",
            "bad number",
            "sim:model=nqm,seed=abc",
            Err(&["invalid option `seed` = `abc`"]),
        ),
        (
            "search",
            "case",
            "WSD:Peak=3e-4,STEPS=1000,Decay=0.1..0.5,Shape=Linear|SQRT",
            Same("wsd:peak=3e-4,steps=1000,decay=0.1..0.5,shape=linear|sqrt"),
        ),
        (
            "search",
            "duplicate",
            "wsd:steps=1000,DECAY=0.1..0.5,decay=0.2",
            Err(&["`decay", "given more than once"]),
        ),
        (
            "search",
            "unknown",
            "wsd:steps=1000,bogus=1",
            Err(&["unknown key `bogus`", "decay, shape, final"]),
        ),
        (
            "search",
            "empty value",
            "wsd:steps=1000,decay=",
            Err(&["key `decay` has an empty value"]),
        ),
        (
            "search",
            "bad number",
            "wsd:steps=1000,decay=abc",
            Err(&["`decay=abc`", "not a number"]),
        ),
    ];
    let mut seen = std::collections::BTreeSet::new();
    for (kind, rule, input, want) in table {
        seen.insert((*kind, *rule));
        let got = parse(kind, input);
        match want {
            Same(canonical) => {
                let want = parse(kind, canonical);
                assert!(want.is_ok(), "{kind} {canonical}: {want:?}");
                assert_eq!(got, want, "{kind} {rule}: {input}");
            }
            Err(parts) => {
                let msg = got.expect_err(&format!("{kind} {rule}: {input} parsed"));
                for p in *parts {
                    assert!(
                        msg.contains(p),
                        "{kind} {rule}: {input}: `{msg}` lacks `{p}`"
                    );
                }
            }
        }
    }
    // Every rule is checked for every grammar.
    assert_eq!(seen.len(), 4 * 5);
}

#[test]
fn whitespace_and_empty_entries_are_ignored_everywhere() {
    for (kind, loose, tight) in [
        (
            "schedule",
            " cosine : peak = 1 , steps = 10 ,",
            "cosine:peak=1,steps=10",
        ),
        ("model", " nqm : dim = 3 ,, ", "nqm:dim=3"),
        ("law", " momentum : lambda = 0.9 , ", "momentum:lambda=0.9"),
        (
            "search",
            " wsd : steps = 1000 , decay = 0.1..0.5 ,",
            "wsd:steps=1000,decay=0.1..0.5",
        ),
    ] {
        assert_eq!(parse(kind, loose), parse(kind, tight), "{kind}");
        assert!(parse(kind, tight).is_ok(), "{kind}");
    }
}
