//! Assessment frameworks as versioned data, and the self-assessment roll-up.
//!
//! A regulator's next framework is a new JSON file in `data/frameworks/` (embedded at build
//! time) or in `CARELOOP_FRAMEWORKS_DIR` (read at start-up): no code changes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

static EMBEDDED: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/data/frameworks");

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QualityStatement {
    /// Stable id, for example `safe.learning_culture`.
    pub id: String,
    /// Short code, for example `S1`.
    pub code: String,
    pub title: String,
    /// The regulator's "we statement"; null where the framework has none.
    pub we_statement: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KeyQuestion {
    pub id: String,
    pub title: String,
    pub quality_statements: Vec<QualityStatement>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EvidenceCategory {
    pub id: String,
    pub title: String,
}

/// A rating a key question's percentage falls in, inclusive at both ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RatingBand {
    pub rating: String,
    pub min_percent: f64,
    pub max_percent: f64,
}

/// A cap on a rating when a statement scores too low.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Limiter {
    pub when_band: String,
    pub if_any_statement_score_at_most: u8,
    pub cap_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Framework {
    pub id: String,
    pub title: String,
    pub regulator: String,
    pub status: Option<String>,
    /// What each score means, keyed by the score.
    pub score_scale: BTreeMap<String, String>,
    pub rating_bands: Vec<RatingBand>,
    pub rating_bands_note: Option<String>,
    pub limiters: Vec<Limiter>,
    pub limiters_note: Option<String>,
    pub evidence_categories: Vec<EvidenceCategory>,
    pub key_questions: Vec<KeyQuestion>,
}

impl Framework {
    /// Checks a framework document is internally consistent.
    pub fn check(&self) -> Result<(), String> {
        let mut ids = HashSet::new();
        for statement in self.statements() {
            if !ids.insert(statement.id.as_str()) {
                return Err(format!(
                    "{}: quality statement {} appears twice",
                    self.id, statement.id
                ));
            }
        }
        // The roll-up reads scores as 1 to 4, as the API's `score` does.
        if let Some(score) = self
            .score_scale
            .keys()
            .find(|score| !matches!(score.parse::<u8>(), Ok(1..=4)))
        {
            return Err(format!(
                "{}: score {score} is outside the scale of 1 to 4",
                self.id
            ));
        }
        let ratings: HashSet<&str> = self
            .rating_bands
            .iter()
            .map(|b| b.rating.as_str())
            .collect();
        for limiter in &self.limiters {
            for rating in [&limiter.when_band, &limiter.cap_at] {
                if !ratings.contains(rating.as_str()) {
                    return Err(format!(
                        "{}: limiter names unknown rating {rating}",
                        self.id
                    ));
                }
            }
        }
        if self.key_questions.is_empty() || self.evidence_categories.is_empty() {
            return Err(format!(
                "{}: needs key questions and evidence categories",
                self.id
            ));
        }
        Ok(())
    }

    pub fn statements(&self) -> impl Iterator<Item = &QualityStatement> {
        self.key_questions
            .iter()
            .flat_map(|k| &k.quality_statements)
    }

    pub fn has_statement(&self, id: &str) -> bool {
        self.statements().any(|s| s.id == id)
    }

    pub fn has_evidence_category(&self, id: &str) -> bool {
        self.evidence_categories.iter().any(|c| c.id == id)
    }

    /// The band a percentage falls in, after rounding to a whole percent (bands are quoted in
    /// whole percents: 62.5% counts as 63%).
    pub fn band_for(&self, percentage: f64) -> Option<&RatingBand> {
        let whole = percentage.round();
        self.rating_bands
            .iter()
            .find(|b| b.min_percent <= whole && whole <= b.max_percent)
    }

    /// Rolls the latest statement scores up to key questions.
    pub fn roll_up(&self, scores: &HashMap<&str, u8>) -> Vec<KeyQuestionRollup> {
        self.key_questions
            .iter()
            .map(|question| {
                let scored: Vec<u8> = question
                    .quality_statements
                    .iter()
                    .filter_map(|s| scores.get(s.id.as_str()).copied())
                    .collect();
                let unscored = question.quality_statements.len() - scored.len();
                let sum: u32 = scored.iter().map(|s| u32::from(*s)).sum();
                let percentage = (!scored.is_empty())
                    .then(|| f64::from(sum) * 100.0 / (scored.len() as f64 * 4.0));
                let band = percentage.and_then(|p| self.band_for(p));
                let lowest = scored.iter().min().copied();
                let limiter = band.and_then(|band| {
                    self.limiters.iter().find(|l| {
                        l.when_band == band.rating
                            && lowest.is_some_and(|low| low <= l.if_any_statement_score_at_most)
                    })
                });
                KeyQuestionRollup {
                    key_question_id: question.id.clone(),
                    title: question.title.clone(),
                    statements_scored: scored.len(),
                    statements_unscored: unscored,
                    score_sum: sum,
                    percentage,
                    rating: limiter
                        .map(|l| l.cap_at.clone())
                        .or_else(|| band.map(|b| b.rating.clone())),
                    limiter_applied: limiter.cloned(),
                }
            })
            .collect()
    }
}

/// The id of the framework that ships with careloop.
pub const DEFAULT_FRAMEWORK: &str = "cqc-saf-2024";

/// A statement whose low score holds its key question's rating down.
#[derive(Debug, Clone)]
pub struct LimitingStatement<'a> {
    pub key_question_id: &'a str,
    pub statement: &'a QualityStatement,
    pub score: u8,
    /// The rating the key question is capped at.
    pub caps_at: &'a str,
}

