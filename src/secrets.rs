//! Sealing small secrets at rest (API access-key secrets, links waiting in an email job).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngExt;
use sha2::{Digest, Sha256};

/// Seals small secrets (API access key secrets) for storage with a key derived from
/// `RDC_SECRET_KEY`: ChaCha20-Poly1305, a random nonce per value, base64 on disk.
#[derive(Clone)]
pub struct SecretBox {
    cipher: ChaCha20Poly1305,
}

impl SecretBox {
    pub fn new(master_key: &[u8]) -> SecretBox {
        let mut h = Sha256::new();
        h.update(b"rd-contacts sealed secrets v1\0");
        h.update(master_key);
        let key: [u8; 32] = h.finalize().into();
        SecretBox { cipher: ChaCha20Poly1305::new(Key::from_slice(&key)) }
    }

    pub fn seal(&self, plaintext: &str) -> String {
        let nonce: [u8; 12] = rand::rng().random();
        let mut out = nonce.to_vec();
        out.extend(self.cipher.encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes()).expect("encrypting in memory cannot fail"));
        STANDARD.encode(out)
    }

    pub fn open(&self, sealed: &str) -> Option<String> {
        let bytes = STANDARD.decode(sealed).ok()?;
        if bytes.len() < 12 {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        let plain = self.cipher.decrypt(Nonce::from_slice(nonce), ciphertext).ok()?;
        String::from_utf8(plain).ok()
    }
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_the_same_key() {
        let a = SecretBox::new(b"one key that is long enough to be a real key for this test, 64+ bytes");
        let b = SecretBox::new(b"another key that is long enough to be a real key for this test, 64+");
        let sealed = a.seal("s3cret");
        assert!(!sealed.contains("s3cret"));
        assert_eq!(a.open(&sealed).as_deref(), Some("s3cret"));
        assert_eq!(b.open(&sealed), None);
        assert_ne!(a.seal("s3cret"), sealed, "each seal uses a fresh nonce");
    }
}
