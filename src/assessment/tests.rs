//! Scores, weights, bands and ranks worked out by hand.

use super::*;

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

/// `actual` is `numerator / denominator` to 20 decimal places.
fn fraction(actual: Option<Decimal>, numerator: i64, denominator: i64) {
    let expected = Decimal::from(numerator) / Decimal::from(denominator);
    let actual = actual.expect("a value");
    assert!(
        (actual - expected).abs() < d("0.00000000000000000001"),
        "{actual} is not {numerator}/{denominator}"
    );
}

fn ratings(pairs: &[(&str, &str, &str)]) -> BTreeMap<(String, String), Decimal> {
    pairs
        .iter()
        .map(|(rater, criterion, mean)| ((rater.to_string(), criterion.to_string()), d(mean)))
        .collect()
}

#[test]
fn a_score_weights_its_parts_and_leaves_out_what_is_missing() {
    let config = AssessmentConfig::default();
    let inputs = Inputs {
        attainment: Some(d("0.9")),     // 90 points
        gross_margin: Some(d("0.378")), // 0.378 ÷ 0.42 = 0.9: 90 points
        csat: Some(d("0.8")),           // 80 points
        projects: Some(d("0.5")),       // 50 points
        ratings: ratings(&[
            // supervisor: 0.5 × 80 + 0.25 × 70 + 0.25 × 90 = 80
            ("supervisor", "results", "80"),
            ("supervisor", "ability", "70"),
            ("supervisor", "attitude", "90"),
            // peer: results only, 60
            ("peer", "results", "60"),
            // customer: no ability: (0.5 × 100 + 0.25 × 90) ÷ 0.75 = 290/3
            ("customer", "results", "100"),
            ("customer", "attitude", "90"),
            // self: none
        ]),
    };
    let score = score(&config, &inputs, Some(d("0.42")));
    assert_eq!(score.raters["supervisor"], Some(d("80")));
    assert_eq!(score.raters["peer"], Some(d("60")));
    assert_eq!(score.raters["self"], None);
    fraction(score.raters["customer"], 290, 3);
    // Ratings: (0.5 × 80 + 0.2 × 60 + 0.2 × 290/3) ÷ 0.9 = (214/3) ÷ 0.9 = 2140/27.
    fraction(score.parts[4], 2140, 27);
    assert_eq!(score.parts[0], Some(d("90")));
    assert_eq!(score.parts[1], Some(d("90")));
    // 0.35 × 90 + 0.10 × 90 + 0.10 × 80 + 0.05 × 50 + 0.40 × 2140/27
    // = 51 + 856/27 = 2233/27 ≈ 82.7: grade B.
    fraction(score.score, 2233, 27);
    assert_eq!(config.grade(score.score.unwrap()), "B");
}

#[test]
fn attainment_past_the_target_is_capped_and_missing_parts_reweight() {
    let config = AssessmentConfig::default();
    // 120 % of target is 100 points; the only part there is, so the score.
    let only = score(
        &config,
        &Inputs {
            attainment: Some(d("1.2")),
            ..Inputs::default()
        },
        Some(d("0.42")),
    );
    assert_eq!(only.score, Some(d("100")));
    // Attainment 0.6 (60) and CSAT 0.9 (90): (0.35 × 60 + 0.10 × 90) ÷ 0.45 = 30 ÷ 0.45 = 200/3.
    let two = score(
        &config,
        &Inputs {
            attainment: Some(d("0.6")),
            csat: Some(d("0.9")),
            ..Inputs::default()
        },
        None,
    );
    fraction(two.score, 200, 3);
    // No gross-margin target: that part is n/a, not 0.
    let margin = score(
        &config,
        &Inputs {
            gross_margin: Some(d("0.4")),
            ..Inputs::default()
        },
        None,
    );
    assert_eq!(margin.parts[1], None);
    assert_eq!(margin.score, None);
    assert_eq!(
        score(&config, &Inputs::default(), Some(d("0.42"))).score,
        None
    );
}

#[test]
fn grade_bands_take_the_first_floor_reached() {
    let config = AssessmentConfig::default();
    assert_eq!(config.grade(d("90")), "A");
    assert_eq!(config.grade(d("89.999")), "B");
    assert_eq!(config.grade(d("60")), "D");
    assert_eq!(config.grade(d("0")), "E");
}

#[test]
fn ranks_are_within_the_team_and_ties_share_the_better_rank() {
    let line = |id: &str, team: &str, score: Option<&str>| Line {
        employee: Employee {
            id: id.into(),
            name: None,
            team: Some(team.into()),
            role: None,
        },
        inputs: InputsView {
            attainment: None,
            gross_margin: None,
            csat: None,
            csat_answers: None,
            projects: None,
            ratings: 0,
        },
        score: Score {
            parts: vec![],
            raters: BTreeMap::new(),
            score: score.map(d),
        },
        grade: None,
        rank: None,
        team_size: 0,
    };
    let mut lines = vec![
        line("E1", "store", Some("90")),
        line("E2", "store", Some("85")),
        line("E3", "store", Some("90")),
        line("E4", "store", None),
        line("E5", "dealer", Some("70")),
    ];
    rank(&mut lines);
    let ranks: Vec<Option<usize>> = lines.iter().map(|l| l.rank).collect();
    assert_eq!(ranks, [Some(1), Some(3), Some(1), None, Some(1)]);
    assert_eq!(lines[0].team_size, 4);
    assert_eq!(lines[4].team_size, 1);
}

#[test]
fn a_config_that_cannot_score_is_refused() {
    let mut config = AssessmentConfig {
        ratings: d("-0.1"),
        ..AssessmentConfig::default()
    };
    assert!(config.check().unwrap_err().to_string().contains("negative"));
    config.ratings = d("0.4");
    config.grades.swap(0, 1);
    assert!(config.check().unwrap_err().to_string().contains("grades"));
    config = AssessmentConfig::default();
    config.raters.insert("boss".into(), d("1"));
    assert!(config.check().unwrap_err().to_string().contains("boss"));
    assert!(AssessmentConfig::default().check().is_ok());
}