impl Framework {
    /// The statements that trigger a key question's limiter: in each key question whose
    /// rating a limiter caps, those scored at or below its threshold.
    pub fn limiting_statements<'a>(
        &'a self,
        scores: &HashMap<&str, u8>,
    ) -> Vec<LimitingStatement<'a>> {
        let rolled = self.roll_up(scores);
        let mut limiting = Vec::new();
        for (question, rollup) in self.key_questions.iter().zip(&rolled) {
            let Some(limiter) = self
                .limiters
                .iter()
                .find(|l| rollup.limiter_applied.as_ref() == Some(*l))
            else {
                continue;
            };
            for statement in &question.quality_statements {
                match scores.get(statement.id.as_str()) {
                    Some(&score) if score <= limiter.if_any_statement_score_at_most => limiting
                        .push(LimitingStatement {
                            key_question_id: &question.id,
                            statement,
                            score,
                            caps_at: &limiter.cap_at,
                        }),
                    _ => {}
                }
            }
        }
        limiting
    }
}

/// A key question's roll-up.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct KeyQuestionRollup {
    pub key_question_id: String,
    pub title: String,
    pub statements_scored: usize,
    pub statements_unscored: usize,
    pub score_sum: u32,
    /// Sum of scores ÷ (statements scored × 4) × 100; null when nothing is scored.
    pub percentage: Option<f64>,
    /// The band's rating, after any limiter; null when nothing is scored.
    pub rating: Option<String>,
    /// The limiter that capped the rating, if one did.
    pub limiter_applied: Option<Limiter>,
}

/// Every framework careloop knows.
#[derive(Debug, Clone)]
pub struct Catalogue {
    /// Shared, so a request can hold one while it works on the blocking pool.
    frameworks: Vec<Arc<Framework>>,
}

impl Catalogue {
    /// Parses framework documents; each must be consistent and have its own id. A quality
    /// statement's id must be unique across the catalogue too: records tag statements by id
    /// alone, so an id two frameworks shared would not say which one it meant.
    pub fn from_documents<'a>(
        documents: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, String> {
        let mut frameworks: Vec<Framework> = Vec::new();
        for (name, text) in documents {
            let framework: Framework =
                serde_json::from_str(text).map_err(|e| format!("{name}: {e}"))?;
            framework.check()?;
            if frameworks.iter().any(|f| f.id == framework.id) {
                return Err(format!(
                    "{name}: framework {} is defined twice",
                    framework.id
                ));
            }
            if let Some((shared, other)) = framework.statements().find_map(|s| {
                frameworks
                    .iter()
                    .find(|f| f.has_statement(&s.id))
                    .map(|f| (&s.id, &f.id))
            }) {
                return Err(format!(
                    "{name}: quality statement {shared} is framework {other}'s already; \
                     statement ids are unique across frameworks (prefix them with the \
                     framework's own key questions)"
                ));
            }
            frameworks.push(framework);
        }
        frameworks.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(Self {
            frameworks: frameworks.into_iter().map(Arc::new).collect(),
        })
    }

    /// The frameworks shipped in `data/frameworks/`, and those in `extra_dir` if given.
    pub fn load(extra_dir: Option<&std::path::Path>) -> Result<Self, String> {
        let mut documents: Vec<(String, String)> = EMBEDDED
            .files()
            .filter(|f| f.path().extension().is_some_and(|e| e == "json"))
            .map(|f| {
                let text = f.contents_utf8().ok_or("framework files must be UTF-8")?;
                Ok((f.path().display().to_string(), text.to_owned()))
            })
            .collect::<Result<_, String>>()?;
        if let Some(dir) = extra_dir {
            let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            for entry in entries {
                let path = entry.map_err(|e| e.to_string())?.path();
                if path.extension().is_some_and(|e| e == "json") {
                    let text = std::fs::read_to_string(&path)
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                    documents.push((path.display().to_string(), text));
                }
            }
        }
        Self::from_documents(documents.iter().map(|(n, t)| (n.as_str(), t.as_str())))
    }

