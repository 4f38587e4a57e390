//! Enumerations with one stable upper-case name per variant, used alike in JSON, storage and
//! metrics: [`text_enum!`] writes `as_str`, `ALL`, `Display` and a `FromStr` that refuses any
//! other name with [`UnknownName`], so the names are spelled once.

/// A name that is not one of an enumeration's stable names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{name}` is not a valid {kind}")]
pub struct UnknownName {
    /// The enumeration.
    pub kind: &'static str,
    /// What was given.
    pub name: String,
}

macro_rules! text_enum {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            /// The stable upper-case name used in JSON, storage and metrics.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::text_enum::UnknownName;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                match text {
                    $($text => Ok($name::$variant),)+
                    other => Err($crate::text_enum::UnknownName { kind: stringify!($name), name: other.chars().take(40).collect() }),
                }
            }
        }
    };
}
pub(crate) use text_enum;
