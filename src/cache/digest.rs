//! The 32-byte blake3 digests the cache names things by ([`StageKey`](super::StageKey),
//! [`FileHash`](super::FileHash)): one definition of how they are shown, parsed and
//! serialized.

/// Implements display as lowercase hex, parsing, serde and `short()` for a newtype over a
/// 32-byte blake3 digest.
macro_rules! hex_digest {
    ($name:ident, $what:literal) => {
        impl $name {
            /// The raw digest bytes.
            pub fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }

            /// The first 12 hex characters: enough to tell entries apart in listings.
            pub fn short(&self) -> String {
                self.to_string()[..12].to_owned()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&blake3::Hash::from_bytes(self.0).to_hex())
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", stringify!($name), self.short())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::cache::CacheError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                blake3::Hash::from_hex(text)
                    .map(|hash| $name(*hash.as_bytes()))
                    .map_err(|_| $crate::cache::CacheError::BadDigest {
                        what: $what,
                        text: text.to_owned(),
                    })
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use hex_digest;