    pub fn frameworks(&self) -> &[Arc<Framework>] {
        &self.frameworks
    }

    /// The framework the insights and the governance pack read statements from: the CQC
    /// Single Assessment Framework 2024, which ships with careloop.
    pub fn default_framework(&self) -> Option<&Arc<Framework>> {
        self.get(DEFAULT_FRAMEWORK)
    }

    pub fn get(&self, id: &str) -> Option<&Arc<Framework>> {
        self.frameworks.iter().find(|f| f.id == id)
    }

    /// Whether any framework has this quality statement.
    pub fn has_statement(&self, id: &str) -> bool {
        self.frameworks.iter().any(|f| f.has_statement(id))
    }

    /// Whether any framework has this evidence category.
    pub fn has_evidence_category(&self, id: &str) -> bool {
        self.frameworks.iter().any(|f| f.has_evidence_category(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cqc() -> Catalogue {
        Catalogue::load(None).expect("the embedded catalogue loads")
    }

    fn framework() -> Framework {
        Framework::clone(cqc().get("cqc-saf-2024").unwrap())
    }

    #[test]
    fn the_cqc_catalogue_is_complete() {
        let f = framework();
        let counts: Vec<usize> = f
            .key_questions
            .iter()
            .map(|k| k.quality_statements.len())
            .collect();
        assert_eq!(counts, [8, 6, 5, 7, 8]);
        assert_eq!(f.evidence_categories.len(), 6);
        assert_eq!(f.statements().count(), 34);
        assert!(f.statements().any(|s| s.we_statement.is_none()));
        assert!(f.has_statement("well_led.freedom_to_speak_up"));
        assert!(!f.has_statement("safe.nonsense"));
    }

    #[test]
    fn band_edges() {
        let f = framework();
        let rating = |p: f64| f.band_for(p).map(|b| b.rating.as_str());
        assert_eq!(rating(25.0), Some("inadequate"));
        assert_eq!(rating(38.0), Some("inadequate"));
        assert_eq!(rating(38.4), Some("inadequate"));
        assert_eq!(rating(38.5), Some("requires_improvement"));
        assert_eq!(rating(39.0), Some("requires_improvement"));
        assert_eq!(rating(62.0), Some("requires_improvement"));
        assert_eq!(rating(62.5), Some("good"));
        assert_eq!(rating(63.0), Some("good"));
        assert_eq!(rating(87.0), Some("good"));
        assert_eq!(rating(88.0), Some("outstanding"));
        assert_eq!(rating(100.0), Some("outstanding"));
    }

    /// Scores the first statements of a key question and rolls it up.
    fn roll(question: usize, scores: &[u8]) -> KeyQuestionRollup {
        let f = framework();
        let ids: Vec<&str> = f.key_questions[question]
            .quality_statements
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        let map: HashMap<&str, u8> = ids.iter().copied().zip(scores.iter().copied()).collect();
        f.roll_up(&map)[question].clone()
    }

    #[test]
    fn worked_examples() {
        // Safe, 8 statements all good: 24 / 32 = 75% good.
        let safe = roll(0, &[3; 8]);
        assert_eq!(safe.percentage, Some(75.0));
        assert_eq!(safe.rating.as_deref(), Some("good"));
        assert_eq!((safe.statements_scored, safe.statements_unscored), (8, 0));
        // Caring, 2 of 5 scored: 4 and 3 → 7 / 8 = 87.5% → 88% outstanding.
        let caring = roll(2, &[4, 3]);
        assert_eq!(caring.percentage, Some(87.5));
        assert_eq!(caring.rating.as_deref(), Some("outstanding"));
        assert_eq!(caring.statements_unscored, 3);
        // Nothing scored: no percentage, no rating.
        let nothing = roll(1, &[]);
        assert_eq!(nothing.percentage, None);
        assert_eq!(nothing.rating, None);
        assert_eq!(nothing.statements_unscored, 6);
    }

    #[test]
    fn edges_through_the_roll_up() {
        // 4 statements: 6/16 = 37.5% → 38% inadequate; 10/16 = 62.5% → 63% good.
        assert_eq!(roll(1, &[1, 1, 2, 2]).rating.as_deref(), Some("inadequate"));
        assert_eq!(roll(1, &[2, 3, 2, 3]).rating.as_deref(), Some("good"));
        // 5 statements: 8/20 = 40% requires improvement.
        assert_eq!(
            roll(2, &[2, 2, 2, 1, 1]).rating.as_deref(),
            Some("requires_improvement")
        );
        // 8 statements: 28/32 = 87.5% → 88% outstanding; 27/32 = 84.4% good.
        assert_eq!(
            roll(0, &[4, 4, 4, 4, 3, 3, 3, 3]).rating.as_deref(),
            Some("outstanding")
        );
        assert_eq!(
            roll(0, &[4, 4, 4, 3, 3, 3, 3, 3]).rating.as_deref(),
            Some("good")
        );
    }

    #[test]
    fn limiters_cap_the_rating() {
        // 4, 4, 4, 1 → 13/16 = 81% good, but a 1 caps it at requires improvement.
        let capped = roll(1, &[4, 4, 4, 1]);
        assert_eq!(capped.rating.as_deref(), Some("requires_improvement"));
        assert_eq!(
            capped.limiter_applied.unwrap().cap_at,
            "requires_improvement"
        );
        // 4 × 7 and a 2 → 30/32 = 94% outstanding, but a 2 caps it at good.
        let capped = roll(0, &[4, 4, 4, 4, 4, 4, 4, 2]);
        assert_eq!(capped.percentage, Some(93.75));
        assert_eq!(capped.rating.as_deref(), Some("good"));
        assert_eq!(capped.limiter_applied.unwrap().when_band, "outstanding");
        // A 2 in a good-range question is no limiter.
        let fine = roll(1, &[4, 3, 3, 2]);
        assert_eq!(fine.rating.as_deref(), Some("good"));
        assert_eq!(fine.limiter_applied, None);
    }

    #[test]
    fn the_statements_that_cap_a_rating() {
        let f = framework();
        let safe: Vec<&str> = f.key_questions[1]
            .quality_statements
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        // 4, 4, 4, 1: the 1 caps the question at requires improvement.
        let scores: HashMap<&str, u8> = safe.iter().copied().zip([4, 4, 4, 1]).collect();
        let limiting = f.limiting_statements(&scores);
        assert_eq!(limiting.len(), 1);
        assert_eq!(limiting[0].statement.id, safe[3]);
        assert_eq!(limiting[0].score, 1);
        assert_eq!(limiting[0].caps_at, "requires_improvement");
        assert_eq!(limiting[0].key_question_id, f.key_questions[1].id);
        // A 2 in a good-range question limits nothing.
        let scores: HashMap<&str, u8> = safe.iter().copied().zip([4, 3, 3, 2]).collect();
        assert!(f.limiting_statements(&scores).is_empty());
    }

    #[test]
    fn a_second_framework_is_only_data() {
        let small = r#"{
            "id": "tiny-2027", "title": "Tiny", "regulator": "Test Regulator", "status": null,
            "score_scale": {"1": "poor", "2": "fine"},
            "rating_bands": [{"rating": "weak", "min_percent": 0, "max_percent": 60},
                             {"rating": "strong", "min_percent": 61, "max_percent": 100}],
            "rating_bands_note": null, "limiters": [], "limiters_note": null,
            "evidence_categories": [{"id": "records", "title": "Records"}],
            "key_questions": [{"id": "care", "title": "Care", "quality_statements": [
                {"id": "care.kind", "code": "K1", "title": "Kind", "we_statement": null}]}]
        }"#;
        let cqc = include_str!("../../data/frameworks/cqc-saf-2024.json");
        let catalogue = Catalogue::from_documents([("cqc", cqc), ("tiny", small)]).unwrap();
        assert_eq!(catalogue.frameworks().len(), 2);
        assert!(catalogue.has_statement("care.kind"));
        assert!(catalogue.has_evidence_category("records"));
        let tiny = catalogue.get("tiny-2027").unwrap();
        let rolled = tiny.roll_up(&HashMap::from([("care.kind", 4)]));
        assert_eq!(rolled[0].rating.as_deref(), Some("strong"));
        assert!(Catalogue::from_documents([("a", small), ("b", small)]).is_err());
        // A statement id another framework has would make tags ambiguous.
        let reusing = small
            .replace("tiny-2027", "reuse-2028")
            .replace("care.kind", "safe.safeguarding");
        let error =
            Catalogue::from_documents([("cqc", cqc), ("reuse", reusing.as_str())]).unwrap_err();
        assert!(error.contains("safe.safeguarding"), "{error}");
        let five_points = small.replace(r#""2": "fine""#, r#""5": "superb""#);
        let error = Catalogue::from_documents([("tiny", five_points.as_str())]).unwrap_err();
        assert!(
            error.to_string().contains("outside the scale of 1 to 4"),
            "{error}"
        );
    }
}
