//! "Did you mean" hints by edit distance.

/// The candidate closest to `word`, when it is close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (levenshtein(word, c), c))
        .filter(|(d, c)| *d <= limit || (c.starts_with(word) && word.len() >= 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    strsim::levenshtein(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos_but_not_strangers() {
        let keys = [
            "depends_on_step",
            "depends_on_steps",
            "depends_on",
            "command",
        ];
        assert_eq!(closest("depends_on_stp", keys), Some("depends_on_step"));
        assert_eq!(closest("comand", keys), Some("command"));
        assert_eq!(closest("banana", keys), None);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
    }
}
