//! Receipt codes: the one secret an anonymous raiser holds. careloop keeps only its hash.

use rand::Rng;
use sha2::{Digest, Sha256};

/// How many messages a receipt holder may send a day.
pub const MESSAGES_PER_DAY: i64 = 20;

/// 128 bits from the operating system's CSPRNG, as 32 hex digits in groups of four for reading
/// aloud or writing down.
pub fn new_code() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    let hex = hex::encode(bytes);
    hex.as_bytes()
        .chunks(4)
        .map(|chunk| std::str::from_utf8(chunk).expect("hex is ASCII"))
        .collect::<Vec<_>>()
        .join("-")
}

/// The stored form of a code, or `None` when the text cannot be a code. Dashes, spaces and
/// letter case are forgiven.
pub fn hash(code: &str) -> Option<String> {
    let normalised: String = code
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if normalised.len() != 32 || !normalised.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(hex::encode(Sha256::digest(normalised.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_hash_forgivingly() {
        let code = new_code();
        assert_eq!(code.len(), 39);
        assert_ne!(code, new_code());
        let stored = hash(&code).unwrap();
        assert_eq!(
            hash(&code.to_uppercase().replace('-', " ")),
            Some(stored.clone())
        );
        assert_ne!(stored, code);
    }

    #[test]
    fn rejects_what_cannot_be_a_code() {
        assert_eq!(hash("short"), None);
        assert_eq!(hash(&"z".repeat(32)), None);
    }
}
