//! What section 4 judges about each image, as the Docker API reports it: one list, then one
//! inspect and one history per image (not per container: a hundred containers of one image
//! cost two requests).

/// One image, from `GET /images/{id}/json` and `GET /images/{id}/history`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageFacts {
    /// "sha256:…"
    pub id: String,
    /// "repo:tag" names; empty for a dangling image.
    pub tags: Vec<String>,
    /// A healthcheck other than NONE is configured in the image.
    pub healthcheck: bool,
    /// The user the image runs as ("" is root).
    pub user: String,
    /// The instruction that made each layer, oldest first (`CreatedBy`).
    pub history: Vec<String>,
}

impl ImageFacts {
    /// "repo:tag (0123456789ab)", or the short ID alone for a dangling image.
    pub(crate) fn display(&self) -> String {
        let short = short_id(&self.id);
        match self.tags.first() {
            Some(tag) => format!("{tag} ({short})"),
            None => format!("<untagged> ({short})"),
        }
    }
}

/// The first 12 hex digits, without the "sha256:" prefix.
pub(crate) fn short_id(id: &str) -> String {
    id.strip_prefix("sha256:")
        .unwrap_or(id)
        .chars()
        .take(12)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_images_by_tag_or_short_id() {
        let mut image = ImageFacts {
            id: "sha256:0123456789abcdef0123".into(),
            ..ImageFacts::default()
        };
        assert_eq!(image.display(), "<untagged> (0123456789ab)");
        image.tags = vec!["web:1.2".into(), "web:latest".into()];
        assert_eq!(image.display(), "web:1.2 (0123456789ab)");
        assert_eq!(short_id("abc"), "abc");
    }
}
